// The SIMD code paths (AVX2 here, NEON on aarch64) give exactly the scalar path's bytes and floats. The
// standalone C++ tests (scripts/native-tests.sh) fuzz the same property much harder, including under qemu.
import { describe, expect, it } from 'vitest';
import * as k from '../../server/kernels/index.ts';
import { randomBytes, randomImage, rng, withStrides } from './reference.ts';

const MEAN: [number, number, number] = [0.485, 0.456, 0.406];
const STD: [number, number, number] = [0.229, 0.224, 0.225];

const bytesOf = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

describe('SIMD vs scalar', () => {
  it('reports the instruction set in use', () => {
    expect(['avx2', 'neon', 'scalar']).toContain(k.kernelInfo().isa);
  });

  const sizes: Array<[number, number, number, number]> = [[1920, 1080, 512, 512], [642, 358, 77, 513], [34, 18, 1, 1], [2, 2, 333, 7]];
  for (const [w, h, ow, oh] of sizes) {
    it(`resize, decode and normalise ${w}x${h} -> ${ow}x${oh}`, () => {
      const rgb = randomImage(w, h, 3, w + h);
      for (const color of [{ matrix: 'bt709', range: 'limited' }, { matrix: 'bt601', range: 'full' }] as const) {
        const nv12 = withStrides(k.rgbToNv12(rgb, w, h, color).data, w, h, 6, 10, 4);
        for (const chroma of ['nearest', 'bilinear'] as const) {
          const opts = { width: ow, height: oh, mean: MEAN, std: STD, color, chroma };
          expect(bytesOf(k.nv12ToTensor(nv12, { ...opts, simd: true })).equals(bytesOf(k.nv12ToTensor(nv12, { ...opts, simd: false })))).toBe(true);
          expect(bytesOf(k.nv12ToRgb(nv12, { color, chroma, width: ow, height: oh })).equals(bytesOf(k.nv12ToRgb(nv12, { color, chroma, width: ow, height: oh, simd: false })))).toBe(true);
        }
      }
      const t = { width: ow, height: oh, mean: MEAN, std: STD, layout: 'NHWC' as const };
      expect(bytesOf(k.rgbToTensor(rgb, w, h, t)).equals(bytesOf(k.rgbToTensor(rgb, w, h, { ...t, simd: false })))).toBe(true);
      expect(bytesOf(k.resizeRgb(rgb, w, h, ow, oh)).equals(bytesOf(k.resizeRgb(rgb, w, h, ow, oh, { simd: false })))).toBe(true);
      const nv = k.rgbToNv12(rgb, w, h, { matrix: 'bt601', range: 'limited' });
      const ew = Math.max(2, ow & ~1), eh = Math.max(2, oh & ~1);
      expect(bytesOf(k.resizeNv12(nv, ew, eh, { alignWidth: 16 }).data).equals(bytesOf(k.resizeNv12(nv, ew, eh, { alignWidth: 16, simd: false }).data))).toBe(true);
    });
  }

  it('argmax in every mode, float and integer logits', () => {
    const r = rng(8);
    const C = 37, H = 33, W = 29;
    const f = Float32Array.from({ length: C * H * W }, () => (r() - 0.5) * 6);
    const q = Int16Array.from(f, (v) => Math.round(v * 1000));
    const scales = Float32Array.from({ length: C }, () => 0.0005 + r() * 0.002);
    for (const mode of ['lowres', 'exact', 'boundary'] as const)
      for (const layout of ['NCHW', 'NHWC'] as const) {
        const opts = { layout, classes: C, height: H, width: W, mode, outWidth: 301, outHeight: 157 };
        const a = k.argmax(f, opts), b = k.argmax(f, { ...opts, simd: false });
        expect(bytesOf(a.classMap.data).equals(bytesOf(b.classMap.data))).toBe(true);
        expect(Array.from(a.histogram)).toEqual(Array.from(b.histogram));
        const qa = k.argmax(q, { ...opts, scales }), qb = k.argmax(q, { ...opts, scales, simd: false });
        expect(bytesOf(qa.classMap.data).equals(bytesOf(qb.classMap.data))).toBe(true);
      }
  });

  it('overlay onto NV12 and RGB', () => {
    const rgb = randomImage(130, 66, 3, 3);
    const nv = k.rgbToNv12(rgb, 130, 66, { matrix: 'bt601', range: 'limited' });
    const map = { data: randomBytes(40 * 30, 4).map((v) => v % 20), width: 40, height: 30 };
    const palette = randomBytes(60, 5);
    for (const opts of [{ opacity: 0.3 }, { opacity: 1, highlight: 3 }, { opacity: 0.75, hidden: [0, 1, 2] }]) {
      expect(bytesOf(k.overlayNv12(nv, map, palette, opts).image.data).equals(bytesOf(k.overlayNv12(nv, map, palette, { ...opts, simd: false }).image.data))).toBe(true);
      expect(bytesOf(k.overlayRgb(rgb, 130, 66, map, palette, opts).rgb).equals(bytesOf(k.overlayRgb(rgb, 130, 66, map, palette, { ...opts, simd: false }).rgb))).toBe(true);
    }
  });
});
