/**
 * Weight-only int8 round trip for an ONNX model: every Conv / ConvTranspose / MatMul / Gemm weight is
 * quantised symmetrically per output channel (scale = max|w| / 127, q = round(w / scale) clamped to
 * [-127, 127]) and dequantised again. In `qdq` mode the weights are stored as int8 initializers feeding
 * DequantizeLinear nodes (a real QDQ model, opset >= 13); in `fake` mode the rounded values are written back
 * as float32. The fake copy differs from the reference exactly by int8 weight rounding (what
 * `verify --deployed-int8-weights` uses). Note: ONNX Runtime's extended optimisations run a QDQ
 * DequantizeLinear+MatMul pair with dynamically quantised activations (measured here with onnxruntime-node
 * 1.30), so a QDQ copy under ORT also carries activation rounding.
 *
 * The model is read with the one ONNX reader (weights located, not decoded) and written back at the field
 * level (server/model/onnx/rewrite.ts): the fake copy patches the rounded floats over the original payloads,
 * the QDQ copy splices DequantizeLinear nodes and int8 initializers in; every other byte is copied.
 */
import { defaultOpset, readOnnxModel, type OnnxInitializerSummary } from '../../model/onnx/reader.ts';
import type { GraphNode } from '../../model/onnx/graph.ts';
import { attr, encodeNode, encodeTensor } from '../../model/onnx/builder.ts';
import { editGraph, patchPayloads, type PayloadPatch } from '../../model/onnx/rewrite.ts';
import { quantizePerChannel } from '../quantize/qparams.ts';
import { absDiffSumMax } from './accuracy-metrics.ts';
import { at } from '../../util/checked-access.ts';

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

/** The float32 values of an initializer stored as raw_data or packed float_data (little-endian either way). */
function floatValues(model: Uint8Array, t: OnnxInitializerSummary): Float32Array | undefined {
  if (t.dataType !== FLOAT || !t.payload || t.payload.length === 0 || t.payload.length % 4 !== 0) return undefined;
  const view = new DataView(model.buffer, model.byteOffset + t.payload.offset, t.payload.length);
  const out = new Float32Array(t.payload.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

function littleEndianFloats(values: Float32Array): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, at(values, i, 'values'), true);
  return out;
}

function whyNotFloat(t: OnnxInitializerSummary): string {
  if (t.dataType !== FLOAT) return `data type ${t.dataType} is not float32`;
  if (t.external) return 'stored in an external data file';
  return 'stored in an encoding other than raw_data or packed float_data';
}

/**
 * Quantises `w` per channel along `axis`; returns int8 values, scales and the dequantised weights. The rounding
 * is qparams' full-range int8 quantizePerChannel, so both paths store the same weights.
 */
export function quantisePerChannel(w: Float32Array, shape: readonly number[], axis: number) {
  const { q: rounded, scales } = quantizePerChannel(w, shape, axis, 'int8');
  const channels = scales.length;
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const q = Int8Array.from(rounded);
  const dq = new Float32Array(w.length);
  for (let i = 0; i < w.length; i++) dq[i] = at(rounded, i, 'rounded') * at(scales, Math.floor(i / inner) % channels, 'scales');
  return { q, scales, dq, channels };
}

function intAttribute(n: GraphNode, name: string): number | undefined {
  const a = n.attributes.find((x) => x.name === name);
  if (!a || a.i === undefined || a.i === null) return undefined;
  return typeof a.i === 'number' ? a.i : Number(a.i.toString());
}

function weightAxis(n: GraphNode, rank: number): number | undefined {
  switch (n.opType) {
    case 'Conv':
      return 0;
    case 'ConvTranspose':
      return rank >= 2 ? 1 : undefined;
    case 'MatMul':
      return rank >= 2 ? rank - 1 : undefined;
    case 'Gemm':
      return intAttribute(n, 'transB') === 1 ? 0 : 1;
    default:
      return undefined;
  }
}

export function quantizeWeightsPerChannel(modelBytes: Uint8Array, options: WeightQuantOptions = {}): WeightQuantResult {
  const { summary, graph } = readOnnxModel(modelBytes, 'model');
  const opset = defaultOpset(summary);
  const mode = options.mode === 'fake' || opset < 13 ? 'fake' : (options.mode ?? 'qdq');
  const minElements = options.minElements ?? 16;
  const inits = new Map<string, OnnxInitializerSummary>();
  for (const t of summary.initializers) inits.set(t.name, t);
  // Identity outputs of initializers resolve to the initializer (exporters deduplicate shared weights so).
  const alias = new Map<string, string>();
  for (const n of graph.nodes) {
    if (n.opType === 'Identity' && n.inputs[0] && n.outputs[0]) {
      const src = alias.get(n.inputs[0]) ?? n.inputs[0];
      if (inits.has(src)) alias.set(n.outputs[0], src);
    }
  }

  const done = new Set<string>();
  const tensors: QuantisedTensorReport[] = [];
  const skipped: { name: string; reason: string }[] = [];
  const patches: PayloadPatch[] = [];
  const newNodes: Uint8Array[] = [];
  const newInits: Uint8Array[] = [];
  const replaced = new Set<string>();

  for (const n of graph.nodes) {
    const op = n.opType;
    if (!['Conv', 'ConvTranspose', 'MatMul', 'Gemm'].includes(op)) continue;
    const raw = n.inputs[1];
    if (!raw) continue;
    const name = alias.get(raw) ?? raw;
    const t = inits.get(name);
    if (!t || done.has(name)) continue;
    done.add(name);
    const shape = t.dims;
    const values = floatValues(modelBytes, t);
    if (!values) {
      skipped.push({ name, reason: whyNotFloat(t) });
      continue;
    }
    if (values.length < minElements) {
      skipped.push({ name, reason: `only ${values.length} elements` });
      continue;
    }
    const axis = weightAxis(n, shape.length);
    if (axis === undefined) {
      skipped.push({ name, reason: `rank ${shape.length} weight of ${op}` });
      continue;
    }
    const { q, scales, dq, channels } = quantisePerChannel(values, shape, axis);
    const err = absDiffSumMax(values, dq);
    tensors.push({ name, op, shape, axis, channels, maxAbsError: err.max, meanAbsError: err.sum / values.length });

    if (mode === 'fake') {
      patches.push({ offset: t.payload!.offset, bytes: littleEndianFloats(dq) });
      continue;
    }
    const qName = `${name}__int8`;
    const sName = `${name}__scale`;
    const zName = `${name}__zero_point`;
    newInits.push(encodeTensor(qName, { type: 'int8', dims: shape, data: q }));
    newInits.push(encodeTensor(sName, { type: 'float32', dims: [channels], data: scales }));
    newInits.push(encodeTensor(zName, { type: 'int8', dims: [channels], data: new Int8Array(channels) }));
    newNodes.push(encodeNode({ name: `${name}__dequantize`, opType: 'DequantizeLinear', inputs: [qName, sName, zName], outputs: [name], attributes: { axis: attr.int(axis) } }));
    replaced.add(name);
  }

  const bytes =
    mode === 'fake'
      ? patchPayloads(modelBytes, patches)
      : editGraph(modelBytes, { prependNodes: newNodes, appendInitializers: newInits, dropInitializers: replaced, dropInputs: replaced });
  return { bytes, mode, tensors, skipped };
}
