/**
 * In-page part of bench/viewer-compositor.ts: times the 2D and WebGL2 compositors on the same synthetic frames.
 * Bundled by Vite into an IIFE and injected into a blank Chromium page.
 */
import { Canvas2dCompositor } from '../../client/src/lib/render/canvas2d.ts';
import { WebGlCompositor } from '../../client/src/lib/render/webgl.ts';
import type { Compositor, CompositeFrame } from '../../client/src/lib/render/compositor.ts';
import type { ViewMode } from '../../client/src/lib/options.ts';
import { at } from '../../client/src/lib/checked.ts';

export interface BenchCase {
  frameWidth: number;
  frameHeight: number;
  mapWidth: number;
  mapHeight: number;
  canvasWidth: number;
  canvasHeight: number;
  mode: ViewMode;
  iterations: number;
}

export interface BenchResult {
  renderer: '2d' | 'webgl';
  /** Median ms per frame, draw call only (main-thread cost). */
  drawMedianMs: number;
  /** Median ms per frame including a 1-pixel read-back that waits for the frame to be finished. */
  finishedMedianMs: number;
  finishedP90Ms: number;
  rendererInfo: string;
}

function median(values: number[], q = 0.5): number {
  const sorted = [...values].sort((a, b) => a - b);
  return at(sorted, Math.min(sorted.length - 1, Math.floor(q * sorted.length)), 'median of timings');
}

async function makeFrames(c: BenchCase, count: number): Promise<CompositeFrame[]> {
  const frames: CompositeFrame[] = [];
  for (let n = 0; n < count; n++) {
    const canvas = new OffscreenCanvas(c.frameWidth, c.frameHeight);
    const ctx = canvas.getContext('2d')!;
    const gradient = ctx.createLinearGradient(0, 0, c.frameWidth, c.frameHeight);
    gradient.addColorStop(0, `hsl(${n * 40} 60% 40%)`);
    gradient.addColorStop(1, `hsl(${n * 40 + 180} 60% 60%)`);
    ctx.fillStyle = gradient;
    ctx.fillRect(0, 0, c.frameWidth, c.frameHeight);
    const blob = await canvas.convertToBlob({ type: 'image/jpeg', quality: 0.8 });
    const image = await createImageBitmap(blob);
    const ids = new Uint8Array(c.mapWidth * c.mapHeight);
    // Blocky regions of ~20 classes, shifted per frame so every upload is new data.
    for (let y = 0; y < c.mapHeight; y++) for (let x = 0; x < c.mapWidth; x++) ids[y * c.mapWidth + x] = (((x + n * 3) >> 4) * 7 + (y >> 4) * 3) % 20;
    frames.push({ image, width: c.frameWidth, height: c.frameHeight, overlaid: false, classMap: { ids, width: c.mapWidth, height: c.mapHeight } });
  }
  return frames;
}

function palette(): [number, number, number][] {
  return Array.from({ length: 150 }, (_, i) => [(i * 53) % 256, (i * 97) % 256, (i * 151) % 256] as [number, number, number]);
}

async function timeRenderer(kind: '2d' | 'webgl', c: BenchCase, frames: CompositeFrame[]): Promise<BenchResult> {
  const canvas = document.createElement('canvas');
  canvas.width = c.canvasWidth;
  canvas.height = c.canvasHeight;
  canvas.style.width = `${c.canvasWidth}px`;
  document.body.append(canvas);
  const compositor: Compositor = kind === '2d' ? new Canvas2dCompositor(canvas) : new WebGlCompositor(canvas);
  compositor.setColours({ palette: palette(), visible: () => true });
  let rendererInfo: string = kind;
  let finish: () => void;
  if (kind === 'webgl') {
    const gl = canvas.getContext('webgl2')!;
    const info = gl.getExtension('WEBGL_debug_renderer_info');
    rendererInfo = String(info ? gl.getParameter(info.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER));
    const pixel = new Uint8Array(4);
    finish = () => gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, pixel);
  } else {
    const ctx = canvas.getContext('2d')!;
    finish = () => void ctx.getImageData(0, 0, 1, 1);
  }
  const view = { mode: c.mode, opacity: 0.5 };
  for (let i = 0; i < 10; i++) {
    compositor.draw(at(frames, i % frames.length, 'warm-up frames'), view);
    finish();
  }
  const drawTimes: number[] = [];
  const finishedTimes: number[] = [];
  for (let i = 0; i < c.iterations; i++) {
    // Alternate: odd iterations measure the draw call alone, even ones draw and wait for the result.
    const frame = at(frames, i % frames.length, 'bench frames');
    const start = performance.now();
    compositor.draw(frame, view);
    const drawn = performance.now();
    finish();
    const done = performance.now();
    drawTimes.push(drawn - start);
    finishedTimes.push(done - start);
    // Let the compositor thread run between frames, as a real page would.
    await new Promise((r) => setTimeout(r, 0));
  }
  compositor.destroy();
  canvas.remove();
  return { renderer: kind, drawMedianMs: median(drawTimes), finishedMedianMs: median(finishedTimes), finishedP90Ms: median(finishedTimes, 0.9), rendererInfo };
}

export async function run(c: BenchCase): Promise<BenchResult[]> {
  const frames = await makeFrames(c, 4);
  const results: BenchResult[] = [];
  // Interleave the two renderers in two rounds so background load affects both alike.
  const firstRound = [await timeRenderer('2d', c, frames), await timeRenderer('webgl', c, frames)];
  const secondRound = [await timeRenderer('2d', c, frames), await timeRenderer('webgl', c, frames)];
  for (const [k, a] of firstRound.entries()) {
    const b = at(secondRound, k, 'second round of bench results');
    results.push({
      renderer: a.renderer,
      drawMedianMs: (a.drawMedianMs + b.drawMedianMs) / 2,
      finishedMedianMs: (a.finishedMedianMs + b.finishedMedianMs) / 2,
      finishedP90Ms: (a.finishedP90Ms + b.finishedP90Ms) / 2,
      rendererInfo: a.rendererInfo,
    });
  }
  for (const frame of frames) (frame.image as ImageBitmap).close();
  return results;
}
