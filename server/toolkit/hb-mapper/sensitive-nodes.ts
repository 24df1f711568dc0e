/**
 * Graph facts hb_mapper configs depend on, read from the one ONNX reader's graph view
 * (server/model/onnx/graph.ts): the transformer nodes that lose accuracy in int8 on the BPU, and whether
 * input normalisation is inside the graph. (Model *interface* facts - input/output specs, preprocessing -
 * come from server/model/load.ts.)
 */
import type { GraphNode, OnnxGraph } from '../../model/onnx/graph.ts';
import { at } from '../../util/checked-access.ts';

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
export function findTransformerSensitiveNodes(s: OnnxGraph): { nodes: SensitiveNode[]; unnamed: number } {
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
export function normalisationInsideGraph(s: OnnxGraph, inputName: string): { inside: boolean; ops: string[] } {
  const ops: string[] = [];
  let value = inputName;
  for (let depth = 0; depth < 4; depth++) {
    const cons = s.consumers.get(value) ?? [];
    if (cons.length !== 1) break;
    const n = at(cons, 0, 'cons');
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
