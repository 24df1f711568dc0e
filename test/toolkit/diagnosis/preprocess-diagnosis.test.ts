/**
 * The preprocessing diagnosis names each seeded mistake (BGR, missing antialiasing, wrong colour range or
 * matrix) from the tensor and its source image alone, confirms an exact tensor, recognises the NV12 floor,
 * and does not claim a mistake it cannot see (BGR on a grey image).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { nv12ToTensor, rgbToNv12, rgbToTensor } from '../../../server/kernels/index.ts';
import { diagnosePreprocessing, prepareDiagnosis, toNormalisedNchw, type DiagnosisReference, type PreprocessParams } from '../../../server/toolkit/diagnosis/preprocess-diagnosis.ts';
import { syntheticRgb } from '../helpers.ts';
import { at } from '../../../server/util/checked-access.ts';

const W = 480;
const H = 360;
const P: PreprocessParams = { width: 128, height: 128, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], rescale: 1 / 255, channelOrder: 'rgb' };
let rgb: Uint8Array;
let prepared: DiagnosisReference;

/** The test's own 2-tap bilinear (half-pixel centres, no antialiasing), as OpenCV's INTER_LINEAR does it. */
function twoTapResize(src: Uint8Array, w: number, h: number, ow: number, oh: number): Uint8Array {
  const out = new Uint8Array(ow * oh * 3);
  const px = (x: number, y: number, c: number) => at(src, (Math.min(h - 1, Math.max(0, y)) * w + Math.min(w - 1, Math.max(0, x))) * 3 + c, 'src');
  for (let y = 0; y < oh; y++) {
    const fy = Math.max(0, ((y + 0.5) * h) / oh - 0.5);
    const y0 = Math.floor(fy);
    for (let x = 0; x < ow; x++) {
      const fx = Math.max(0, ((x + 0.5) * w) / ow - 0.5);
      const x0 = Math.floor(fx);
      for (let c = 0; c < 3; c++) {
        const top = px(x0, y0, c) + (px(x0 + 1, y0, c) - px(x0, y0, c)) * (fx - x0);
        const bottom = px(x0, y0 + 1, c) + (px(x0 + 1, y0 + 1, c) - px(x0, y0 + 1, c)) * (fx - x0);
        out[(y * ow + x) * 3 + c] = Math.round(top + (bottom - top) * (fy - y0));
      }
    }
  }
  return out;
}

function nv12Path(src: Uint8Array, enc: { matrix: 'bt601' | 'bt709'; range: 'full' | 'limited' }, dec: { matrix: 'bt601' | 'bt709'; range: 'full' | 'limited' }) {
  return nv12ToTensor(rgbToNv12(src, W, H, enc), { ...P, color: dec });
}

beforeAll(() => {
  rgb = syntheticRgb(W, H, 11);
  prepared = prepareDiagnosis(rgb, W, H, P);
});

describe('diagnosePreprocessing', () => {
  it('confirms the exact training preprocessing', () => {
    const d = diagnosePreprocessing(rgbToTensor(rgb, W, H, P), prepared);
    expect(d.verdict).toBe('matches');
    expect(d.finding.code).toBe('preprocessing-matches');
    expect(d.reference.maxAbsDiff).toBe(0);
  });

  it('names BGR vs RGB', () => {
    const bgr = new Uint8Array(rgb.length);
    for (let i = 0; i < rgb.length; i += 3) [bgr[i], bgr[i + 1], bgr[i + 2]] = [at(rgb, i + 2, 'rgb'), at(rgb, i + 1, 'rgb'), at(rgb, i, 'rgb')];
    const d = diagnosePreprocessing(rgbToTensor(bgr, W, H, P), prepared, 'bgr.bin');
    expect(d.finding.code).toBe('channel-order-bgr');
    expect(d.finding.severity).toBe('error');
    expect(d.finding.subject).toBe('bgr.bin');
    expect(d.finding.fix).toContain('COLOR_BGR2RGB');
  });

  it('names a channel swap made after normalising as BGR (not "unexplained")', () => {
    const t = rgbToTensor(rgb, W, H, P);
    const plane = P.width * P.height;
    const swapped = new Float32Array(t.length);
    for (let c = 0; c < 3; c++) swapped.set(t.subarray(c * plane, (c + 1) * plane), (2 - c) * plane);
    const d = diagnosePreprocessing(swapped, prepared, 'swapped.bin');
    expect(d.verdict).toBe('fault');
    expect(d.best.id).toBe('channel-swap-after-normalisation');
    expect(d.finding.code).toBe('channel-order-bgr');
    expect(d.finding.message).toContain('channel planes were reversed');
  });

  it('names mean/std applied twice', () => {
    const t = rgbToTensor(rgb, W, H, P);
    const plane = P.width * P.height;
    const twice = t.map((v, i) => (v - at(P.mean, Math.floor(i / plane), 'P.mean')) / at(P.std, Math.floor(i / plane), 'P.std'));
    const d = diagnosePreprocessing(twice, prepared);
    expect(d.finding.code).toBe('normalised-twice');
    expect(d.finding.severity).toBe('error');
  });

  it('names a resize without antialiasing', () => {
    const small = twoTapResize(rgb, W, H, P.width, P.height);
    const d = diagnosePreprocessing(rgbToTensor(small, P.width, P.height, P), prepared);
    expect(d.finding.code).toBe('missing-antialiasing');
    expect(d.finding.message).toContain('skipped antialiasing');
    // The difference to the reference is well above 1 LSB on average for this textured image.
    expect(d.reference.meanAbsDiff).toBeGreaterThan(0.2 * d.lsb);
  });

  it('names a limited-range frame decoded as full range, and the reverse', () => {
    const a = diagnosePreprocessing(nv12Path(rgb, { matrix: 'bt601', range: 'limited' }, { matrix: 'bt601', range: 'full' }), prepared);
    expect(a.finding.code).toBe('colour-range-limited-as-full');
    expect(a.finding.message).toContain('wrong colour range');
    expect(a.finding.fix).toContain('bt601_video');
    const b = diagnosePreprocessing(nv12Path(rgb, { matrix: 'bt601', range: 'full' }, { matrix: 'bt601', range: 'limited' }), prepared);
    expect(b.finding.code).toBe('colour-range-full-as-limited');
  });

  it('names a BT.709 frame decoded as BT.601', () => {
    const d = diagnosePreprocessing(nv12Path(rgb, { matrix: 'bt709', range: 'limited' }, { matrix: 'bt601', range: 'limited' }), prepared);
    expect(d.finding.code).toBe('colour-matrix-bt709-as-bt601');
  });

  it('recognises a correct NV12 path as the floor, not a mistake', () => {
    const d = diagnosePreprocessing(nv12Path(rgb, { matrix: 'bt601', range: 'limited' }, { matrix: 'bt601', range: 'limited' }), prepared);
    expect(d.verdict).toBe('nv12-floor');
    expect(d.finding.severity).toBe('info');
    expect(d.reference.meanAbsDiff).toBeGreaterThan(0);
  });

  it('says "unexplained" for a difference that matches no known mistake', () => {
    const shifted = rgbToTensor(rgb, W, H, P).map((v) => v + 0.3);
    const d = diagnosePreprocessing(shifted, prepared);
    expect(d.finding.code).toBe('preprocessing-unexplained');
  });

  it('does not claim BGR on a grey image, where the swap changes nothing', () => {
    const grey = new Uint8Array(rgb.length);
    for (let i = 0; i < rgb.length; i += 3) grey[i] = grey[i + 1] = grey[i + 2] = at(rgb, i + 1, 'rgb');
    const prep = prepareDiagnosis(grey, W, H, P);
    const d = diagnosePreprocessing(rgbToTensor(grey, W, H, P), prep);
    expect(d.verdict).toBe('matches');
    expect(d.results.find((r) => r.id === 'channel-order-bgr')!.distanceFromReference).toBe(0);
  });

  it('converts raw pixels in NHWC to the normalised NCHW it compares', () => {
    const pixelsNhwc = rgbToTensor(rgb, W, H, { ...P, mean: [0, 0, 0], std: [1, 1, 1], rescale: 1, layout: 'NHWC' });
    const back = toNormalisedNchw(pixelsNhwc, 'NHWC', 'raw-0-255', P);
    const ref = rgbToTensor(rgb, W, H, P);
    let max = 0;
    for (let i = 0; i < ref.length; i++) max = Math.max(max, Math.abs(at(ref, i, 'ref') - at(back, i, 'back')));
    expect(max).toBeLessThan(1e-5);
  });
});
