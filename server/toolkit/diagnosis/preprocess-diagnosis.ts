/**
 * Explains a preprocessed tensor against its source image. The reference is the training preprocessing
 * (PIL-exact bilinear resize, rescale, mean/std) through segstream's kernels; around it sit the common ways
 * a deployment gets it wrong (red/blue swapped before or after normalising, mean/std applied twice, a resize
 * without antialiasing, nearest resize, NV12 decoded with the wrong colour range or matrix), each reproduced
 * on the same image. The hypothesis the tensor is
 * closest to names the mistake; the NV12 paths with the right colour model mark the unavoidable floor.
 */
import { nv12ToTensor, rgbToNv12, rgbToTensor } from '../../kernels/index.ts';
import { cropToEvenSize } from '../even-crop.ts';
import { finding, type Finding } from '../report/findings.ts';
import { at } from '../../util/checked-access.ts';

export interface PreprocessParams {
  width: number;
  height: number;
  mean: [number, number, number];
  std: [number, number, number];
  rescale: number;
  channelOrder: 'rgb' | 'bgr';
}

export type HypothesisId =
  | 'reference'
  | 'channel-order-bgr'
  | 'channel-swap-after-normalisation'
  | 'normalised-twice'
  | 'missing-antialiasing'
  | 'nearest-resize'
  | 'nv12-full'
  | 'nv12-limited'
  | 'colour-range-limited-as-full'
  | 'colour-range-full-as-limited'
  | 'colour-matrix-bt709-as-bt601'
  | 'colour-matrix-bt601-as-bt709';

export interface HypothesisResult {
  id: HypothesisId;
  label: string;
  meanAbsDiff: number;
  maxAbsDiff: number;
  /** Mean |difference| between this hypothesis and the reference: how distinguishable it is at all. */
  distanceFromReference: number;
}

export interface Diagnosis {
  /** One LSB of the 8-bit input in normalised units (the smallest of rescale/std). */
  lsb: number;
  reference: { meanAbsDiff: number; maxAbsDiff: number };
  results: HypothesisResult[];
  verdict: 'matches' | 'nv12-floor' | 'fault' | 'close' | 'unexplained';
  best: HypothesisResult;
  finding: Finding;
}

const LABELS: Record<HypothesisId, string> = {
  reference: 'the training preprocessing (PIL bilinear with antialiasing, RGB)',
  'channel-order-bgr': 'the reference with red and blue swapped (BGR)',
  'channel-swap-after-normalisation': 'the normalised reference with its channel planes reversed (BGR order)',
  'normalised-twice': 'the normalised reference normalised a second time ((x - mean)/std again)',
  'missing-antialiasing': 'a plain 2-tap bilinear resize (no antialiasing)',
  'nearest-resize': 'a nearest-neighbour resize',
  'nv12-full': 'an NV12 frame, BT.601 full range, decoded correctly',
  'nv12-limited': 'an NV12 frame, BT.601 limited range, decoded correctly',
  'colour-range-limited-as-full': 'a limited-range NV12 frame decoded as full range',
  'colour-range-full-as-limited': 'a full-range NV12 frame decoded as limited range',
  'colour-matrix-bt709-as-bt601': 'a BT.709 NV12 frame decoded with BT.601',
  'colour-matrix-bt601-as-bt709': 'a BT.601 NV12 frame decoded with BT.709',
};

export function swapRedBlue(rgb: Uint8Array): Uint8Array {
  const out = new Uint8Array(rgb.length);
  for (let i = 0; i + 2 < rgb.length; i += 3) {
    out[i] = at(rgb, i + 2, 'rgb');
    out[i + 1] = at(rgb, i + 1, 'rgb');
    out[i + 2] = at(rgb, i, 'rgb');
  }
  return out;
}

/** 2-tap bilinear with half-pixel centres and no antialiasing (what OpenCV INTER_LINEAR does), rounded to 8 bits. */
export function resizeBilinearNoAntialias(rgb: Uint8Array, w: number, h: number, ow: number, oh: number): Uint8Array {
  const out = new Uint8Array(ow * oh * 3);
  for (let y = 0; y < oh; y++) {
    const sy = Math.min(Math.max((y + 0.5) * (h / oh) - 0.5, 0), h - 1);
    const y0 = Math.floor(sy);
    const y1 = Math.min(y0 + 1, h - 1);
    const fy = sy - y0;
    for (let x = 0; x < ow; x++) {
      const sx = Math.min(Math.max((x + 0.5) * (w / ow) - 0.5, 0), w - 1);
      const x0 = Math.floor(sx);
      const x1 = Math.min(x0 + 1, w - 1);
      const fx = sx - x0;
      for (let c = 0; c < 3; c++) {
        const a = at(rgb, (y0 * w + x0) * 3 + c, 'rgb');
        const b = at(rgb, (y0 * w + x1) * 3 + c, 'rgb');
        const d = at(rgb, (y1 * w + x0) * 3 + c, 'rgb');
        const e = at(rgb, (y1 * w + x1) * 3 + c, 'rgb');
        const v = (a * (1 - fx) + b * fx) * (1 - fy) + (d * (1 - fx) + e * fx) * fy;
        out[(y * ow + x) * 3 + c] = Math.round(v);
      }
    }
  }
  return out;
}

export function resizeNearest(rgb: Uint8Array, w: number, h: number, ow: number, oh: number): Uint8Array {
  const out = new Uint8Array(ow * oh * 3);
  for (let y = 0; y < oh; y++) {
    const sy = Math.min(Math.floor((y * h) / oh), h - 1);
    for (let x = 0; x < ow; x++) {
      const sx = Math.min(Math.floor((x * w) / ow), w - 1);
      for (let c = 0; c < 3; c++) out[(y * ow + x) * 3 + c] = at(rgb, (sy * w + sx) * 3 + c, 'rgb');
    }
  }
  return out;
}

export function referenceTensor(rgb: Uint8Array, w: number, h: number, p: PreprocessParams): Float32Array {
  return rgbToTensor(rgb, w, h, { width: p.width, height: p.height, mean: p.mean, std: p.std, rescale: p.rescale, channelOrder: p.channelOrder });
}

function meanMaxDiff(a: Float32Array, b: Float32Array): { mean: number; max: number } {
  let sum = 0;
  let max = 0;
  let n = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(at(a, i, 'a') - at(b, i, 'b'));
    if (!Number.isFinite(d)) continue;
    sum += d;
    n++;
    if (d > max) max = d;
  }
  return { mean: n > 0 ? sum / n : Number.POSITIVE_INFINITY, max };
}

/** The three channel planes of an NCHW tensor in reverse order. */
export function reversePlanes(t: Float32Array, plane: number): Float32Array {
  const out = new Float32Array(t.length);
  for (let c = 0; c < 3; c++) out.set(t.subarray(c * plane, (c + 1) * plane), (2 - c) * plane);
  return out;
}

/** (x - mean)/std applied once more to an already normalised NCHW tensor (float32, as NumPy would). */
export function normaliseAgain(t: Float32Array, p: Pick<PreprocessParams, 'width' | 'height' | 'mean' | 'std'>): Float32Array {
  const plane = p.width * p.height;
  const out = new Float32Array(t.length);
  for (let c = 0; c < 3; c++) {
    const m = at(p.mean, c, 'p.mean');
    const s = at(p.std, c, 'p.std');
    for (let i = c * plane; i < (c + 1) * plane; i++) out[i] = (at(t, i, 't') - m) / s;
  }
  return out;
}

/** The tensors of every hypothesis for one source image (NCHW in the model's channel order). */
export function hypothesisTensors(rgb: Uint8Array, w: number, h: number, p: PreprocessParams): Map<HypothesisId, Float32Array> {
  const m = new Map<HypothesisId, Float32Array>();
  const norm = { width: p.width, height: p.height, mean: p.mean, std: p.std, rescale: p.rescale, channelOrder: p.channelOrder };
  m.set('reference', rgbToTensor(rgb, w, h, norm));
  m.set('channel-order-bgr', rgbToTensor(swapRedBlue(rgb), w, h, norm));
  const ref = m.get('reference')!;
  m.set('channel-swap-after-normalisation', reversePlanes(ref, p.width * p.height));
  m.set('normalised-twice', normaliseAgain(ref, p));
  const noAa = resizeBilinearNoAntialias(rgb, w, h, p.width, p.height);
  m.set('missing-antialiasing', rgbToTensor(noAa, p.width, p.height, norm));
  m.set('nearest-resize', rgbToTensor(resizeNearest(rgb, w, h, p.width, p.height), p.width, p.height, norm));
  const even = cropToEvenSize(rgb, w, h);
  if (even.w >= 2 && even.h >= 2) {
    const encoded = new Map<string, ReturnType<typeof rgbToNv12>>();
    const nv = (matrix: 'bt601' | 'bt709', encRange: 'full' | 'limited', decMatrix: 'bt601' | 'bt709', decRange: 'full' | 'limited') => {
      const key = `${matrix}-${encRange}`;
      let frame = encoded.get(key);
      if (!frame) {
        frame = rgbToNv12(even.rgb, even.w, even.h, { matrix, range: encRange });
        encoded.set(key, frame);
      }
      return nv12ToTensor(frame, { ...norm, color: { matrix: decMatrix, range: decRange } });
    };
    m.set('nv12-full', nv('bt601', 'full', 'bt601', 'full'));
    m.set('nv12-limited', nv('bt601', 'limited', 'bt601', 'limited'));
    m.set('colour-range-limited-as-full', nv('bt601', 'limited', 'bt601', 'full'));
    m.set('colour-range-full-as-limited', nv('bt601', 'full', 'bt601', 'limited'));
    m.set('colour-matrix-bt709-as-bt601', nv('bt709', 'limited', 'bt601', 'limited'));
    m.set('colour-matrix-bt601-as-bt709', nv('bt601', 'limited', 'bt709', 'limited'));
  }
  return m;
}

/** The finding code each mistake is reported under (the hypothesis id unless two ids are one mistake). */
export const HYPOTHESIS_CODE: Partial<Record<HypothesisId, string>> = {
  'channel-swap-after-normalisation': 'channel-order-bgr',
};

export const NORMALISED_TWICE_FIX =
  'normalise once: either feed the normalised tensor to a model compiled with norm_type: no_preprocess (featuremap input), or feed raw 0-255 pixels to one that normalises (data_mean_and_scale) - not both; check that the pipeline does not call the processor (or (x - mean)/std) twice';

const FIXES: Partial<Record<HypothesisId, string>> = {
  'channel-order-bgr': 'convert to RGB before preprocessing (cv2.imread returns BGR: cv2.cvtColor(img, cv2.COLOR_BGR2RGB)), or make input_type_train/input_type_rt say bgr consistently',
  'channel-swap-after-normalisation': 'keep the channel order of the normalised tensor: drop the RGB<->BGR swap after normalising (x[:, ::-1] or a cvtColor on the float tensor), or swap before normalising so each channel gets its own mean/std',
  'normalised-twice': NORMALISED_TWICE_FIX,
  'missing-antialiasing':
    'resize the way training did: PIL Image.resize((W, H), Image.BILINEAR) (antialiased when shrinking), or torch interpolate(..., antialias=True); segstream calib does this exactly',
  'nearest-resize': 'resize with PIL bilinear (antialiased), as the model was trained',
  'colour-range-limited-as-full': 'the source is limited range (16-235): decode it as limited - input_space_and_range: bt601_video on the BPU, colorimetry bt601 in the GStreamer caps, or segstream serve --color bt601-limited',
  'colour-range-full-as-limited': 'the source is full range (0-255): decode it as full - input_space_and_range: regular on the BPU, or segstream serve --color bt601-full',
  'colour-matrix-bt709-as-bt601': 'the source is BT.709 (HD video): decode with BT.709 coefficients (segstream serve --color bt709-limited); the BPU converts with BT.601 only, so convert upstream',
  'colour-matrix-bt601-as-bt709': 'the source is BT.601: decode with BT.601 coefficients (segstream serve --color bt601-limited)',
};

const FAULT_TEXT: Partial<Record<HypothesisId, string>> = {
  'channel-order-bgr': 'red and blue are swapped: the image was fed as BGR to a model trained on RGB',
  'channel-swap-after-normalisation': 'the channels are in BGR order: the tensor was normalised as RGB and then its channel planes were reversed',
  'normalised-twice': 'mean/std was applied twice: these are (x - mean)/std values normalised again',
  'missing-antialiasing': 'the resize skipped antialiasing: a 2-tap bilinear takes 4 source pixels per output pixel, PIL\'s bilinear averages the whole footprint when it shrinks',
  'nearest-resize': 'the image was resized with nearest-neighbour, not PIL bilinear',
  'colour-range-limited-as-full': 'wrong colour range: a limited-range (16-235) frame was decoded as full range (0-255) - blacks turn grey, contrast drops',
  'colour-range-full-as-limited': 'wrong colour range: a full-range (0-255) frame was decoded as limited range (16-235) - shadows and highlights clip',
  'colour-matrix-bt709-as-bt601': 'wrong colour matrix: a BT.709 frame was decoded with BT.601 coefficients',
  'colour-matrix-bt601-as-bt709': 'wrong colour matrix: a BT.601 frame was decoded with BT.709 coefficients',
};

/** The hypotheses for one source image, computed once and reused for every tensor made from it. */
export interface DiagnosisReference {
  params: PreprocessParams;
  lsb: number;
  tensors: Map<HypothesisId, Float32Array>;
  distanceFromReference: Map<HypothesisId, number>;
}

export function prepareDiagnosis(rgb: Uint8Array, w: number, h: number, p: PreprocessParams): DiagnosisReference {
  const tensors = hypothesisTensors(rgb, w, h, p);
  const ref = tensors.get('reference')!;
  const distanceFromReference = new Map<HypothesisId, number>();
  for (const [id, t] of tensors) distanceFromReference.set(id, id === 'reference' ? 0 : meanMaxDiff(t, ref).mean);
  return { params: p, lsb: Math.min(...p.std.map((s) => p.rescale / s)), tensors, distanceFromReference };
}

/**
 * Diagnoses `candidate` (NCHW, normalised units, model channel order) against the hypotheses prepared
 * for its source image. `subject` names the file or image in the finding.
 */
export function diagnosePreprocessing(candidate: Float32Array, prepared: DiagnosisReference, subject?: string): Diagnosis {
  const p = prepared.params;
  const expectedLength = 3 * p.width * p.height;
  if (candidate.length !== expectedLength) {
    throw new Error(`diagnosePreprocessing: candidate has ${candidate.length} values, a 3x${p.height}x${p.width} tensor has ${expectedLength}`);
  }
  const lsb = prepared.lsb;
  const results: HypothesisResult[] = [];
  for (const [id, t] of prepared.tensors) {
    const d = meanMaxDiff(candidate, t);
    results.push({ id, label: LABELS[id], meanAbsDiff: d.mean, maxAbsDiff: d.max, distanceFromReference: prepared.distanceFromReference.get(id) ?? 0 });
  }
  const refResult = results.find((r) => r.id === 'reference')!;
  // Only hypotheses that differ from the reference on this image can explain anything.
  const distinct = results.filter((r) => r.id !== 'reference' && r.distanceFromReference > 0.1 * lsb).sort((a, b) => a.meanAbsDiff - b.meanAbsDiff);
  const best = distinct[0];
  const inLsb = (x: number) => `${x.toPrecision(3)} (${(x / lsb).toFixed(2)} LSB)`;
  const numbers = { referenceMeanAbsDiff: refResult.meanAbsDiff, referenceMaxAbsDiff: refResult.maxAbsDiff, lsb };
  let verdict: Diagnosis['verdict'];
  let f: Finding;
  const extra = (fix?: string) => ({ ...(subject ? { subject } : {}), ...(fix ? { fix } : {}) });

  if (refResult.meanAbsDiff <= 0.1 * lsb && refResult.maxAbsDiff <= 1.01 * lsb) {
    verdict = 'matches';
    f = finding('preprocessing-matches', 'info', `matches the training preprocessing: mean |diff| ${inLsb(refResult.meanAbsDiff)}, max ${inLsb(refResult.maxAbsDiff)}`, { ...extra(), data: numbers });
    return { lsb, reference: { meanAbsDiff: refResult.meanAbsDiff, maxAbsDiff: refResult.maxAbsDiff }, results, verdict, best: refResult, finding: f };
  }
  if (best && best.meanAbsDiff < 0.5 * refResult.meanAbsDiff && best.meanAbsDiff < 2 * lsb) {
    if (best.id === 'nv12-full' || best.id === 'nv12-limited') {
      verdict = 'nv12-floor';
      f = finding('nv12-floor', 'info', `matches ${best.label} (mean |diff| ${inLsb(best.meanAbsDiff)}); its distance to the RGB reference, ${inLsb(refResult.meanAbsDiff)}, is the unavoidable 4:2:0 floor`, { ...extra(), data: { ...numbers, best: best.id } });
    } else {
      verdict = 'fault';
      f = finding(HYPOTHESIS_CODE[best.id] ?? best.id, 'error', `${FAULT_TEXT[best.id]} (this tensor is ${inLsb(best.meanAbsDiff)} from ${best.label}, but ${inLsb(refResult.meanAbsDiff)} from the training preprocessing)`, { ...extra(FIXES[best.id]), data: { ...numbers, best: best.id, bestMeanAbsDiff: best.meanAbsDiff } });
    }
  } else if (refResult.meanAbsDiff <= 0.5 * lsb) {
    verdict = 'close';
    f = finding('preprocessing-close', 'warning', `close to the training preprocessing but not exact: mean |diff| ${inLsb(refResult.meanAbsDiff)}, max ${inLsb(refResult.maxAbsDiff)} (a different resize implementation or rounding)`, { ...extra('use PIL-exact preprocessing (segstream calib) to remove the doubt'), data: numbers });
  } else {
    verdict = 'unexplained';
    const near = distinct.slice(0, 2).map((r) => `${r.label} ${inLsb(r.meanAbsDiff)}`).join('; ');
    f = finding('preprocessing-unexplained', 'error', `differs from the training preprocessing by mean |diff| ${inLsb(refResult.meanAbsDiff)}, max ${inLsb(refResult.maxAbsDiff)}, and matches none of the known mistakes (nearest: ${near || 'none'})`, {
      ...extra('compare the preprocessing step by step with segstream calib --format featuremap output for the same image'),
      data: numbers,
    });
  }
  return { lsb, reference: { meanAbsDiff: refResult.meanAbsDiff, maxAbsDiff: refResult.maxAbsDiff }, results, verdict, best: best ?? refResult, finding: f };
}

/** Converts file values in a known domain/layout to normalised NCHW for diagnosis. */
export function toNormalisedNchw(
  values: Float32Array,
  layout: 'NCHW' | 'NHWC',
  domain: 'normalised' | 'unit-0-1' | 'raw-0-255' | 'int8-centred',
  p: Pick<PreprocessParams, 'width' | 'height' | 'mean' | 'std' | 'rescale'>,
): Float32Array {
  const plane = p.width * p.height;
  const out = new Float32Array(3 * plane);
  for (let c = 0; c < 3; c++) {
    const mean = at(p.mean, c, 'p.mean');
    const std = at(p.std, c, 'p.std');
    for (let i = 0; i < plane; i++) {
      const v = layout === 'NCHW' ? at(values, c * plane + i, 'values') : at(values, i * 3 + c, 'values');
      let n: number;
      switch (domain) {
        case 'normalised':
          n = v;
          break;
        case 'unit-0-1':
          n = (v - mean) / std;
          break;
        case 'raw-0-255':
          n = (v * p.rescale - mean) / std;
          break;
        case 'int8-centred':
          n = ((v + 128) * p.rescale - mean) / std;
          break;
      }
      out[c * plane + i] = n;
    }
  }
  return out;
}
