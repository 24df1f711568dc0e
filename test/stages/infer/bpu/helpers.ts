/**
 * Shared helpers for the BPU backend tests: fixture paths, the test double's controls, NV12 images with row
 * padding full of garbage (so any stride mistake shows), and the double's documented functions, recomputed
 * here so every expected value is derived independently of the C++ code.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import type { Nv12Image } from '../../../../server/stages/frame-context.ts';
import { bpuTestDouble, type TestDoubleControls } from '../../../../server/stages/infer/bpu/native.ts';

export const FIXTURES = fileURLToPath(new URL('../../../fixtures/bpu/', import.meta.url));
export const fixture = (name: string): string => join(FIXTURES, name);

export function testDouble(): TestDoubleControls {
  const t = bpuTestDouble();
  if (!t) throw new Error('these tests need native/bpu built against the hb_dnn test double (npx node-gyp rebuild --directory native/bpu)');
  return t;
}

/**
 * Asserts that no BPU memory, task or model handle is alive in the double. Whatever was alive is released
 * afterwards, so one leaking test does not fail the ones after it.
 */
export function expectNothingAlive(): void {
  const s = testDouble().stats();
  testDouble().releaseLeaks();
  expect({ liveAllocations: s.liveAllocations, liveTasks: s.liveTasks, livePackedHandles: s.livePackedHandles }).toEqual({
    liveAllocations: 0,
    liveTasks: 0,
    livePackedHandles: 0,
  });
}

/** Writes a model description for the double into a fresh temporary directory; returns its path. */
export function writeModel(doc: object, name = 'model.json'): string {
  const dir = mkdtempSync(join(tmpdir(), 'segstream-bpu-'));
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(doc));
  return file;
}

export function doubleModelFile(models: object[], march = 'bayes-e'): object {
  return { format: 'segstream-hb-dnn-double/1', march, models };
}

export interface TestNv12 {
  image: Nv12Image;
  /** Y, U, V at pixel (x, y), chroma shared by 2x2 blocks. */
  sample(channel: number, x: number, y: number): number;
}

/**
 * An NV12 image whose pixel values follow a pattern that differs per row, column and plane, with `strideY` /
 * `strideUV` row padding and a `gap` before the UV plane, all padding filled with 0xEE.
 */
export function makeNv12(
  width: number,
  height: number,
  opts: { strideY?: number; strideUV?: number; gap?: number; seed?: number } = {},
): TestNv12 {
  const strideY = opts.strideY ?? width;
  const strideUV = opts.strideUV ?? width;
  const offsetUV = strideY * height + (opts.gap ?? 0);
  const data = new Uint8Array(offsetUV + strideUV * (height / 2)).fill(0xee);
  const seed = opts.seed ?? 0;
  const Y = (x: number, y: number) => (x * 7 + y * 13 + seed) % 256;
  const U = (cx: number, cy: number) => (cx * 11 + cy * 5 + 40 + seed) % 256;
  const V = (cx: number, cy: number) => (cx * 3 + cy * 17 + 90 + seed) % 256;
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * strideY + x] = Y(x, y);
  for (let cy = 0; cy < height / 2; cy++) {
    for (let cx = 0; cx < width / 2; cx++) {
      data[offsetUV + cy * strideUV + 2 * cx] = U(cx, cy);
      data[offsetUV + cy * strideUV + 2 * cx + 1] = V(cx, cy);
    }
  }
  return {
    image: { data, width, height, strideY, strideUV, offsetUV },
    sample(channel, x, y) {
      if (channel === 0) return Y(x, y);
      return channel === 1 ? U(x >> 1, y >> 1) : V(x >> 1, y >> 1);
    },
  };
}

export type Layout = 'NCHW' | 'NHWC';

/** Builds the expected valid-region values of a 4-D (batch 1) output in its layout's order. */
export function expectedOutput(layout: Layout, C: number, H: number, W: number, value: (c: number, h: number, w: number) => number): number[] {
  const out = new Array<number>(C * H * W);
  for (let c = 0; c < C; c++) {
    for (let h = 0; h < H; h++) {
      for (let w = 0; w < W; w++) out[layout === 'NCHW' ? (c * H + h) * W + w : (h * W + w) * C + c] = value(c, h, w);
    }
  }
  return out;
}

/** The double's input coordinates for output pixel (h, w). */
export function sourcePixel(h: number, w: number, outH: number, outW: number, inH: number, inW: number): [number, number] {
  return [Math.floor((h * inH) / outH), Math.floor((w * inW) / outW)];
}

/** The double's `affine` function before storage. */
export function affine(v: number, c: number, f: { gain?: number; channelStep?: number; offset?: number }): number {
  return v * (f.gain ?? 1) + c * (f.channelStep ?? 0) + (f.offset ?? 0);
}

/** How the double stores r into an integer type: floor, then saturate. */
export function storeInt(r: number, bits: number, signed: boolean): number {
  const lo = signed ? -(2 ** (bits - 1)) : 0;
  const hi = signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
  return Math.min(hi, Math.max(lo, Math.floor(r)));
}

/** The backend's dequantisation: (raw - zero) * scale in double precision, stored as float32. */
export function dequant(raw: number, scale: number, zero = 0): number {
  return Math.fround((raw - zero) * Math.fround(scale));
}
