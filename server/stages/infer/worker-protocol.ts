/** Messages between the main thread and the inference worker. */
import type { ColorModel, Nv12Image } from '../frame-context.ts';
import type { ModelInfo } from '../../model/model-info.ts';
import type { PostprocessSettings } from '../postprocess/postprocess.ts';

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
  postprocess: PostprocessSettings;
  /** Test hooks (never reachable from clients): throw on the Nth frame, exit the thread on it, or slow every frame. */
  faults?: { throwOnFrame?: number; exitOnFrame?: number; delayMs?: number };
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

export interface ConfigurePostprocessRequest {
  type: 'configure-postprocess';
  settings: Partial<PostprocessSettings>;
}

export type WorkerRequest = LoadRequest | FrameRequest | ConfigurePostprocessRequest | { type: 'close' };

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
      smoothing: number;
      timings: WorkerTimings;
    }
  | { type: 'frame-error'; id: number; image: Nv12Image; message: string }
  | { type: 'closed' };
