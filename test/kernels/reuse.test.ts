// Caller-supplied output buffers (`out`): filled in place, same result as a fresh output, checked for size.
import { describe, expect, it } from 'vitest';
import * as k from '../../server/kernels/index.ts';
import { randomBytes, randomImage } from './reference.ts';

const color = { matrix: 'bt601', range: 'limited' } as const;
const same = (a: ArrayBufferView, b: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

describe('out buffers', () => {
  const rgb = randomImage(64, 48, 3, 1);
  const nv12 = k.rgbToNv12(rgb, 64, 48, color);

  it('nv12ToRgb writes into opts.out', () => {
    const out = new Uint8Array(32 * 24 * 3).fill(7);
    const got = k.nv12ToRgb(nv12, { color, width: 32, height: 24, out });
    expect(got).toBe(out);
    expect(same(got, k.nv12ToRgb(nv12, { color, width: 32, height: 24 }))).toBe(true);
    expect(() => k.nv12ToRgb(nv12, { color, out: new Uint8Array(5) })).toThrow('nv12ToRgb: opts.out: expected 9216 elements (64x48 RGB), got a Uint8Array of length 5');
  });

  it('argmax writes the class map into opts.out (uint8 / uint16 by class count)', () => {
    const logits = Float32Array.from(randomBytes(5 * 6 * 7, 2), (b) => b / 25);
    const out = new Uint8Array(20 * 10).fill(99);
    const r = k.argmax(logits, { layout: 'NCHW', classes: 5, height: 6, width: 7, mode: 'boundary', outWidth: 20, outHeight: 10, out });
    expect(r.classMap.data).toBe(out);
    expect(same(out, k.argmax(logits, { layout: 'NCHW', classes: 5, height: 6, width: 7, mode: 'boundary', outWidth: 20, outHeight: 10 }).classMap.data)).toBe(true);
    expect(() => k.argmax(logits, { layout: 'NCHW', classes: 5, height: 6, width: 7, mode: 'lowres', out: new Uint16Array(42) })).toThrow('argmax: opts.out: expected a Uint8Array, got a Uint16Array of length 42');
  });

  it('overlays write into opts.out and refuse to alias their input', () => {
    const map = { data: randomBytes(16 * 12, 3).map((v) => v % 4), width: 16, height: 12 };
    const palette = randomBytes(12, 4);
    const out = new Uint8Array(nv12.data.length);
    const r = k.overlayNv12(nv12, map, palette, { opacity: 0.5, out });
    expect(r.image.data).toBe(out);
    expect(same(out, k.overlayNv12(nv12, map, palette, { opacity: 0.5 }).image.data)).toBe(true);
    expect(() => k.overlayNv12(nv12, map, palette, { opacity: 0.5, out: nv12.data })).toThrow('overlayNv12: opts.out: expected its own memory, got a view of image.data');
    const rgbOut = new Uint8Array(rgb.length);
    expect(k.overlayRgb(rgb, 64, 48, map, palette, { opacity: 0.5, out: rgbOut }).rgb).toBe(rgbOut);
    expect(() => k.overlayRgb(rgb, 64, 48, map, palette, { opacity: 0.5, out: new Uint8Array(3) })).toThrow('overlayRgb: opts.out: expected 9216 elements (64x48 RGB), got a Uint8Array of length 3');
  });
});
