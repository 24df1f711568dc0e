/**
 * Writes a QDQ ONNX model from the float model, its calibration statistics and a precision per compute
 * node (int8 / int16 / float). The float graph is kept; around it:
 *   - a node's precision is the precision of its inputs (hb_mapper's node_info InputType): every activation
 *     a quantized node reads gets a QuantizeLinear -> DequantizeLinear pair, and its consumers read the
 *     dequantized value. A value read by several quantized nodes takes the highest precision among them
 *     (int16 over int8); float nodes do not ask for anything. A producer's own output precision never
 *     matters on its own: an int16 output read as int8 is int8 at the reader, as on the board. Values joined
 *     by data-movement nodes (Transpose, Reshape ...) share one precision and one scale, so ONNX Runtime can
 *     move them as integers;
 *   - Conv/MatMul/Gemm weights of quantized nodes become per-channel symmetric initializers (int8, or int16
 *     for int16 nodes) behind a DequantizeLinear; int8 Conv/Gemm biases become int32 with scale = input
 *     scale x weight scale (the form ONNX Runtime fuses into QLinearConv);
 *   - constant operands of quantized Add/Sub/Mul/Div are quantized per tensor in the node's precision.
 * Graph inputs and outputs keep their names and types; graph outputs stay float (the logits are never
 * rounded: argmax over rounded logits would mostly measure ties).
 * int16 pairs use the ONNX domain from opset 21 on; below it, where ONNX QuantizeLinear has no int16, the
 * com.microsoft QuantizeLinear/DequantizeLinear that ONNX Runtime implements (the model's opset is not
 * raised: that would change the meaning of other operators, e.g. ReduceMean's axes from opset 18).
 */
import { threshold, type CalibratorOptions, type TensorStats } from './calibrators.ts';
import { WEIGHT_OPS, type GraphNode, type QuantGraph } from './graph.ts';
import { attrInt, DataType, floatTensor, intAttr, intTensor, onnx, type ModelProto, type NodeProto, type QuantType, type TensorProto } from './onnx-tensors.ts';
import { asymmetricParams, quantizeBias, quantizeConstant, quantizePerChannel, quantizeValue, symmetricParams, type QParams } from './qparams.ts';
import { at } from '../../util/checked-access.ts';

export type Precision = 'int8' | 'int16' | 'float';
export const PRECISIONS: readonly Precision[] = ['int8', 'int16', 'float'];
export type ActivationScheme = 'symmetric' | 'asymmetric';

export interface QdqOptions {
  calibrator: CalibratorOptions;
  /** int8 activations: symmetric int8 (zero point 0, as the BPU) or asymmetric uint8 (ONNX Runtime's x86 default). */
  activations: ActivationScheme;
  /** int8 weights: full (-127..127) or reduced (7-bit, -63..63: no vpmaddubsw saturation on x86 without VNNI). */
  weightRange?: 'full' | 'reduced';
  /** Precision per compute node name; nodes not listed take `defaultPrecision`. */
  precision: ReadonlyMap<string, Precision>;
  defaultPrecision: Precision;
  /** Extra ModelProto.metadata_props (the quantizer adds `segstream_quantize`). */
  metadata?: Record<string, string>;
  /** Extra fields for the `segstream_quantize` summary (e.g. the target). */
  summary?: Record<string, unknown>;
}

export interface QuantizedValueGroup {
  /** The value whose statistics set the scale (the group's producer side). */
  root: string;
  values: string[];
  precision: 'int8' | 'int16';
  params: QParams;
  /** Clipping threshold from the calibrator, and the largest |x| seen. */
  threshold: number;
  absMax: number;
}

export interface QdqResult {
  bytes: Uint8Array;
  groups: QuantizedValueGroup[];
  weights: { name: string; type: 'int8' | 'int16'; channels: number; axis: number; maxAbsError: number }[];
  counts: { int8Values: number; int16Values: number; weights: number; int32Biases: number; constants: number; nodes: Record<Precision, number> };
  int16Domain: '' | 'com.microsoft';
}

const MS_DOMAIN = 'com.microsoft';
const RANK: Record<Precision | 'none', number> = { none: 0, int8: 1, int16: 2, float: 0 };

/** Consumers that read only a value's shape keep the float value (no reason to route them through Q/DQ). */
const SHAPE_ONLY = new Set(['Shape', 'Size']);
const PASSTHROUGH_DATA_INPUT = 0;
const CONST_QUANT_OPS = new Set(['Add', 'Sub', 'Mul', 'Div']);

function weightAxis(n: GraphNode, rank: number): number | undefined {
  switch (n.opType) {
    case 'Conv':
      return rank >= 3 ? 0 : undefined;
    case 'ConvTranspose':
      return rank >= 3 && (attrInt(n.proto, 'group') ?? 1) === 1 ? 1 : undefined;
    case 'MatMul':
      return rank >= 2 ? rank - 1 : undefined;
    case 'Gemm':
      return rank === 2 ? ((attrInt(n.proto, 'transB') ?? 0) === 1 ? 0 : 1) : undefined;
    default:
      return undefined;
  }
}

/**
 * Holds what does not change between precision choices (value groups, quantized weights), so the
 * sensitivity search can write many variants of one model cheaply.
 */
export class QdqWriter {
  /** value -> its group's root (values joined by data-movement nodes). */
  private readonly groupOf = new Map<string, string>();
  private readonly members = new Map<string, string[]>();
  private readonly weightCache = new Map<string, { q: Int32Array; scales: Float32Array; dims: number[]; axis: number; type: 'int8' | 'int16'; maxAbsError: number }>();
  /** Calibrator thresholds per value, precision and calibrator (the KL search is the slow part of a write). */
  private readonly thresholdCache = new Map<string, number>();

  constructor(
    readonly graph: QuantGraph,
    readonly stats: ReadonlyMap<string, TensorStats>,
  ) {
    const isAct = (v: string) => stats.has(v);
    for (const v of stats.keys()) this.groupOf.set(v, v);
    const find = (v: string): string => {
      let r = v;
      while (this.groupOf.get(r) !== r) r = this.groupOf.get(r)!;
      return r;
    };
    // Nodes are in topological order: a passthrough output joins its input's group, whose root is upstream.
    for (const n of graph.nodes) {
      if (n.role !== 'passthrough') continue;
      const src = n.inputs[PASSTHROUGH_DATA_INPUT];
      if (!src || !isAct(src)) continue;
      for (const o of n.outputs) if (o && isAct(o)) this.groupOf.set(o, find(src));
    }
    for (const v of stats.keys()) {
      const r = find(v);
      this.groupOf.set(v, r);
      const list = this.members.get(r);
      if (list) list.push(v);
      else this.members.set(r, [v]);
    }
  }

  private quantizedWeight(value: string, node: GraphNode, type: 'int8' | 'int16', reduced: boolean) {
    const floats = this.graph.constantFloats(value);
    if (!floats || floats.dims.length < 2) return undefined;
    const axis = weightAxis(node, floats.dims.length);
    if (axis === undefined) return undefined;
    const key = `${this.graph.initializerName(value) ?? value}@${axis}@${type}${reduced && type === 'int8' ? '-reduced' : ''}`;
    let w = this.weightCache.get(key);
    if (!w) {
      const { q, scales, maxAbsError } = quantizePerChannel(floats.values, floats.dims, axis, type, reduced);
      w = { q, scales, dims: floats.dims, axis, type, maxAbsError };
      this.weightCache.set(key, w);
    }
    return { key, base: this.graph.initializerName(value) ?? value, ...w };
  }

  write(o: QdqOptions): QdqResult {
    const g = this.graph;
    const precisionOf = (n: GraphNode): Precision => (n.role === 'compute' ? (o.precision.get(n.name) ?? o.defaultPrecision) : 'float');
    const int16Domain: '' | 'com.microsoft' = g.opset >= 21 ? '' : MS_DOMAIN;

    // 1. The precision of each value group: the highest precision among the quantized compute nodes reading it.
    const groupPrecision = new Map<string, 'int8' | 'int16'>();
    for (const [root, values] of this.members) {
      let best: Precision | 'none' = 'none';
      for (const v of values) {
        for (const c of g.consumers.get(v) ?? []) {
          if (c.role !== 'compute') continue;
          const p = precisionOf(c);
          if (p !== 'float' && RANK[p] > RANK[best]) best = p;
        }
      }
      if (best === 'int8' || best === 'int16') groupPrecision.set(root, best);
    }

    // 2. Names: every new value/node/initializer name is checked against the model's.
    const used = new Set<string>([...g.initializers.keys(), ...g.graphInputs, ...g.graphOutputs]);
    for (const n of g.nodes) {
      used.add(n.name);
      for (const v of [...n.inputs, ...n.outputs]) if (v) used.add(v);
    }
    const fresh = (base: string): string => {
      let name = base;
      for (let k = 1; used.has(name); k++) name = `${base}_${k}`;
      used.add(name);
      return name;
    };

    const newInits: TensorProto[] = [];
    const headNodes: NodeProto[] = [];
    const qdqAfter = new Map<string, NodeProto[]>();
    const remap = new Map<string, string>();
    const groups: QuantizedValueGroup[] = [];
    const groupParams = new Map<string, QParams>();
    const counts = { int8Values: 0, int16Values: 0, weights: 0, int32Biases: 0, constants: 0, nodes: { int8: 0, int16: 0, float: 0 } as Record<Precision, number> };

    const scalarParams = (base: string, p: QParams) => {
      const scale = fresh(`${base}_scale`);
      const zp = fresh(`${base}_zero_point`);
      newInits.push(floatTensor(scale, [], [p.scale]));
      newInits.push(intTensor(zp, p.type, [], [p.zeroPoint]));
      return { scale, zp };
    };
    const domainFor = (t: QuantType) => (t === 'int16' ? int16Domain : '');

    // 3. Q/DQ pairs for the quantized activation values.
    for (const [root, precision] of groupPrecision) {
      const values = this.members.get(root)!.filter((v) => !g.graphOutputs.has(v));
      if (values.length === 0) continue;
      const s = this.stats.get(root)!;
      const t = this.threshold(root, s, precision, o.calibrator);
      const params =
        precision === 'int8' && o.activations === 'asymmetric'
          ? asymmetricParams(Math.max(s.min, -t), Math.min(s.max, t))
          : symmetricParams(t, precision);
      groupParams.set(root, params);
      const { scale, zp } = scalarParams(root, params);
      for (const v of values) {
        const q = fresh(`${v}_quantized`);
        const dq = fresh(`${v}_dequantized`);
        const domain = domainFor(params.type);
        const nodes = [
          onnx.NodeProto.create({ name: fresh(`${v}_QuantizeLinear`), opType: 'QuantizeLinear', domain, input: [v, scale, zp], output: [q] }) as NodeProto,
          onnx.NodeProto.create({ name: fresh(`${v}_DequantizeLinear`), opType: 'DequantizeLinear', domain, input: [q, scale, zp], output: [dq] }) as NodeProto,
        ];
        remap.set(v, dq);
        const producer = g.producers.get(v);
        if (producer) qdqAfter.set(producer.name, [...(qdqAfter.get(producer.name) ?? []), ...nodes]);
        else headNodes.push(...nodes);
        if (precision === 'int8') counts.int8Values++;
        else counts.int16Values++;
      }
      groups.push({ root, values, precision, params, threshold: t, absMax: s.absMax });
    }

    // 4. Weights, biases and constant operands of quantized nodes.
    const weightDq = new Map<string, string>();
    const constDq = new Map<string, string>();
    const weightsReport: QdqResult['weights'] = [];
    const nodeInputs = new Map<GraphNode, string[]>();
    for (const n of g.nodes) {
      const p = precisionOf(n);
      if (n.role === 'compute') counts.nodes[p]++;
      if (p === 'float') continue;
      const inputs = [...n.inputs];
      let weightScales: Float32Array | undefined;
      if (WEIGHT_OPS.has(n.opType) && inputs[1] && g.isConstant(inputs[1])) {
        const w = this.quantizedWeight(inputs[1], n, p, o.weightRange === 'reduced');
        if (w) {
          let out = weightDq.get(w.key);
          if (!out) {
            const base = w.base;
            const qName = fresh(`${base}_quantized`);
            const sName = fresh(`${base}_scale`);
            const zName = fresh(`${base}_zero_point`);
            out = fresh(`${base}_dequantized`);
            const channels = w.scales.length;
            newInits.push(intTensor(qName, w.type, w.dims, w.q));
            newInits.push(floatTensor(sName, [channels], w.scales));
            newInits.push(intTensor(zName, w.type, [channels], new Int32Array(channels)));
            headNodes.push(
              onnx.NodeProto.create({ name: fresh(`${base}_DequantizeLinear`), opType: 'DequantizeLinear', domain: domainFor(w.type), input: [qName, sName, zName], output: [out], attribute: [intAttr('axis', w.axis)] }) as NodeProto,
            );
            weightDq.set(w.key, out);
            weightsReport.push({ name: base, type: w.type, channels, axis: w.axis, maxAbsError: w.maxAbsError });
            counts.weights++;
          }
          inputs[1] = out;
          weightScales = w.scales;
        }
      }
      // int32 bias (Conv: input 2; Gemm: C) when the input activation and the weight are both quantized.
      const biasIndex = n.opType === 'Conv' || n.opType === 'Gemm' ? 2 : -1;
      const inRoot = this.groupOf.get(n.inputs[0] ?? '');
      const inParams = inRoot ? groupParams.get(inRoot) : undefined;
      if (biasIndex > 0 && weightScales && inParams && p === 'int8' && inputs[biasIndex] && g.isConstant(at(inputs, biasIndex, 'inputs'))) {
        const b = g.constantFloats(at(inputs, biasIndex, 'inputs'));
        if (b && b.dims.length === 1 && b.values.length === weightScales.length) {
          const qb = quantizeBias(b.values, inParams.scale, weightScales);
          if (qb) {
            const base = at(inputs, biasIndex, 'inputs');
            const qName = fresh(`${base}_quantized`);
            const sName = fresh(`${base}_scale`);
            const zName = fresh(`${base}_zero_point`);
            const out = fresh(`${base}_dequantized`);
            newInits.push(intTensor(qName, 'int32', [qb.q.length], qb.q));
            newInits.push(floatTensor(sName, [qb.scales.length], qb.scales));
            newInits.push(intTensor(zName, 'int32', [qb.q.length], new Int32Array(qb.q.length)));
            headNodes.push(
              onnx.NodeProto.create({ name: fresh(`${base}_DequantizeLinear`), opType: 'DequantizeLinear', input: [qName, sName, zName], output: [out], attribute: [intAttr('axis', 0)] }) as NodeProto,
            );
            inputs[biasIndex] = out;
            counts.int32Biases++;
          }
        }
      }
      if (CONST_QUANT_OPS.has(n.opType)) {
        for (let k = 0; k < inputs.length; k++) {
          const v = n.inputs[k];
          if (!v || !g.isConstant(v)) continue;
          const c = g.constantFloats(v);
          if (!c) continue;
          const type: QuantType = p === 'int16' ? 'int16' : o.activations === 'asymmetric' ? 'uint8' : 'int8';
          const key = `${v}@${type}`;
          let out = constDq.get(key);
          if (!out) {
            let params: QParams;
            let q: Int32Array;
            if (type === 'uint8') {
              let lo = Infinity;
              let hi = -Infinity;
              for (const x of c.values) {
                lo = Math.min(lo, x);
                hi = Math.max(hi, x);
              }
              params = asymmetricParams(lo, hi);
              q = Int32Array.from(c.values, (x) => quantizeValue(x, params));
            } else {
              ({ params, q } = quantizeConstant(c.values, type));
            }
            const qName = fresh(`${v}_quantized`);
            const { scale, zp } = scalarParams(v, params);
            out = fresh(`${v}_dequantized`);
            newInits.push(intTensor(qName, type, c.dims, q));
            headNodes.push(onnx.NodeProto.create({ name: fresh(`${v}_DequantizeLinear`), opType: 'DequantizeLinear', domain: domainFor(type), input: [qName, scale, zp], output: [out] }) as NodeProto);
            constDq.set(key, out);
            counts.constants++;
          }
          inputs[k] = out;
        }
      }
      nodeInputs.set(n, inputs);
    }

    // 5. The node list: weight/constant DQs and graph-input pairs first, then each node followed by its pairs.
    const nodes: NodeProto[] = [...headNodes];
    for (const n of g.nodes) {
      const base = nodeInputs.get(n) ?? n.inputs;
      const keepFloat = SHAPE_ONLY.has(n.opType);
      const inputs = base.map((v) => (!keepFloat && remap.has(v) ? remap.get(v)! : v));
      const changed = inputs.some((v, i) => v !== n.inputs[i]);
      nodes.push(changed ? (onnx.NodeProto.create({ ...n.proto, input: inputs }) as NodeProto) : n.proto);
      for (const q of qdqAfter.get(n.name) ?? []) nodes.push(q);
    }

    // 6. Drop what nothing reads any more (the float copies of quantized weights and their Identity aliases).
    const outputs = new Set(g.graphOutputs);
    let pruned = nodes;
    for (;;) {
      const read = new Set<string>(outputs);
      for (const n of pruned) for (const i of n.input ?? []) read.add(i);
      const next = pruned.filter((n) => !((n.opType === 'Identity' || n.opType === 'Constant') && !(n.domain ?? '') && (n.output ?? []).every((x) => !read.has(x))));
      if (next.length === pruned.length) {
        const src = this.graph.model.graph!;
        const initializers = [...((src.initializer ?? []) as TensorProto[]).filter((t) => read.has(t.name ?? '')), ...newInits];
        const kept = new Set(initializers.map((t) => t.name ?? ''));
        const graphInputs = (src.input ?? []).filter((i) => !g.initializers.has(i.name ?? '') || kept.has(i.name ?? ''));
        const bytes = this.encode(o, next, initializers, graphInputs, int16Domain, counts);
        return { bytes, groups, weights: weightsReport, counts, int16Domain };
      }
      pruned = next;
    }
  }

  private encode(
    o: QdqOptions,
    nodes: NodeProto[],
    initializers: TensorProto[],
    inputs: NonNullable<ModelProto['graph']>['input'],
    int16Domain: string,
    counts: QdqResult['counts'],
  ): Uint8Array {
    const m = this.graph.model;
    const src = m.graph!;
    const usesMs = int16Domain === MS_DOMAIN && nodes.some((n) => n.domain === MS_DOMAIN);
    const opsetImport = [...(m.opsetImport ?? [])];
    if (usesMs && !opsetImport.some((x) => x.domain === MS_DOMAIN)) opsetImport.push(onnx.OperatorSetIdProto.create({ domain: MS_DOMAIN, version: 1 }));
    const summary = {
      tool: 'segstream quantize',
      version: 1,
      sourceSha256: this.graph.sha256,
      calibrator: o.calibrator.kind,
      ...(o.calibrator.kind === 'percentile' ? { percentile: o.calibrator.percentile } : {}),
      activations: o.activations,
      weights: `per-channel symmetric (int8${o.weightRange === 'reduced' ? ' 7-bit' : ''}; int16 for int16 nodes)`,
      nodes: counts.nodes,
      int8Values: counts.int8Values,
      int16Values: counts.int16Values,
      int16Domain: int16Domain || 'ai.onnx',
      ...(o.summary ?? {}),
    };
    const meta = new Map<string, string>((m.metadataProps ?? []).map((p) => [p.key ?? '', p.value ?? '']));
    meta.set('segstream_quantize', JSON.stringify(summary));
    for (const [k, v] of Object.entries(o.metadata ?? {})) meta.set(k, v);
    const graph = onnx.GraphProto.create({
      name: src.name,
      docString: src.docString,
      node: nodes,
      initializer: initializers,
      input: inputs,
      output: src.output,
      valueInfo: src.valueInfo,
      sparseInitializer: src.sparseInitializer,
    });
    const model = onnx.ModelProto.create({
      irVersion: m.irVersion,
      opsetImport,
      producerName: m.producerName,
      producerVersion: m.producerVersion,
      domain: m.domain,
      modelVersion: m.modelVersion,
      docString: m.docString,
      graph,
      metadataProps: [...meta].map(([key, value]) => ({ key, value })),
      functions: m.functions,
    });
    return onnx.ModelProto.encode(model).finish();
  }

  private threshold(root: string, s: TensorStats, precision: 'int8' | 'int16', c: CalibratorOptions): number {
    const key = `${root}|${precision}|${c.kind}|${c.percentile ?? ''}`;
    let t = this.thresholdCache.get(key);
    if (t === undefined) {
      t = threshold(s, precision, c);
      this.thresholdCache.set(key, t);
    }
    return t;
  }

  /** The group root of a value (for reports and tests). */
  rootOf(value: string): string | undefined {
    return this.groupOf.get(value);
  }
}

/** Reads the summary a segstream-quantized model carries in its metadata (undefined for other models). */
export function quantizeSummaryOf(metadata: Record<string, string>): Record<string, unknown> | undefined {
  const raw = metadata.segstream_quantize;
  if (!raw) return undefined;
  try {
    const v = JSON.parse(raw) as Record<string, unknown>;
    return v && typeof v === 'object' ? v : undefined;
  } catch {
    return undefined;
  }
}

export { DataType };
