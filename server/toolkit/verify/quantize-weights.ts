/**
 * Weight-only int8 round trip for an ONNX model: every Conv / ConvTranspose / MatMul / Gemm weight is
 * quantised symmetrically per output channel (scale = max|w| / 127, q = round(w / scale) clamped to
 * [-127, 127]) and dequantised again. In `qdq` mode the weights are stored as int8 initializers feeding
 * DequantizeLinear nodes (a real QDQ model, opset >= 13); in `fake` mode the rounded values are written back
 * as float32. The fake copy differs from the reference exactly by int8 weight rounding (what
 * `verify --deployed-int8-weights` uses). Note: ONNX Runtime's extended optimisations run a QDQ
 * DequantizeLinear+MatMul pair with dynamically quantised activations (measured here with onnxruntime-node
 * 1.30), so a QDQ copy under ORT also carries activation rounding.
 */
import { decodeModel, defaultOpset, onnx, type TensorProto } from '../hb-mapper/sensitive-nodes.ts';

export interface WeightQuantOptions {
  mode?: 'qdq' | 'fake';
  /** Weights with fewer elements stay float (tiny kernels are not worth it). */
  minElements?: number;
}

export interface QuantisedTensorReport {
  name: string;
  op: string;
  shape: number[];
  axis: number;
  channels: number;
  maxAbsError: number;
  meanAbsError: number;
}

export interface WeightQuantResult {
  bytes: Uint8Array;
  mode: 'qdq' | 'fake';
  tensors: QuantisedTensorReport[];
  skipped: { name: string; reason: string }[];
}

const FLOAT = 1;
const INT8 = 3;

function floatValues(t: TensorProto): Float32Array | undefined {
  if (t.dataType !== FLOAT) return undefined;
  if (t.rawData && t.rawData.length > 0) {
    const copy = new Uint8Array(t.rawData); // aligned copy
    return new Float32Array(copy.buffer, 0, copy.length / 4);
  }
  if (t.floatData && t.floatData.length > 0) return Float32Array.from(t.floatData);
  return undefined;
}

/** Quantises `w` per channel along `axis`; returns int8 values, scales and the dequantised weights. */
export function quantisePerChannel(w: Float32Array, shape: readonly number[], axis: number) {
  const channels = shape[axis]!;
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const outer = shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const maxAbs = new Float64Array(channels);
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      const base = (o * channels + c) * inner;
      let m = maxAbs[c]!;
      for (let i = 0; i < inner; i++) m = Math.max(m, Math.abs(w[base + i]!));
      maxAbs[c] = m;
    }
  }
  const scales = new Float32Array(channels);
  for (let c = 0; c < channels; c++) scales[c] = maxAbs[c]! > 0 ? maxAbs[c]! / 127 : 1;
  const q = new Int8Array(w.length);
  const dq = new Float32Array(w.length);
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      const s = scales[c]!;
      const base = (o * channels + c) * inner;
      for (let i = 0; i < inner; i++) {
        const v = Math.max(-127, Math.min(127, Math.round(w[base + i]! / s)));
        q[base + i] = v;
        dq[base + i] = v * s;
      }
    }
  }
  return { q, scales, dq, channels };
}

function weightAxis(op: string, rank: number, attrs: InstanceType<typeof onnx.AttributeProto>[]): number | undefined {
  switch (op) {
    case 'Conv':
      return 0;
    case 'ConvTranspose':
      return rank >= 2 ? 1 : undefined;
    case 'MatMul':
      return rank >= 2 ? rank - 1 : undefined;
    case 'Gemm': {
      const transB = attrs.find((a) => a.name === 'transB');
      return transB && Number(transB.i ?? 0) === 1 ? 0 : 1;
    }
    default:
      return undefined;
  }
}

export function quantizeWeightsPerChannel(modelBytes: Uint8Array, options: WeightQuantOptions = {}): WeightQuantResult {
  const model = decodeModel(modelBytes, 'model');
  const g = model.graph!;
  const opset = defaultOpset(model);
  const mode = options.mode === 'fake' || opset < 13 ? 'fake' : (options.mode ?? 'qdq');
  const minElements = options.minElements ?? 16;
  const inits = new Map<string, TensorProto>();
  for (const t of g.initializer ?? []) inits.set(t.name ?? '', t as TensorProto);
  // Identity outputs of initializers resolve to the initializer (exporters deduplicate shared weights so).
  const alias = new Map<string, string>();
  for (const n of g.node ?? []) {
    if (n.opType === 'Identity' && n.input?.[0] && n.output?.[0]) {
      const src = alias.get(n.input[0]) ?? n.input[0];
      if (inits.has(src)) alias.set(n.output[0], src);
    }
  }

  const done = new Set<string>();
  const tensors: QuantisedTensorReport[] = [];
  const skipped: { name: string; reason: string }[] = [];
  const newNodes: InstanceType<typeof onnx.NodeProto>[] = [];
  const newInits: TensorProto[] = [];

  for (const n of g.node ?? []) {
    const op = n.opType ?? '';
    if (!['Conv', 'ConvTranspose', 'MatMul', 'Gemm'].includes(op)) continue;
    const raw = n.input?.[1];
    if (!raw) continue;
    const name = alias.get(raw) ?? raw;
    const t = inits.get(name);
    if (!t || done.has(name)) continue;
    done.add(name);
    const shape = (t.dims ?? []).map((d) => Number(d));
    const values = floatValues(t);
    if (!values) {
      skipped.push({ name, reason: `data type ${t.dataType} is not float32` });
      continue;
    }
    if (values.length < minElements) {
      skipped.push({ name, reason: `only ${values.length} elements` });
      continue;
    }
    const axis = weightAxis(op, shape.length, (n.attribute ?? []) as InstanceType<typeof onnx.AttributeProto>[]);
    if (axis === undefined) {
      skipped.push({ name, reason: `rank ${shape.length} weight of ${op}` });
      continue;
    }
    const { q, scales, dq, channels } = quantisePerChannel(values, shape, axis);
    let maxErr = 0;
    let sumErr = 0;
    for (let i = 0; i < values.length; i++) {
      const e = Math.abs(values[i]! - dq[i]!);
      sumErr += e;
      if (e > maxErr) maxErr = e;
    }
    tensors.push({ name, op, shape, axis, channels, maxAbsError: maxErr, meanAbsError: sumErr / values.length });

    if (mode === 'fake') {
      t.rawData = new Uint8Array(dq.buffer.slice(0));
      t.floatData = [];
      continue;
    }
    const qName = `${name}__int8`;
    const sName = `${name}__scale`;
    const zName = `${name}__zero_point`;
    newInits.push(onnx.TensorProto.create({ name: qName, dataType: INT8, dims: shape, rawData: new Uint8Array(q.buffer.slice(0)) }) as TensorProto);
    newInits.push(onnx.TensorProto.create({ name: sName, dataType: FLOAT, dims: [channels], rawData: new Uint8Array(scales.buffer.slice(0)) }) as TensorProto);
    newInits.push(onnx.TensorProto.create({ name: zName, dataType: INT8, dims: [channels], rawData: new Uint8Array(channels) }) as TensorProto);
    newNodes.push(
      onnx.NodeProto.create({
        name: `${name}__dequantize`,
        opType: 'DequantizeLinear',
        input: [qName, sName, zName],
        output: [name],
        attribute: [onnx.AttributeProto.create({ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: axis })],
      }),
    );
    inits.delete(name);
  }

  if (mode === 'qdq') {
    const replaced = new Set(newNodes.map((n) => n.output![0]!));
    g.initializer = [...(g.initializer ?? []).filter((t) => !replaced.has(t.name ?? '')), ...newInits];
    g.input = (g.input ?? []).filter((i) => !replaced.has(i.name ?? ''));
    g.node = [...newNodes, ...(g.node ?? [])];
  }
  const bytes = onnx.ModelProto.encode(model).finish();
  return { bytes, mode, tensors, skipped };
}
