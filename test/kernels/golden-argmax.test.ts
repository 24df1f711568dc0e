// Post-processing against the golden SegFormer outputs: ONNX Runtime logits (150 x 128 x 128) and the class
// maps Hugging Face's post_process_semantic_segmentation made from them.
import { describe, expect, it } from 'vitest';
import { argmax } from '../../server/kernels/index.ts';
import { loadF32, loadGrey } from './fixtures.ts';

function agreement(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let same = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
  return same / a.length;
}

describe('argmax vs golden class maps', () => {
  for (const name of ['astronaut', 'coffee_1280x720']) {
    it(`${name}: lowres equals argmax128; exact and boundary agree >= 99.9% with the reference class map`, async () => {
      const logits = loadF32(`${name}.logits.f32.gz`);
      const low = await loadGrey(`${name}.argmax128`);
      const ref = await loadGrey(`${name}.classmap`);
      const base = { layout: 'NCHW' as const, classes: 150, height: 128, width: 128 };

      const lowres = argmax(logits, { ...base, mode: 'lowres' });
      expect(agreement(lowres.classMap.data, low.data)).toBe(1);

      const size = { outWidth: ref.width, outHeight: ref.height };
      const exact = argmax(logits, { ...base, mode: 'exact', ...size });
      const boundary = argmax(logits, { ...base, mode: 'boundary', ...size });
      const upscaled = argmax(logits, { ...base, mode: 'lowres', ...size });
      const aExact = agreement(exact.classMap.data, ref.data);
      const aBoundary = agreement(boundary.classMap.data, ref.data);
      const aLowres = agreement(upscaled.classMap.data, ref.data);
      expect(aExact).toBeGreaterThanOrEqual(0.999);
      expect(aBoundary).toBeGreaterThanOrEqual(0.999);
      expect(agreement(boundary.classMap.data, exact.classMap.data)).toBeGreaterThanOrEqual(0.9999);
      // The cheap path really is different at boundaries (this is why the other modes exist).
      expect(aLowres).toBeLessThan(0.97);
      console.log(`${name}: agreement with reference: exact ${(aExact * 100).toFixed(4)}%, boundary ${(aBoundary * 100).toFixed(4)}%, lowres+nearest ${(aLowres * 100).toFixed(2)}%`);
    });
  }
});
