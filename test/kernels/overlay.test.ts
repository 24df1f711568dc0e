// Palette overlay onto NV12 (YUV-space blend) and RGB, with highlight/hidden classes and the histogram.
import { describe, expect, it } from 'vitest';
import { overlayNv12, overlayNv12Async, overlayRgb, overlayRgbAsync, rgbToNv12 } from '../../server/kernels/index.ts';
import { at } from '../../server/util/checked-access.ts';
import { histogramOf, overlayNv12Ref, overlayRgbRef, randomBytes, randomImage, withStrides } from './reference.ts';

const PALETTE = randomBytes(3 * 6, 21);
function classMap(w: number, h: number, classes: number, seed: number): Uint8Array {
  const m = randomBytes(w * h, seed);
  return m.map((v) => v % classes);
}

function same(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

describe('overlayRgb', () => {
  const cases: Array<{ name: string; opts: { opacity: number; highlight?: number; hidden?: number[] }; drawn: (c: number) => boolean }> = [
    { name: 'all classes', opts: { opacity: 0.4 }, drawn: () => true },
    { name: 'highlight', opts: { opacity: 0.7, highlight: 2 }, drawn: (c) => c === 2 },
    { name: 'hidden', opts: { opacity: 1, hidden: [0, 5] }, drawn: (c) => c !== 0 && c !== 5 },
    { name: 'opacity 0', opts: { opacity: 0 }, drawn: () => true },
  ];
  for (const c of cases) {
    it(`matches the reference (${c.name}), map of another size, ids beyond the palette ignored`, async () => {
      const rgb = randomImage(31, 17, 3, 1);
      const map = classMap(9, 7, 8, 2); // classes 6 and 7 are not in the palette
      const want = overlayRgbRef(rgb, 31, 17, map, 9, 7, PALETTE, { opacity: c.opts.opacity, drawn: c.drawn });
      const got = overlayRgb(rgb, 31, 17, { data: map, width: 9, height: 7 }, PALETTE, c.opts);
      expect(same(got.rgb, want)).toBe(true);
      expect(same(got.histogram, histogramOf(map, 6))).toBe(true);
      const a = await overlayRgbAsync(rgb, 31, 17, { data: map, width: 9, height: 7 }, PALETTE, c.opts);
      expect(same(a.rgb, want)).toBe(true);
      if (c.opts.opacity === 0) expect(same(got.rgb, rgb)).toBe(true);
    });
  }
});

describe('overlayNv12', () => {
  for (const color of [{ matrix: 'bt601', range: 'limited' }, { matrix: 'bt709', range: 'full' }] as const) {
    it(`blends in YUV space like the reference (${color.matrix} ${color.range}), strided input, Uint16 map`, async () => {
      const packed = rgbToNv12(randomImage(30, 18, 3, 3), 30, 18, color);
      const img = withStrides(packed.data, 30, 18, 5, 9, 3);
      const map = Uint16Array.from(classMap(30, 18, 7, 4));
      const opts = { opacity: 0.55, hidden: [1], color };
      const want = overlayNv12Ref(img, map, 30, 18, PALETTE, { opacity: 0.55, drawn: (c) => c !== 1 }, color);
      const got = overlayNv12(img, { data: map, width: 30, height: 18 }, PALETTE, opts);
      expect(got.image).toMatchObject({ width: 30, height: 18, strideY: 30, strideUV: 30, offsetUV: 540 });
      expect(same(got.image.data, want)).toBe(true);
      expect(same(got.histogram, histogramOf(map, 6))).toBe(true);
      const a = await overlayNv12Async(img, { data: map, width: 30, height: 18 }, PALETTE, opts);
      expect(same(a.image.data, want)).toBe(true);
    });
  }

  it('opacity 1 paints the palette colour on luma; a map upscaled from 4x2 works', () => {
    const img = rgbToNv12(randomImage(16, 8, 3, 5), 16, 8, { matrix: 'bt601', range: 'limited' });
    const map = new Uint8Array([0, 1, 2, 3, 4, 5, 0, 1]);
    const got = overlayNv12(img, { data: map, width: 4, height: 2 }, PALETTE, { opacity: 1 });
    const want = overlayNv12Ref(img, map, 4, 2, PALETTE, { opacity: 1, drawn: () => true }, { matrix: 'bt601', range: 'limited' });
    expect(same(got.image.data, want)).toBe(true);
    // pixel (0,0) is class 0: luma equals the palette's BT.601 limited luma
    const [r, g, b] = [at(PALETTE, 0, 'palette'), at(PALETTE, 1, 'palette'), at(PALETTE, 2, 'palette')];
    expect(got.image.data[0]).toBe(Math.floor(16 + (0.299 * r + 0.587 * g + 0.114 * b) * (219 / 255) + 0.5));
  });
});
