/**
 * Quantization parameters, as ONNX QuantizeLinear defines them: q = saturate(round_half_even(x / scale) +
 * zero_point), x' = (q - zero_point) * scale.
 *   symmetric (int8 / int16): zero_point 0, scale = T / 127 or T / 32767 for a clipping threshold T;
 *   asymmetric (uint8): over [lo, hi] (widened to contain 0), scale = (hi - lo) / 255,
 *                       zero_point = round(-lo / scale);
 *   weights: per output channel, symmetric int8, scale = max|w| / 127 (server/tools/quantize-weights.ts).
 */
import { QUANT_RANGE, type QuantType } from './onnx-tensors.ts';
import { at } from '../../util/checked-access.ts';

export interface QParams {
  type: QuantType;
  scale: number;
  zeroPoint: number;
}

const SYM_MAX: Record<'int8' | 'int16', number> = { int8: 127, int16: 32767 };

export function symmetricParams(threshold: number, type: 'int8' | 'int16'): QParams {
  if (!(threshold >= 0) || !Number.isFinite(threshold)) throw new RangeError(`symmetricParams: threshold must be a finite number >= 0, got ${threshold}`);
  // An all-zero tensor: any scale represents it exactly; 1 keeps DequantizeLinear well defined.
  const scale = threshold > 0 ? threshold / SYM_MAX[type] : 1;
  return { type, scale: Math.fround(scale), zeroPoint: 0 };
}

export function asymmetricParams(lo: number, hi: number): QParams {
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || lo > hi) throw new RangeError(`asymmetricParams: expected finite lo <= hi, got [${lo}, ${hi}]`);
  const a = Math.min(lo, 0);
  const b = Math.max(hi, 0);
  if (b - a === 0) return { type: 'uint8', scale: 1, zeroPoint: 0 };
  const scale = Math.fround((b - a) / 255);
  const zeroPoint = Math.max(0, Math.min(255, Math.round(-a / scale)));
  return { type: 'uint8', scale, zeroPoint };
}

/** Round half to even, as QuantizeLinear does. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export function quantizeValue(x: number, p: QParams): number {
  const { min, max } = QUANT_RANGE[p.type];
  return Math.max(min, Math.min(max, roundHalfEven(x / p.scale) + p.zeroPoint));
}

export function dequantizeValue(q: number, p: QParams): number {
  return (q - p.zeroPoint) * p.scale;
}

/** Quantizes a constant operand (bias vector, scalar) per tensor, symmetric, in the node's precision. */
export function quantizeConstant(values: Float32Array, type: 'int8' | 'int16'): { params: QParams; q: Int32Array } {
  let m = 0;
  for (let i = 0; i < values.length; i++) m = Math.max(m, Math.abs(at(values, i, 'values')));
  const params = symmetricParams(m, type);
  const q = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) q[i] = quantizeValue(at(values, i, 'values'), params);
  return { params, q };
}

/**
 * A Conv bias as int32 with scale = input scale * weight scale of its channel (zero point 0): the form ONNX
 * Runtime needs to fuse DequantizeLinear -> Conv -> QuantizeLinear into one integer QLinearConv.
 * Undefined when a value would not fit in int32.
 */
export function quantizeBias(bias: Float32Array, inputScale: number, weightScales: Float32Array): { q: Int32Array; scales: Float32Array } | undefined {
  const q = new Int32Array(bias.length);
  const scales = new Float32Array(bias.length);
  for (let c = 0; c < bias.length; c++) {
    const s = Math.fround(inputScale * at(weightScales, weightScales.length === 1 ? 0 : c, 'weightScales'));
    scales[c] = s;
    const v = roundHalfEven(at(bias, c, 'bias') / s);
    if (!Number.isFinite(v) || Math.abs(v) > 2147483647) return undefined;
    q[c] = v;
  }
  return { q, scales };
}

/**
 * Symmetric per-channel quantization of a weight along `axis`: scale[c] = max|w[c]| / qmax, q = round(w /
 * scale) in [-qmax, qmax], qmax = 127 (int8), 63 (int8 `reduced`: 7-bit weights) or 32767 (int16); an
 * all-zero channel gets scale 1. Full-range int8 is also what server/toolkit/verify/quantize-weights.ts
 * stores (its quantisePerChannel calls this). Reduced range exists for x86 CPUs without VNNI, where
 * ONNX Runtime multiplies uint8 x int8 with an instruction (vpmaddubsw) whose pairwise int16 sums saturate
 * for large activations times large full-range weights.
 */
export function quantizePerChannel(w: Float32Array, dims: readonly number[], axis: number, type: 'int8' | 'int16', reduced = false): { q: Int32Array; scales: Float32Array; maxAbsError: number } {
  const qmax = type === 'int8' && reduced ? 63 : SYM_MAX[type];
  const channels = at(dims, axis, 'dims');
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const outer = dims.slice(0, axis).reduce((a, b) => a * b, 1);
  const maxAbs = new Float64Array(channels);
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      const base = (o * channels + c) * inner;
      let m = at(maxAbs, c, 'maxAbs');
      for (let i = 0; i < inner; i++) m = Math.max(m, Math.abs(at(w, base + i, 'w')));
      maxAbs[c] = m;
    }
  }
  const scales = new Float32Array(channels);
  for (let c = 0; c < channels; c++) scales[c] = at(maxAbs, c, 'maxAbs') > 0 ? at(maxAbs, c, 'maxAbs') / qmax : 1;
  const q = new Int32Array(w.length);
  let maxAbsError = 0;
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      const s = at(scales, c, 'scales');
      const base = (o * channels + c) * inner;
      for (let i = 0; i < inner; i++) {
        const v = Math.max(-qmax, Math.min(qmax, Math.round(at(w, base + i, 'w') / s)));
        q[base + i] = v;
        maxAbsError = Math.max(maxAbsError, Math.abs(v * s - at(w, base + i, 'w')));
      }
    }
  }
  return { q, scales, maxAbsError };
}
