/**
 * Graph-level facts about an ONNX model read with onnx-proto: node list, which values are constant, the
 * transformer nodes that lose accuracy in int8 on the BPU, and whether input normalisation is inside the
 * graph. (Model *interface* facts - input/output specs, preprocessing - come from server/model/load.ts.)
 */
import { promises as fs } from 'node:fs';
import onnxProto from 'onnx-proto';

export const onnx = onnxProto.onnx;
export type ModelProto = InstanceType<typeof onnx.ModelProto>;
export type NodeProto = InstanceType<typeof onnx.NodeProto>;
export type TensorProto = InstanceType<typeof onnx.TensorProto>;

export interface GraphNode {
  name: string;
  opType: string;
  inputs: string[];
  outputs: string[];
  index: number;
}

export interface GraphSummary {
  opset: number;
  producer: string;
  inputs: { name: string; shape: (number | string)[] }[];
  outputs: { name: string; shape: (number | string)[] }[];
  nodes: GraphNode[];
  /** Values with a fixed value: initializers, Constant outputs, and Identity of either. */
  constants: Set<string>;
  /** value name -> nodes that read it */
  consumers: Map<string, GraphNode[]>;
  /** value name -> node that writes it */
  producers: Map<string, GraphNode>;
  opCounts: Record<string, number>;
}

export function decodeModel(bytes: Uint8Array, label: string): ModelProto {
  let model: ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (err) {
    throw new Error(`${label}: not a readable ONNX model (${(err as Error).message})`);
  }
  if (!model.graph || !model.graph.node || model.graph.node.length === 0) {
    throw new Error(`${label}: the ONNX file has no graph nodes`);
  }
  return model;
}

export async function readModel(path: string): Promise<ModelProto> {
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(path);
  } catch (err) {
    throw new Error(`${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  return decodeModel(bytes, path);
}

function dimsOf(vi: onnxProto.onnx.IValueInfoProto): (number | string)[] {
  const dims = vi.type?.tensorType?.shape?.dim ?? [];
  return dims.map((d) => (d.dimParam ? d.dimParam : d.dimValue !== undefined && d.dimValue !== null ? Number(d.dimValue) : '?'));
}

export function defaultOpset(model: ModelProto): number {
  for (const o of model.opsetImport ?? []) {
    if (!o.domain || o.domain === 'ai.onnx') return Number(o.version ?? 0);
  }
  return 0;
}

export function summariseGraph(model: ModelProto): GraphSummary {
  const g = model.graph!;
  const initNames = new Set((g.initializer ?? []).map((t) => t.name ?? ''));
  const nodes: GraphNode[] = (g.node ?? []).map((n, index) => ({
    name: n.name ?? '',
    opType: n.opType ?? '',
    inputs: [...(n.input ?? [])],
    outputs: [...(n.output ?? [])],
    index,
  }));
  const constants = new Set(initNames);
  const consumers = new Map<string, GraphNode[]>();
  const producers = new Map<string, GraphNode>();
  const opCounts: Record<string, number> = {};
  for (const n of nodes) {
    opCounts[n.opType] = (opCounts[n.opType] ?? 0) + 1;
    for (const o of n.outputs) producers.set(o, n);
    for (const i of n.inputs) {
      if (!i) continue;
      const list = consumers.get(i);
      if (list) list.push(n);
      else consumers.set(i, [n]);
    }
  }
  // Nodes come topologically sorted, so one pass propagates constness through Constant/Identity/casts.
  for (const n of nodes) {
    if (n.opType === 'Constant') n.outputs.forEach((o) => constants.add(o));
    else if ((n.opType === 'Identity' || n.opType === 'Cast' || n.opType === 'DequantizeLinear') && n.inputs[0] && constants.has(n.inputs[0])) {
      n.outputs.forEach((o) => constants.add(o));
    }
  }
  const graphInputs = (g.input ?? []).filter((i) => !initNames.has(i.name ?? ''));
  return {
    opset: defaultOpset(model),
    producer: `${model.producerName ?? ''} ${model.producerVersion ?? ''}`.trim(),
    inputs: graphInputs.map((i) => ({ name: i.name ?? '', shape: dimsOf(i) })),
    outputs: (g.output ?? []).map((o) => ({ name: o.name ?? '', shape: dimsOf(o) })),
    nodes,
    constants,
    consumers,
    producers,
    opCounts,
  };
}

export type SensitiveReason = 'softmax' | 'layernorm' | 'layernorm-decomposed' | 'gelu' | 'attention-matmul';

export interface SensitiveNode {
  name: string;
  opType: string;
  reason: SensitiveReason;
}

/**
 * The transformer nodes whose int8 quantisation hurts SegFormer-like models: Softmax, LayerNormalization
 * (or the ReduceMean/Sub/Pow/Sqrt/Div chain older opsets export), Erf-GELU (Div, Erf, Add, Mul) and the
 * attention MatMuls (both operands are activations: Q.K^T and attn.V).
 */
export function findTransformerSensitiveNodes(s: GraphSummary): { nodes: SensitiveNode[]; unnamed: number } {
  const marked = new Map<GraphNode, SensitiveReason>();
  const mark = (n: GraphNode | undefined, r: SensitiveReason) => {
    if (n && !marked.has(n)) marked.set(n, r);
  };
  const single = (value: string | undefined, op: string) => (value ? (s.consumers.get(value) ?? []).find((c) => c.opType === op) : undefined);

  for (const n of s.nodes) {
    switch (n.opType) {
      case 'Softmax':
        mark(n, 'softmax');
        break;
      case 'LayerNormalization':
        mark(n, 'layernorm');
        break;
      case 'Gelu':
        mark(n, 'gelu');
        break;
      case 'Erf': {
        // x / sqrt(2) -> Erf -> + 1 -> * x -> * 0.5 (in either order of the two Muls)
        const div = s.producers.get(n.inputs[0] ?? '');
        if (div && (div.opType === 'Div' || div.opType === 'Mul')) mark(div, 'gelu');
        mark(n, 'gelu');
        const add = single(n.outputs[0], 'Add');
        mark(add, 'gelu');
        const mul1 = single(add?.outputs[0], 'Mul');
        mark(mul1, 'gelu');
        mark(single(mul1?.outputs[0], 'Mul'), 'gelu');
        break;
      }
      case 'MatMul': {
        const [a, b] = n.inputs;
        if (a && b && !s.constants.has(a) && !s.constants.has(b)) mark(n, 'attention-matmul');
        break;
      }
      case 'ReduceMean': {
        // mean = ReduceMean(x); d = Sub(x, mean); var = ReduceMean(Pow(d, 2)); y = d / Sqrt(var + eps)
        const sub = (s.consumers.get(n.outputs[0] ?? '') ?? []).find((c) => c.opType === 'Sub' && c.inputs[0] === n.inputs[0]);
        if (!sub) break;
        const pow = single(sub.outputs[0], 'Pow') ?? single(sub.outputs[0], 'Mul');
        const mean2 = single(pow?.outputs[0], 'ReduceMean');
        const add = single(mean2?.outputs[0], 'Add');
        const sqrt = single(add?.outputs[0], 'Sqrt');
        const div = single(sqrt?.outputs[0], 'Div') ?? single(sub.outputs[0], 'Div');
        if (!mean2 || !sqrt || !div) break;
        // The affine part (x * gamma + beta) belongs to the same LayerNorm.
        const gamma = single(div.outputs[0], 'Mul');
        const beta = single(gamma?.outputs[0], 'Add');
        for (const x of [n, sub, pow, mean2, add, sqrt, div, gamma, beta]) mark(x, 'layernorm-decomposed');
        break;
      }
      default:
        break;
    }
  }
  let unnamed = 0;
  const nodes: SensitiveNode[] = [];
  for (const [n, reason] of [...marked.entries()].sort((x, y) => x[0].index - y[0].index)) {
    if (!n.name) {
      unnamed++;
      continue;
    }
    nodes.push({ name: n.name, opType: n.opType, reason });
  }
  return { nodes, unnamed };
}

/**
 * Whether the graph normalises its own input (first consumers are Sub/Div/Mul/Add with a constant): then
 * feeding raw 0-255 pixels is right and `no_preprocess` is a legitimate choice.
 */
export function normalisationInsideGraph(s: GraphSummary, inputName: string): { inside: boolean; ops: string[] } {
  const ops: string[] = [];
  let value = inputName;
  for (let depth = 0; depth < 4; depth++) {
    const cons = s.consumers.get(value) ?? [];
    if (cons.length !== 1) break;
    const n = cons[0]!;
    if (n.opType === 'Cast' || n.opType === 'Transpose') {
      value = n.outputs[0] ?? '';
      continue;
    }
    if (['Sub', 'Div', 'Mul', 'Add'].includes(n.opType) && n.inputs.some((i) => i !== value && s.constants.has(i))) {
      ops.push(n.opType);
      value = n.outputs[0] ?? '';
      continue;
    }
    break;
  }
  return { inside: ops.length > 0, ops };
}
