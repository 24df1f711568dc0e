/**
 * The float model as the quantizer sees it: decoded ModelProto, producers/consumers of every value, which
 * values are constant (initializers, Constant nodes, Identity/Cast of either), and how each node takes part
 * in quantization:
 *   compute  - does arithmetic on float activations (Conv, MatMul, Add, Softmax, LayerNormalization, Erf,
 *              Resize, Concat ...): it has a precision (int8 / int16 / float) and its activation edges get
 *              QuantizeLinear/DequantizeLinear pairs of that precision;
 *   passthrough - moves values without changing them (Transpose, Reshape, Slice ...): its output keeps the
 *              precision of its input, so ONNX Runtime can run it on integers between two Q/DQ pairs;
 *   other    - everything else (Shape, ArgMax, Cast, unknown ops): never quantized.
 */
import { createHash } from 'node:crypto';
import {
  constantNodeTensor,
  DataType,
  dimsOf,
  floatValues,
  isExternal,
  onnx,
  type ModelProto,
  type NodeProto,
  type TensorProto,
} from './onnx-tensors.ts';

export type NodeRole = 'compute' | 'passthrough' | 'other';

const COMPUTE_OPS = new Set([
  'Conv', 'ConvTranspose', 'MatMul', 'Gemm', 'Add', 'Sub', 'Mul', 'Div', 'Pow', 'Sqrt', 'Softmax', 'LayerNormalization',
  'Erf', 'Gelu', 'Relu', 'LeakyRelu', 'Sigmoid', 'Tanh', 'Clip', 'HardSigmoid', 'HardSwish', 'Resize', 'Concat',
  'ReduceMean', 'AveragePool', 'GlobalAveragePool', 'BatchNormalization', 'InstanceNormalization',
]);
const PASSTHROUGH_OPS = new Set(['Transpose', 'Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Identity', 'Slice', 'Split', 'Expand', 'MaxPool', 'DepthToSpace', 'SpaceToDepth']);
/** Ops with a weight tensor quantized per output channel. */
export const WEIGHT_OPS = new Set(['Conv', 'ConvTranspose', 'MatMul', 'Gemm']);

export interface GraphNode {
  index: number;
  /** The node's name; unnamed nodes get `<OpType>#<index>` here (node_info cannot name them). */
  name: string;
  named: boolean;
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  proto: NodeProto;
  role: NodeRole;
}

/** A quantizer's reason not to handle a model, with the field at fault. */
export class QuantizeModelError extends Error {
  override name = 'QuantizeModelError';
  constructor(
    readonly file: string,
    message: string,
    readonly field?: string,
  ) {
    super(`${file}: ${message}${field ? ` (${field})` : ''}`);
  }
}

export class QuantGraph {
  readonly nodes: GraphNode[];
  private readonly byName = new Map<string, GraphNode>();
  readonly producers = new Map<string, GraphNode>();
  readonly consumers = new Map<string, GraphNode[]>();
  readonly initializers = new Map<string, TensorProto>();
  /** Values whose content is fixed, mapped to the TensorProto holding it (through Identity / Constant). */
  private readonly constants = new Map<string, TensorProto | null>();
  readonly graphInputs: string[];
  readonly graphOutputs: Set<string>;
  readonly opset: number;
  readonly sha256: string;

  constructor(
    readonly model: ModelProto,
    readonly file: string,
    bytes: Uint8Array,
  ) {
    const g = model.graph;
    if (!g || !g.node || g.node.length === 0) throw new QuantizeModelError(file, 'the ONNX file has no graph nodes', 'graph.node');
    this.sha256 = createHash('sha256').update(bytes).digest('hex');
    this.opset = 0;
    for (const o of model.opsetImport ?? []) {
      if (!o.domain || o.domain === 'ai.onnx') this.opset = Number(o.version ?? 0);
    }
    if (this.opset < 13) {
      throw new QuantizeModelError(file, `opset ${this.opset || 'none'}: per-channel DequantizeLinear (the axis attribute) needs opset 13 or newer; re-export with opset 13-21 (opset 17 keeps LayerNormalization whole)`, 'opset_import');
    }
    for (const t of g.initializer ?? []) {
      if (isExternal(t as TensorProto)) throw new QuantizeModelError(file, `initializer ${t.name} is stored as external data; the quantizer reads models with embedded weights (under 2 GB)`, 'graph.initializer');
      this.initializers.set(t.name ?? '', t as TensorProto);
    }
    const seen = new Set<string>();
    this.nodes = g.node.map((n, index) => {
      const opType = n.opType ?? '';
      const named = !!n.name;
      let name = n.name || `${opType}#${index}`;
      if (seen.has(name)) name = `${name}#${index}`;
      seen.add(name);
      const domain = n.domain && n.domain !== 'ai.onnx' ? n.domain : '';
      const role: NodeRole = domain !== '' ? 'other' : COMPUTE_OPS.has(opType) ? 'compute' : PASSTHROUGH_OPS.has(opType) ? 'passthrough' : 'other';
      return { index, name, named, opType, domain, inputs: [...(n.input ?? [])], outputs: [...(n.output ?? [])], proto: n as NodeProto, role };
    });
    for (const n of this.nodes) {
      this.byName.set(n.name, n);
      if (n.opType === 'QuantizeLinear' || n.opType === 'DequantizeLinear' || n.opType.startsWith('QLinear') || n.opType === 'MatMulInteger' || n.opType === 'ConvInteger') {
        throw new QuantizeModelError(file, `node ${n.name} is ${n.opType}: this model is already quantized; quantize the float export`, `graph.node[${n.index}]`);
      }
      for (const o of n.outputs) if (o) this.producers.set(o, n);
      for (const i of n.inputs) {
        if (!i) continue;
        const list = this.consumers.get(i);
        if (list) list.push(n);
        else this.consumers.set(i, [n]);
      }
    }
    // Constness, in node order (ONNX requires topological order).
    for (const [name, t] of this.initializers) this.constants.set(name, t);
    for (const n of this.nodes) {
      if (n.opType === 'Constant' && n.outputs[0]) this.constants.set(n.outputs[0], constantNodeTensor(n.proto) ?? null);
      else if ((n.opType === 'Identity' || n.opType === 'Cast') && n.inputs[0] && this.constants.has(n.inputs[0]) && n.outputs[0]) {
        this.constants.set(n.outputs[0], n.opType === 'Identity' ? this.constants.get(n.inputs[0])! : null);
      } else if (n.inputs.length > 0 && n.inputs.every((i) => !i || this.constants.has(i))) {
        // Arithmetic on constants only (Concat of constant shapes, Unsqueeze of a constant ...): folded, not quantized.
        for (const o of n.outputs) if (o) this.constants.set(o, null);
      }
    }
    const initNames = new Set(this.initializers.keys());
    this.graphInputs = (g.input ?? []).map((i) => i.name ?? '').filter((n) => n && !initNames.has(n));
    this.graphOutputs = new Set((g.output ?? []).map((o) => o.name ?? ''));
  }

  static decode(bytes: Uint8Array, file: string): QuantGraph {
    let model: ModelProto;
    try {
      model = onnx.ModelProto.decode(bytes) as ModelProto;
    } catch (err) {
      throw new QuantizeModelError(file, `not a readable ONNX model (${(err as Error).message})`);
    }
    return new QuantGraph(model, file, bytes);
  }

  isConstant(value: string): boolean {
    return this.constants.has(value);
  }

  /** The tensor behind a constant value (initializer, Constant node, or Identity of one), if it is stored. */
  constantTensor(value: string): TensorProto | undefined {
    return this.constants.get(value) ?? undefined;
  }

  /** The initializer name behind a value (through Identity), for weights shared by several nodes. */
  initializerName(value: string): string | undefined {
    let v = value;
    for (let hops = 0; hops < 8; hops++) {
      if (this.initializers.has(v)) return v;
      const p = this.producers.get(v);
      if (!p || p.opType !== 'Identity' || !p.inputs[0]) return undefined;
      v = p.inputs[0];
    }
    return undefined;
  }

  /** Float32 values of a constant input, when it is a stored float tensor. */
  constantFloats(value: string): { dims: number[]; values: Float32Array } | undefined {
    const t = this.constantTensor(value);
    if (!t || t.dataType !== DataType.FLOAT) return undefined;
    const values = floatValues(t);
    return values ? { dims: dimsOf(t), values } : undefined;
  }

  /** Node outputs that are activations (computed from the graph input), candidates for calibration. */
  activationValues(): string[] {
    const out: string[] = [];
    for (const n of this.nodes) for (const o of n.outputs) if (o && !this.constants.has(o)) out.push(o);
    return out;
  }

  node(name: string): GraphNode | undefined {
    return this.byName.get(name);
  }
}
