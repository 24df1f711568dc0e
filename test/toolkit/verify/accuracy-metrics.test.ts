import { describe, expect, it } from 'vitest';
import { absDiffSumMax, DiffAccumulator } from '../../../server/toolkit/verify/accuracy-metrics.ts';

describe('absDiffSumMax and DiffAccumulator', () => {
  it('sums and maxes |a - b|, and refuses tensors of different lengths', () => {
    const r = absDiffSumMax(Float32Array.from([1, -2, 0.5]), Float32Array.from([1.5, 1, 0.5]));
    expect(r).toEqual({ sum: 3.5, max: 3 });
    expect(() => absDiffSumMax(new Float32Array(2), new Float32Array(3))).toThrow('tensors: 2 vs 3 values');
  });

  it('pools over images by values, not as a mean of per-image means', () => {
    const acc = new DiffAccumulator();
    expect(acc.add(Float32Array.from([0]), Float32Array.from([4]))).toEqual({ meanAbsDiff: 4, maxAbsDiff: 4 });
    expect(acc.add(Float32Array.from([0, 0, 0]), Float32Array.from([0, 0, 0]))).toEqual({ meanAbsDiff: 0, maxAbsDiff: 0 });
    // (4 + 0 + 0 + 0) / 4 values = 1; a mean of the two means would say 2.
    expect(acc.result()).toEqual({ meanAbsDiff: 1, maxAbsDiff: 4 });
  });
});
