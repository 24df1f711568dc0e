/** Messages between the main thread and the inference worker. */
import type { ColorModel, Nv12Image } from '../frame-context.ts';
import type { ModelInfo } from './backend.ts';

export type PostprocessMode = 'lowres' | 'exact' | 'boundary';
export const POSTPROCESS_MODES: PostprocessMode[] = ['boundary', 'exact', 'lowres'];

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
  postprocess: PostprocessMode;
  /** Test hooks (never reachable from clients): throw on the Nth frame, or exit the thread on it. */
  faults?: { throwOnFrame?: number; exitOnFrame?: number };
}

export interface FrameRequest {
  type: 'frame';
  id: number;
  image: Nv12Image;
  color: Pick<ColorModel, 'matrix' | 'range'>;
  /** Size of the class map to produce (usually the frame size). */
  mapWidth: number;
  mapHeight: number;
}

export interface SetPostprocessRequest {
  type: 'set-postprocess';
  mode: PostprocessMode;
}

export type WorkerRequest = LoadRequest | FrameRequest | SetPostprocessRequest | { type: 'close' };

export interface WorkerTimings {
  preprocess: number;
  infer: number;
  postprocess: number;
}

export type WorkerReply =
  | { type: 'loaded'; model: ModelInfo; backend: 'onnx' | 'bpu' }
  | { type: 'load-error'; message: string }
  | {
      type: 'result';
      id: number;
      image: Nv12Image;
      classMap: { data: Uint8Array | Uint16Array; width: number; height: number };
      histogram: Uint32Array;
      timings: WorkerTimings;
    }
  | { type: 'frame-error'; id: number; image: Nv12Image; message: string }
  | { type: 'closed' };
