/**
 * The inference backend interface. A backend owns one loaded model and turns a prepared model input into an
 * output tensor; preprocessing (server/stages/preprocess) and post-processing (server/stages/postprocess) are
 * separate stages chosen from the model's description, so the same stages serve ONNX Runtime and the BPU.
 */
import type { ModelInfo, ModelInputSpec, Tensor } from '../../model/model-info.ts';
import type { Nv12Image } from '../frame-context.ts';

/** What the preprocess stage hands to a backend: a tensor, or an NV12 image at the model's size. */
export type ModelInput = { kind: 'tensor'; tensor: Tensor } | { kind: 'nv12'; image: Nv12Image };
export type ModelInputKind = ModelInputSpec['kind'];

export interface InferenceResult {
  output: Tensor;
  /** Milliseconds inside the runtime call only. */
  inferMs: number;
}

export interface Backend {
  readonly kind: 'onnx' | 'bpu';
  readonly model: ModelInfo;
  /** The input kinds this backend can feed its runtime; a model whose input kind is not here cannot run on it. */
  readonly accepts: readonly ModelInputKind[];
  /** Runs a tensor input. */
  run(input: Tensor): Promise<InferenceResult>;
  /** Runs an NV12 image at the model's size, with its strides (only backends that accept 'nv12'). */
  runNv12?(image: Nv12Image): Promise<InferenceResult>;
  /**
   * Lends the backend's own input memory as an NV12 image at the model's size to `fill`, then runs it: the frame is
   * written where the runtime reads it, with no copy (only backends with such memory: the BPU).
   */
  runNv12With?(fill: (target: Nv12Image) => void): Promise<InferenceResult>;
  close(): Promise<void>;
}

export interface BackendOptions {
  /** Intra-op threads for ONNX Runtime (0 = runtime default). */
  threads?: number;
  /** ONNX Runtime's CPU memory arena (default on). */
  memoryArena?: boolean;
  /**
   * ONNX Runtime graph optimisation (default `all`). `disabled` runs a QDQ model's QuantizeLinear /
   * DequantizeLinear exactly as ONNX defines them instead of fusing them into this CPU's integer kernels.
   */
  graphOptimization?: 'all' | 'disabled';
}

/** Feeds a prepared input to the backend in the form it declared it accepts. */
export function runModel(backend: Backend, input: ModelInput): Promise<InferenceResult> {
  if (!backend.accepts.includes(input.kind)) {
    throw new Error(`model ${backend.model.name} takes ${input.kind} input, which the ${backend.kind} backend cannot feed (it accepts ${backend.accepts.join(', ')})`);
  }
  if (input.kind === 'tensor') return backend.run(input.tensor);
  if (!backend.runNv12) throw new Error(`the ${backend.kind} backend declares NV12 input but has no runNv12`);
  return backend.runNv12(input.image);
}

/**
 * The frame's model-size buffer when the backend can run it as is: an NV12 model whose input is exactly that size
 * (the BPU). ONNX models never take it: their preprocessing resizes the preview frame the way the model's own
 * (PIL) preprocessing does, and a hardware scaler's output would not match that bit for bit.
 */
export function feedsModelInput(backend: Backend, modelInput: Nv12Image | undefined): Nv12Image | null {
  if (!modelInput || backend.model.input.kind !== 'nv12' || !backend.runNv12) return null;
  const { width, height } = backend.model.input;
  return modelInput.width === width && modelInput.height === height ? modelInput : null;
}
