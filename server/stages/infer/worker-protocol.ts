/** Messages between the main thread and the inference worker. */
import type { ColorModel, Nv12Image } from '../frame-context.ts';
import type { ModelInfo, Tensor } from '../../model/model-info.ts';

export interface ModelRef {
  backend: 'onnx' | 'bpu';
  /** ONNX file, or the BPU .bin files. */
  files: string[];
  configPath?: string;
  preprocessorPath?: string;
  /** Display name. */
  name?: string;
  /** BPU only: which model inside the packed .bin file(s) (default: the first). */
  packModel?: string;
}

export interface LoadRequest {
  type: 'load';
  model: ModelRef;
  threads: number;
  memoryArena: boolean;
  /** Test hooks (never reachable from clients): throw on the Nth frame, exit the thread on it, or slow every frame. */
  faults?: { throwOnFrame?: number; exitOnFrame?: number; delayMs?: number };
}

export interface FrameRequest {
  type: 'frame';
  id: number;
  image: Nv12Image;
  color: Pick<ColorModel, 'matrix' | 'range'>;
  /** The same capture at the model's input size from the source's model channel (FrameContext.modelInput). */
  modelInput?: Nv12Image;
}

/** A model output the main thread has post-processed, moved back to be freed here (InferenceStage.releaseOutput says why). */
export interface ReleaseRequest {
  type: 'release';
  buffer: ArrayBuffer;
}

export type WorkerRequest = LoadRequest | FrameRequest | ReleaseRequest | { type: 'close' };

export interface WorkerTimings {
  preprocess: number;
  infer: number;
}

export type WorkerReply =
  | { type: 'loaded'; model: ModelInfo; backend: 'onnx' | 'bpu' }
  | { type: 'load-error'; message: string }
  | {
      /** The model's output for a frame: post-processing runs on the main thread while the next frame runs. */
      type: 'inferred';
      id: number;
      image: Nv12Image;
      output: Tensor;
      timings: WorkerTimings;
    }
  | { type: 'frame-error'; id: number; image: Nv12Image; message: string }
  | { type: 'closed' };
