/**
 * Argument checks for the kernel wrappers. Every message names the function, the argument, what was expected
 * and what was given, e.g. `nv12ToTensor: image.data is 1000 bytes; 640x480 NV12 with strideY 640 and strideUV
 * 640 needs 460800`.
 */
import type { ColorModel, Nv12Image, ClassMap } from '../stages/frame-context.ts';

/** Largest width or height accepted (keeps every byte count well inside 2^31). */
export const MAX_DIMENSION = 16384;

export class KernelArgumentError extends TypeError {
  override name = 'KernelArgumentError';
}

export function fail(fn: string, message: string): never {
  throw new KernelArgumentError(`${fn}: ${message}`);
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? value.slice(0, 40) + '...' : value);
  if (ArrayBuffer.isView(value)) return `${value.constructor.name}(${(value as unknown as { length?: number }).length ?? value.byteLength})`;
  if (Array.isArray(value)) return `an array of ${value.length}`;
  return typeof value === 'object' ? `a ${(value as object).constructor?.name ?? 'object'}` : typeof value;
}

export function integer(fn: string, name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(fn, `${name} must be an integer in ${min}..${max}, got ${describe(value)}`);
  }
  return value;
}

export function size(fn: string, name: string, value: unknown): number {
  return integer(fn, name, value, 1, MAX_DIMENSION);
}

export function evenSize(fn: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 2 || value > MAX_DIMENSION || value % 2 !== 0) {
    fail(fn, `${name} must be an even integer in 2..${MAX_DIMENSION} (NV12 has 2x2 chroma), got ${describe(value)}`);
  }
  return value;
}

export function finite(fn: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) fail(fn, `${name} must be a finite number, got ${describe(value)}`);
  return value;
}

export function oneOf<T extends string>(fn: string, name: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    fail(fn, `${name} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${describe(value)}`);
  }
  return value as T;
}

export function object(fn: string, name: string, value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(fn, `${name} must be an object, got ${describe(value)}`);
  return value as Record<string, unknown>;
}

export function bytes(fn: string, name: string, value: unknown): Uint8Array {
  if (!(value instanceof Uint8Array)) fail(fn, `${name} must be a Uint8Array (or Buffer), got ${describe(value)}`);
  return value;
}

export function triple(fn: string, name: string, value: unknown, nonZero: boolean): [number, number, number] {
  if (!Array.isArray(value) && !(value instanceof Float32Array) && !(value instanceof Float64Array)) {
    fail(fn, `${name} must be an array of 3 numbers, got ${describe(value)}`);
  }
  const arr = Array.from(value as ArrayLike<unknown>);
  if (arr.length !== 3) fail(fn, `${name} must have 3 entries (one per channel), got ${arr.length}`);
  arr.forEach((v, i) => {
    finite(fn, `${name}[${i}]`, v);
    if (nonZero && v === 0) fail(fn, `${name}[${i}] must not be 0`);
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
    fail(fn, `${name}.offsetUV ${offsetUV} overlaps the Y plane, which ends at byte ${yEnd} (${width}x${height}, strideY ${strideY})`);
  }
  const needed = nv12Bytes(width, height, strideY, strideUV, offsetUV);
  if (data.length < needed) {
    fail(fn, `${name}.data is ${data.length} bytes; ${width}x${height} NV12 with strideY ${strideY} and strideUV ${strideUV}${offsetUV === strideY * height ? '' : ` and offsetUV ${offsetUV}`} needs ${needed}`);
  }
  return { data, width, height, strideY, strideUV, offsetUV };
}

export function rgb(fn: string, name: string, value: unknown, width: unknown, height: unknown): { data: Uint8Array; width: number; height: number } {
  const data = bytes(fn, name, value);
  const w = size(fn, 'width', width);
  const h = size(fn, 'height', height);
  if (data.length !== w * h * 3) fail(fn, `${name} is ${data.length} bytes; ${w}x${h} RGB needs ${w * h * 3}`);
  return { data, width: w, height: h };
}

export function classMap(fn: string, name: string, value: unknown): ClassMap {
  const m = object(fn, name, value);
  if (!(m.data instanceof Uint8Array) && !(m.data instanceof Uint16Array)) {
    fail(fn, `${name}.data must be a Uint8Array or Uint16Array, got ${describe(m.data)}`);
  }
  const width = size(fn, `${name}.width`, m.width);
  const height = size(fn, `${name}.height`, m.height);
  if (m.data.length !== width * height) fail(fn, `${name}.data has ${m.data.length} entries; a ${width}x${height} class map needs ${width * height}`);
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
  if (typeof value !== 'boolean') fail(fn, `simd must be a boolean, got ${describe(value)}`);
  return value;
}

/** A caller-supplied output array: right type, exactly `length` elements. */
export function reusedOutput<T extends ArrayBufferView & { length: number }>(
  fn: string, name: string, value: unknown, ctor: { new (n: number): T; name: string }, length: number, what: string,
): T {
  if (!(value instanceof ctor)) fail(fn, `${name} must be a ${ctor.name}, got ${describe(value)}`);
  if (value.length !== length) fail(fn, `${name} has ${value.length} elements; ${what} needs ${length}`);
  return value;
}
