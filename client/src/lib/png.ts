/**
 * A small PNG writer for class maps. Canvas can only write 8-bit RGBA PNGs; a class map is better stored as
 * its ids: an indexed PNG whose palette is the model's palette (viewable as colours, readable as ids) for up
 * to 256 classes, and a 16-bit greyscale PNG beyond.
 */

const SIGNATURE = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

let crcTable: Uint32Array | null = null;
function crc32(bytes: Uint8Array, crc = 0xffffffff): number {
  if (crcTable === null) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  const table = crcTable;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i];
    const entry = byte === undefined ? undefined : table[(crc ^ byte) & 0xff]; // masked to 0..255, the table's size
    if (entry === undefined) throw new Error(`crc32: byte ${i} of ${bytes.length} has no table entry (${table.length} entries)`);
    crc = entry ^ (crc >>> 8);
  }
  return crc;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, (crc32(out.subarray(4, 8 + data.length)) ^ 0xffffffff) >>> 0);
  return out;
}

async function zlibDeflate(bytes: Uint8Array): Promise<Uint8Array> {
  // PNG's IDAT is a zlib stream, which is what CompressionStream('deflate') writes.
  const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(new CompressionStream('deflate'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

function concat(parts: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function header(width: number, height: number, bitDepth: number, colorType: number): Uint8Array {
  const data = new Uint8Array(13);
  const view = new DataView(data.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  data[8] = bitDepth;
  data[9] = colorType;
  // compression 0, filter method 0, no interlace
  return chunk('IHDR', data);
}

function textChunk(keyword: string, text: string): Uint8Array {
  // tEXt is Latin-1; class names are kept ASCII-safe by escaping anything else as \uXXXX via JSON.
  const content = `${keyword}\0${text}`;
  const data = new Uint8Array(content.length);
  for (let i = 0; i < content.length; i++) data[i] = content.charCodeAt(i) & 0xff;
  return chunk('tEXt', data);
}

export interface ClassMapPngInput {
  ids: Uint8Array | Uint16Array;
  width: number;
  height: number;
  /** [r, g, b] per class id (used for the indexed PNG's palette). */
  palette: readonly (readonly [number, number, number])[];
  /** Stored in a tEXt chunk so the file says what its ids mean. */
  classNames?: readonly string[];
}

/** Encodes a class map: indexed 8-bit PNG (ids = palette indices) when all ids fit in 0..255, else 16-bit grey. */
export async function encodeClassMapPng(input: ClassMapPngInput): Promise<Uint8Array> {
  const { ids, width, height, palette } = input;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new RangeError(`class map size: expected positive integers, got ${width}x${height}`);
  }
  if (ids.length !== width * height) throw new RangeError(`class map ids: expected ${width * height} values (${width}x${height}), got ${ids.length}`);
  let maxId = 0;
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    if (id === undefined) throw new Error(`class map ids: index ${i} is outside the ${ids.length} ids`);
    if (id > maxId) maxId = id;
  }
  const indexed = maxId < 256 && palette.length > 0;

  const bytesPerPixel = indexed ? 1 : 2;
  const stride = 1 + width * bytesPerPixel;
  const raw = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const row = y * stride; // filter byte 0 (none) stays 0
    const src = y * width;
    const rowIds = ids.subarray(src, src + width);
    if (indexed) {
      raw.set(rowIds, row + 1); // every id is below 256 here, so each fits its byte unchanged
    } else {
      for (let x = 0; x < width; x++) {
        const id = rowIds[x];
        if (id === undefined) throw new Error(`class map ids: row ${y} has no column ${x}`);
        raw[row + 1 + 2 * x] = id >> 8; // PNG samples are big-endian
        raw[row + 2 + 2 * x] = id & 0xff;
      }
    }
  }

  const parts = [SIGNATURE, header(width, height, indexed ? 8 : 16, indexed ? 3 : 0)];
  if (indexed) {
    const entries = Math.min(256, Math.max(maxId + 1, palette.length));
    const plte = new Uint8Array(entries * 3);
    for (let i = 0; i < entries; i++) {
      const colour = palette[i] ?? [0, 0, 0];
      plte.set([colour[0], colour[1], colour[2]], i * 3);
    }
    parts.push(chunk('PLTE', plte));
  }
  if (input.classNames && input.classNames.length > 0) {
    parts.push(textChunk('segstream:classes', JSON.stringify(input.classNames).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)));
  }
  parts.push(chunk('IDAT', await zlibDeflate(raw)), chunk('IEND', new Uint8Array(0)));
  return concat(parts);
}
