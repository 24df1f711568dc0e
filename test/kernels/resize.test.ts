// Pillow-exact BILINEAR resize and the RGB -> tensor reference path.
import { describe, expect, it } from 'vitest';
import { resizeRgb, rgbToTensor, rgbToTensorAsync } from '../../server/kernels/index.ts';
import { normalizeRef, pilResize, randomImage } from './reference.ts';
import { MEAN, STD } from './fixtures.ts';

const SIZES: Array<[number, number, number, number]> = [
  [37, 23, 11, 7], // shrink, odd sizes
  [23, 37, 64, 5], // grow one axis, shrink the other
  [1, 1, 9, 4], // 1x1 source
  [13, 9, 1, 1], // to 1x1
  [1000, 3, 7, 3], // huge ratio, width only
  [5, 700, 5, 3], // height only
  [3, 2, 300, 200], // huge upscale
  [64, 48, 64, 48], // identity
  [601, 401, 512, 512], // mixed
];

describe('resizeRgb', () => {
  for (const [w, h, ow, oh] of SIZES) {
    it(`matches the Pillow reference ${w}x${h} -> ${ow}x${oh}`, () => {
      const src = randomImage(w, h, 3, w * 1000 + h);
      const want = pilResize(src, w, h, 3, ow, oh);
      expect(Buffer.from(resizeRgb(src, w, h, ow, oh)).equals(Buffer.from(want))).toBe(true);
      expect(Buffer.from(resizeRgb(src, w, h, ow, oh, { simd: false })).equals(Buffer.from(want))).toBe(true);
    });
  }
});

describe('rgbToTensor', () => {
  it('is the Pillow resize followed by the processor arithmetic, NCHW', () => {
    const src = randomImage(97, 61, 3, 5);
    const resized = pilResize(src, 97, 61, 3, 40, 30);
    const want = normalizeRef(resized, 40, 30, { mean: MEAN, std: STD });
    const got = rgbToTensor(src, 97, 61, { width: 40, height: 30, mean: MEAN, std: STD });
    expect(Buffer.from(got.buffer).equals(Buffer.from(want.buffer))).toBe(true);
  });

  it('supports NHWC, BGR order, a custom rescale and a reused output buffer', () => {
    const src = randomImage(33, 17, 3, 6);
    const resized = pilResize(src, 33, 17, 3, 21, 11);
    const opts = { mean: [0.5, 0.25, 0.125] as [number, number, number], std: [0.5, 2, 4] as [number, number, number], rescale: 1 / 127.5, layout: 'NHWC' as const, channelOrder: 'bgr' as const };
    const want = normalizeRef(resized, 21, 11, opts);
    const out = new Float32Array(3 * 21 * 11);
    const got = rgbToTensor(src, 33, 17, { width: 21, height: 11, ...opts, out });
    expect(got).toBe(out);
    expect(Buffer.from(got.buffer).equals(Buffer.from(want.buffer))).toBe(true);
  });

  it('async form gives the same tensor', async () => {
    const src = randomImage(50, 40, 3, 7);
    const sync = rgbToTensor(src, 50, 40, { width: 32, height: 24, mean: MEAN, std: STD });
    const asyncOut = await rgbToTensorAsync(src, 50, 40, { width: 32, height: 24, mean: MEAN, std: STD });
    expect(Buffer.from(asyncOut.buffer).equals(Buffer.from(sync.buffer))).toBe(true);
  });
});
