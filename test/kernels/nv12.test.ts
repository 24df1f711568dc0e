// NV12 encode/decode with explicit colour models, NV12 -> tensor, and NV12 -> NV12 resizing.
import { describe, expect, it } from 'vitest';
import { nv12ToRgb, nv12ToRgbAsync, nv12ToTensor, nv12ToTensorAsync, resizeNv12, rgbToNv12 } from '../../server/kernels/index.ts';
import type { ColorRef } from './reference.ts';
import { decodeNv12Exact, decodeNv12Fixed, diffStats, encodeNv12, normalizeRef, pilResize, randomImage, withStrides } from './reference.ts';
import { MEAN, STD } from './fixtures.ts';

const BT601_LIMITED: ColorRef = { matrix: 'bt601', range: 'limited' };
const MODELS: ColorRef[] = [
  BT601_LIMITED,
  { matrix: 'bt601', range: 'full' },
  { matrix: 'bt709', range: 'limited' },
  { matrix: 'bt709', range: 'full' },
];

describe('rgbToNv12', () => {
  for (const color of MODELS) {
    it(`matches the reference encoder (${color.matrix} ${color.range})`, () => {
      const rgb = randomImage(38, 22, 3, 11);
      const img = rgbToNv12(rgb, 38, 22, color);
      expect(img).toMatchObject({ width: 38, height: 22, strideY: 38, strideUV: 38, offsetUV: 38 * 22 });
      expect(Buffer.from(img.data).equals(Buffer.from(encodeNv12(rgb, 38, 22, color)))).toBe(true);
    });
  }
});

describe('nv12ToRgb', () => {
  for (const color of MODELS) {
    for (const chroma of ['nearest', 'bilinear'] as const) {
      it(`decodes with strides and a plane gap exactly as the integer reference (${color.matrix} ${color.range}, ${chroma} chroma)`, () => {
        const rgb = randomImage(46, 30, 3, 12);
        const packed = encodeNv12(rgb, 46, 30, color);
        const img = withStrides(packed, 46, 30, 7, 3, 13);
        const got = nv12ToRgb(img, { color, chroma });
        expect(Buffer.from(got).equals(Buffer.from(decodeNv12Fixed(img, color, chroma)))).toBe(true);
        // and within 1 LSB of a double-precision decode
        expect(diffStats(got, decodeNv12Exact(img, color, chroma)).max).toBeLessThanOrEqual(1);
      });
    }
  }

  it('nearest and bilinear chroma differ (the option reaches the kernel)', () => {
    const img = rgbToNv12(randomImage(32, 32, 3, 9), 32, 32, BT601_LIMITED);
    const a = nv12ToRgb(img, { color: BT601_LIMITED });
    const b = nv12ToRgb(img, { color: BT601_LIMITED, chroma: 'bilinear' });
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
  });

  it('round-trips a smooth image; per pixel, bilinear chroma is closer than replicated chroma', () => {
    const rgb = new Uint8Array(64 * 64 * 3);
    for (let i = 0; i < 64 * 64; i++)
      for (let c = 0; c < 3; c++) rgb[3 * i + c] = Math.round(128 + 90 * Math.sin((i % 64) * 0.07 * (c + 1) + Math.floor(i / 64) * 0.05 + c));
    for (const color of MODELS) {
      const nv12 = rgbToNv12(rgb, 64, 64, color);
      const nearest = diffStats(nv12ToRgb(nv12, { color, chroma: 'nearest' }), rgb);
      const bilinear = diffStats(nv12ToRgb(nv12, { color, chroma: 'bilinear' }), rgb);
      expect(nearest.mean).toBeLessThan(5);
      expect(bilinear.mean).toBeLessThan(1.5);
      expect(bilinear.mean).toBeLessThan(nearest.mean / 2);
    }
  });

  it('resizes with Pillow semantics after decoding, 2x2 and odd output sizes', async () => {
    const color = BT601_LIMITED;
    for (const [w, h, ow, oh] of [[2, 2, 5, 3], [80, 46, 33, 17], [80, 46, 80, 46]] as const) {
      const img = withStrides(encodeNv12(randomImage(w, h, 3, w + h), w, h, color), w, h, 4, 2, 0);
      const want = pilResize(decodeNv12Fixed(img, color), w, h, 3, ow, oh);
      expect(Buffer.from(nv12ToRgb(img, { color, width: ow, height: oh })).equals(Buffer.from(want))).toBe(true);
      expect(Buffer.from(await nv12ToRgbAsync(img, { color, width: ow, height: oh })).equals(Buffer.from(want))).toBe(true);
    }
  });
});

describe('nv12ToTensor', () => {
  it('equals decode -> Pillow resize -> normalise, for every colour model and layout', async () => {
    const rgb = randomImage(90, 52, 3, 14);
    for (const color of MODELS) {
      const img = withStrides(encodeNv12(rgb, 90, 52, color), 90, 52, 10, 6, 32);
      const resized = pilResize(decodeNv12Fixed(img, color), 90, 52, 3, 37, 29);
      const bilinear = pilResize(decodeNv12Fixed(img, color, 'bilinear'), 90, 52, 3, 37, 29);
      const gotBilinear = nv12ToTensor(img, { width: 37, height: 29, mean: MEAN, std: STD, color, chroma: 'bilinear' });
      expect(Buffer.from(gotBilinear.buffer).equals(Buffer.from(normalizeRef(bilinear, 37, 29, { mean: MEAN, std: STD }).buffer))).toBe(true);
      for (const layout of ['NCHW', 'NHWC'] as const) {
        const want = normalizeRef(resized, 37, 29, { mean: MEAN, std: STD, layout });
        const got = nv12ToTensor(img, { width: 37, height: 29, mean: MEAN, std: STD, layout, color });
        expect(Buffer.from(got.buffer).equals(Buffer.from(want.buffer))).toBe(true);
      }
      const asyncGot = await nv12ToTensorAsync(img, { width: 37, height: 29, mean: MEAN, std: STD, color });
      expect(Buffer.from(asyncGot.buffer).equals(Buffer.from(normalizeRef(resized, 37, 29, { mean: MEAN, std: STD }).buffer))).toBe(true);
    }
  });
});

describe('resizeNv12', () => {
  function planes(img: { data: Uint8Array; width: number; height: number; strideY: number; strideUV: number; offsetUV: number }) {
    const y = new Uint8Array(img.width * img.height);
    const uv = new Uint8Array((img.width * img.height) / 2);
    for (let r = 0; r < img.height; r++) y.set(img.data.subarray(r * img.strideY, r * img.strideY + img.width), r * img.width);
    for (let r = 0; r < img.height / 2; r++) uv.set(img.data.subarray(img.offsetUV + r * img.strideUV, img.offsetUV + r * img.strideUV + img.width), r * img.width);
    return { y, uv };
  }

  for (const [w, h, ow, oh] of [[64, 36, 30, 18], [30, 18, 64, 36], [2, 2, 2, 2], [202, 100, 2, 2], [2, 4, 40, 2]] as const) {
    it(`resizes each plane with Pillow semantics ${w}x${h} -> ${ow}x${oh}`, () => {
      const src = withStrides(randomImage(w, (h * 3) / 2, 1, w * h), w, h, 6, 2, 8);
      const p = planes(src);
      const out = resizeNv12(src, ow, oh);
      expect(out).toMatchObject({ width: ow, height: oh, strideY: ow, strideUV: ow, offsetUV: ow * oh });
      const q = planes(out);
      expect(Buffer.from(q.y).equals(Buffer.from(pilResize(p.y, w, h, 1, ow, oh)))).toBe(true);
      expect(Buffer.from(q.uv).equals(Buffer.from(pilResize(p.uv, w / 2, h / 2, 2, ow / 2, oh / 2)))).toBe(true);
    });
  }

  it('pads rows to 16 bytes with alignWidth 16, repeating the edge pixel', () => {
    const src = withStrides(randomImage(40, 30, 1, 3), 40, 20, 0, 0, 0);
    const out = resizeNv12(src, 38, 10, { alignWidth: 16 });
    expect(out).toMatchObject({ width: 38, height: 10, strideY: 48, strideUV: 48, offsetUV: 480 });
    expect(out.data.length).toBe(48 * 15);
    const plain = resizeNv12(src, 38, 10);
    for (let r = 0; r < 10; r++) {
      expect(Buffer.from(out.data.subarray(r * 48, r * 48 + 38)).equals(Buffer.from(plain.data.subarray(r * 38, r * 38 + 38)))).toBe(true);
      expect(out.data[r * 48 + 47]).toBe(out.data[r * 48 + 37]);
    }
    for (let r = 0; r < 5; r++) {
      const row = out.data.subarray(480 + r * 48, 480 + r * 48 + 48);
      expect(Buffer.from(row.subarray(0, 38)).equals(Buffer.from(plain.data.subarray(380 + r * 38, 380 + r * 38 + 38)))).toBe(true);
      expect([row[46], row[47]]).toEqual([row[36], row[37]]);
    }
  });
});
