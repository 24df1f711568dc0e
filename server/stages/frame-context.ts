/**
 * The frame context: one object carries a frame and its per-stage timings through the named stages
 * (capture -> preprocess -> infer -> postprocess -> overlay -> encode -> send). Each stage adds its own
 * output and its own timing; no stage reaches back into another.
 */
import type { StageTimings } from '../protocol/index.ts';

export { STAGES, type StageName } from '../protocol/index.ts';

/** YUV -> RGB colour model of a frame (from GStreamer colorimetry, or overridden by config). */
export type ColorMatrix = 'bt601' | 'bt709';
export type ColorRange = 'full' | 'limited';
export interface ColorModel {
  matrix: ColorMatrix;
  range: ColorRange;
  /** Where the model came from: the negotiated caps, the GStreamer default for the size, or the config. */
  origin: 'caps' | 'default' | 'config';
}

/** An NV12 image in memory: Y plane then interleaved UV plane, each with its own row stride. */
export interface Nv12Image {
  data: Uint8Array;
  width: number;
  height: number;
  /** Bytes per Y row (>= width). */
  strideY: number;
  /** Bytes per UV row (>= width, even). */
  strideUV: number;
  /** Byte offset of the UV plane in `data`. */
  offsetUV: number;
}

/** A class map: one class id per pixel, row-major. */
export interface ClassMap {
  data: Uint8Array | Uint16Array;
  width: number;
  height: number;
}

export interface FrameContext {
  /** Monotonic id assigned by the source (1, 2, ...). */
  id: number;
  /** Wall-clock capture time (ms since the epoch), stamped on arrival from the appsink. */
  captureTime: number;
  /** High-resolution arrival time (performance.now() of the main thread) for stage arithmetic. */
  arrivedAt: number;
  image: Nv12Image;
  color: ColorModel;
  /**
   * The same capture at the model's input size from a second scaler channel (x5-mipi with a model channel), when
   * the source has one paired with this frame; backends that take NV12 at exactly this size feed it as is.
   */
  modelInput?: Nv12Image;
  /**
   * Hands `image`'s memory back to the source for a later frame; called at most once, by the stage that is done
   * with it (the inference stage, when it copies the frame for the worker or drops it for a newer one), after which
   * `image.data` must not be read. Absent when the source has no pool (the memory is then simply collected).
   */
  releaseImage?: () => void;
  /** Milliseconds spent in each stage so far. */
  timings: StageTimings;
  /** Filled by postprocess. */
  classMap?: ClassMap;
  /** Pixel count per class id, filled by postprocess (recounted by overlay). */
  histogram?: Uint32Array;
  /** Temporal smoothing window applied to the class map by postprocess (0 = none). */
  smoothing?: number;
}

/** Packed NV12 layout for an image of the given size (no padding). */
export function packedNv12(data: Uint8Array, width: number, height: number): Nv12Image {
  return { data, width, height, strideY: width, strideUV: width, offsetUV: width * height };
}
