// The per-round ratio's 95% interval: Student's t quantiles against SciPy's (a table we did not write, stored in
// test/fixtures/bench with the command that made it) and the interval against a computation by hand.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatInterval, meanInterval, studentT975 } from '../../server/bench/interval.ts';
import { at } from '../../server/util/checked-access.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const scipy = JSON.parse(readFileSync(path.join(ROOT, 'test/fixtures/bench/student-t-975-scipy.json'), 'utf8')) as { df: number[]; t: number[] };

describe('studentT975', () => {
  it("matches SciPy's t.ppf(0.975, df) from 1 to 1000 degrees of freedom", () => {
    expect(scipy.df.length).toBeGreaterThan(40);
    for (let i = 0; i < scipy.df.length; i++) {
      // The table has 6 decimals; the expansion beyond 30 df is closer than that.
      expect(Math.abs(studentT975(at(scipy.df, i, 'scipy.df')) - at(scipy.t, i, 'scipy.t')), `df ${scipy.df[i]}`).toBeLessThan(1e-6);
    }
  });

  it('refuses degrees of freedom that are not positive integers', () => {
    for (const df of [0, -1, 2.5, Number.NaN]) expect(() => studentT975(df)).toThrow(`studentT975: degrees of freedom must be a positive integer, got ${df}`);
  });
});

describe('meanInterval', () => {
  it('equals the interval computed by hand', () => {
    // By hand: mean 0.9; squared deviations 0 + 0.0025 + 0.0025 + 0.0004 + 0.0004 = 0.0058; sd = sqrt(0.0058 / 4)
    // = 0.0380789; half-width = t(0.975, 4) 2.776445 * 0.0380789 / sqrt(5) = 0.0472812.
    const i = meanInterval([0.9, 0.95, 0.85, 0.92, 0.88]);
    expect(i.n).toBe(5);
    expect(i.mean).toBeCloseTo(0.9, 12);
    expect(i.sd).toBeCloseTo(0.0380789, 6);
    expect(i.low).toBeCloseTo(0.9 - 0.0472812, 6);
    expect(i.high).toBeCloseTo(0.9 + 0.0472812, 6);
    expect(i).toMatchObject({ confidence: 0.95, method: 'student-t' });
    // SciPy: stats.t.interval(0.95, 4, loc=0.9, scale=sd / sqrt(5)) = (0.8527188436, 0.9472811564).
    expect(i.low).toBeCloseTo(0.8527188436, 8);
    expect(i.high).toBeCloseTo(0.9472811564, 8);
  });

  it('two rounds use t with one degree of freedom (a wide interval, as it should be)', () => {
    // mean 1, sd = sqrt(((0.1)^2 + (0.1)^2) / 1) = 0.141421; half = 12.706205 * 0.141421 / sqrt(2) = 1.2706205.
    const i = meanInterval([0.9, 1.1]);
    expect(i.low).toBeCloseTo(1 - 1.2706205, 6);
    expect(i.high).toBeCloseTo(1 + 1.2706205, 6);
  });

  it('identical rounds give a zero-width interval; one round gives none', () => {
    expect(meanInterval([0.75, 0.75, 0.75])).toMatchObject({ mean: 0.75, sd: 0, low: 0.75, high: 0.75 });
    expect(meanInterval([0.8])).toMatchObject({ n: 1, mean: 0.8, sd: null, low: null, high: null });
    expect(formatInterval(meanInterval([0.8]))).toBe('0.800 (one round: no interval)');
    expect(formatInterval(meanInterval([0.9, 0.95, 0.85, 0.92, 0.88]))).toBe('0.900 (95% CI [0.853, 0.947], Student t over 5 rounds)');
  });

  it('refuses no values and values that are not finite', () => {
    expect(() => meanInterval([])).toThrow('meanInterval: no values');
    expect(() => meanInterval([1, Number.NaN])).toThrow('meanInterval: values must be finite numbers, got NaN');
  });
});
