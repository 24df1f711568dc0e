/**
 * TensorProto helpers for the quantizer, on onnx-proto directly: read float32 values (raw_data or
 * float_data, little-endian as ONNX stores them), read a Constant node's value, and make the scalar and
 * per-channel tensors QuantizeLinear/DequantizeLinear need (float scales, int8/uint8/int16/int32 data).
 */
import onnxProto from 'onnx-proto';
import { at } from '../../util/checked-access.ts';

export const onnx = onnxProto.onnx;
export type ModelProto = InstanceType<typeof onnx.ModelProto>;
export type GraphProto = InstanceType<typeof onnx.GraphProto>;
export type NodeProto = InstanceType<typeof onnx.NodeProto>;
export type TensorProto = InstanceType<typeof onnx.TensorProto>;
export type AttributeProto = InstanceType<typeof onnx.AttributeProto>;

/** TensorProto.DataType values the quantizer reads or writes (onnx.proto). */
export const DataType = { FLOAT: 1, UINT8: 2, INT8: 3, INT16: 5, INT32: 6, INT64: 7 } as const;

/** The integer types a quantized tensor is stored in. */
export type QuantType = 'int8' | 'uint8' | 'int16';

export const QUANT_RANGE: Record<QuantType, { min: number; max: number; dataType: number }> = {
  int8: { min: -128, max: 127, dataType: DataType.INT8 },
  uint8: { min: 0, max: 255, dataType: DataType.UINT8 },
  int16: { min: -32768, max: 32767, dataType: DataType.INT16 },
};

/** A number from a protobuf field that may be a Long (int64 fields decode to Long objects). */
export function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (v && typeof v === 'object' && 'toNumber' in v && typeof (v as { toNumber: unknown }).toNumber === 'function') {
    return (v as { toNumber(): number }).toNumber();
  }
  return Number(v);
}

export function dimsOf(t: TensorProto): number[] {
  return (t.dims ?? []).map(toNumber);
}

export function elementCount(dims: readonly number[]): number {
  return dims.reduce((a, d) => a * d, 1);
}

/** True when the tensor's payload lives in an external file (models over 2 GB). */
export function isExternal(t: TensorProto): boolean {
  return t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL || (t.externalData ?? []).length > 0;
}

/** The float32 values of a tensor, or undefined when it is not float32 (or stored externally). */
export function floatValues(t: TensorProto): Float32Array | undefined {
  if (t.dataType !== DataType.FLOAT || isExternal(t)) return undefined;
  const count = elementCount(dimsOf(t));
  if (t.rawData && t.rawData.length > 0) {
    if (t.rawData.length !== count * 4) return undefined;
    const view = new DataView(t.rawData.buffer, t.rawData.byteOffset, t.rawData.byteLength);
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
    return out;
  }
  if (t.floatData && t.floatData.length === count) return Float32Array.from(t.floatData);
  if (count === 0) return new Float32Array(0);
  return undefined;
}

/** The tensor held by a Constant node's `value` attribute (the only form exporters use for float constants). */
export function constantNodeTensor(n: NodeProto): TensorProto | undefined {
  if (n.opType !== 'Constant' || (n.domain && n.domain !== 'ai.onnx')) return undefined;
  const a = (n.attribute ?? []).find((x) => x.name === 'value');
  return a?.t ? (a.t as TensorProto) : undefined;
}

function littleEndian(values: ArrayLike<number>, bytesPer: 1 | 2 | 4, kind: 'int' | 'float'): Uint8Array {
  const out = new Uint8Array(values.length * bytesPer);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) {
    const v = at(values, i, 'values');
    if (kind === 'float') view.setFloat32(i * 4, v, true);
    else if (bytesPer === 1) view.setInt8(i, v > 127 ? v - 256 : v);
    else if (bytesPer === 2) view.setInt16(i * 2, v, true);
    else view.setInt32(i * 4, v, true);
  }
  return out;
}

/** A float32 initializer; dims [] for a scalar. */
export function floatTensor(name: string, dims: number[], values: ArrayLike<number>): TensorProto {
  if (elementCount(dims) !== values.length) throw new RangeError(`tensor ${name}: dims [${dims.join(', ')}] hold ${elementCount(dims)} values, got ${values.length}`);
  return onnx.TensorProto.create({ name, dataType: DataType.FLOAT, dims, rawData: littleEndian(values, 4, 'float') }) as TensorProto;
}

/** An integer initializer of a quantized type (values already rounded and clamped) or int32 (biases). */
export function intTensor(name: string, type: QuantType | 'int32', dims: number[], values: ArrayLike<number>): TensorProto {
  if (elementCount(dims) !== values.length) throw new RangeError(`tensor ${name}: dims [${dims.join(', ')}] hold ${elementCount(dims)} values, got ${values.length}`);
  const dataType = type === 'int32' ? DataType.INT32 : QUANT_RANGE[type].dataType;
  const bytes = type === 'int32' ? 4 : type === 'int16' ? 2 : 1;
  const raw = type === 'uint8' ? Uint8Array.from(values) : littleEndian(values, bytes, 'int');
  return onnx.TensorProto.create({ name, dataType, dims, rawData: raw }) as TensorProto;
}

/** Reads the integer values back (tests, reports). */
export function intValues(t: TensorProto): Int32Array {
  const raw = t.rawData ?? new Uint8Array(0);
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const count = elementCount(dimsOf(t));
  const out = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    switch (t.dataType) {
      case DataType.INT8:
        out[i] = view.getInt8(i);
        break;
      case DataType.UINT8:
        out[i] = view.getUint8(i);
        break;
      case DataType.INT16:
        out[i] = view.getInt16(i * 2, true);
        break;
      case DataType.INT32:
        out[i] = view.getInt32(i * 4, true);
        break;
      default:
        throw new Error(`tensor ${t.name}: data type ${t.dataType} is not an integer type the quantizer writes`);
    }
  }
  return out;
}

export function intAttr(name: string, value: number): AttributeProto {
  return onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INT, i: value }) as AttributeProto;
}

export function attrInt(n: NodeProto, name: string): number | undefined {
  const a = (n.attribute ?? []).find((x) => x.name === name);
  return a && a.i !== undefined && a.i !== null ? toNumber(a.i) : undefined;
}
