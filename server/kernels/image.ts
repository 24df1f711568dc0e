/**
 * Frame preprocessing kernels: Pillow-exact BILINEAR resizing (antialiased when shrinking), colour-aware NV12
 * decoding/encoding, and rescale + normalise into the model's float tensor.
 */
import type { ColorModel, Nv12Image } from '../stages/frame-context.ts';
import { native, type NativeNv12, type NativeTensorOut } from './native.ts';
import * as v from './validate.ts';
import { outputBytes, outputFloats } from './alloc.ts';

export interface NormalizeOptions {
  width: number;
  height: number;
  mean: [number, number, number];
  std: [number, number, number];
  /** Multiplies the 8-bit value before mean/std (default 1/255). */
  rescale?: number;
  /** Default NCHW. */
  layout?: 'NCHW' | 'NHWC';
  /** Order of the tensor's channels (default rgb); mean/std are given in this order. */
  channelOrder?: 'rgb' | 'bgr';
  /** Reused output (length 3 * width * height). */
  out?: Float32Array;
  /** false runs the scalar code path (same results as SIMD; for tests and benchmarks). Default true. */
  simd?: boolean;
  /**
   * Threads that split the output rows (default 1: the calling thread only). Same results for any count; worth
   * it only when cores are idle (not in the stream's inference worker, where ONNX Runtime uses them).
   */
  threads?: number;
}

export type ColorSpec = Pick<ColorModel, 'matrix' | 'range'>;

/**
 * NV12 chroma upsampling. `nearest` (default): each chroma sample covers its 2x2 block, as libyuv does; at
 * camera sizes it lands closest to the RGB reference after the antialiased shrink. `bilinear`: centre-sited
 * 3/4 + 1/4 interpolation; closer when the frame is near the model size.
 */
export type ChromaUpsampling = 'nearest' | 'bilinear';

function chromaFlag(fn: string, value: unknown): boolean {
  return (value === undefined ? 'nearest' : v.oneOf(fn, 'opts.chroma', value, ['nearest', 'bilinear'] as const)) === 'bilinear';
}

function tensorOptions(fn: string, opts: unknown): { native: NativeTensorOut; out: Float32Array } {
  const o = v.object(fn, 'opts', opts);
  const outW = v.size(fn, 'opts.width', o.width);
  const outH = v.size(fn, 'opts.height', o.height);
  const mean = v.triple(fn, 'opts.mean', o.mean, false);
  const std = v.triple(fn, 'opts.std', o.std, true);
  const rescale = o.rescale === undefined ? 1 / 255 : v.finite(fn, 'opts.rescale', o.rescale);
  const layout = o.layout === undefined ? 'NCHW' : v.oneOf(fn, 'opts.layout', o.layout, ['NCHW', 'NHWC'] as const);
  const order = o.channelOrder === undefined ? 'rgb' : v.oneOf(fn, 'opts.channelOrder', o.channelOrder, ['rgb', 'bgr'] as const);
  const length = 3 * outW * outH;
  let out: Float32Array;
  if (o.out === undefined) {
    out = outputFloats(length);
  } else {
    if (!(o.out instanceof Float32Array)) v.invalid(fn, 'opts.out', 'a Float32Array', o.out);
    if (o.out.length !== length) v.invalid(fn, 'opts.out', `${length} elements (a 3x${outH}x${outW} tensor)`, o.out);
    out = o.out;
  }
  const scalar = !v.simdFlag(fn, o.simd);
  const threads = v.threadCount(fn, o.threads);
  return { native: { outW, outH, mean, std, rescale, nhwc: layout === 'NHWC', bgr: order === 'bgr', out, scalar, threads }, out };
}

function nv12Fields(img: Nv12Image): NativeNv12 {
  return { data: img.data, width: img.width, height: img.height, strideY: img.strideY, strideUV: img.strideUV, offsetUV: img.offsetUV };
}

function prepareNv12ToTensor(fn: string, image: unknown, opts: unknown) {
  const img = v.nv12(fn, 'image', image);
  const t = tensorOptions(fn, opts);
  const o = opts as { color?: unknown; chroma?: unknown };
  const color = v.color(fn, 'opts.color', o.color);
  return { args: { ...nv12Fields(img), ...color, chromaBilinear: chromaFlag(fn, o.chroma), ...t.native }, out: t.out };
}

/** NV12 (any even size and strides) -> resized (Pillow BILINEAR on the decoded RGB), normalised float tensor. */
export function nv12ToTensor(image: Nv12Image, opts: NormalizeOptions & { color: ColorSpec; chroma?: ChromaUpsampling }): Float32Array {
  const p = prepareNv12ToTensor('nv12ToTensor', image, opts);
  native().nv12ToTensor(p.args);
  return p.out;
}

export async function nv12ToTensorAsync(image: Nv12Image, opts: NormalizeOptions & { color: ColorSpec; chroma?: ChromaUpsampling }): Promise<Float32Array> {
  const p = prepareNv12ToTensor('nv12ToTensorAsync', image, opts);
  await native().nv12ToTensor(p.args, true);
  return p.out;
}

function prepareRgbToTensor(fn: string, rgb: unknown, width: unknown, height: unknown, opts: unknown) {
  const src = v.rgb(fn, 'rgb', rgb, width, height);
  const t = tensorOptions(fn, opts);
  return { args: { rgb: src.data, width: src.width, height: src.height, ...t.native }, out: t.out };
}

/** Interleaved RGB -> the reference tensor: Pillow resize(BILINEAR), rescale, normalise (the training path). */
export function rgbToTensor(rgb: Uint8Array, width: number, height: number, opts: NormalizeOptions): Float32Array {
  const p = prepareRgbToTensor('rgbToTensor', rgb, width, height, opts);
  native().rgbToTensor(p.args);
  return p.out;
}

export async function rgbToTensorAsync(rgb: Uint8Array, width: number, height: number, opts: NormalizeOptions): Promise<Float32Array> {
  const p = prepareRgbToTensor('rgbToTensorAsync', rgb, width, height, opts);
  await native().rgbToTensor(p.args, true);
  return p.out;
}

/** Pillow Image.resize((outWidth, outHeight), BILINEAR) of an interleaved RGB image, uint8 exact. */
export function resizeRgb(rgb: Uint8Array, width: number, height: number, outWidth: number, outHeight: number, opts: { simd?: boolean } = {}): Uint8Array {
  const fn = 'resizeRgb';
  const src = v.rgb(fn, 'rgb', rgb, width, height);
  const outW = v.size(fn, 'outWidth', outWidth);
  const outH = v.size(fn, 'outHeight', outHeight);
  const out = outputBytes(outW * outH * 3);
  native().resizeRgb({ rgb: src.data, width: src.width, height: src.height, out, outW, outH, scalar: !v.simdFlag(fn, opts.simd) });
  return out;
}

/** Encodes RGB to packed NV12 (Y per pixel, chroma = 2x2 average, centre-sited). Even sizes only. */
export function rgbToNv12(rgb: Uint8Array, width: number, height: number, color: ColorSpec): Nv12Image {
  const fn = 'rgbToNv12';
  const w = v.evenSize(fn, 'width', width);
  const h = v.evenSize(fn, 'height', height);
  const src = v.rgb(fn, 'rgb', rgb, w, h);
  const flags = v.color(fn, 'color', color);
  const data = outputBytes((w * h * 3) / 2);
  native().rgbToNv12({ rgb: src.data, width: w, height: h, out: data, ...flags });
  return { data, width: w, height: h, strideY: w, strideUV: w, offsetUV: w * h };
}

export interface Nv12ToRgbOptions {
  color: ColorSpec;
  chroma?: ChromaUpsampling;
  /** Output size (default: the image's); resized with Pillow BILINEAR semantics. */
  width?: number;
  height?: number;
  /** Reused output (3 * width * height bytes): avoids a fresh allocation per frame. */
  out?: Uint8Array;
  simd?: boolean;
}

function prepareNv12ToRgb(fn: string, image: unknown, opts: unknown) {
  const img = v.nv12(fn, 'image', image);
  const o = v.object(fn, 'opts', opts);
  const color = v.color(fn, 'opts.color', o.color);
  const outW = o.width === undefined ? img.width : v.size(fn, 'opts.width', o.width);
  const outH = o.height === undefined ? img.height : v.size(fn, 'opts.height', o.height);
  const out =
    o.out === undefined ? outputBytes(outW * outH * 3) : v.reusedOutput(fn, 'opts.out', o.out, Uint8Array, outW * outH * 3, `${outW}x${outH} RGB`);
  return { args: { ...nv12Fields(img), ...color, chromaBilinear: chromaFlag(fn, o.chroma), out, outW, outH, scalar: !v.simdFlag(fn, o.simd) }, out };
}

/** NV12 -> interleaved RGB (bilinear chroma upsampling), optionally resized; for JPEG encoding. */
export function nv12ToRgb(image: Nv12Image, opts: Nv12ToRgbOptions): Uint8Array {
  const p = prepareNv12ToRgb('nv12ToRgb', image, opts);
  native().nv12ToRgb(p.args);
  return p.out;
}

export async function nv12ToRgbAsync(image: Nv12Image, opts: Nv12ToRgbOptions): Promise<Uint8Array> {
  const p = prepareNv12ToRgb('nv12ToRgbAsync', image, opts);
  await native().nv12ToRgb(p.args, true);
  return p.out;
}

export interface ResizeNv12Options {
  /** 16 pads each row (strideY, strideUV) to a multiple of 16 bytes, repeating the last pixel. Default 1. */
  alignWidth?: 1 | 16;
  /**
   * Write into this image (outWidth x outHeight, with its own strides and UV offset) instead of a new one, e.g.
   * memory the BPU reads directly. It must not share the input's buffer. Not combined with alignWidth.
   */
  out?: Nv12Image;
  simd?: boolean;
}

/** NV12 -> NV12 at another even size: Y and interleaved UV planes each resized with Pillow BILINEAR. */
export function resizeNv12(image: Nv12Image, outWidth: number, outHeight: number, opts: ResizeNv12Options = {}): Nv12Image {
  const fn = 'resizeNv12';
  const img = v.nv12(fn, 'image', image);
  const outW = v.evenSize(fn, 'outWidth', outWidth);
  const outH = v.evenSize(fn, 'outHeight', outHeight);
  const o = v.object(fn, 'opts', opts);
  const align = o.alignWidth === undefined ? 1 : o.alignWidth;
  if (align !== 1 && align !== 16) v.invalid(fn, 'opts.alignWidth', '1 or 16', align);
  let out: Nv12Image;
  if (o.out !== undefined) {
    if (o.alignWidth !== undefined) v.fail(fn, 'opts.out and opts.alignWidth cannot be combined (the target has its own strides)');
    out = v.nv12(fn, 'opts.out', o.out);
    if (out.width !== outW || out.height !== outH) v.fail(fn, `opts.out: expected ${outW}x${outH}, got ${out.width}x${out.height}`);
    if (out.data.buffer === img.data.buffer) v.fail(fn, "opts.out must not share the input image's buffer");
  } else {
    const stride = Math.ceil(outW / align) * align;
    out = { data: outputBytes((stride * outH * 3) / 2), width: outW, height: outH, strideY: stride, strideUV: stride, offsetUV: stride * outH };
  }
  native().resizeNv12({
    ...nv12Fields(img),
    out: out.data, outW, outH, outStrideY: out.strideY, outStrideUV: out.strideUV, outOffsetUV: out.offsetUV,
    scalar: !v.simdFlag(fn, o.simd),
  });
  return out;
}
