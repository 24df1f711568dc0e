/**
 * The values of small constant tensors (shape vectors, axes, scalars, quantisation scales): what shape
 * propagation folds and what a quantised input's scale is. Initializers are read from the model's bytes at the
 * offset the reader located (never the whole weight set); Constant nodes from their decoded attribute.
 */
import type onnxProto from 'onnx-proto';
import { OnnxElemType, type OnnxInitializerSummary, type OnnxNodeSummary } from './reader.ts';

/** A constant's element type, dims and values (int64 as JS numbers: exact up to 2^53, enough for shapes). */
export interface ConstantValue {
  elemType: number;
  dims: number[];
  values: number[];
}

/** Tensors larger than this are never folded: shape arithmetic only ever needs a handful of values. */
export const MAX_FOLDED_ELEMENTS = 1024;

/** float16 bits -> number (exact). */
export function halfToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >> 10) & 0x1f;
  const frac = bits & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

// One float32 slot read back as its bit pattern (same byte order both ways, so any host gives the same bits).
const f32Slot = new DataView(new ArrayBuffer(4));

/**
 * number -> float16 bits, through float32, rounding to nearest even (subnormals, overflow to infinity, NaN
 * quietened with its top payload bits kept: what F16C's and NEON's conversions produce).
 */
export function numberToHalf(value: number): number {
  f32Slot.setFloat32(0, value, true);
  const x = f32Slot.getUint32(0, true);
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 | (mant >>> 13) : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const halfway = 1 << (shift - 1);
    const rem = mant & ((1 << shift) - 1);
    let r = mant >>> shift;
    if (rem > halfway || (rem === halfway && r & 1)) r++;
    return sign | r;
  }
  let r = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && r & 1)) r++;
  return sign | r;
}

const ELEMENT_BYTES: Record<number, number> = {
  [OnnxElemType.FLOAT]: 4,
  [OnnxElemType.UINT8]: 1,
  [OnnxElemType.INT8]: 1,
  [OnnxElemType.UINT16]: 2,
  [OnnxElemType.INT16]: 2,
  [OnnxElemType.INT32]: 4,
  [OnnxElemType.INT64]: 8,
  [OnnxElemType.BOOL]: 1,
  [OnnxElemType.FLOAT16]: 2,
  [OnnxElemType.DOUBLE]: 8,
  [OnnxElemType.UINT32]: 4,
  [OnnxElemType.UINT64]: 8,
};

/** Little-endian raw_data -> numbers; null for an element type it does not know or a length that does not fit. */
export function decodeRaw(elemType: number, raw: Uint8Array, count: number): number[] | null {
  const size = ELEMENT_BYTES[elemType];
  if (size === undefined || raw.length !== size * count) return null;
  const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const out = new Array<number>(count);
  for (let i = 0; i < count; i++) {
    const o = i * size;
    switch (elemType) {
      case OnnxElemType.FLOAT: out[i] = v.getFloat32(o, true); break;
      case OnnxElemType.UINT8: case OnnxElemType.BOOL: out[i] = v.getUint8(o); break;
      case OnnxElemType.INT8: out[i] = v.getInt8(o); break;
      case OnnxElemType.UINT16: out[i] = v.getUint16(o, true); break;
      case OnnxElemType.INT16: out[i] = v.getInt16(o, true); break;
      case OnnxElemType.INT32: out[i] = v.getInt32(o, true); break;
      case OnnxElemType.UINT32: out[i] = v.getUint32(o, true); break;
      case OnnxElemType.INT64: out[i] = Number(v.getBigInt64(o, true)); break;
      case OnnxElemType.UINT64: out[i] = Number(v.getBigUint64(o, true)); break;
      case OnnxElemType.FLOAT16: out[i] = halfToNumber(v.getUint16(o, true)); break;
      case OnnxElemType.DOUBLE: out[i] = v.getFloat64(o, true); break;
    }
  }
  return out;
}

function count(dims: readonly number[]): number {
  return dims.reduce((a, d) => a * d, 1);
}

/** The values of an initializer, read at its located payload; null when too large or not located. */
export function initializerValue(bytes: Uint8Array, t: OnnxInitializerSummary, maxElements = MAX_FOLDED_ELEMENTS): ConstantValue | null {
  const n = count(t.dims);
  if (n > maxElements || t.external || !t.payload) return null;
  const raw = bytes.subarray(t.payload.offset, t.payload.offset + t.payload.length);
  // float_data is packed float32 (4 bytes each), the same bytes as raw_data for FLOAT.
  const elemType = t.payload.field === 'float_data' ? (t.dataType === OnnxElemType.FLOAT ? OnnxElemType.FLOAT : -1) : t.dataType;
  const values = decodeRaw(elemType, raw, n);
  return values ? { elemType: t.dataType, dims: [...t.dims], values } : null;
}

type Long = { toNumber(): number };
const num = (v: number | Long | null | undefined): number => (v === null || v === undefined ? 0 : typeof v === 'number' ? v : v.toNumber());

/** A decoded TensorProto (a Constant's `value`) -> its values; null when its encoding is not one segstream reads. */
export function tensorProtoValue(t: onnxProto.onnx.ITensorProto, maxElements = MAX_FOLDED_ELEMENTS): ConstantValue | null {
  const dims = (t.dims ?? []).map(num);
  const n = count(dims);
  const elemType = t.dataType ?? 0;
  if (n > maxElements) return null;
  let values: number[] | null = null;
  if (t.rawData && t.rawData.length > 0) values = decodeRaw(elemType, t.rawData, n);
  else if (t.int64Data && t.int64Data.length === n) values = t.int64Data.map(num);
  else if (t.int32Data && t.int32Data.length === n) {
    values = elemType === OnnxElemType.FLOAT16 ? t.int32Data.map(halfToNumber) : t.int32Data.map(num);
  } else if (t.floatData && t.floatData.length === n) values = [...t.floatData];
  else if (t.doubleData && t.doubleData.length === n) values = [...t.doubleData];
  else if (n === 0) values = [];
  return values ? { elemType, dims, values } : null;
}

/** The value a Constant node produces (value, value_int(s), value_float(s)); null for other forms. */
export function constantNodeValue(node: OnnxNodeSummary): ConstantValue | null {
  for (const a of node.attributes) {
    switch (a.name) {
      case 'value':
        return a.t ? tensorProtoValue(a.t) : null;
      case 'value_int':
        return { elemType: OnnxElemType.INT64, dims: [], values: [num(a.i)] };
      case 'value_ints':
        return { elemType: OnnxElemType.INT64, dims: [a.ints?.length ?? 0], values: (a.ints ?? []).map(num) };
      case 'value_float':
        return { elemType: OnnxElemType.FLOAT, dims: [], values: [a.f ?? 0] };
      case 'value_floats':
        return { elemType: OnnxElemType.FLOAT, dims: [a.floats?.length ?? 0], values: [...(a.floats ?? [])] };
    }
  }
  return null;
}
