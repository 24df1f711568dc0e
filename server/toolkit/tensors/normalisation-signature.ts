/**
 * What normalisation a float image tensor went through, read from its numbers alone (no source image).
 *
 * The pixel lattice: a tensor made from an 8-bit image holds, in each channel plane c, only values
 * (k/255 - mean_c)/std_c for whole k in 0..255. Undoing the normalisation with the right channel's mean/std
 * (once, or twice for a tensor normalised twice) lands every value on a whole pixel value; with any other
 * channel's constants it lands anywhere. So the lattice names, per plane, which channel's mean/std was
 * applied and how often: planes in reverse order are a channel swap after normalising (BGR), two passes
 * are mean/std applied twice. It needs the 8-bit rounding the training processor does (PIL resizes in
 * 8 bits); a tensor resized in float has no lattice and gets no verdict from it.
 *
 * The range signature (mean/std twice, without a lattice): undoing one normalisation puts every channel
 * exactly inside its normalised range [(0 - mean)/std, (1 - mean)/std], while the values themselves lie far
 * outside it - the shape of (x - mean)/std fed through (. - mean)/std again.
 */

export interface NormalisationParams {
  mean: readonly [number, number, number];
  std: readonly [number, number, number];
  /** 1/255 for 8-bit images. */
  rescale: number;
  width: number;
  height: number;
}

/** An RGB channel or an NCHW plane: an index into the three-entry mean and std. */
export type ChannelIndex = 0 | 1 | 2;
const CHANNELS: readonly ChannelIndex[] = [0, 1, 2];

export interface PlaneFit {
  plane: ChannelIndex;
  /** Whose mean/std puts this plane on the pixel lattice. */
  channel: ChannelIndex;
  /** How many times that normalisation was applied. */
  times: 1 | 2;
  /** Mean distance from the nearest whole pixel value, in pixel units (0 = exact; noise is ~0.25). */
  residual: number;
}

export interface NormalisationSignature {
  kind: 'normalised' | 'channels-reversed' | 'normalised-twice';
  /** With `normalised-twice`, the planes may also be reversed. */
  reversed: boolean;
  evidence: 'pixel-lattice' | 'value-range';
  /** Lattice fits, one per plane (pixel-lattice evidence only). */
  planes: PlaneFit[];
  /** One sentence with the numbers that show it. */
  detail: string;
}

const SAMPLES = 20000;
/** Mean residual (pixel units) below which a plane sits on the lattice: float32 rounding gives ~1e-4. */
const ON_LATTICE = 0.02;

function residual(values: Float32Array, start: number, count: number, mean: number, std: number, times: 1 | 2, rescale: number): { residual: number; distinct: number } {
  const step = Math.max(1, Math.floor(count / SAMPLES));
  let sum = 0;
  let n = 0;
  let outside = 0;
  const seen = new Set<number>();
  for (let i = start; i < start + count; i += step) {
    let x = values[i];
    if (x === undefined || !Number.isFinite(x)) continue;
    x = x * std + mean;
    if (times === 2) x = x * std + mean;
    const px = x / rescale;
    const k = Math.round(px);
    if (px < -0.5 || px > 255.5) outside++;
    else if (seen.size < 64) seen.add(k);
    sum += Math.abs(px - k);
    n++;
  }
  if (n === 0 || outside > 0.001 * n) return { residual: Number.POSITIVE_INFINITY, distinct: 0 };
  return { residual: sum / n, distinct: seen.size };
}

/** For each plane, the one (channel, times) that puts it on the pixel lattice; null if any plane has none or several. */
function latticeFits(nchw: Float32Array, p: NormalisationParams): PlaneFit[] | null {
  const plane = p.width * p.height;
  const fits: PlaneFit[] = [];
  for (const k of CHANNELS) {
    const found: PlaneFit[] = [];
    for (const c of CHANNELS) {
      for (const times of [1, 2] as const) {
        const r = residual(nchw, k * plane, plane, p.mean[c], p.std[c], times, p.rescale);
        // A few distinct levels fit many lattices by chance: demand an image-like spread.
        if (r.residual < ON_LATTICE && r.distinct >= 8) found.push({ plane: k, channel: c, times, residual: r.residual });
      }
    }
    const [only, ...others] = found;
    if (only === undefined || others.length > 0) return null;
    fits.push(only);
  }
  return fits;
}

function fmt(x: number): string {
  return Number(x.toPrecision(3)).toString();
}

function channelRange(nchw: Float32Array, c: number, plane: number, map: (v: number) => number): { min: number; max: number } {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let i = c * plane; i < (c + 1) * plane; i++) {
    const v = nchw[i];
    if (v === undefined) break; // past the end of a short tensor: nothing more to range over
    if (!Number.isFinite(v)) continue;
    const u = map(v);
    if (u < min) min = u;
    if (u > max) max = u;
  }
  return { min, max };
}

/** mean/std twice from value ranges alone (see the module comment); null when the ranges do not show it. */
function rangeSignature(nchw: Float32Array, p: NormalisationParams): NormalisationSignature | null {
  const plane = p.width * p.height;
  const tol = 0.02;
  let farOutside = false;
  let spread = false;
  const parts: string[] = [];
  for (const c of CHANNELS) {
    const m = p.mean[c];
    const s = p.std[c];
    const lo = (0 - m) / s;
    const hi = (p.rescale * 255 - m) / s;
    const raw = channelRange(nchw, c, plane, (v) => v);
    const once = channelRange(nchw, c, plane, (v) => v * s + m);
    if (!Number.isFinite(once.min) || once.min < lo - tol || once.max > hi + tol) return null;
    if (raw.min < lo - 0.5 || raw.max > hi + 0.5) farOutside = true;
    if (once.max - once.min > 0.25 * (hi - lo)) spread = true;
    parts.push(`c${c} ${fmt(raw.min)}..${fmt(raw.max)} -> ${fmt(once.min)}..${fmt(once.max)} (normalised range ${fmt(lo)}..${fmt(hi)})`);
  }
  if (!farOutside || !spread) return null;
  return {
    kind: 'normalised-twice',
    reversed: false,
    evidence: 'value-range',
    planes: [],
    detail: `undoing one (x - mean)/std puts every channel inside its normalised range while the values themselves lie far outside it: ${parts.join('; ')}`,
  };
}

/**
 * The normalisation an NCHW float tensor (3 planes of width x height) shows, or null when its numbers do
 * not say (no lattice and no range signature, e.g. a tensor resized in float, or not an image).
 */
export function normalisationSignature(nchw: Float32Array, p: NormalisationParams): NormalisationSignature | null {
  if (nchw.length !== 3 * p.width * p.height) return null;
  const fits = latticeFits(nchw, p);
  const [fit0] = fits ?? [];
  if (fits && fit0) {
    const times = fit0.times;
    const sameTimes = fits.every((f) => f.times === times);
    const identity = fits.every((f) => f.channel === f.plane);
    const reversed = fits.every((f) => f.channel === 2 - f.plane);
    if (sameTimes && (identity || reversed)) {
      const mapping = fits
        .map((f) => `plane ${f.plane} with channel ${f.channel}'s mean/std (${fmt(p.mean[f.channel])}/${fmt(p.std[f.channel])})${f.times === 2 ? ' twice' : ''}`)
        .join(', ');
      const residuals = fits.map((f) => f.residual.toExponential(1)).join(', ');
      const detail = `undoing the normalisation lands every value on a whole 8-bit pixel value only as ${mapping} (mean distance from a whole value ${residuals} pixel; any other reading gives about 0.25)`;
      const kind = times === 2 ? 'normalised-twice' : identity ? 'normalised' : 'channels-reversed';
      return { kind, reversed: reversed && !identity, evidence: 'pixel-lattice', planes: fits, detail };
    }
    return null;
  }
  return rangeSignature(nchw, p);
}
