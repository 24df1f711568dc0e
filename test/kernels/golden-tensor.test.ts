// The RGB path against the tensors Hugging Face's SegFormer processor (PIL backend) made from real photos.
import { describe, expect, it } from 'vitest';
import { rgbToTensor } from '../../server/kernels/index.ts';
import { diffStats } from './reference.ts';
import { loadF32, loadRgb, MEAN, STD } from './fixtures.ts';

const IMAGES = ['chelsea', 'grass', 'coffee_1280x720', 'rocket_1920x1080'];

describe('rgbToTensor vs golden processor tensors', () => {
  for (const name of IMAGES) {
    it(`${name}: max |diff| <= 1 LSB (0.0175) and mean <= 0.001`, async () => {
      const { rgb, width, height } = await loadRgb(name);
      const golden = loadF32(`${name}.pixel_values.f32.gz`);
      const got = rgbToTensor(rgb, width, height, { width: 512, height: 512, mean: MEAN, std: STD });
      const s = diffStats(got, golden);
      expect(s.max).toBeLessThanOrEqual(0.0175);
      expect(s.mean).toBeLessThanOrEqual(0.001);
      // Stronger than the target: the arithmetic is Pillow's, so the floats are bit-identical.
      expect(s.equal).toBe(1);
    });
  }
});
