/**
 * Loads the BPU addon (native/bpu/build/Release/segstream_bpu.node, built by
 * `npx node-gyp rebuild --directory native/bpu`) and types its raw entry points. Only server/stages/infer/bpu-backend.ts and
 * tests use these; everything reaching them has been validated there.
 * SEGSTREAM_BPU_ADDON overrides the file (e.g. an AddressSanitizer build, see scripts/bpu-asan.sh).
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { packageRoot } from '../../../util/package-root.ts';

/** Tensor properties as the addon reports them (enum values as numbers, strides in bytes). */
export interface NativeTensorInfo {
  name: string;
  validShape: number[];
  alignedShape: number[];
  layout: number;
  tensorType: number;
  quantiType: number;
  quantizeAxis: number;
  scales: number[];
  zeroPoints: number[];
  shifts: number[];
  alignedByteSize: number;
  /** Byte strides used to read the tensor (the runtime's, or derived from alignedShape when it gives zeros). */
  stride: number[];
  /** Strides exactly as the runtime reported them. */
  declaredStride: number[];
  elementBytes: number;
}

export interface NativeModelDescription {
  name: string;
  modelNames: string[];
  inputs: NativeTensorInfo[];
  outputs: NativeTensorInfo[];
  slots: number;
  /** hbDNNGetInputSource of input 0: 0 DDR, 1 RESIZER, 2 PYRAMID (hbDNNInputSource). */
  inputSource: number;
  /** How an NV12 input is handed to the runtime (null for tensor inputs). */
  nv12Feed: 'separate' | 'packed' | null;
  /** Row stride of the NV12 input memory (both planes), 0 for tensor inputs. */
  nv12Stride: number;
}

/** A slot's BPU input memory lent out as an NV12 image (Y rows then UV rows at `stride`). */
export interface NativeInputImage {
  /** External ArrayBuffer over BPU memory; detached (length 0) once that memory is replaced or freed. */
  buffer: ArrayBuffer;
  width: number;
  height: number;
  stride: number;
  offsetUV: number;
}

export interface NativeNv12Geometry {
  width: number;
  height: number;
  strideY: number;
  strideUV: number;
  offsetUV: number;
}

/** Output element type codes understood by run(). */
export const NATIVE_OUTPUT_TYPE = { float32: 0, int8: 1, uint8: 2, int16: 3, int32: 4 } as const;
export type NativeOutputDType = keyof typeof NATIVE_OUTPUT_TYPE;

export interface NativeModel {
  describe(): NativeModelDescription;
  run(
    slot: number,
    input: Uint8Array | Int8Array | Float32Array,
    nv12: NativeNv12Geometry | null,
    output: Float32Array | Int8Array | Uint8Array | Int16Array | Int32Array,
    outputType: number,
  ): Promise<number>;
  /** The slot's NV12 input memory, to write a frame into and run it with no copy. */
  inputImage(slot: number): NativeInputImage;
  counters(): { inputBytesCopied: number; retiredBlocks: number };
  /**
   * Frees the memory and releases the model: true when done, false while the runtime still runs a released task
   * of the model (call again later); close(true) stops waiting and reports what it had to keep.
   */
  close(final?: boolean): boolean;
}

export interface TestDoubleStats {
  liveAllocations: number;
  liveAllocatedBytes: number;
  liveTasks: number;
  livePackedHandles: number;
  allocations: number;
  cleanFlushes: number;
  invalidateFlushes: number;
  inferCalls: number;
  maxConcurrentTasks: number;
  /** Row stride of the last NV12 input the double received (its alignedShape W). */
  lastNv12RowStride: number;
  /** Task threads not finished, including released (cancelled) ones. */
  runningTasks: number;
  /** Tasks released before they finished. */
  cancelledTasks: number;
}

/** Input 0 of the last inference as the double received it: the caller's properties and each plane's bytes. */
export interface TestDoubleInput {
  tensorType: number;
  layout: number;
  validShape: number[];
  alignedShape: number[];
  alignedByteSize: number;
  planes: Uint8Array[];
}

/** Controls of the hb_dnn test double; present only when the addon was built against it. */
export interface TestDoubleControls {
  stats(): TestDoubleStats;
  /** The `nth` next call of `call` returns `code` (an hb_dnn status, e.g. -6000012). */
  failAt(call: string, nth: number, code: number): void;
  clearFailures(): void;
  /** While held, started inferences wait (tasks stay in flight). */
  hold(on: boolean): void;
  resetCounters(): void;
  /** Frees what callers leaked; returns how many objects. */
  releaseLeaks(): number;
  callNames(): string;
  /** Leaks 48 bytes inside the double on purpose (to prove a leak checker sees it). */
  leakCanary(): void;
  /** What the last accepted hbDNNInfer received as input 0, or null before any. */
  lastInput(): TestDoubleInput | null;
}

export interface NativeBpu {
  runtime: 'board' | 'test-double';
  arch: 'aarch64' | 'x86_64' | 'other';
  loadModel(files: string[], modelName: string, slots: number, nv12Feed?: 'separate' | 'packed'): Promise<NativeModel>;
  testDouble?: TestDoubleControls;
}

/** Errors thrown by the addon carry these fields. */
export interface NativeBpuError extends Error {
  reason?: string;
  call?: string;
  status?: number;
}


/** Where the addon is expected. */
export function bpuAddonPath(): string {
  const override = process.env.SEGSTREAM_BPU_ADDON;
  if (override) return resolve(override);
  return join(packageRoot(), 'native', 'bpu', 'build', 'Release', 'segstream_bpu.node');
}

let loaded: NativeBpu | undefined;
let loadError: Error | undefined;

/** The addon, or throws an Error saying why it cannot be loaded. */
export function nativeBpu(): NativeBpu {
  if (loaded) return loaded;
  if (loadError) throw loadError;
  const file = bpuAddonPath();
  if (!existsSync(file)) {
    loadError = new Error(`BPU addon not built: ${file} does not exist; run \`npx node-gyp rebuild --directory native/bpu\``);
    throw loadError;
  }
  try {
    loaded = createRequire(import.meta.url)(file) as NativeBpu;
  } catch (err) {
    loadError = new Error(`BPU addon ${file} failed to load: ${(err as Error).message}`);
    throw loadError;
  }
  return loaded;
}

/** The test double's controls, or null when the addon is missing or was built for a board. */
export function bpuTestDouble(): TestDoubleControls | null {
  try {
    return nativeBpu().testDouble ?? null;
  } catch {
    return null;
  }
}
