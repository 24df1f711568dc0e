/**
 * Typed, validated wrappers over the native frame kernels (native/kernels). Synchronous forms are for the
 * inference worker; the *Async forms run on the libuv thread pool.
 */
import { native } from './native.ts';
import { KernelArgumentError } from './validate.ts';

export {
  nv12ToTensor, nv12ToTensorAsync, rgbToTensor, rgbToTensorAsync, resizeRgb, rgbToNv12, nv12ToRgb, nv12ToRgbAsync, resizeNv12,
} from './image.ts';
export type { NormalizeOptions, ColorSpec, ChromaUpsampling, Nv12ToRgbOptions, ResizeNv12Options } from './image.ts';
export { argmax, argmaxAsync, resizeClassMap } from './argmax.ts';
export type { PostprocessMode, ArgmaxOptions, ArgmaxResult } from './argmax.ts';
export { float32ToFloat16, float16ToFloat32, quantizeTensor } from './convert.ts';
export type { ConvertOptions, QuantizeOptions } from './convert.ts';
export { overlayNv12, overlayNv12Async, overlayRgb, overlayRgbAsync } from './overlay.ts';
export type { OverlayOptions } from './overlay.ts';
export { KernelArgumentError, MAX_DIMENSION, MAX_THREADS } from './validate.ts';

/**
 * Caps glibc's malloc arenas for threads started from now on (ONNX Runtime's, in the inference worker): each
 * thread's own arena keeps what it freed, which adds up to hundreds of MB. The MALLOC_ARENA_MAX environment
 * variable, when set, is the user's choice and wins. Returns whether a cap was set here.
 */
export function limitMallocArenas(arenas: number): boolean {
  if (!Number.isInteger(arenas) || arenas < 1 || arenas > 64) throw new KernelArgumentError(`limitMallocArenas: arenas must be an integer in 1..64, got ${String(arenas)}`);
  if (process.env.MALLOC_ARENA_MAX) return false;
  return native().limitMallocArenas(arenas);
}

/** The instruction set the kernels' hot loops use on this machine ('avx2', 'neon' or 'scalar'). */
export function kernelInfo(): { isa: 'avx2' | 'neon' | 'scalar' } {
  return native().info();
}
