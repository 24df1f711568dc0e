/**
 * Post-processing: segmentation logits -> class map (+ class histogram), and class-map resizing.
 *
 * Modes: `lowres` argmax on the logit grid (nearest-upscaled to the output size); `exact` = the Hugging Face
 * reference (bilinear upsample of the logits, align_corners=False, then argmax); `boundary` = the same result
 * computed only where the low-res neighbourhood disagrees (cheap everywhere else).
 */
import { POSTPROCESS_MODES, type PostprocessMode } from '../protocol/index.ts';
import type { ClassMap } from '../stages/frame-context.ts';
import { native } from './native.ts';
import * as v from './validate.ts';
import { outputBytes, outputUint16 } from './alloc.ts';

export type { PostprocessMode };

export interface ArgmaxOptions {
  layout: 'NCHW' | 'NHWC';
  classes: number;
  /** Logit grid size. */
  height: number;
  width: number;
  /** Integer logits only: value = (raw - zeroPoint) * scale, per tensor (1 entry) or per class. */
  scales?: Float32Array | number[];
  zeroPoints?: Int32Array | number[];
  mode: PostprocessMode;
  /** The logits are a Uint16Array of IEEE half-precision patterns (a float16 model output). */
  float16?: boolean;
  /** Output size; default the logit grid size. */
  outWidth?: number;
  outHeight?: number;
  /** Reused class-map storage (Uint8Array up to 256 classes, else Uint16Array; outWidth * outHeight entries). */
  out?: Uint8Array | Uint16Array;
  simd?: boolean;
  /**
   * Threads that split the `boundary` mode's work by logit rows (default 1; other modes ignore it). Same result
   * for any count; worth it only when cores are idle.
   */
  threads?: number;
}

export interface ArgmaxResult {
  classMap: ClassMap;
  histogram: Uint32Array;
}

type Logits = Float32Array | Int8Array | Int16Array | Int32Array | Uint16Array;

function perClass(fn: string, name: string, value: unknown, classes: number, integerValues: boolean): number[] {
  if (!Array.isArray(value) && !(value instanceof Float32Array) && !(value instanceof Float64Array) && !(value instanceof Int32Array)) {
    v.invalid(fn, name, `an array or typed array of 1 or ${classes} numbers`, value);
  }
  const arr = Array.from(value as ArrayLike<unknown>);
  if (arr.length !== 1 && arr.length !== classes) v.invalid(fn, name, `1 (per tensor) or ${classes} (per class) entries`, value);
  arr.forEach((x, i) => {
    if (integerValues) v.integer(fn, `${name}[${i}]`, x, -(2 ** 31), 2 ** 31 - 1);
    else if (typeof x !== 'number' || !Number.isFinite(x) || x <= 0) v.invalid(fn, `${name}[${i}]`, 'a finite number > 0', x);
  });
  return arr as number[];
}

function prepareArgmax(fn: string, logits: unknown, opts: unknown) {
  if (!(logits instanceof Float32Array || logits instanceof Int8Array || logits instanceof Int16Array || logits instanceof Int32Array || logits instanceof Uint16Array)) {
    v.invalid(fn, 'logits', 'a Float32Array, Int8Array, Int16Array or Int32Array', logits);
  }
  const o = v.object(fn, 'opts', opts);
  if (o.float16 !== undefined && typeof o.float16 !== 'boolean') v.fail(fn, `opts.float16 must be a boolean, got ${v.describe(o.float16)}`);
  const float16 = o.float16 === true;
  if (float16 !== logits instanceof Uint16Array) {
    v.fail(fn, float16 ? `opts.float16 needs the logits as a Uint16Array of half-precision patterns, got ${v.describe(logits)}` : 'logits is a Uint16Array: set opts.float16 (half-precision patterns); integer logits are Int8/16/32Array');
  }
  const layout = v.oneOf(fn, 'opts.layout', o.layout, ['NCHW', 'NHWC'] as const);
  const classes = v.integer(fn, 'opts.classes', o.classes, 1, 65536);
  const height = v.size(fn, 'opts.height', o.height);
  const width = v.size(fn, 'opts.width', o.width);
  const mode = v.oneOf(fn, 'opts.mode', o.mode, POSTPROCESS_MODES);
  const outW = o.outWidth === undefined ? width : v.size(fn, 'opts.outWidth', o.outWidth);
  const outH = o.outHeight === undefined ? height : v.size(fn, 'opts.outHeight', o.outHeight);
  const expected = classes * height * width;
  if (logits.length !== expected) {
    v.invalid(fn, 'logits', `${expected} elements (${layout}, ${classes} classes x ${height}x${width})`, logits);
  }
  const isFloat = logits instanceof Float32Array || float16;
  let scales: Float32Array | undefined;
  let zeroPoints: Int32Array | undefined;
  if (o.scales !== undefined) {
    if (isFloat) v.fail(fn, `opts.scales: applies to integer logits only; ${float16 ? 'float16' : 'float32'} logits are used as they are`);
    scales = Float32Array.from(perClass(fn, 'opts.scales', o.scales, classes, false));
  }
  if (o.zeroPoints !== undefined) {
    if (isFloat) v.fail(fn, `opts.zeroPoints: applies to integer logits only; ${float16 ? 'float16' : 'float32'} logits are used as they are`);
    zeroPoints = Int32Array.from(perClass(fn, 'opts.zeroPoints', o.zeroPoints, classes, true));
  }
  let map: Uint8Array | Uint16Array;
  if (o.out === undefined) map = classes <= 256 ? outputBytes(outW * outH) : outputUint16(outW * outH);
  else if (classes <= 256) map = v.reusedOutput(fn, 'opts.out', o.out, Uint8Array, outW * outH, `a ${outW}x${outH} class map of ${classes} classes`);
  else map = v.reusedOutput(fn, 'opts.out', o.out, Uint16Array, outW * outH, `a ${outW}x${outH} class map of ${classes} classes`);
  const histogram = new Uint32Array(classes);
  const args = {
    logits, float16, nhwc: layout === 'NHWC', classes, height, width, scales, zeroPoints,
    mode, outW, outH, map, histogram, scalar: !v.simdFlag(fn, o.simd),
    threads: v.threadCount(fn, o.threads),
  };
  return { args, result: { classMap: { data: map, width: outW, height: outH }, histogram } };
}

/** Logits -> class map (uint8 when classes <= 256, else uint16) and the class-pixel histogram of that map. */
export function argmax(logits: Logits, opts: ArgmaxOptions): ArgmaxResult {
  const p = prepareArgmax('argmax', logits, opts);
  native().argmax(p.args);
  return p.result;
}

export async function argmaxAsync(logits: Logits, opts: ArgmaxOptions): Promise<ArgmaxResult> {
  const p = prepareArgmax('argmaxAsync', logits, opts);
  await native().argmax(p.args, true);
  return p.result;
}

/** Nearest-neighbour (pixel-centre) resize of a class map, e.g. a model that outputs class ids. */
export function resizeClassMap(map: ClassMap, outWidth: number, outHeight: number): ClassMap {
  const fn = 'resizeClassMap';
  const m = v.classMap(fn, 'map', map);
  const outW = v.size(fn, 'outWidth', outWidth);
  const outH = v.size(fn, 'outHeight', outHeight);
  const data = m.data instanceof Uint16Array ? outputUint16(outW * outH) : outputBytes(outW * outH);
  native().resizeClassMap({ map: m.data, width: m.width, height: m.height, out: data, outW, outH });
  return { data, width: outW, height: outH };
}
