/**
 * A confidence interval for the mean of a few per-round values (the interleaved rounds of `segstream bench`):
 * the Student t interval, mean +- t(0.975, n - 1) * sd / sqrt(n). With 3-10 rounds a bootstrap interval is too
 * narrow (it resamples the same handful of values); the t interval is the textbook choice for a small sample whose
 * values are roughly normal, which ratios of two stable throughputs are.
 */
import { at } from '../util/checked-access.ts';

/** Two-sided 95%: the 0.975 quantile of Student's t for 1..30 degrees of freedom (published tables; 6 decimals). */
const T975 = [
  12.706205, 4.302653, 3.182446, 2.776445, 2.570582, 2.446912, 2.364624, 2.306004, 2.262157, 2.228139, 2.200985, 2.178813, 2.160369,
  2.144787, 2.13145, 2.119905, 2.109816, 2.100922, 2.093024, 2.085963, 2.079614, 2.073873, 2.068658, 2.063899, 2.059539, 2.055529,
  2.051831, 2.048407, 2.04523, 2.042272,
];
/** The standard normal's 0.975 quantile. */
const Z975 = 1.959963984540054;

/**
 * The 0.975 quantile of Student's t with `df` degrees of freedom: the table up to 30, beyond it the Cornish-Fisher
 * expansion in 1/df around the normal quantile (off by less than 1e-7 from 31 on).
 */
export function studentT975(df: number): number {
  if (!Number.isInteger(df) || df < 1) throw new Error(`studentT975: degrees of freedom must be a positive integer, got ${df}`);
  if (df <= T975.length) return at(T975, df - 1, 'Student t table');
  const z = Z975;
  const v = df;
  return (
    z +
    (z ** 3 + z) / (4 * v) +
    (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * v ** 2) +
    (3 * z ** 7 + 19 * z ** 5 + 17 * z ** 3 - 15 * z) / (384 * v ** 3) +
    (79 * z ** 9 + 776 * z ** 7 + 1482 * z ** 5 - 1920 * z ** 3 - 945 * z) / (92160 * v ** 4)
  );
}

export interface MeanInterval {
  /** How many values (rounds). */
  n: number;
  mean: number;
  /** Sample standard deviation (n - 1 in the denominator); null for one value. */
  sd: number | null;
  /** The 95% interval's ends; null for fewer than two values (no spread to estimate). */
  low: number | null;
  high: number | null;
  confidence: 0.95;
  method: 'student-t';
}

/** The mean of `values` and its two-sided 95% Student t interval. */
export function meanInterval(values: readonly number[]): MeanInterval {
  if (values.length === 0) throw new Error('meanInterval: no values');
  for (const v of values) if (!Number.isFinite(v)) throw new Error(`meanInterval: values must be finite numbers, got ${v}`);
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { n, mean, sd: null, low: null, high: null, confidence: 0.95, method: 'student-t' };
  const sd = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1));
  const half = (studentT975(n - 1) * sd) / Math.sqrt(n);
  return { n, mean, sd, low: mean - half, high: mean + half, confidence: 0.95, method: 'student-t' };
}

/** "0.912 (95% CI [0.880, 0.944], Student t over 5 rounds)", or "0.912 (one round: no interval)". */
export function formatInterval(i: MeanInterval, digits = 3): string {
  if (i.low === null || i.high === null) return `${i.mean.toFixed(digits)} (one round: no interval)`;
  return `${i.mean.toFixed(digits)} (95% CI [${i.low.toFixed(digits)}, ${i.high.toFixed(digits)}], Student t over ${i.n} rounds)`;
}
