/**
 * Activation calibration: statistics gathered over the calibration set for each tensor (min, max, max |x|
 * and a histogram of |x|), and the three calibrators the board toolchain offers, each turning them into a
 * clipping threshold T (the tensor is then quantized over [-T, T]):
 *   max        T = max |x| seen (nothing clipped);
 *   percentile T = the upper edge of the histogram bin where the cumulative share of |x| reaches p %;
 *   kl         the entropy calibrator: T = the clipping point whose int8 version of the |x| histogram loses
 *              the least information (smallest KL divergence), searched over the histogram's bin edges.
 * KL needs more histogram bins than quantization levels, so it applies to int8 tensors; int16 tensors
 * calibrated with `kl` use max (65536 levels leave nothing for clipping to win).
 */
import { addAt, at } from '../../util/checked-access.ts';

export type CalibratorKind = 'max' | 'percentile' | 'kl';
export const CALIBRATORS: readonly CalibratorKind[] = ['max', 'percentile', 'kl'];

export const DEFAULT_BINS = 2048;
export const DEFAULT_PERCENTILE = 99.999;

/**
 * A histogram of |x| over [0, bins * width) that grows as larger values arrive: when a value exceeds the
 * range, the bin width doubles as often as needed and neighbouring bins are merged, so counts stay exact
 * per (wider) bin and the first batch need not know the final range.
 */
export class AbsHistogram {
  readonly counts: Float64Array;
  /** Bin width; 0 until a non-zero value arrives (all counts so far are zeros, in bin 0). */
  width = 0;
  total = 0;

  constructor(readonly bins: number = DEFAULT_BINS) {
    if (!Number.isInteger(bins) || bins < 2) throw new RangeError(`AbsHistogram: bins must be an integer >= 2, got ${bins}`);
    this.counts = new Float64Array(bins);
  }

  get range(): number {
    return this.width * this.bins;
  }

  add(values: ArrayLike<number>, absMax?: number): void {
    let m = absMax ?? 0;
    if (absMax === undefined) for (let i = 0; i < values.length; i++) m = Math.max(m, Math.abs(at(values, i, 'values')));
    if (!Number.isFinite(m)) throw new RangeError('AbsHistogram: non-finite value (NaN or Inf) in a calibration tensor');
    if (m > 0 && this.width === 0) this.width = m / this.bins;
    else if (m > this.range) this.grow(m);
    const last = this.bins - 1;
    const inv = this.width > 0 ? 1 / this.width : 0;
    const c = this.counts;
    for (let i = 0; i < values.length; i++) {
      const v = at(values, i, 'values');
      // |v| * inv <= bins here (the range was grown to cover max |v|), so `| 0` is a floor.
      const k = ((v < 0 ? -v : v) * inv) | 0;
      addAt(c, k < last ? k : last, 1, 'histogram bins');
    }
    this.total += values.length;
  }

  /** Doubles the bin width until `m` fits, merging bin pairs each time. */
  private grow(m: number): void {
    let factor = 1;
    while (this.range * factor < m) factor *= 2;
    const merged = new Float64Array(this.bins);
    for (let i = 0; i < this.bins; i++) addAt(merged, Math.floor(i / factor), at(this.counts, i, 'this.counts'), 'merged bins');
    this.counts.set(merged);
    this.width *= factor;
  }
}

/** What the calibration pass records for one tensor. */
export class TensorStats {
  min = Infinity;
  max = -Infinity;
  absMax = 0;
  count = 0;
  readonly hist: AbsHistogram;

  /** `histogram: false` keeps min/max only (enough for the max calibrator, and twice as fast). */
  constructor(
    bins = DEFAULT_BINS,
    readonly histogram = true,
  ) {
    this.hist = new AbsHistogram(bins);
  }

  add(values: ArrayLike<number>): void {
    let lo = Infinity;
    let hi = -Infinity;
    let nan = false;
    for (let i = 0; i < values.length; i++) {
      const v = at(values, i, 'values');
      if (v < lo) lo = v;
      if (v > hi) hi = v;
      if (v !== v) nan = true;
    }
    if (values.length === 0) return;
    if (nan) throw new RangeError('calibration: NaN in an activation tensor');
    if (!Number.isFinite(lo) || !Number.isFinite(hi)) throw new RangeError('calibration: NaN or Inf in an activation tensor');
    this.min = Math.min(this.min, lo);
    this.max = Math.max(this.max, hi);
    const m = Math.max(Math.abs(lo), Math.abs(hi));
    this.absMax = Math.max(this.absMax, m);
    this.count += values.length;
    if (this.histogram) this.hist.add(values, m);
  }
}

/** Upper edge of the first bin where the cumulative count reaches p % of all values (never above max |x|). */
export function percentileThreshold(stats: Pick<TensorStats, 'absMax' | 'hist'>, percentile: number): number {
  if (!(percentile > 0 && percentile <= 100)) throw new RangeError(`percentile must be in (0, 100], got ${percentile}`);
  const h = stats.hist;
  if (h.total === 0 || h.width === 0) return stats.absMax;
  const target = (percentile / 100) * h.total;
  let cum = 0;
  for (let i = 0; i < h.bins; i++) {
    cum += at(h.counts, i, 'h.counts');
    if (cum >= target) return Math.min(stats.absMax, (i + 1) * h.width);
  }
  return stats.absMax;
}

/** Probability mass given to a bin the quantized histogram leaves empty while the original has values there. */
export const KL_EPSILON = 1e-4;

/**
 * KL divergence between the |x| histogram clipped at bin i (outliers folded into the last kept bin) and
 * its version quantized to `levels` levels. Where the quantized version has nothing but the clipped one
 * has values (the last kept bin when it holds only outliers), that bin gets KL_EPSILON of the mass, taken
 * evenly from the rest, so such a clipping point scores large but finite instead of being excluded.
 */
export function klDivergenceAt(counts: ArrayLike<number>, i: number, levels: number): number {
  // P = counts[0..i) with the outliers (counts[i..]) added to bin i-1; Q = counts[0..i) quantized into
  // `levels` groups, each group's total spread evenly over its non-empty bins. sum(P) = all counts,
  // sum(Q) = counts[0..i), so both normalise without materialising them.
  let kept = 0;
  let total = 0;
  for (let k = 0; k < counts.length; k++) {
    total += at(counts, k, 'counts');
    if (k < i) kept += at(counts, k, 'counts');
  }
  const outliers = total - kept;
  if (total === 0 || kept === 0) return Infinity;
  // Only bin i-1 can have P > 0 and Q = 0 (every other populated bin keeps its own count in Q).
  const missing = at(counts, i - 1, 'counts') === 0 && outliers > 0 ? 1 : 0;
  const qScale = 1 - KL_EPSILON * missing;
  const group = i / levels;
  let kl = 0;
  for (let j = 0; j < levels; j++) {
    const start = Math.floor(j * group);
    const end = j === levels - 1 ? i : Math.floor((j + 1) * group);
    let sum = 0;
    let nonEmpty = 0;
    for (let k = start; k < end; k++) {
      sum += at(counts, k, 'counts');
      if (at(counts, k, 'counts') > 0) nonEmpty++;
    }
    if (nonEmpty === 0) continue;
    const qk = (sum / nonEmpty / kept) * qScale;
    for (let k = start; k < end; k++) {
      const c = at(counts, k, 'counts');
      if (c === 0) continue;
      const pk = (k === i - 1 ? c + outliers : c) / total;
      kl += pk * Math.log(pk / qk);
    }
  }
  if (missing) {
    const pk = outliers / total;
    kl += pk * Math.log(pk / KL_EPSILON);
  }
  return kl;
}

/**
 * The entropy (KL) threshold: over every clipping bin i from `levels` to the histogram's size, the one
 * whose quantized histogram is closest to the clipped original; T = i * bin width. Equal divergences go
 * to the larger i (less clipping).
 */
export function klThreshold(stats: Pick<TensorStats, 'absMax' | 'hist'>, levels = 128): number {
  const h = stats.hist;
  if (h.total === 0 || h.width === 0 || h.bins < levels) return stats.absMax;
  // Only bins up to the last populated one matter; beyond it every candidate equals max.
  let last = h.bins - 1;
  while (last > 0 && h.counts[last] === 0) last--;
  if (last + 1 <= levels) return stats.absMax;
  let best = Infinity;
  let bestI = last + 1;
  for (let i = levels; i <= last + 1; i++) {
    const kl = klDivergenceAt(h.counts, i, levels);
    if (kl <= best) {
      best = kl;
      bestI = i;
    }
  }
  if (!Number.isFinite(best)) return stats.absMax;
  return Math.min(stats.absMax, bestI * h.width);
}

export interface CalibratorOptions {
  kind: CalibratorKind;
  /** For `percentile` (default 99.999). */
  percentile?: number;
}

/** The clipping threshold of a tensor for its storage precision. */
export function threshold(stats: Pick<TensorStats, 'absMax' | 'hist' | 'histogram'>, precision: 'int8' | 'int16', o: CalibratorOptions): number {
  if (o.kind !== 'max' && !stats.histogram) throw new Error(`the ${o.kind} calibrator needs histograms: calibrate with histograms on`);
  switch (o.kind) {
    case 'max':
      return stats.absMax;
    case 'percentile':
      return percentileThreshold(stats, o.percentile ?? DEFAULT_PERCENTILE);
    case 'kl':
      return precision === 'int8' ? klThreshold(stats, 128) : stats.absMax;
  }
}
