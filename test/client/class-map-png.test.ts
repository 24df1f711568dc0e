/** Class map decoding (deflate-raw, 1 and 2 bytes) and the class map PNG writer, read back with sharp and zlib. */
import { deflateRawSync, inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { classHistogram, decodeClassMap } from '../../client/src/lib/class-map.ts';
import { encodeClassMapPng } from '../../client/src/lib/png.ts';

describe('decodeClassMap', () => {
  it('inflates 1-byte maps', async () => {
    const ids = Uint8Array.from({ length: 5 * 3 }, (_, i) => i % 4);
    const map = await decodeClassMap(deflateRawSync(ids), { offset: 0, length: 0, width: 5, height: 3, bytesPerPixel: 1, encoding: 'deflate-raw' });
    expect(map.ids).toBeInstanceOf(Uint8Array);
    expect(Array.from(map.ids)).toEqual(Array.from(ids));
  });

  it('reads little-endian 2-byte maps, raw or deflated', async () => {
    const ids = Uint16Array.from([0, 255, 256, 1000, 65535, 7]);
    const bytes = new Uint8Array(ids.buffer);
    const meta = { offset: 0, length: 0, width: 3, height: 2, bytesPerPixel: 2 as const };
    expect(Array.from((await decodeClassMap(bytes, { ...meta, encoding: 'raw' })).ids)).toEqual(Array.from(ids));
    expect(Array.from((await decodeClassMap(deflateRawSync(bytes), { ...meta, encoding: 'deflate-raw' })).ids)).toEqual(Array.from(ids));
  });

  it('says what size it expected when the data disagrees', async () => {
    await expect(decodeClassMap(deflateRawSync(new Uint8Array(10)), { offset: 0, length: 0, width: 4, height: 4, bytesPerPixel: 1, encoding: 'deflate-raw' }))
      .rejects.toThrow('classMap: expected 16 bytes (4x4x1), got 10');
    await expect(decodeClassMap(new Uint8Array(4), { offset: 0, length: 0, width: 2, height: 2, bytesPerPixel: 1, encoding: 'gzip' as 'raw' }))
      .rejects.toThrow(/classMap.encoding: expected "deflate-raw" or "raw", got "gzip"/);
  });

  it('counts classes like FrameHeader.classes', () => {
    expect(classHistogram(Uint8Array.from([2, 2, 5, 2, 5, 9]))).toEqual([[2, 3], [5, 2], [9, 1]]);
    expect(classHistogram(Uint16Array.from([700, 700, 3]))).toEqual([[700, 2], [3, 1]]);
  });
});

describe('encodeClassMapPng', () => {
  const palette: [number, number, number][] = [[10, 20, 30], [200, 0, 0], [0, 200, 0], [0, 0, 200]];

  it('writes an indexed PNG whose samples are the ids and whose palette is the model palette', async () => {
    const width = 7;
    const height = 3; // odd sizes on purpose
    const ids = Uint8Array.from({ length: width * height }, (_, i) => (i * 5) % 4);
    const png = Buffer.from(await encodeClassMapPng({ ids, width, height, palette, classNames: ['wall', 'café', 'x', 'y'] }));
    const info = await sharp(png).metadata();
    expect([info.width, info.height, info.isPalette]).toEqual([width, height, true]);
    const rgb = await sharp(png).removeAlpha().raw().toBuffer();
    expect(rgb.length).toBe(ids.length * 3);
    for (const [i, id] of ids.entries()) expect([rgb[i * 3], rgb[i * 3 + 1], rgb[i * 3 + 2]]).toEqual(palette[id]);
    // The tEXt chunk names the classes (non-Latin characters escaped, still valid JSON).
    const textAt = png.indexOf('tEXt');
    const length = png.readUInt32BE(textAt - 4);
    const text = png.toString('latin1', textAt + 4, textAt + 4 + length);
    const [, names] = text.split('\0');
    expect(JSON.parse(names ?? '')).toEqual(['wall', 'café', 'x', 'y']);
  });

  it('writes 16-bit greyscale when ids exceed 255', async () => {
    const ids = Uint16Array.from([0, 256, 1000, 65535]);
    const png = Buffer.from(await encodeClassMapPng({ ids, width: 2, height: 2, palette }));
    const info = await sharp(png).metadata();
    expect([info.channels, info.depth]).toEqual([1, 'ushort']);
    const idat = png.indexOf('IDAT');
    const raw = inflateSync(png.subarray(idat + 4, idat + 4 + png.readUInt32BE(idat - 4)));
    // Two rows of: filter byte, then big-endian samples.
    expect(Array.from(raw)).toEqual([0, 0, 0, 1, 0, 0, 3, 232, 255, 255]);
  });

  it('rejects a size that does not match the ids', async () => {
    await expect(encodeClassMapPng({ ids: new Uint8Array(5), width: 2, height: 2, palette })).rejects.toThrow('class map ids: expected 4 values (2x2), got 5');
  });
});
