/**
 * Typed, validated wrappers over the native frame kernels (native/kernels). Synchronous forms are for the
 * inference worker; the *Async forms run on the libuv thread pool.
 */
import { native } from './native.ts';

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

/** The instruction set the kernels' hot loops use on this machine ('avx2', 'neon' or 'scalar'). */
export function kernelInfo(): { isa: 'avx2' | 'neon' | 'scalar' } {
  return native().info();
}
