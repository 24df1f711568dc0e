/**
 * Plain-JS reference implementations the native kernels are checked against. They follow the published
 * algorithms directly (Pillow's resample.c semantics, the BT.601/709 equations, torch's upsample_bilinear2d
 * index arithmetic), written for clarity rather than speed. Every read goes through `at`, so a reference that
 * indexes past a buffer fails with the buffer named instead of computing with undefined.
 */
import { at } from '../../server/util/checked-access.ts';
import { seededRandom } from '../helpers/seeded-random.ts';

/** Seeded PRNG, so every random test is reproducible. */
export const rng = seededRandom;

export function randomBytes(n: number, seed: number): Uint8Array {
  const r = rng(seed);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(r() * 256);
  return out;
}

/** Smooth random image (gradients + noise) so resampling errors are not hidden by pure noise. */
export function randomImage(width: number, height: number, channels: number, seed: number): Uint8Array {
  const r = rng(seed);
  const out = new Uint8Array(width * height * channels);
  const f = [r() * 0.3, r() * 0.3, r() * 0.3];
  const freq = (c: number) => at(f, c % 3, 'randomImage frequencies');
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      for (let c = 0; c < channels; c++) {
        const base = 128 + 100 * Math.sin(x * freq(c) + y * freq(c + 1) + c);
        out[(y * width + x) * channels + c] = Math.max(0, Math.min(255, Math.round(base + (r() - 0.5) * 60)));
      }
  return out;
}

// ---------------------------------------------------------------- Pillow BILINEAR resize (8-bit)

const PRECISION_BITS = 22;

/** One output sample's taps: the first input index and one fixed-point weight per input sample from there. */
interface PilTaps {
  start: number;
  k: number[];
}

export function pilCoeffs(inSize: number, outSize: number): PilTaps[] {
  const scale = inSize / outSize;
  const filterscale = Math.max(scale, 1);
  const support = filterscale;
  const res: PilTaps[] = [];
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const ss = 1 / filterscale;
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    const w: number[] = [];
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      const t = Math.abs((x + xmin - center + 0.5) * ss);
      const weight = t < 1 ? 1 - t : 0;
      w.push(weight);
      ww += weight;
    }
    const k = w.map((v) => (ww !== 0 ? v / ww : v)).map((v) => Math.trunc(v < 0 ? -0.5 + v * 2 ** PRECISION_BITS : 0.5 + v * 2 ** PRECISION_BITS));
    res.push({ start: xmin, k });
  }
  return res;
}

function clip8(ss: number): number {
  const v = ss >> PRECISION_BITS;
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/** Pillow Image.resize(BILINEAR) of an interleaved 8-bit image with `channels` channels. */
export function pilResize(src: Uint8Array, width: number, height: number, channels: number, outW: number, outH: number): Uint8Array {
  let cur = src;
  let curW = width;
  if (outW !== width) {
    const c = pilCoeffs(width, outW);
    const tmp = new Uint8Array(outW * height * channels);
    for (let y = 0; y < height; y++)
      for (const [x, { start, k }] of c.entries())
        for (let ch = 0; ch < channels; ch++) {
          let ss = 1 << (PRECISION_BITS - 1);
          for (const [j, kj] of k.entries()) ss += at(src, (y * width + start + j) * channels + ch, 'pilResize source') * kj;
          tmp[(y * outW + x) * channels + ch] = clip8(ss);
        }
    cur = tmp;
    curW = outW;
  }
  if (outH === height) return cur === src ? src.slice() : cur;
  const c = pilCoeffs(height, outH);
  const out = new Uint8Array(outW * outH * channels);
  for (const [y, { start, k }] of c.entries())
    for (let x = 0; x < curW; x++)
      for (let ch = 0; ch < channels; ch++) {
        let ss = 1 << (PRECISION_BITS - 1);
        for (const [j, kj] of k.entries()) ss += at(cur, ((start + j) * curW + x) * channels + ch, 'pilResize rows') * kj;
        out[(y * outW + x) * channels + ch] = clip8(ss);
      }
  return out;
}

export interface TensorRefOptions {
  mean: [number, number, number];
  std: [number, number, number];
  rescale?: number;
  layout?: 'NCHW' | 'NHWC';
  channelOrder?: 'rgb' | 'bgr';
}

/** The Hugging Face processor's arithmetic on a resized uint8 RGB image: float32(v * rescale), then (x - mean) / std in float32. */
export function normalizeRef(rgb: Uint8Array, width: number, height: number, o: TensorRefOptions): Float32Array {
  const out = new Float32Array(3 * width * height);
  const rescale = o.rescale ?? 1 / 255;
  const f = Math.fround;
  for (let i = 0; i < width * height; i++)
    for (const c of [0, 1, 2] as const) {
      const p = o.channelOrder === 'bgr' ? 2 - c : c;
      const v = f(f(f(at(rgb, 3 * i + p, 'normalizeRef rgb') * rescale) - f(o.mean[c])) / f(o.std[c]));
      if (o.layout === 'NHWC') out[3 * i + c] = v;
      else out[c * width * height + i] = v;
    }
  return out;
}

// ---------------------------------------------------------------- YUV colour models

export interface ColorRef {
  matrix: 'bt601' | 'bt709';
  range: 'full' | 'limited';
}

function kr_kb(c: ColorRef): [number, number] {
  return c.matrix === 'bt709' ? [0.2126, 0.0722] : [0.299, 0.114];
}

const roundClamp = (v: number) => Math.min(255, Math.max(0, Math.floor(v + 0.5)));

export function rgbToYuv(c: ColorRef, r: number, g: number, b: number): [number, number, number] {
  const [kr, kb] = kr_kb(c);
  const kg = 1 - kr - kb;
  const y = kr * r + kg * g + kb * b;
  const cb = (b - y) / (2 * (1 - kb));
  const cr = (r - y) / (2 * (1 - kr));
  if (c.range === 'full') return [y, 128 + cb, 128 + cr];
  return [16 + y * (219 / 255), 128 + cb * (224 / 255), 128 + cr * (224 / 255)];
}

/** Reference encoder: Y per pixel, chroma of the 2x2 block's mean RGB; packed NV12. */
export function encodeNv12(rgb: Uint8Array, width: number, height: number, c: ColorRef): Uint8Array {
  const out = new Uint8Array((width * height * 3) / 2);
  const rgbAt = (i: number) => at(rgb, i, 'encodeNv12 rgb');
  for (let i = 0; i < width * height; i++) out[i] = roundClamp(rgbToYuv(c, rgbAt(3 * i), rgbAt(3 * i + 1), rgbAt(3 * i + 2))[0]);
  for (let j = 0; j < height / 2; j++)
    for (let i = 0; i < width / 2; i++) {
      const px = (y: number, x: number, k: number) => rgbAt((y * width + x) * 3 + k);
      const mean = (k: number) => (px(2 * j, 2 * i, k) + px(2 * j, 2 * i + 1, k) + px(2 * j + 1, 2 * i, k) + px(2 * j + 1, 2 * i + 1, k)) / 4;
      const [, u, v] = rgbToYuv(c, mean(0), mean(1), mean(2));
      out[width * height + j * width + 2 * i] = roundClamp(u);
      out[width * height + j * width + 2 * i + 1] = roundClamp(v);
    }
  return out;
}

interface Nv12Like {
  data: Uint8Array;
  width: number;
  height: number;
  strideY: number;
  strideUV: number;
  offsetUV: number;
}

export type Chroma = 'nearest' | 'bilinear';

/** Chroma at luma pixel (x, y) in chroma units (double): replicated, or centre-sited bilinear. */
function chromaAt(img: Nv12Like, x: number, y: number, k: 0 | 1, chroma: Chroma): number {
  const cw = img.width / 2, ch = img.height / 2;
  if (chroma === 'nearest') return at(img.data, img.offsetUV + (y >> 1) * img.strideUV + 2 * (x >> 1) + k, 'NV12 chroma');
  // Interior positions are exactly a quarter off a sample; clamping at the border repeats the edge.
  const x0 = Math.floor((x + 0.5) / 2 - 0.5), y0 = Math.floor((y + 0.5) / 2 - 0.5);
  const fx = (x + 0.5) / 2 - 0.5 - x0, fy = (y + 0.5) / 2 - 0.5 - y0;
  const cx = (i: number) => Math.max(0, Math.min(cw - 1, i));
  const cy = (j: number) => Math.max(0, Math.min(ch - 1, j));
  const s = (j: number, i: number) => at(img.data, img.offsetUV + cy(j) * img.strideUV + 2 * cx(i) + k, 'NV12 chroma');
  return (1 - fy) * ((1 - fx) * s(y0, x0) + fx * s(y0, x0 + 1)) + fy * ((1 - fx) * s(y0 + 1, x0) + fx * s(y0 + 1, x0 + 1));
}

/** "Perfect" decode in double precision (bilinear centre-sited chroma), rounded once. */
export function decodeNv12Exact(img: Nv12Like, c: ColorRef, chroma: Chroma = 'nearest'): Uint8Array {
  const [kr, kb] = kr_kb(c);
  const kg = 1 - kr - kb;
  const yGain = c.range === 'full' ? 1 : 255 / 219;
  const cGain = c.range === 'full' ? 1 : 255 / 224;
  const yOff = c.range === 'full' ? 0 : 16;
  const out = new Uint8Array(img.width * img.height * 3);
  for (let y = 0; y < img.height; y++)
    for (let x = 0; x < img.width; x++) {
      const Y = (at(img.data, y * img.strideY + x, 'NV12 luma') - yOff) * yGain;
      const U = (chromaAt(img, x, y, 0, chroma) - 128) * cGain;
      const V = (chromaAt(img, x, y, 1, chroma) - 128) * cGain;
      const o = 3 * (y * img.width + x);
      out[o] = roundClamp(Y + 2 * (1 - kr) * V);
      out[o + 1] = roundClamp(Y - ((2 * kb * (1 - kb)) / kg) * U - ((2 * kr * (1 - kr)) / kg) * V);
      out[o + 2] = roundClamp(Y + 2 * (1 - kb) * U);
    }
  return out;
}

/** The kernels' integer decode (coefficients in 1/8192, chroma in 1/16): what nv12ToRgb must equal bit for bit. */
export function decodeNv12Fixed(img: Nv12Like, c: ColorRef, chroma: Chroma = 'nearest'): Uint8Array {
  const [kr, kb] = kr_kb(c);
  const kg = 1 - kr - kb;
  const yGain = c.range === 'full' ? 1 : 255 / 219;
  const cGain = c.range === 'full' ? 1 : 255 / 224;
  const q = (v: number) => Math.round(v * 8192);
  const cY = q(yGain), cRV = q(2 * (1 - kr) * cGain), cBU = q(2 * (1 - kb) * cGain);
  const cGU = q((-2 * kb * (1 - kb)) / kg * cGain), cGV = q((-2 * kr * (1 - kr)) / kg * cGain);
  const yOff = c.range === 'full' ? 0 : 16;
  const cw = img.width / 2, ch = img.height / 2;
  const cl = (v: number, n: number) => Math.max(0, Math.min(n - 1, v));
  const s = (j: number, i: number, k: number) => at(img.data, img.offsetUV + cl(j, ch) * img.strideUV + 2 * cl(i, cw) + k, 'NV12 chroma') - 128;
  const fin = (v: number) => Math.max(0, Math.min(255, (v + 65536) >> 17));
  const out = new Uint8Array(img.width * img.height * 3);
  for (let y = 0; y < img.height; y++)
    for (let x = 0; x < img.width; x++) {
      const j = y >> 1, jf = y & 1 ? j + 1 : j - 1;
      const i = x >> 1, iff = x & 1 ? i + 1 : i - 1;
      const vert = (ii: number, k: number) => (chroma === 'bilinear' ? 3 * s(j, ii, k) + s(jf, ii, k) : 4 * s(j, ii, k));
      const u = chroma === 'bilinear' ? 3 * vert(i, 0) + vert(iff, 0) : 4 * vert(i, 0);
      const v = chroma === 'bilinear' ? 3 * vert(i, 1) + vert(iff, 1) : 4 * vert(i, 1);
      const yt = (at(img.data, y * img.strideY + x, 'NV12 luma') - yOff) * 16 * cY;
      const o = 3 * (y * img.width + x);
      out[o] = fin(yt + v * cRV);
      out[o + 1] = fin(yt + u * cGU + v * cGV);
      out[o + 2] = fin(yt + u * cBU);
    }
  return out;
}

// ---------------------------------------------------------------- torch bilinear upsample + argmax

const f32 = Math.fround;

/** One output position's two input taps and their weights. */
export interface LinearTap {
  i0: number;
  i1: number;
  w0: number;
  w1: number;
}

/** torch upsample_bilinear2d index/lambda arithmetic (align_corners=False, no scale factor), float32. */
export function torchAxis(inSize: number, outSize: number): LinearTap[] {
  const a: LinearTap[] = [];
  const scale = f32(inSize / outSize);
  for (let d = 0; d < outSize; d++) {
    if (inSize === outSize) {
      a.push({ i0: d, i1: d, w0: 1, w1: 0 });
      continue;
    }
    let src = f32(f32(scale * f32(d + 0.5)) - 0.5);
    if (src < 0) src = 0;
    const i0 = Math.min(Math.floor(src), inSize - 1);
    const l1 = Math.min(Math.max(f32(src - i0), 0), 1);
    a.push({ i0, i1: i0 + (i0 < inSize - 1 ? 1 : 0), w0: f32(1 - l1), w1: l1 });
  }
  return a;
}

export type LogitAt = (c: number, y: number, x: number) => number;

/** Bilinear upsample of float32 logits to outW x outH, then argmax (first maximum wins). */
export function exactArgmaxRef(logit: LogitAt, classes: number, height: number, width: number, outW: number, outH: number): Uint16Array {
  const ax = torchAxis(width, outW), ay = torchAxis(height, outH);
  const out = new Uint16Array(outW * outH);
  for (const [y, ty] of ay.entries())
    for (const [x, tx] of ax.entries()) {
      let best = -Infinity, bi = 0;
      for (let c = 0; c < classes; c++) {
        const h = (r: number) => f32(f32(logit(c, r, tx.i0) * tx.w0) + f32(logit(c, r, tx.i1) * tx.w1));
        const v = f32(f32(h(ty.i0) * ty.w0) + f32(h(ty.i1) * ty.w1));
        if (v > best) {
          best = v;
          bi = c;
        }
      }
      out[y * outW + x] = bi;
    }
  return out;
}

export function lowresArgmaxRef(logit: LogitAt, classes: number, height: number, width: number): Uint16Array {
  const out = new Uint16Array(width * height);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      let best = logit(0, y, x), bi = 0;
      for (let c = 1; c < classes; c++) {
        if (logit(c, y, x) > best) {
          best = logit(c, y, x);
          bi = c;
        }
      }
      out[y * width + x] = bi;
    }
  return out;
}

export function nearestIndex(dst: number, inSize: number, outSize: number): number {
  return Math.min(inSize - 1, Math.floor(((2 * dst + 1) * inSize) / (2 * outSize)));
}

export function nearestResize(map: ArrayLike<number>, width: number, height: number, outW: number, outH: number): Uint16Array {
  const out = new Uint16Array(outW * outH);
  for (let y = 0; y < outH; y++)
    for (let x = 0; x < outW; x++) out[y * outW + x] = at(map, nearestIndex(y, height, outH) * width + nearestIndex(x, width, outW), 'nearestResize map');
  return out;
}

export function histogramOf(map: ArrayLike<number>, classes: number): Uint32Array {
  const h = new Uint32Array(classes);
  for (let i = 0; i < map.length; i++) {
    const c = at(map, i, 'histogramOf map');
    if (c < classes) h[c] = at(h, c, 'histogram') + 1;
  }
  return h;
}

// ---------------------------------------------------------------- overlay

export interface OverlayRef {
  opacity: number;
  drawn: (cls: number) => boolean;
}

const blend = (s: number, t: number, a: number) => (s * (256 - a) + t * a + 128) >> 8;

export function overlayRgbRef(rgb: Uint8Array, width: number, height: number, map: ArrayLike<number>, mapW: number, mapH: number, palette: Uint8Array, o: OverlayRef): Uint8Array {
  const a = Math.min(256, Math.max(0, Math.round(o.opacity * 256)));
  const classes = palette.length / 3;
  const out = new Uint8Array(rgb.length);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const c = at(map, nearestIndex(y, mapH, height) * mapW + nearestIndex(x, mapW, width), 'overlay map');
      for (let k = 0; k < 3; k++) {
        const i = 3 * (y * width + x) + k;
        const s = at(rgb, i, 'overlay rgb');
        out[i] = c < classes && o.drawn(c) ? blend(s, at(palette, 3 * c + k, 'palette'), a) : s;
      }
    }
  return out;
}

export function overlayNv12Ref(img: Nv12Like, map: ArrayLike<number>, mapW: number, mapH: number, palette: Uint8Array, o: OverlayRef, color: ColorRef): Uint8Array {
  const a = Math.min(256, Math.max(0, Math.round(o.opacity * 256)));
  const classes = palette.length / 3;
  const W = img.width, H = img.height;
  const pal = Array.from({ length: classes }, (_, c) => {
    const rgb = (k: number) => at(palette, 3 * c + k, 'palette');
    return rgbToYuv(color, rgb(0), rgb(1), rgb(2)).map(roundClamp);
  });
  const palYuv = (c: number, k: number) => at(at(pal, c, 'palette in YUV'), k, 'palette YUV entry');
  const drawn = (c: number) => c < classes && o.drawn(c);
  const mapAt = (i: number) => at(map, i, 'overlay map');
  const out = new Uint8Array((W * H * 3) / 2);
  // Luma samples the map per pixel; each chroma sample samples it at chroma resolution.
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      const s = at(img.data, y * img.strideY + x, 'NV12 luma');
      const c = mapAt(nearestIndex(y, mapH, H) * mapW + nearestIndex(x, mapW, W));
      out[y * W + x] = drawn(c) ? blend(s, palYuv(c, 0), a) : s;
    }
  for (let j = 0; j < H / 2; j++)
    for (let i = 0; i < W / 2; i++) {
      const c = mapAt(nearestIndex(j, mapH, H / 2) * mapW + nearestIndex(i, mapW, W / 2));
      for (let k = 0; k < 2; k++) {
        const s = at(img.data, img.offsetUV + j * img.strideUV + 2 * i + k, 'NV12 chroma');
        out[W * H + j * W + 2 * i + k] = drawn(c) ? blend(s, palYuv(c, 1 + k), a) : s;
      }
    }
  return out;
}

// ---------------------------------------------------------------- comparisons

export function diffStats(a: ArrayLike<number>, b: ArrayLike<number>): { max: number; mean: number; equal: number } {
  let max = 0, sum = 0, equal = 0;
  // A length mismatch is a failed comparison, not a shorter one.
  if (a.length !== b.length) throw new Error(`diffStats: lengths differ (${a.length} vs ${b.length})`);
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(at(a, i, 'diffStats a') - at(b, i, 'diffStats b'));
    // A NaN difference makes max NaN (and stay NaN), so no bound on max can pass over it.
    if (Number.isNaN(d) || d > max) max = d;
    sum += d;
    if (d === 0) equal++;
  }
  return { max, mean: sum / a.length, equal: equal / a.length };
}

/** Copies a packed NV12 image into a buffer with larger strides and a gap before the UV plane. */
export function withStrides(packed: Uint8Array, width: number, height: number, padY: number, padUV: number, gap: number) {
  const strideY = width + padY, strideUV = width + padUV;
  const offsetUV = strideY * height + gap;
  const data = new Uint8Array(offsetUV + strideUV * (height / 2)).fill(0xa5);
  for (let y = 0; y < height; y++) data.set(packed.subarray(y * width, y * width + width), y * strideY);
  for (let j = 0; j < height / 2; j++) data.set(packed.subarray(width * height + j * width, width * height + j * width + width), offsetUV + j * strideUV);
  return { data, width, height, strideY, strideUV, offsetUV };
}
