// `threads` splits a kernel call's work over several threads; the bytes and floats must not depend on it.
import { describe, expect, it } from 'vitest';
import * as k from '../../server/kernels/index.ts';
import { at } from '../../server/util/checked-access.ts';
import { loadF32 } from './fixtures.ts';
import { exactArgmaxRef, histogramOf, randomImage, rng, withStrides } from './reference.ts';

const MEAN: [number, number, number] = [0.485, 0.456, 0.406];
const STD: [number, number, number] = [0.229, 0.224, 0.225];
const bytesOf = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

describe('threads option', () => {
  for (const [w, h, ow, oh] of [[1920, 1080, 512, 512], [642, 358, 77, 513], [96, 64, 300, 70]] as const) {
    it(`nv12ToTensor and rgbToTensor ${w}x${h} -> ${ow}x${oh}: 2 and 3 threads equal 1`, () => {
      const rgb = randomImage(w, h, 3, w + oh);
      const color = { matrix: 'bt709', range: 'limited' } as const;
      const nv12 = withStrides(k.rgbToNv12(rgb, w, h, color).data, w, h, 6, 10, 4);
      for (const chroma of ['nearest', 'bilinear'] as const) {
        const opts = { width: ow, height: oh, mean: MEAN, std: STD, color, chroma };
        const one = bytesOf(k.nv12ToTensor(nv12, opts));
        for (const threads of [2, 3]) expect(bytesOf(k.nv12ToTensor(nv12, { ...opts, threads })).equals(one)).toBe(true);
      }
      const t = { width: ow, height: oh, mean: MEAN, std: STD, layout: 'NHWC' as const };
      expect(bytesOf(k.rgbToTensor(rgb, w, h, { ...t, threads: 2 })).equals(bytesOf(k.rgbToTensor(rgb, w, h, t)))).toBe(true);
    });
  }

  it('boundary argmax: the golden logits to 1280x720 with 2 threads equal 1 thread, map and histogram', () => {
    const logits = loadF32('coffee_1280x720.logits.f32.gz');
    const opts = { layout: 'NCHW' as const, classes: 150, height: 128, width: 128, mode: 'boundary' as const, outWidth: 1280, outHeight: 720 };
    const one = k.argmax(logits, opts);
    const two = k.argmax(logits, { ...opts, threads: 2 });
    expect(bytesOf(two.classMap.data).equals(bytesOf(one.classMap.data))).toBe(true);
    expect(Array.from(two.histogram)).toEqual(Array.from(one.histogram));
  });

  it('boundary argmax, NHWC and NCHW, split over 2-4 threads equals the torch-style reference', () => {
    const r = rng(11);
    const C = 7, H = 40, W = 23;
    const nchw = Float32Array.from({ length: C * H * W }, () => (r() - 0.5) * 4);
    const nhwc = new Float32Array(nchw.length);
    for (const [j, v] of nchw.entries()) nhwc[(j % (H * W)) * C + Math.floor(j / (H * W))] = v;
    const want = exactArgmaxRef((c, y, x) => at(nchw, (c * H + y) * W + x, 'NCHW logits'), C, H, W, 97, 151);
    for (const layout of ['NCHW', 'NHWC'] as const)
      for (const threads of [2, 4]) {
        const got = k.argmax(layout === 'NCHW' ? nchw : nhwc, { layout, classes: C, height: H, width: W, mode: 'boundary', outWidth: 97, outHeight: 151, threads });
        expect(Array.from(got.classMap.data)).toEqual(Array.from(want));
        expect(Array.from(got.histogram)).toEqual(Array.from(histogramOf(want, C)));
      }
  });

  it('bad thread counts give specific errors', () => {
    const nv12 = { data: new Uint8Array(96), width: 8, height: 8, strideY: 8, strideUV: 8, offsetUV: 64 };
    const opts = { width: 8, height: 8, mean: MEAN, std: STD, color: { matrix: 'bt601', range: 'full' } as const };
    expect(() => k.nv12ToTensor(nv12, { ...opts, threads: 0 })).toThrow('nv12ToTensor: opts.threads: expected an integer from 1 to 16, got 0');
    expect(() => k.nv12ToTensor(nv12, { ...opts, threads: 1.5 })).toThrow('nv12ToTensor: opts.threads: expected an integer from 1 to 16, got 1.5');
    expect(() => k.rgbToTensor(new Uint8Array(12), 2, 2, { ...opts, threads: '2' as never })).toThrow('rgbToTensor: opts.threads: expected an integer from 1 to 16, got "2"');
    expect(() => k.argmax(new Float32Array(4), { layout: 'NCHW', classes: 1, height: 2, width: 2, mode: 'boundary', threads: 17 })).toThrow('argmax: opts.threads: expected an integer from 1 to 16, got 17');
  });
});
