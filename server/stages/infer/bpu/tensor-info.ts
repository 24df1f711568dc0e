/**
 * Names for hb_dnn's enum values and the typed description of a BPU model tensor (what the server reads to
 * choose preprocessing and post-processing).
 */
import type { NativeTensorInfo } from './native.ts';

/** hbDNNDataType, in enum order from 0 (HB_DNN_IMG_TYPE_* then HB_DNN_TENSOR_TYPE_*). */
export const BPU_TENSOR_TYPES = [
  'Y', 'NV12', 'NV12_SEPARATE', 'YUV444', 'RGB', 'BGR',
  'S4', 'U4', 'S8', 'U8', 'F16', 'S16', 'U16', 'F32', 'S32', 'U32', 'F64', 'S64', 'U64',
] as const;
export type BpuTensorType = (typeof BPU_TENSOR_TYPES)[number];

export type BpuLayout = 'NHWC' | 'NCHW' | 'NONE';
export type BpuQuantiType = 'NONE' | 'SHIFT' | 'SCALE';

export interface BpuQuantization {
  type: BpuQuantiType;
  /** SCALE: value = (raw - zeroPoint) * scale. One entry = per tensor; more = one per index along `axis`. */
  scales: number[];
  zeroPoints: number[];
  /** SHIFT: value = raw / 2^shift. */
  shifts: number[];
  /** The axis the values run along, or null when per-tensor (or unquantised). */
  axis: number | null;
}

export interface BpuTensorInfo {
  name: string;
  tensorType: BpuTensorType;
  /** The raw hbDNNDataType value. */
  tensorTypeCode: number;
  layout: BpuLayout;
  validShape: number[];
  alignedShape: number[];
  quantization: BpuQuantization;
  alignedByteSize: number;
  /** Byte strides used to read the tensor (derived from alignedShape when the runtime reports zeros). */
  stride: number[];
  /** Strides exactly as the runtime reported them (all zero for image inputs). */
  declaredStride: number[];
  /** Bytes per element (1 for image types). */
  elementBytes: number;
}

function layoutName(code: number): BpuLayout {
  if (code === 0) return 'NHWC';
  if (code === 2) return 'NCHW';
  return 'NONE';
}

function quantiName(code: number): BpuQuantiType {
  return code === 1 ? 'SHIFT' : code === 2 ? 'SCALE' : 'NONE';
}

export function tensorTypeName(code: number): BpuTensorType | `unknown(${number})` {
  return BPU_TENSOR_TYPES[code] ?? `unknown(${code})`;
}

export function toTensorInfo(n: NativeTensorInfo): BpuTensorInfo {
  const type = quantiName(n.quantiType);
  const values = type === 'SCALE' ? n.scales.length : type === 'SHIFT' ? n.shifts.length : 0;
  return {
    name: n.name,
    tensorType: (BPU_TENSOR_TYPES[n.tensorType] ?? 'Y') as BpuTensorType,
    tensorTypeCode: n.tensorType,
    layout: layoutName(n.layout),
    validShape: [...n.validShape],
    alignedShape: [...n.alignedShape],
    quantization: { type, scales: [...n.scales], zeroPoints: [...n.zeroPoints], shifts: [...n.shifts], axis: values > 1 ? n.quantizeAxis : null },
    alignedByteSize: n.alignedByteSize,
    stride: [...n.stride],
    declaredStride: [...n.declaredStride],
    elementBytes: n.elementBytes,
  };
}

/** Channel, height and width axes of a 4-D tensor; NONE is read from the shape (3 channels first -> NCHW). */
export function axesOf(t: Pick<BpuTensorInfo, 'layout' | 'validShape'>): { layout: 'NCHW' | 'NHWC'; c: number; h: number; w: number } {
  let layout: 'NCHW' | 'NHWC';
  if (t.layout === 'NONE') {
    const [, d1, , d3, ...more] = t.validShape;
    layout = d1 !== undefined && d3 !== undefined && more.length === 0 && d1 > 4 && d3 <= 4 ? 'NHWC' : 'NCHW';
  } else {
    layout = t.layout;
  }
  return layout === 'NHWC' ? { layout, c: 3, h: 1, w: 2 } : { layout, c: 1, h: 2, w: 3 };
}

export function isIntegerType(t: BpuTensorType): boolean {
  return ['S8', 'U8', 'S16', 'U16', 'S32', 'U32', 'S64', 'U64'].includes(t);
}

export function shapeText(shape: readonly number[]): string {
  return `(${shape.join(',')})`;
}
