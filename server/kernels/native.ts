/**
 * Loads the native kernels addon (build/Release/segstream_kernels.node, built by node-gyp at install) and types
 * its raw entry points: one options struct per entry point, field for field what native/kernels/addon.cc reads.
 * Callers use the validated wrappers in this directory, never these directly: the wrappers have checked every
 * field, so the C++ side only re-checks what memory safety needs.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { POSTPROCESS_MODES, type PostprocessMode } from '../protocol/index.ts';
import type { Nv12Image } from '../stages/frame-context.ts';
import { packageRoot } from '../util/package-root.ts';

/** An NV12 image as the addon reads it: the frame context's own shape (strides, UV plane offset in `data`). */
export type NativeNv12 = Nv12Image;

/** YUV <-> RGB colour model flags. */
export interface NativeColor {
  bt709: boolean;
  full: boolean;
}

/** `scalar: true` runs the portable code path (same results as SIMD; tests and benchmarks). */
export interface NativeIsa {
  scalar: boolean;
}

/** Resize + rescale + normalise into a float tensor at outW x outH. */
export interface NativeTensorOut extends NativeIsa {
  outW: number;
  outH: number;
  mean: [number, number, number];
  std: [number, number, number];
  rescale: number;
  nhwc: boolean;
  bgr: boolean;
  out: Float32Array;
  threads: number;
}

export type Nv12ToTensorArgs = NativeNv12 & NativeColor & NativeTensorOut & { chromaBilinear: boolean };
export type RgbToTensorArgs = { rgb: Uint8Array; width: number; height: number } & NativeTensorOut;
export type ResizeRgbArgs = { rgb: Uint8Array; width: number; height: number; out: Uint8Array; outW: number; outH: number } & NativeIsa;
export type RgbToNv12Args = { rgb: Uint8Array; width: number; height: number; out: Uint8Array } & NativeColor;
export type Nv12ToRgbArgs = NativeNv12 & NativeColor & NativeIsa & { chromaBilinear: boolean; out: Uint8Array; outW: number; outH: number };
export type ResizeNv12Args = NativeNv12 &
  NativeIsa & { out: Uint8Array; outW: number; outH: number; outStrideY: number; outStrideUV: number; outOffsetUV: number };
export interface ArgmaxArgs extends NativeIsa {
  /** A Uint16Array holds half-precision patterns (then `float16` is true). */
  logits: Float32Array | Int8Array | Int16Array | Int32Array | Uint16Array;
  float16: boolean;
  nhwc: boolean;
  classes: number;
  height: number;
  width: number;
  scales: Float32Array | undefined;
  zeroPoints: Int32Array | undefined;
  mode: PostprocessMode;
  outW: number;
  outH: number;
  map: Uint8Array | Uint16Array;
  histogram: Uint32Array;
  threads: number;
}
export interface ResizeClassMapArgs {
  map: Uint8Array | Uint16Array;
  width: number;
  height: number;
  out: Uint8Array | Uint16Array;
  outW: number;
  outH: number;
}
export interface OverlayFields extends NativeIsa {
  map: Uint8Array | Uint16Array;
  mapW: number;
  mapH: number;
  palette: Uint8Array;
  /** 1 per class id that is drawn. */
  drawn: Uint8Array;
  opacity: number;
  histogram: Uint32Array;
}
export type OverlayNv12Args = NativeNv12 & NativeColor & OverlayFields & { out: Uint8Array };
/** float32 <-> float16 (bit patterns): the direction follows the two arrays' types. */
export interface ConvertFloat16Args extends NativeIsa {
  from: Float32Array | Uint16Array;
  to: Float32Array | Uint16Array;
  count: number;
}
export type OverlayRgbArgs = { rgb: Uint8Array; width: number; height: number; out: Uint8Array } & OverlayFields;

/** A kernel entry point: synchronous on the calling thread, or on the libuv pool with `async = true`. */
interface Entry<A> {
  (args: A, async?: false): void;
  (args: A, async: true): Promise<void>;
}

export interface NativeKernels {
  nv12ToTensor: Entry<Nv12ToTensorArgs>;
  rgbToTensor: Entry<RgbToTensorArgs>;
  resizeRgb: Entry<ResizeRgbArgs>;
  nv12ToRgb: Entry<Nv12ToRgbArgs>;
  resizeNv12: Entry<ResizeNv12Args>;
  rgbToNv12: Entry<RgbToNv12Args>;
  argmax: Entry<ArgmaxArgs>;
  resizeClassMap: Entry<ResizeClassMapArgs>;
  overlayNv12: Entry<OverlayNv12Args>;
  overlayRgb: Entry<OverlayRgbArgs>;
  convertFloat16: Entry<ConvertFloat16Args>;
  info(): { isa: 'avx2' | 'neon' | 'scalar' };
  /** glibc's mallopt(M_ARENA_MAX, n); false where there is no glibc. */
  limitMallocArenas(n: number): boolean;
  setMallocMmapThreshold(bytes: number): boolean;
  /** The post-processing mode names the C++ knows, in its enum's order. */
  postprocessModes: readonly string[];
}

let loaded: NativeKernels | undefined;

export function native(): NativeKernels {
  if (loaded) return loaded;
  const root = packageRoot();
  const candidates = [join(root, 'build', 'Release', 'segstream_kernels.node'), join(root, 'build', 'Debug', 'segstream_kernels.node')];
  const file = candidates.find((f) => existsSync(f));
  if (!file) throw new Error(`segstream kernels: native addon not built (looked for ${candidates.join(', ')}); run \`npx node-gyp rebuild\` in ${root}`);
  const addon = createRequire(import.meta.url)(file) as NativeKernels;
  checkModes(addon.postprocessModes, file);
  loaded = addon;
  return loaded;
}

/** The addon and the protocol must name the same post-processing modes (an old build would not). */
export function checkModes(native: readonly string[] | undefined, file: string): void {
  const known = new Set(native ?? []);
  const missing = POSTPROCESS_MODES.filter((m) => !known.has(m));
  if (missing.length > 0 || known.size !== POSTPROCESS_MODES.length) {
    throw new Error(`segstream kernels: ${file} knows post-processing modes [${[...known].join(', ')}], expected [${POSTPROCESS_MODES.join(', ')}]; rebuild it (npx node-gyp rebuild)`);
  }
}
