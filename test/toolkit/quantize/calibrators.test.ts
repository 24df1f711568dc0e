/** The calibrators (max, percentile, KL/entropy) and the growing |x| histogram against hand computations. */
import { describe, expect, it } from 'vitest';
import { AbsHistogram, KL_EPSILON, klDivergenceAt, klThreshold, percentileThreshold, TensorStats, threshold } from '../../../server/toolkit/quantize/calibrators.ts';

describe('AbsHistogram', () => {
  it('starts at the first batch range and merges bins when a larger value arrives', () => {
    const h = new AbsHistogram(4);
    h.add([1]); // width 1/4: |1| lands in the last bin
    expect(h.width).toBe(0.25);
    expect(Array.from(h.counts)).toEqual([0, 0, 0, 1]);
    h.add([-3]); // range 1 -> 4: width x4, the four old bins merge into bin 0
    expect(h.width).toBe(1);
    expect(Array.from(h.counts)).toEqual([1, 0, 0, 1]);
    h.add([0.5, -1.5, 2.25]);
    expect(Array.from(h.counts)).toEqual([2, 1, 1, 1]);
    expect(h.total).toBe(5);
  });

  it('counts zeros before any scale is known, and refuses NaN', () => {
    const h = new AbsHistogram(4);
    h.add([0, 0]);
    expect(h.width).toBe(0);
    h.add([2]);
    expect(Array.from(h.counts)).toEqual([2, 0, 0, 1]);
    expect(() => new TensorStats(4).add([1, Number.NaN])).toThrow(/NaN/);
  });
});

describe('max calibrator', () => {
  it('is the largest |x| over all batches', () => {
    const s = new TensorStats(16);
    s.add([0.5, -2.5, 1]);
    s.add([2, -0.1]);
    expect([s.min, s.max, s.absMax, s.count]).toEqual([-2.5, 2, 2.5, 5]);
    expect(threshold(s, 'int8', { kind: 'max' })).toBe(2.5);
  });
});

describe('percentile calibrator', () => {
  it('is the upper edge of the bin where the cumulative share reaches p', () => {
    // 1..100 in 10 bins of width 10: bin k holds 10 values (bin 0: 1..9 = 9 values; bin 9: 90..100 = 11).
    const s = new TensorStats(10);
    s.add(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(s.hist.width).toBe(10);
    // 50 %: cumulative 9 + 10k >= 50 first at k = 5 -> edge 60.
    expect(percentileThreshold(s, 50)).toBe(60);
    // 95 %: first at k = 9 -> edge 100 (= max).
    expect(percentileThreshold(s, 95)).toBe(100);
    expect(threshold(s, 'int8', { kind: 'percentile', percentile: 50 })).toBe(60);
    expect(() => percentileThreshold(s, 0)).toThrow(/percentile/);
  });
});

describe('KL (entropy) calibrator', () => {
  // Histogram [10, 6, 3, 1, 0, 0, 0, 1] with width 1 (max |x| = 8), quantized to 4 levels.
  const values = [...Array(10).fill(0.5), ...Array(6).fill(1.5), ...Array(3).fill(2.5), 3.5, 8];
  const stats = () => {
    const s = new TensorStats(8);
    s.add(values);
    return s;
  };

  it('computes the divergence of each clipping point as worked out by hand', () => {
    const s = stats();
    expect(Array.from(s.hist.counts)).toEqual([10, 6, 3, 1, 0, 0, 0, 1]);
    // i = 4: P = [10, 6, 3, 1 + 1] / 21, Q = [10, 6, 3, 1] / 20 (one bin per level).
    const kl4 = (10 / 21) * Math.log(20 / 21) + (6 / 21) * Math.log(20 / 21) + (3 / 21) * Math.log(20 / 21) + (2 / 21) * Math.log((2 / 21) / (1 / 20));
    expect(klDivergenceAt(s.hist.counts, 4, 4)).toBeCloseTo(kl4, 12);
    // i = 5: the last kept bin is empty but receives the outlier: Q has nothing there, so it gets
    // KL_EPSILON of Q's mass (Q = [10, 6, 3, 1, 0] / 20 * (1 - eps), eps at bin 4; P = [10, 6, 3, 1, 1] / 21).
    const e = KL_EPSILON;
    const q = (c: number) => (c / 20) * (1 - e);
    const kl5 = (10 / 21) * Math.log(10 / 21 / q(10)) + (6 / 21) * Math.log(6 / 21 / q(6)) + (3 / 21) * Math.log(3 / 21 / q(3)) + (1 / 21) * Math.log(1 / 21 / q(1)) + (1 / 21) * Math.log(1 / 21 / e);
    // i = 8: levels of 2 bins: [10,6] -> 8,8; [3,1] -> 2,2; [0,0]; [0,1] -> 0,1.
    const kl8 = (10 / 21) * Math.log(10 / 8) + (6 / 21) * Math.log(6 / 8) + (3 / 21) * Math.log(3 / 2) + (1 / 21) * Math.log(1 / 2) + (1 / 21) * Math.log(1);
    expect(klDivergenceAt(s.hist.counts, 8, 4)).toBeCloseTo(kl8, 12);
    expect(klDivergenceAt(s.hist.counts, 5, 4)).toBeCloseTo(kl5, 12);
    expect(kl4).toBeLessThan(kl8);
    expect(kl8).toBeLessThan(kl5);
  });

  it('clips where the divergence is smallest: T = 4 bins x width 1', () => {
    expect(klThreshold(stats(), 4)).toBe(4);
  });

  it('int8 tensors use KL, int16 tensors use max', () => {
    const s = new TensorStats(2048);
    // A bell-shaped bulk (sum of three uniforms, |x| < 3) and 10 far outliers at 50: KL clips for int8.
    let seed = 7;
    const u = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
    s.add(Array.from({ length: 20000 }, () => u() + u() + u()));
    s.add(Array(10).fill(50));
    const t8 = threshold(s, 'int8', { kind: 'kl' });
    expect(t8).toBeLessThan(50);
    expect(t8).toBeGreaterThanOrEqual(1);
    expect(threshold(s, 'int16', { kind: 'kl' })).toBe(50);
  });

  it('needs histograms', () => {
    const s = new TensorStats(16, false);
    s.add([1, 2]);
    expect(() => threshold(s, 'int8', { kind: 'kl' })).toThrow(/histograms/);
    expect(threshold(s, 'int8', { kind: 'max' })).toBe(2);
  });
});
