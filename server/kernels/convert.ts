/**
 * Element-type conversions of whole tensors: float32 <-> float16 in the native kernels (SIMD, exact widening,
 * round-to-nearest-even narrowing), for float16 model inputs and outputs; and the quantisation of a normalised
 * float tensor into the int8/uint8 input of a quantised model.
 */
import { native } from './native.ts';
import * as v from './validate.ts';
import { at } from '../util/checked-access.ts';

export interface ConvertOptions<T> {
  /** Reused output storage (exactly as many elements as the input). */
  out?: T;
  simd?: boolean;
}

/** float32 -> float16 bit patterns (a Uint16Array, what ONNX Runtime takes for a 'float16' tensor). */
export function float32ToFloat16(values: Float32Array, opts: ConvertOptions<Uint16Array> = {}): Uint16Array {
  const fn = 'float32ToFloat16';
  if (!(values instanceof Float32Array)) v.fail(fn, `values must be a Float32Array, got ${v.describe(values)}`);
  const o = v.object(fn, 'opts', opts);
  const out = o.out === undefined ? new Uint16Array(values.length) : v.reusedOutput(fn, 'opts.out', o.out, Uint16Array, values.length, `${values.length} float16 values`);
  native().convertFloat16({ from: values, to: out, count: values.length, scalar: !v.simdFlag(fn, o.simd) });
  return out;
}

/** float16 bit patterns -> float32 (exact). */
export function float16ToFloat32(bits: Uint16Array, opts: ConvertOptions<Float32Array> = {}): Float32Array {
  const fn = 'float16ToFloat32';
  if (!(bits instanceof Uint16Array)) v.fail(fn, `bits must be a Uint16Array of half-precision patterns, got ${v.describe(bits)}`);
  const o = v.object(fn, 'opts', opts);
  const out = o.out === undefined ? new Float32Array(bits.length) : v.reusedOutput(fn, 'opts.out', o.out, Float32Array, bits.length, `${bits.length} float32 values`);
  native().convertFloat16({ from: bits, to: out, count: bits.length, scalar: !v.simdFlag(fn, o.simd) });
  return out;
}

export interface QuantizeOptions {
  dtype: 'uint8' | 'int8';
  /** q = round_half_even(x / scale) + zeroPoint, saturated to the type (ONNX QuantizeLinear). */
  scale: number;
  zeroPoint: number;
  out?: Uint8Array | Int8Array;
}

/** A normalised float tensor -> the integers a quantised model's input DequantizeLinear reads. */
export function quantizeTensor(values: Float32Array, opts: QuantizeOptions): Uint8Array | Int8Array {
  const fn = 'quantizeTensor';
  if (!(values instanceof Float32Array)) v.fail(fn, `values must be a Float32Array, got ${v.describe(values)}`);
  const o = v.object(fn, 'opts', opts);
  const dtype = v.oneOf(fn, 'opts.dtype', o.dtype, ['uint8', 'int8'] as const);
  if (typeof o.scale !== 'number' || !Number.isFinite(o.scale) || o.scale <= 0) v.fail(fn, `opts.scale must be a finite number > 0, got ${v.describe(o.scale)}`);
  const [lo, hi] = dtype === 'uint8' ? [0, 255] : [-128, 127];
  const zp = v.integer(fn, 'opts.zeroPoint', o.zeroPoint, lo, hi);
  const ctor = dtype === 'uint8' ? Uint8Array : Int8Array;
  const out = o.out === undefined ? new ctor(values.length) : v.reusedOutput(fn, 'opts.out', o.out, ctor as typeof Uint8Array, values.length, `${values.length} ${dtype} values`);
  const scale = Math.fround(o.scale as number);
  for (let i = 0; i < values.length; i++) {
    // x / scale in float32 as ONNX Runtime computes it (a double quotient of two floats rounds to the same float).
    const x = Math.fround(at(values, i, fn) / scale);
    // Round half to even (QuantizeLinear's rounding), then saturate.
    let r = Math.round(x);
    if (r - x === 0.5 && r % 2 !== 0) r -= 1;
    const q = r + zp;
    out[i] = q < lo ? lo : q > hi ? hi : q;
  }
  return out;
}
