/**
 * Argument checks for the kernel wrappers, on the shared message builder (util/validate.ts): every message names
 * the function and the argument, what was expected and what was given, e.g. `nv12ToTensor: image.data: expected
 * at least 460800 bytes (640x480 NV12, strideY 640, strideUV 640), got a Uint8Array of length 1000`.
 */
import type { ColorModel, Nv12Image, ClassMap } from '../stages/frame-context.ts';
import { InvalidArgumentError } from '../util/errors.ts';
import { describe, expectedGot, integerRange, oneOfText } from '../util/validate.ts';

export { describe };

/** Largest width or height accepted (keeps every byte count well inside 2^31). */
export const MAX_DIMENSION = 16384;

export class KernelArgumentError extends InvalidArgumentError {
  override name = 'KernelArgumentError';
}

/** A message that does not fit `expected X, got Y` (e.g. two arguments that disagree). */
export function fail(fn: string, message: string): never {
  throw new KernelArgumentError(`${fn}: ${message}`);
}

/** `fn: name: expected <expected>, got <value>`. */
export function invalid(fn: string, name: string, expected: string, value: unknown): never {
  throw new KernelArgumentError(`${fn}: ${name}: ${expectedGot(expected, value)}`);
}

export function integer(fn: string, name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) invalid(fn, name, integerRange(min, max), value);
  return value;
}

export function size(fn: string, name: string, value: unknown): number {
  return integer(fn, name, value, 1, MAX_DIMENSION);
}

export function evenSize(fn: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 2 || value > MAX_DIMENSION || value % 2 !== 0) {
    invalid(fn, name, `an even integer from 2 to ${MAX_DIMENSION} (NV12 has 2x2 chroma)`, value);
  }
  return value;
}

export function finite(fn: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) invalid(fn, name, 'a finite number', value);
  return value;
}

export function oneOf<T extends string>(fn: string, name: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    invalid(fn, name, oneOfText(allowed.map((a) => `'${a}'`)), value);
  }
  return value as T;
}

export function object(fn: string, name: string, value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) invalid(fn, name, 'an object', value);
  return value as Record<string, unknown>;
}

export function bytes(fn: string, name: string, value: unknown): Uint8Array {
  if (!(value instanceof Uint8Array)) invalid(fn, name, 'a Uint8Array (or Buffer)', value);
  return value;
}

export function triple(fn: string, name: string, value: unknown, nonZero: boolean): [number, number, number] {
  if (!Array.isArray(value) && !(value instanceof Float32Array) && !(value instanceof Float64Array)) {
    invalid(fn, name, 'an array of 3 numbers', value);
  }
  const arr = Array.from(value as ArrayLike<unknown>);
  if (arr.length !== 3) invalid(fn, name, '3 entries (one per channel)', value);
  arr.forEach((v, i) => {
    finite(fn, `${name}[${i}]`, v);
    if (nonZero && v === 0) invalid(fn, `${name}[${i}]`, 'a number other than 0', v);
  });
  return arr as [number, number, number];
}

export interface ColorFlags {
  bt709: boolean;
  full: boolean;
}

export function color(fn: string, name: string, value: unknown): ColorFlags {
  const c = object(fn, name, value);
  const matrix = oneOf<ColorModel['matrix']>(fn, `${name}.matrix`, c.matrix, ['bt601', 'bt709']);
  const range = oneOf<ColorModel['range']>(fn, `${name}.range`, c.range, ['full', 'limited']);
  return { bt709: matrix === 'bt709', full: range === 'full' };
}

/** Bytes an NV12 image with these strides occupies (the last rows need only `width` bytes). */
export function nv12Bytes(width: number, height: number, strideY: number, strideUV: number, offsetUV: number): number {
  return Math.max(strideY * (height - 1) + width, offsetUV + strideUV * (height / 2 - 1) + width);
}

export function nv12(fn: string, name: string, value: unknown): Nv12Image {
  const img = object(fn, name, value);
  const data = bytes(fn, `${name}.data`, img.data);
  const width = evenSize(fn, `${name}.width`, img.width);
  const height = evenSize(fn, `${name}.height`, img.height);
  const strideY = integer(fn, `${name}.strideY`, img.strideY, width, 4 * MAX_DIMENSION);
  const strideUV = integer(fn, `${name}.strideUV`, img.strideUV, width, 4 * MAX_DIMENSION);
  const yEnd = strideY * (height - 1) + width;
  const offsetUV = integer(fn, `${name}.offsetUV`, img.offsetUV, 0, 2 ** 31);
  if (offsetUV < yEnd) {
    invalid(fn, `${name}.offsetUV`, `at least ${yEnd}, where the Y plane ends (${width}x${height}, strideY ${strideY})`, offsetUV);
  }
  const needed = nv12Bytes(width, height, strideY, strideUV, offsetUV);
  if (data.length < needed) {
    const layout = `${width}x${height} NV12, strideY ${strideY}, strideUV ${strideUV}${offsetUV === strideY * height ? '' : `, offsetUV ${offsetUV}`}`;
    invalid(fn, `${name}.data`, `at least ${needed} bytes (${layout})`, data);
  }
  return { data, width, height, strideY, strideUV, offsetUV };
}

export function rgb(fn: string, name: string, value: unknown, width: unknown, height: unknown): { data: Uint8Array; width: number; height: number } {
  const data = bytes(fn, name, value);
  const w = size(fn, 'width', width);
  const h = size(fn, 'height', height);
  if (data.length !== w * h * 3) invalid(fn, name, `${w * h * 3} bytes (${w}x${h} RGB)`, data);
  return { data, width: w, height: h };
}

export function classMap(fn: string, name: string, value: unknown): ClassMap {
  const m = object(fn, name, value);
  if (!(m.data instanceof Uint8Array) && !(m.data instanceof Uint16Array)) {
    invalid(fn, `${name}.data`, 'a Uint8Array or Uint16Array', m.data);
  }
  const width = size(fn, `${name}.width`, m.width);
  const height = size(fn, `${name}.height`, m.height);
  if (m.data.length !== width * height) invalid(fn, `${name}.data`, `${width * height} entries (a ${width}x${height} class map)`, m.data);
  return { data: m.data, width, height };
}

/** Most threads a kernel call may split its work over. */
export const MAX_THREADS = 16;

/** `opts.threads`: 1 (default, the calling thread only) .. MAX_THREADS. */
export function threadCount(fn: string, value: unknown): number {
  return value === undefined ? 1 : integer(fn, 'opts.threads', value, 1, MAX_THREADS);
}

export function simdFlag(fn: string, value: unknown): boolean {
  if (value === undefined) return true;
  if (typeof value !== 'boolean') invalid(fn, 'opts.simd', 'true or false', value);
  return value;
}

/** A caller-supplied output array: right type, exactly `length` elements. */
export function reusedOutput<T extends ArrayBufferView & { length: number }>(
  fn: string, name: string, value: unknown, ctor: { new (n: number): T; name: string }, length: number, what: string,
): T {
  if (!(value instanceof ctor)) invalid(fn, name, `a ${ctor.name}`, value);
  if (value.length !== length) invalid(fn, name, `${length} elements (${what})`, value);
  return value;
}
