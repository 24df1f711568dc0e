// Post-processing modes against plain-JS references: low-res argmax, the exact bilinear-upsample reference,
// the boundary-exact method, integer logits with per-tensor and per-class quantisation, and class-map resizing.
import { describe, expect, it } from 'vitest';
import { argmax, argmaxAsync, resizeClassMap } from '../../server/kernels/index.ts';
import { at as checkedAt } from '../../server/util/checked-access.ts';
import type { LogitAt } from './reference.ts';
import { exactArgmaxRef, histogramOf, lowresArgmaxRef, nearestResize, rng } from './reference.ts';

function smoothLogits(classes: number, height: number, width: number, seed: number): Float32Array {
  // A few broad blobs per class plus noise: realistic boundaries rather than per-pixel chaos.
  const r = rng(seed);
  const out = new Float32Array(classes * height * width);
  for (let c = 0; c < classes; c++) {
    const cx = r() * width, cy = r() * height, s = 1 + r() * width * 0.5, amp = 2 + r() * 3;
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++) out[(c * height + y) * width + x] = amp * Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * s * s)) + (r() - 0.5) * 0.8;
  }
  return out;
}

function toNhwc(nchw: Float32Array, classes: number, height: number, width: number): Float32Array {
  const out = new Float32Array(nchw.length);
  const plane = height * width;
  for (const [j, v] of nchw.entries()) out[(j % plane) * classes + Math.floor(j / plane)] = v;
  return out;
}

const nchwAt = (d: ArrayLike<number>, classes: number, height: number, width: number): LogitAt => (c, y, x) => checkedAt(d, (c * height + y) * width + x, 'NCHW logits');

function same(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

describe('argmax (float32)', () => {
  const C = 9, H = 11, W = 14;
  const nchw = smoothLogits(C, H, W, 1);
  const nhwc = toNhwc(nchw, C, H, W);
  const at = nchwAt(nchw, C, H, W);

  for (const layout of ['NCHW', 'NHWC'] as const) {
    const logits = layout === 'NCHW' ? nchw : nhwc;
    it(`lowres ${layout}: argmax on the grid, nearest to the output size`, () => {
      const low = lowresArgmaxRef(at, C, H, W);
      const r = argmax(logits, { layout, classes: C, height: H, width: W, mode: 'lowres' });
      expect(r.classMap.data).toBeInstanceOf(Uint8Array);
      expect(same(r.classMap.data, low)).toBe(true);
      expect(same(r.histogram, histogramOf(low, C))).toBe(true);
      const up = argmax(logits, { layout, classes: C, height: H, width: W, mode: 'lowres', outWidth: 45, outHeight: 31 });
      expect(same(up.classMap.data, nearestResize(low, W, H, 45, 31))).toBe(true);
    });

    for (const [ow, oh] of [[45, 31], [57, 40], [14, 11], [5, 3], [14, 40]] as const) {
      it(`exact and boundary ${layout} -> ${ow}x${oh} equal the torch-style reference`, () => {
        const want = exactArgmaxRef(at, C, H, W, ow, oh);
        const exact = argmax(logits, { layout, classes: C, height: H, width: W, mode: 'exact', outWidth: ow, outHeight: oh });
        const boundary = argmax(logits, { layout, classes: C, height: H, width: W, mode: 'boundary', outWidth: ow, outHeight: oh });
        expect(same(exact.classMap.data, want)).toBe(true);
        expect(same(boundary.classMap.data, want)).toBe(true);
        expect(same(boundary.histogram, histogramOf(want, C))).toBe(true);
      });
    }
  }

  it('uses a Uint16Array class map above 256 classes', () => {
    const C2 = 300, H2 = 4, W2 = 5;
    const l = smoothLogits(C2, H2, W2, 2);
    const r = argmax(l, { layout: 'NCHW', classes: C2, height: H2, width: W2, mode: 'boundary', outWidth: 13, outHeight: 9 });
    expect(r.classMap.data).toBeInstanceOf(Uint16Array);
    expect(r.histogram.length).toBe(300);
    expect(same(r.classMap.data, exactArgmaxRef(nchwAt(l, C2, H2, W2), C2, H2, W2, 13, 9))).toBe(true);
  });

  it('async form gives the same result', async () => {
    const opts = { layout: 'NCHW' as const, classes: C, height: H, width: W, mode: 'boundary' as const, outWidth: 40, outHeight: 30 };
    const a = argmax(nchw, opts);
    const b = await argmaxAsync(nchw, opts);
    expect(same(a.classMap.data, b.classMap.data)).toBe(true);
    expect(same(a.histogram, b.histogram)).toBe(true);
  });
});

describe('argmax (integer logits)', () => {
  // Class 0 has large raw values with a small scale; class 1 small raw values with a large scale. Raw-int argmax
  // picks class 0 everywhere; the dequantised argmax picks class 1 where its value is larger.
  const C = 3, H = 6, W = 8;
  const raw = new Int32Array(C * H * W);
  const r = rng(3);
  for (let i = 0; i < H * W; i++) {
    raw[i] = 90 + Math.floor(r() * 30); // class 0: 90..119, scale 0.01 -> ~1
    raw[H * W + i] = Math.floor(r() * 3); // class 1: 0..2, scale 1 -> 0..2
    raw[2 * H * W + i] = -50 + Math.floor(r() * 20); // class 2, zero point -60 -> 10..29, scale 0.05 -> 0.5..1.45
  }
  const scales = [0.01, 1, 0.05];
  const zeroPoints = [0, 0, -60];
  const deq = Float32Array.from(raw, (q, i) => {
    const c = Math.floor(i / (H * W));
    return Math.fround((q - checkedAt(zeroPoints, c, 'zero points')) * Math.fround(checkedAt(scales, c, 'scales')));
  });
  const at = nchwAt(deq, C, H, W);

  const typed = {
    int8: Int8Array.from(raw),
    int16: Int16Array.from(raw),
    int32: raw,
  };

  for (const [name, logits] of Object.entries(typed)) {
    it(`${name} per-class scales: argmax of dequantised values, not of raw integers`, () => {
      const rawArgmax = lowresArgmaxRef(nchwAt(raw, C, H, W), C, H, W);
      const want = lowresArgmaxRef(at, C, H, W);
      expect(same(rawArgmax, want)).toBe(false); // the test data really separates the two
      const got = argmax(logits, { layout: 'NCHW', classes: C, height: H, width: W, scales, zeroPoints, mode: 'lowres' });
      expect(same(got.classMap.data, want)).toBe(true);
      for (const mode of ['exact', 'boundary'] as const) {
        const up = argmax(logits, { layout: 'NCHW', classes: C, height: H, width: W, scales, zeroPoints, mode, outWidth: 29, outHeight: 17 });
        expect(same(up.classMap.data, exactArgmaxRef(at, C, H, W, 29, 17))).toBe(true);
      }
    });
  }

  it('per-tensor quantisation orders like the raw integers (NHWC int8)', () => {
    const q = new Int8Array(C * H * W);
    const rr = rng(4);
    for (let i = 0; i < q.length; i++) q[i] = Math.floor(rr() * 256) - 128;
    const nhwcAt = (c: number, y: number, x: number) => checkedAt(q, (y * W + x) * C + c, 'NHWC logits');
    const want = lowresArgmaxRef(nhwcAt, C, H, W);
    const got = argmax(q, { layout: 'NHWC', classes: C, height: H, width: W, scales: [0.1], zeroPoints: [3], mode: 'lowres' });
    expect(same(got.classMap.data, want)).toBe(true);
    const deqAt: LogitAt = (c, y, x) => Math.fround((nhwcAt(c, y, x) - 3) * Math.fround(0.1));
    const exact = argmax(q, { layout: 'NHWC', classes: C, height: H, width: W, scales: [0.1], zeroPoints: [3], mode: 'exact', outWidth: 20, outHeight: 15 });
    expect(same(exact.classMap.data, exactArgmaxRef(deqAt, C, H, W, 20, 15))).toBe(true);
  });
});

describe('resizeClassMap', () => {
  it('samples the nearest pixel centre, keeping the element type', () => {
    const src = new Uint16Array(7 * 5).map((_, i) => (i * 37) % 1000);
    const out = resizeClassMap({ data: src, width: 7, height: 5 }, 16, 3);
    expect(out.data).toBeInstanceOf(Uint16Array);
    expect(same(out.data, nearestResize(src, 7, 5, 16, 3))).toBe(true);
    const small = resizeClassMap({ data: Uint8Array.from(src, (v) => v & 255), width: 7, height: 5 }, 1, 1);
    expect(small.data).toBeInstanceOf(Uint8Array);
    expect(small.data[0]).toBe(checkedAt(src, 2 * 7 + 3, 'source map') & 255);
  });
});
