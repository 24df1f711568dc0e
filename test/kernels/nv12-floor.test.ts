// The NV12 camera path against the golden processor tensors. A 4:2:0 frame cannot reproduce the RGB photo, so
// the test measures the floor itself (encode with 2x2-average chroma -> perfect double-precision decode with
// replicated chroma, the method that reproduces the notes' table -> the exact RGB path) and
// holds nv12ToTensor to 1.25x that floor and to 1.25x the floor table in the alignment notes. A decode with
// the wrong range or matrix must land detectably above it.
import { describe, expect, it } from 'vitest';
import { nv12ToTensor, rgbToNv12, rgbToTensor } from '../../server/kernels/index.ts';
import type { ColorRef } from './reference.ts';
import { decodeNv12Exact, diffStats } from './reference.ts';
import { loadF32, loadRgb, MEAN, STD } from './fixtures.ts';

// Mean |diff| floors from the project's alignment notes (BT.601), for the fixtures with even sizes.
const TABLE: Record<string, { limited: number; full: number }> = {
  grass: { limited: 0.0024, full: 0.0 },
  coffee_1280x720: { limited: 0.0084, full: 0.0083 },
  rocket_1920x1080: { limited: 0.0071, full: 0.0037 },
};

const SIZE = { width: 512, height: 512, mean: MEAN, std: STD };

describe('nv12ToTensor vs golden tensors (floor measured here)', () => {
  for (const [name, floors] of Object.entries(TABLE)) {
    for (const range of ['limited', 'full'] as const) {
      it(`${name} ${range} range: within 1.25x the floor; the wrong range and matrix are worse`, async () => {
        const { rgb, width, height } = await loadRgb(name);
        const golden = loadF32(`${name}.pixel_values.f32.gz`);
        const color: ColorRef = { matrix: 'bt601', range };
        const nv12 = rgbToNv12(rgb, width, height, color);

        const floor = diffStats(rgbToTensor(decodeNv12Exact(nv12, color), width, height, SIZE), golden).mean;
        const got = diffStats(nv12ToTensor(nv12, { ...SIZE, color }), golden).mean;
        const limit = 1.25 * Math.min(floor, floors[range]);
        expect(got).toBeLessThanOrEqual(limit + 1e-6);

        const wrongRange = diffStats(nv12ToTensor(nv12, { ...SIZE, color: { matrix: 'bt601', range: range === 'full' ? 'limited' : 'full' } }), golden).mean;
        const wrongMatrix = diffStats(nv12ToTensor(nv12, { ...SIZE, color: { matrix: 'bt709', range } }), golden).mean;
        // Grey images carry no chroma, so the matrix cannot matter there; the range always does.
        expect(wrongRange).toBeGreaterThan(Math.max(3 * got, got + 0.01));
        if (name !== 'grass') expect(wrongMatrix).toBeGreaterThan(Math.max(2 * got, got + 0.005));
        console.log(`${name} ${range}: floor ${floor.toFixed(4)} (table ${floors[range].toFixed(4)}), nv12ToTensor ${got.toFixed(4)}, wrong range ${wrongRange.toFixed(4)}, wrong matrix ${wrongMatrix.toFixed(4)}`);
      });
    }
  }
});
