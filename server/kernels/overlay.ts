/**
 * Palette overlay of a class map onto a frame, with the class histogram from the same call. NV12 frames are
 * blended in YUV space (the palette is converted with the frame's colour model; no RGB round trip).
 */
import type { ClassMap, Nv12Image } from '../stages/frame-context.ts';
import { native } from './native.ts';
import type { ColorSpec } from './image.ts';
import * as v from './validate.ts';
import { outputBytes } from './alloc.ts';

export interface OverlayOptions {
  /** 0 (invisible) .. 1 (palette colour only). */
  opacity: number;
  /** Draw only this class. */
  highlight?: number;
  /** Classes not drawn. */
  hidden?: number[];
  /** Colour model of an NV12 frame (default BT.601 limited range); ignored for RGB. */
  color?: ColorSpec;
  /** Reused output: packed NV12 (width * height * 3 / 2 bytes) or RGB (width * height * 3 bytes). */
  out?: Uint8Array;
  simd?: boolean;
}

function prepareOverlay(fn: string, map: unknown, palette: unknown, opts: unknown) {
  const m = v.classMap(fn, 'map', map);
  const pal = v.bytes(fn, 'palette', palette);
  if (pal.length < 3 || pal.length % 3 !== 0) v.invalid(fn, 'palette', '3 bytes (RGB) per class', pal);
  const classes = pal.length / 3;
  const o = v.object(fn, 'opts', opts);
  const opacity = v.finite(fn, 'opts.opacity', o.opacity);
  if (opacity < 0 || opacity > 1) v.invalid(fn, 'opts.opacity', 'a number from 0 to 1', opacity);
  const drawn = new Uint8Array(classes).fill(1);
  if (o.highlight !== undefined) {
    const h = v.integer(fn, 'opts.highlight', o.highlight, 0, classes - 1);
    drawn.fill(0);
    drawn[h] = 1;
  }
  if (o.hidden !== undefined) {
    if (!Array.isArray(o.hidden)) v.invalid(fn, 'opts.hidden', 'an array of class ids', o.hidden);
    o.hidden.forEach((c, i) => {
      drawn[v.integer(fn, `opts.hidden[${i}]`, c, 0, classes - 1)] = 0;
    });
  }
  const histogram = new Uint32Array(classes);
  return {
    args: { map: m.data, mapW: m.width, mapH: m.height, palette: pal, drawn, opacity, histogram, scalar: !v.simdFlag(fn, o.simd) },
    histogram,
    color: o.color === undefined ? { bt709: false, full: false } : v.color(fn, 'opts.color', o.color),
  };
}

function prepareNv12(fn: string, image: unknown, map: unknown, palette: unknown, opts: unknown) {
  const img = v.nv12(fn, 'image', image);
  const p = prepareOverlay(fn, map, palette, opts);
  const size = (img.width * img.height * 3) / 2;
  const given = (opts as { out?: unknown } | null)?.out;
  const data = given === undefined ? outputBytes(size) : v.reusedOutput(fn, 'opts.out', given, Uint8Array, size, `packed ${img.width}x${img.height} NV12`);
  if (data.buffer === img.data.buffer) v.fail(fn, 'opts.out: expected its own memory, got a view of image.data');
  const out: Nv12Image = { data, width: img.width, height: img.height, strideY: img.width, strideUV: img.width, offsetUV: img.width * img.height };
  const args = {
    data: img.data, width: img.width, height: img.height, strideY: img.strideY, strideUV: img.strideUV, offsetUV: img.offsetUV,
    ...p.color, ...p.args, out: data,
  };
  return { args, result: { image: out, histogram: p.histogram } };
}

/** Returns a new packed NV12 frame with the overlay; `map` may be any size (nearest sampling). */
export function overlayNv12(image: Nv12Image, map: ClassMap, palette: Uint8Array, opts: OverlayOptions): { image: Nv12Image; histogram: Uint32Array } {
  const p = prepareNv12('overlayNv12', image, map, palette, opts);
  native().overlayNv12(p.args);
  return p.result;
}

export async function overlayNv12Async(image: Nv12Image, map: ClassMap, palette: Uint8Array, opts: OverlayOptions): Promise<{ image: Nv12Image; histogram: Uint32Array }> {
  const p = prepareNv12('overlayNv12Async', image, map, palette, opts);
  await native().overlayNv12(p.args, true);
  return p.result;
}

function prepareRgb(fn: string, rgb: unknown, width: unknown, height: unknown, map: unknown, palette: unknown, opts: unknown) {
  const src = v.rgb(fn, 'rgb', rgb, width, height);
  const p = prepareOverlay(fn, map, palette, opts);
  const given = (opts as { out?: unknown } | null)?.out;
  const out =
    given === undefined ? outputBytes(src.data.length) : v.reusedOutput(fn, 'opts.out', given, Uint8Array, src.data.length, `${src.width}x${src.height} RGB`);
  if (out.buffer === src.data.buffer) v.fail(fn, 'opts.out: expected its own memory, got a view of rgb');
  return { args: { rgb: src.data, width: src.width, height: src.height, ...p.args, out }, result: { rgb: out, histogram: p.histogram } };
}

export function overlayRgb(rgb: Uint8Array, width: number, height: number, map: ClassMap, palette: Uint8Array, opts: OverlayOptions): { rgb: Uint8Array; histogram: Uint32Array } {
  const p = prepareRgb('overlayRgb', rgb, width, height, map, palette, opts);
  native().overlayRgb(p.args);
  return p.result;
}

export async function overlayRgbAsync(rgb: Uint8Array, width: number, height: number, map: ClassMap, palette: Uint8Array, opts: OverlayOptions): Promise<{ rgb: Uint8Array; histogram: Uint32Array }> {
  const p = prepareRgb('overlayRgbAsync', rgb, width, height, map, palette, opts);
  await native().overlayRgb(p.args, true);
  return p.result;
}
