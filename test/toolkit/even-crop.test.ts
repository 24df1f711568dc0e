import { describe, expect, it } from 'vitest';
import { rgbToNv12 } from '../../server/kernels/index.ts';
import { cropToEvenSize } from '../../server/toolkit/even-crop.ts';

describe('cropToEvenSize', () => {
  it('drops the last odd column and row, keeping every other pixel where it was', () => {
    // 3 x 3 picture whose pixel (x, y) is [10y + x, 100 + 10y + x, 200].
    const rgb = Uint8Array.from({ length: 27 }, (_, i) => (i % 3 === 2 ? 200 : (i % 3) * 100 + Math.floor(i / 9) * 10 + (Math.floor(i / 3) % 3)));
    const even = cropToEvenSize(rgb, 3, 3);
    expect([even.w, even.h]).toEqual([2, 2]);
    expect(Array.from(even.rgb)).toEqual([0, 100, 200, 1, 101, 200, 10, 110, 200, 11, 111, 200]);
    // The native NV12 encoder takes the cropped picture (it needs even sides).
    const nv12 = rgbToNv12(even.rgb, even.w, even.h, { matrix: 'bt601', range: 'full' });
    expect([nv12.width, nv12.height]).toEqual([2, 2]);
  });

  it('returns an even-sized picture as it is', () => {
    const rgb = new Uint8Array(4 * 2 * 3);
    expect(cropToEvenSize(rgb, 4, 2).rgb).toBe(rgb);
  });
});
