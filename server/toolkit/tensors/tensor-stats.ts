/**
 * Statistics of an image-like tensor: NaN/Inf counts, range, per-channel mean/std, which value domain the
 * numbers live in (raw 0-255, 0-1, mean/std-normalised), and a layout guess (NCHW vs NHWC) from spatial
 * smoothness: neighbouring pixels of natural images are similar, so the layout under which the tensor
 * looks smoother is the layout it was written in.
 */
import type { TensorLayout } from '../../model/model-info.ts';
import { at } from '../../util/checked-access.ts';

export interface ChannelStats {
  mean: number;
  std: number;
  min: number;
  max: number;
}

export interface TensorStats {
  count: number;
  nan: number;
  inf: number;
  min: number;
  max: number;
  mean: number;
  std: number;
  /** All finite values are whole numbers. */
  integral: boolean;
  /** Per channel, under the layout named in `layout` (absent when the tensor is not C x H x W). */
  channels?: ChannelStats[];
  layout?: TensorLayout;
}

/** `normalised-twice` is never guessed from the range alone: normalisation-signature.ts recognises it. */
export type ValueDomain = 'normalised' | 'normalised-twice' | 'unit-0-1' | 'raw-0-255' | 'int8-centred' | 'constant' | 'unknown';

export const DOMAIN_TEXT: Record<ValueDomain, string> = {
  normalised: 'mean/std-normalised values',
  'normalised-twice': 'mean/std-normalised values normalised a second time',
  'unit-0-1': 'values rescaled to 0-1 but not mean/std-normalised',
  'raw-0-255': 'raw 0-255 pixel values',
  'int8-centred': 'pixel values minus 128 (int8-centred)',
  constant: 'a constant (every value the same)',
  unknown: 'values outside any image range',
};

function accumulate(values: ArrayLike<number>, start: number, step: number, count: number) {
  let sum = 0;
  let sq = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let n = 0;
  for (let k = 0, i = start; k < count; k++, i += step) {
    const v = at(values, i, 'values');
    if (!Number.isFinite(v)) continue;
    sum += v;
    sq += v * v;
    if (v < min) min = v;
    if (v > max) max = v;
    n++;
  }
  const mean = n > 0 ? sum / n : Number.NaN;
  return { mean, std: n > 0 ? Math.sqrt(Math.max(0, sq / n - mean * mean)) : Number.NaN, min, max, n };
}

export function tensorStats(data: Float32Array, image?: { channels: number; height: number; width: number; layout: TensorLayout }): TensorStats {
  let nan = 0;
  let inf = 0;
  let integral = true;
  for (let i = 0; i < data.length; i++) {
    const v = at(data, i, 'data');
    if (Number.isNaN(v)) nan++;
    else if (!Number.isFinite(v)) inf++;
    else if (integral && v !== Math.round(v)) integral = false;
  }
  const all = accumulate(data, 0, 1, data.length);
  const stats: TensorStats = { count: data.length, nan, inf, min: all.min, max: all.max, mean: all.mean, std: all.std, integral };
  if (image && image.channels * image.height * image.width === data.length) {
    const plane = image.height * image.width;
    stats.layout = image.layout;
    stats.channels = [];
    for (let c = 0; c < image.channels; c++) {
      const s = image.layout === 'NCHW' ? accumulate(data, c * plane, 1, plane) : accumulate(data, c, image.channels, plane);
      stats.channels.push({ mean: s.mean, std: s.std, min: s.min, max: s.max });
    }
  }
  return stats;
}

/** Which value domain the finite values live in. */
export function classifyDomain(s: TensorStats): ValueDomain {
  if (!Number.isFinite(s.min) || !Number.isFinite(s.max)) return 'unknown';
  const eps = 1e-4;
  if (s.max - s.min < 1e-6) return 'constant';
  if (s.integral && s.min >= 0 && s.max <= 255 && s.max > 1) return 'raw-0-255';
  if (s.integral && s.min >= -128 && s.max <= 127 && s.min < 0) return 'int8-centred';
  if (s.min >= -eps && s.max <= 1 + eps) return 'unit-0-1';
  if (s.min < 0 && s.min >= -5 && s.max <= 5) return 'normalised';
  if (s.min >= -0.5 && s.max <= 255.5) return 'raw-0-255';
  return 'unknown';
}

export interface LayoutGuess {
  layout: TensorLayout | 'unknown';
  /** Mean |difference| between neighbouring pixels when read as NCHW and as NHWC. */
  roughnessNchw: number;
  roughnessNhwc: number;
  /** Smoother / rougher: near 1 means no evidence either way. */
  ratio: number;
}

/** Mean |difference| between neighbouring blocks (block x block means) of each channel, read in `layout`. */
function roughness(data: Float32Array, channels: number, height: number, width: number, layout: TensorLayout, block: number): number {
  const plane = height * width;
  const idx = layout === 'NCHW' ? (c: number, y: number, x: number) => c * plane + y * width + x : (c: number, y: number, x: number) => (y * width + x) * channels + c;
  const bh = Math.floor(height / block);
  const bw = Math.floor(width / block);
  const means = new Float64Array(bh * bw);
  let sum = 0;
  let n = 0;
  for (let c = 0; c < channels; c++) {
    for (let by = 0; by < bh; by++) {
      for (let bx = 0; bx < bw; bx++) {
        let s = 0;
        for (let yy = 0; yy < block; yy++) for (let xx = 0; xx < block; xx++) s += at(data, idx(c, by * block + yy, bx * block + xx), 'data');
        means[by * bw + bx] = s / (block * block);
      }
    }
    for (let by = 0; by + 1 < bh; by++) {
      for (let bx = 0; bx + 1 < bw; bx++) {
        const v = at(means, by * bw + bx, 'means');
        const d = Math.abs(at(means, by * bw + bx + 1, 'means') - v) + Math.abs(at(means, (by + 1) * bw + bx, 'means') - v);
        if (Number.isFinite(d)) {
          sum += d;
          n += 2;
        }
      }
    }
  }
  return n > 0 ? sum / n : Number.NaN;
}

/**
 * Layout from smoothness at two scales: single pixels (separates NHWC data well) and 2x2 block means
 * (averages pixel noise away, which separates NCHW data). The product of the two NCHW/NHWC roughness
 * ratios must be clearly below (NCHW) or above (NHWC) 1; grey or noise-like tensors stay `unknown`.
 */
export function guessLayout(data: Float32Array, channels: number, height: number, width: number): LayoutGuess {
  if (channels * height * width !== data.length || height < 8 || width < 8) {
    return { layout: 'unknown', roughnessNchw: Number.NaN, roughnessNhwc: Number.NaN, ratio: 1 };
  }
  const a1 = roughness(data, channels, height, width, 'NCHW', 1);
  const b1 = roughness(data, channels, height, width, 'NHWC', 1);
  const a2 = roughness(data, channels, height, width, 'NCHW', 2);
  const b2 = roughness(data, channels, height, width, 'NHWC', 2);
  const score = b1 > 0 && b2 > 0 ? (a1 / b1) * (a2 / b2) : 1;
  const ratio = Number.isFinite(score) && score > 0 ? Math.min(score, 1 / score) : 1;
  const layout = ratio < 0.6 ? (score < 1 ? 'NCHW' : 'NHWC') : 'unknown';
  return { layout, roughnessNchw: a1, roughnessNhwc: b1, ratio };
}

/** Reorders an image tensor between layouts (batch 1). */
export function transposeLayout(data: Float32Array, channels: number, height: number, width: number, from: TensorLayout): Float32Array {
  const out = new Float32Array(data.length);
  const plane = height * width;
  if (from === 'NHWC') {
    for (let p = 0; p < plane; p++) for (let c = 0; c < channels; c++) out[c * plane + p] = at(data, p * channels + c, 'data');
  } else {
    for (let p = 0; p < plane; p++) for (let c = 0; c < channels; c++) out[p * channels + c] = at(data, c * plane + p, 'data');
  }
  return out;
}
