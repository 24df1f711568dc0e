/**
 * The inference backend interface. A backend owns one loaded model and turns a prepared input tensor into
 * an output tensor; preprocessing and post-processing are separate stages (server/kernels) chosen from the
 * model's description, so the same stages serve ONNX Runtime and the BPU.
 */

export type TensorLayout = 'NCHW' | 'NHWC';
export type TensorDType = 'float32' | 'uint8' | 'int8' | 'int16' | 'int32' | 'int64';

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
}

/** Per-tensor or per-channel quantisation of an integer output (value = (raw - zeroPoint) * scale). */
export interface Quantization {
  scales: Float32Array;
  zeroPoints?: Int32Array;
  /** Axis the scales run along when there is more than one. */
  axis?: number;
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
  data: Float32Array | Uint8Array | Int8Array | Int16Array | Int32Array | BigInt64Array;
}

export interface InferenceResult {
  output: Tensor;
  /** Milliseconds inside the runtime call only. */
  inferMs: number;
}

export interface Backend {
  readonly kind: 'onnx' | 'bpu';
  readonly model: ModelInfo;
  run(input: Tensor): Promise<InferenceResult>;
  close(): Promise<void>;
}

export interface BackendOptions {
  /** Intra-op threads for ONNX Runtime (0 = runtime default). */
  threads?: number;
  /**
   * ONNX Runtime graph optimisation (default `all`). `disabled` runs a QDQ model's QuantizeLinear /
   * DequantizeLinear exactly as ONNX defines them instead of fusing them into this CPU's integer kernels.
   */
  graphOptimization?: 'all' | 'disabled';
}
