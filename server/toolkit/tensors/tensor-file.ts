/**
 * Reading and writing tensor files as users hand them to the Horizon toolchain: raw `.bin` (no header:
 * dtype and shape must be inferred) and NumPy `.npy` (header with dtype, shape and order).
 */
import { promises as fs } from 'node:fs';
import { UsageError } from '../../cli/args.ts';
import { at } from '../../util/checked-access.ts';

export type FileDType = 'float64' | 'float32' | 'float16' | 'int64' | 'int32' | 'uint32' | 'int16' | 'uint16' | 'int8' | 'uint8';

export const DTYPE_BYTES: Record<FileDType, number> = {
  float64: 8, float32: 4, float16: 2, int64: 8, int32: 4, uint32: 4, int16: 2, uint16: 2, int8: 1, uint8: 1,
};

const NPY_DESCR: Record<string, FileDType> = {
  f8: 'float64', f4: 'float32', f2: 'float16', i8: 'int64', i4: 'int32', u4: 'uint32', i2: 'int16', u2: 'uint16', i1: 'int8', u1: 'uint8', b1: 'uint8',
};

export interface NpyHeader {
  dtype: FileDType;
  littleEndian: boolean;
  fortranOrder: boolean;
  shape: number[];
  /** Byte offset of the data after the header. */
  dataOffset: number;
  version: string;
}

export interface TensorFile {
  path: string;
  /** Total bytes on disk. */
  bytes: number;
  format: 'npy' | 'raw';
  npy?: NpyHeader;
  /** The payload (after any header). */
  payload: Buffer;
}

const NPY_MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]);

/** Parses an .npy header; throws an Error saying which part is malformed. */
export function parseNpyHeader(buf: Buffer, label = 'npy'): NpyHeader {
  if (buf.length < 10 || !buf.subarray(0, 6).equals(NPY_MAGIC)) {
    throw new Error(`${label}: not a NumPy .npy file (missing the \\x93NUMPY magic)`);
  }
  const major = buf[6];
  const minor = buf[7];
  let headerLen: number;
  let start: number;
  if (major === 1) {
    headerLen = buf.readUInt16LE(8);
    start = 10;
  } else if (major === 2 || major === 3) {
    if (buf.length < 12) throw new Error(`${label}: .npy header cut short`);
    headerLen = buf.readUInt32LE(8);
    start = 12;
  } else {
    throw new Error(`${label}: unsupported .npy version ${major}.${minor}`);
  }
  if (start + headerLen > buf.length) {
    throw new Error(`${label}: .npy header says ${headerLen} bytes but the file has only ${buf.length - start} after the preamble (truncated)`);
  }
  const text = buf.subarray(start, start + headerLen).toString(major === 3 ? 'utf8' : 'latin1');
  const descr = /'descr'\s*:\s*'([<>|=])([a-z]\d+)'/.exec(text);
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(text);
  const shapeMatch = /'shape'\s*:\s*\(([^)]*)\)/.exec(text);
  if (!descr || !fortran || !shapeMatch) throw new Error(`${label}: .npy header is not a plain dict with descr/fortran_order/shape: ${JSON.stringify(text.trim())}`);
  const dtype = NPY_DESCR[at(descr, 2, 'descr')];
  if (!dtype) throw new Error(`${label}: .npy dtype ${descr[1]}${descr[2]} is not a numeric type segstream reads`);
  const shape = at(shapeMatch, 1, 'shapeMatch')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => Number(s));
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) throw new Error(`${label}: .npy shape (${shapeMatch[1]}) is not a tuple of integers`);
  return {
    dtype,
    littleEndian: descr[1] !== '>',
    fortranOrder: fortran[1] === 'True',
    shape,
    dataOffset: start + headerLen,
    version: `${major}.${minor}`,
  };
}

/** Reads a tensor file; `.npy` (by magic, not extension) gets its header parsed. */
export async function readTensorFile(path: string): Promise<TensorFile> {
  let buf: Buffer;
  try {
    buf = await fs.readFile(path);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new UsageError(`${path}: cannot read (${e.code ?? e.message})`);
  }
  if (buf.length >= 6 && buf.subarray(0, 6).equals(NPY_MAGIC)) {
    const npy = parseNpyHeader(buf, path);
    return { path, bytes: buf.length, format: 'npy', npy, payload: buf.subarray(npy.dataOffset) };
  }
  return { path, bytes: buf.length, format: 'raw', payload: buf };
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** Decodes `count` elements (or as many whole ones as the payload holds) into float32. */
export function decodeToFloat32(payload: Uint8Array, dtype: FileDType, littleEndian = true, count?: number): Float32Array {
  const size = DTYPE_BYTES[dtype];
  const n = Math.min(count ?? Number.POSITIVE_INFINITY, Math.floor(payload.length / size));
  const view = new DataView(payload.buffer, payload.byteOffset, n * size);
  const out = new Float32Array(n);
  const le = littleEndian;
  switch (dtype) {
    case 'float32':
      for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, le);
      break;
    case 'float64':
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(i * 8, le);
      break;
    case 'float16':
      for (let i = 0; i < n; i++) out[i] = halfToFloat(view.getUint16(i * 2, le));
      break;
    case 'int64':
      for (let i = 0; i < n; i++) out[i] = Number(view.getBigInt64(i * 8, le));
      break;
    case 'int32':
      for (let i = 0; i < n; i++) out[i] = view.getInt32(i * 4, le);
      break;
    case 'uint32':
      for (let i = 0; i < n; i++) out[i] = view.getUint32(i * 4, le);
      break;
    case 'int16':
      for (let i = 0; i < n; i++) out[i] = view.getInt16(i * 2, le);
      break;
    case 'uint16':
      for (let i = 0; i < n; i++) out[i] = view.getUint16(i * 2, le);
      break;
    case 'int8':
      for (let i = 0; i < n; i++) out[i] = view.getInt8(i);
      break;
    case 'uint8':
      for (let i = 0; i < n; i++) out[i] = view.getUint8(i);
      break;
  }
  return out;
}

/** Encodes a typed array as an .npy file (version 1.0, little-endian, C order). */
export function encodeNpy(data: Float32Array | Uint8Array | Int8Array, shape: readonly number[]): Buffer {
  const descr = data instanceof Float32Array ? '<f4' : data instanceof Int8Array ? '|i1' : '|u1';
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  // Pad so that the data starts on a 64-byte boundary, header ends with '\n' (NumPy's own convention).
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const pre = Buffer.alloc(10);
  NPY_MAGIC.copy(pre, 0);
  pre[6] = 1;
  pre[7] = 0;
  pre.writeUInt16LE(header.length, 8);
  const body = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.concat([pre, Buffer.from(header, 'latin1'), body]);
}

/** Raw little-endian bytes of a typed array (what `tofile()` writes). */
export function rawBytes(data: Float32Array | Uint8Array | Int8Array): Buffer {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

export function product(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
