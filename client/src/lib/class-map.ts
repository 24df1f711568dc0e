/** Decoding of the class map sent beside each JPEG (see FrameHeader.classMap in the protocol). */
import type { ClassIdMap, ClassIds, FrameHeader } from '$protocol';

export type { ClassIds };
export type ClassMapImage = ClassIdMap;

async function inflateRaw(bytes: Uint8Array): Promise<ArrayBuffer> {
  // Written straight into the stream: a Blob would carry the bytes to the browser process and back (measured:
  // bench/viewer.ts, docs/performance.md "Viewer cost").
  const stream = new DecompressionStream('deflate-raw');
  const writer = stream.writable.getWriter();
  // Corrupt data errors the readable side too, which is what the caller awaits.
  writer.write(bytes as Uint8Array<ArrayBuffer>).then(() => writer.close()).catch(() => undefined);
  return new Response(stream.readable).arrayBuffer();
}

/** Decompresses and checks a class map; throws with the expected and actual sizes when they disagree. */
export async function decodeClassMap(bytes: Uint8Array, meta: FrameHeader['classMap']): Promise<ClassMapImage> {
  const { width, height, bytesPerPixel, encoding } = meta;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new Error(`classMap size: expected positive integers, got ${width}x${height}`);
  }
  if (bytesPerPixel !== 1 && bytesPerPixel !== 2) throw new Error(`classMap.bytesPerPixel: expected 1 or 2, got ${String(bytesPerPixel)}`);
  let buffer: ArrayBuffer;
  if (encoding === 'deflate-raw') buffer = await inflateRaw(bytes);
  else if (encoding === 'raw') buffer = bytes.slice().buffer;
  else throw new Error(`classMap.encoding: expected "deflate-raw" or "raw", got "${String(encoding)}"`);
  const expected = width * height * bytesPerPixel;
  if (buffer.byteLength !== expected) {
    throw new Error(`classMap: expected ${expected} bytes (${width}x${height}x${bytesPerPixel}), got ${buffer.byteLength}`);
  }
  // Two-byte ids are little-endian, like the server's Uint16Array on x86 and ARM.
  const ids = bytesPerPixel === 1 ? new Uint8Array(buffer) : new Uint16Array(buffer);
  return { ids, width, height };
}

/** Pixel count per class id present, sorted by count descending (the same shape as FrameHeader.classes). */
export function classHistogram(ids: ClassIds): [number, number][] {
  const counts = new Map<number, number>();
  if (ids instanceof Uint8Array) {
    const bins = new Uint32Array(256);
    // Indexed loops, not for-of: for-of over a typed array measured slower in Node 20's V8.
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      const count = id === undefined ? undefined : bins[id]; // a byte always indexes the 256 bins
      if (id === undefined || count === undefined) throw new Error(`classHistogram: pixel ${i}: id ${id} is outside the ${bins.length} bins`);
      bins[id] = count + 1;
    }
    bins.forEach((count, id) => {
      if (count > 0) counts.set(id, count);
    });
  } else {
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (id === undefined) throw new Error(`classHistogram: pixel ${i} is outside the ${ids.length} ids`);
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
  }
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0]);
}
