import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { ClassMap } from '../frame-context.ts';

const deflateRaw = promisify(zlib.deflateRaw);

/**
 * Compacts a class map for the wire: little-endian 1 or 2 bytes per pixel, raw DEFLATE at level 1 (class maps
 * are long runs, so even the fastest level shrinks them many times; browsers inflate with DecompressionStream).
 */
export async function encodeClassMap(map: ClassMap): Promise<{ bytes: Uint8Array; bytesPerPixel: 1 | 2 }> {
  const bytesPerPixel = map.data instanceof Uint16Array ? 2 : 1;
  const raw = new Uint8Array(map.data.buffer, map.data.byteOffset, map.data.byteLength);
  const bytes = await deflateRaw(raw, { level: 1 });
  return { bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), bytesPerPixel };
}

/** The inverse of encodeClassMap (used by tests and tools). */
export function decodeClassMap(bytes: Uint8Array, width: number, height: number, bytesPerPixel: 1 | 2): ClassMap {
  const raw = zlib.inflateRawSync(bytes);
  if (raw.length !== width * height * bytesPerPixel) {
    throw new Error(`class map: inflated to ${raw.length} bytes, expected ${width}x${height}x${bytesPerPixel} = ${width * height * bytesPerPixel}`);
  }
  const copy = new Uint8Array(raw);
  const data = bytesPerPixel === 2 ? new Uint16Array(copy.buffer, 0, width * height) : copy;
  return { data, width, height };
}

/** [class id, pixel count] for the classes present, largest first. */
export function classesPresent(histogram: Uint32Array): [number, number][] {
  const out: [number, number][] = [];
  histogram.forEach((count, id) => {
    if (count > 0) out.push([id, count]);
  });
  return out.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
}
