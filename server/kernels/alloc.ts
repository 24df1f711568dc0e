/**
 * Output buffers for the kernels. Every kernel writes each element of its output, so large outputs skip the
 * zero-fill (a 3 MB tensor costs ~1 ms to zero and fault in). Each array owns its whole ArrayBuffer (offset 0):
 * small sizes, which Node would carve from its shared pool, are allocated normally instead.
 */
const UNPOOLED_BYTES = 64 * 1024;

function rawBuffer(bytes: number): ArrayBuffer {
  if (bytes < UNPOOLED_BYTES) return new ArrayBuffer(bytes);
  const b = Buffer.allocUnsafe(bytes); // above Node's pool threshold: a dedicated ArrayBuffer at offset 0
  return b.buffer as ArrayBuffer;
}

export function outputBytes(length: number): Uint8Array {
  return new Uint8Array(rawBuffer(length), 0, length);
}

export function outputFloats(length: number): Float32Array {
  return new Float32Array(rawBuffer(length * 4), 0, length);
}

export function outputUint16(length: number): Uint16Array {
  return new Uint16Array(rawBuffer(length * 2), 0, length);
}
