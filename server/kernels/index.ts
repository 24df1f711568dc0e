/**
 * Typed, validated wrappers over the native frame kernels (native/kernels). Synchronous forms are for the
 * inference worker; the *Async forms run on the libuv thread pool.
 */
import { readFileSync } from 'node:fs';
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
export { outputBytes } from './alloc.ts';

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

/**
 * Fixes glibc's mmap threshold (and so switches off its adjustment upward): blocks of at least `bytes` are mapped
 * and unmapped on their own, so the per-inference tensors ONNX Runtime allocates without its arena go back to the
 * system when freed instead of staying resident in the heap. MALLOC_MMAP_THRESHOLD_ or a GLIBC_TUNABLES
 * mmap_threshold in the environment is the user's choice and wins. Returns whether it was set here.
 */
export function fixMallocMmapThreshold(bytes: number): boolean {
  if (!Number.isInteger(bytes) || bytes < 4096 || bytes > 32 * 1024 * 1024) throw new KernelArgumentError(`fixMallocMmapThreshold: bytes must be an integer in 4096..33554432, got ${String(bytes)}`);
  if (process.env.MALLOC_MMAP_THRESHOLD_ || /mmap_threshold/.test(process.env.GLIBC_TUNABLES ?? '')) return false;
  return native().setMallocMmapThreshold(bytes);
}

/** Arenas and mmap threshold used when ONNX Runtime's own arena is off (docs/performance.md, "Footprint"). */
export const MALLOC_WITHOUT_RUNTIME_ARENA = { arenas: 2, mmapThresholdBytes: 256 * 1024 } as const;

/**
 * Sets glibc's malloc up for ONNX Runtime without its arena, before the runtime's threads start: few arenas, and
 * large blocks unmapped when freed. Both the server and the bench's model-only process call it.
 */
export function tuneMallocWithoutRuntimeArena(): { arenas: boolean; mmapThreshold: boolean } {
  return {
    arenas: limitMallocArenas(MALLOC_WITHOUT_RUNTIME_ARENA.arenas),
    mmapThreshold: fixMallocMmapThreshold(MALLOC_WITHOUT_RUNTIME_ARENA.mmapThresholdBytes),
  };
}

/** The kernel's transparent huge page mode ("always", "madvise" or "never"), or null where it cannot be read. */
export function transparentHugePageMode(file = '/sys/kernel/mm/transparent_hugepage/enabled'): string | null {
  try {
    return /\[(\w+)\]/.exec(readFileSync(file, 'utf8'))?.[1] ?? null;
  } catch {
    return null;
  }
}

/**
 * Advice for running ONNX Runtime without its arena. Every run then maps its large tensors afresh and the kernel
 * faults them in page by page; glibc can ask for transparent huge pages for those mappings (the tunable
 * glibc.malloc.hugetlb=1, glibc 2.35 and later), which made the model 1.2-1.4x faster here at the same resident
 * memory (docs/performance.md, "Footprint"). glibc reads tunables only at process start, so from inside the
 * process this can only be advice. Null when the tunable is already given, or huge pages are off or unknown.
 */
export function hugePageAdvice(env: NodeJS.ProcessEnv = process.env, thpMode: string | null = transparentHugePageMode()): string | null {
  if (/(^|:)glibc\.malloc\.hugetlb=/.test(env.GLIBC_TUNABLES ?? '')) return null;
  if (thpMode !== 'always' && thpMode !== 'madvise') return null;
  const tunables = env.GLIBC_TUNABLES ? `${env.GLIBC_TUNABLES}:glibc.malloc.hugetlb=1` : 'glibc.malloc.hugetlb=1';
  return `memory arena off: start with GLIBC_TUNABLES=${tunables} for transparent huge pages on the model's tensors (1.2-1.4x faster model runs on the development machine, same memory; docs/performance.md#footprint)`;
}

/** The instruction set the kernels' hot loops use on this machine ('avx2', 'neon' or 'scalar'). */
export function kernelInfo(): { isa: 'avx2' | 'neon' | 'scalar' } {
  return native().info();
}
