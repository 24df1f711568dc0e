/**
 * What segstream knows about a model, read from its files (never assumed): input and output tensors, the
 * preprocessing it was trained with, class names. Produced by server/model/load.ts (ONNX) and the BPU backend
 * (compiled .bin), consumed by every stage and the toolkit.
 */

export type TensorLayout = 'NCHW' | 'NHWC';
/** `float16` data travels as its 16-bit patterns (a Uint16Array): Node 20 has no Float16Array. */
export type TensorDType = 'float32' | 'float16' | 'uint8' | 'int8' | 'int16' | 'int32' | 'int64';

/** What the model wants as input, read from the model file (never assumed). */
export interface ModelInputSpec {
  name: string;
  /** `nv12` means a packed or separate NV12 image at the model's size (BPU models compiled for nv12). */
  kind: 'tensor' | 'nv12';
  dtype: TensorDType;
  layout: TensorLayout;
  channels: number;
  /** Model input height and width; for a dynamic model these are the size chosen from the preprocessor config. */
  height: number;
  width: number;
  /** True when the model's H/W dimensions are symbolic. */
  dynamic: boolean;
  /** The raw shape as declared, symbolic dimensions as strings. */
  shape: (number | string)[];
  /**
   * An integer input that feeds a DequantizeLinear: the normalised tensor is quantised with these parameters
   * (q = round(x / scale) + zeroPoint). Absent for float inputs, and for a uint8 input without it, which takes
   * the raw pixels 0..255 (the model normalises them itself).
   */
  quantization?: Quantization;
}

/** Per-tensor or per-channel quantisation of an integer output (value = (raw - zeroPoint) * scale). */
export interface Quantization {
  scales: Float32Array;
  zeroPoints?: Int32Array;
  /** Axis the scales run along when there is more than one. */
  axis?: number;
}

/**
 * The one scale and zero point of per-tensor quantization (an input's), or an error naming `what` when the
 * quantization is per channel or has no scale: taking the first of several would quantise every channel
 * with channel 0's scale.
 */
export function perTensorQuantization(q: Quantization, what: string): { scale: number; zeroPoint: number } {
  const [scale, ...moreScales] = q.scales;
  const [zeroPoint = 0, ...moreZeroPoints] = q.zeroPoints ?? [];
  if (scale === undefined || moreScales.length > 0 || moreZeroPoints.length > 0) {
    throw new Error(`${what}: expected per-tensor quantization (one scale, at most one zero point), got ${q.scales.length} scales and ${q.zeroPoints?.length ?? 0} zero points`);
  }
  return { scale, zeroPoint };
}

export interface ModelOutputSpec {
  name: string;
  /** `logits`: one plane per class; `classmap`: argmax already taken inside the model. */
  kind: 'logits' | 'classmap';
  dtype: TensorDType;
  layout: TensorLayout;
  classes: number;
  height: number;
  width: number;
  shape: (number | string)[];
  quantization?: Quantization;
}

/** Preprocessing that the model was trained with (from preprocessor_config.json, or defaults stated in `origin`). */
export interface PreprocessSpec {
  mean: [number, number, number];
  std: [number, number, number];
  rescale: number;
  resample: 'bilinear';
  /** `rgb` (SegFormer) or `bgr`. */
  channelOrder: 'rgb' | 'bgr';
  origin: 'preprocessor_config' | 'default';
}

export interface ModelInfo {
  /** Short name used in the UI and in config (file stem unless configured). */
  name: string;
  path: string;
  format: 'onnx' | 'bpu-bin';
  input: ModelInputSpec;
  output: ModelOutputSpec;
  classNames: string[];
  preprocess: PreprocessSpec;
  /** True for the locally generated demo model: its masks are meaningless, only its speed is real. */
  untrainedDemo: boolean;
  /** Extra facts worth showing (opset, producer, op counts, BPU march, ...). */
  details: Record<string, string | number>;
}

/** A tensor handed between stages. `data` is a view; its type matches `dtype`. */
export interface Tensor {
  dtype: TensorDType;
  shape: number[];
  data: Float32Array | Uint16Array | Uint8Array | Int8Array | Int16Array | Int32Array | BigInt64Array;
}
