/** Picks the compositor: see docs/viewer.md for the measurements behind the default. */
import type { RendererChoice } from '../options.ts';
import type { Compositor } from './compositor.ts';
import { Canvas2dCompositor } from './canvas2d.ts';
import { WebGlCompositor } from './webgl.ts';

/** The compositor that measured faster (bench/viewer-compositor.ts, numbers in docs/viewer.md). */
export const DEFAULT_RENDERER: '2d' | 'webgl' = '2d';

export interface CreatedCompositor {
  compositor: Compositor;
  canvas: HTMLCanvasElement;
  /** Why the wanted compositor was not used, if it was not. */
  note: string | null;
}

/**
 * Makes a compositor on a fresh canvas from `makeCanvas`. A canvas that once gave a WebGL context can never give
 * a 2D one, so the 2D fallback always gets its own canvas.
 */
export function createCompositor(choice: RendererChoice, makeCanvas: () => HTMLCanvasElement): CreatedCompositor {
  const wanted = choice === 'auto' ? DEFAULT_RENDERER : choice;
  if (wanted === 'webgl') {
    const canvas = makeCanvas();
    try {
      return { compositor: new WebGlCompositor(canvas), canvas, note: null };
    } catch (error) {
      const fallback = makeCanvas();
      return { compositor: new Canvas2dCompositor(fallback), canvas: fallback, note: `WebGL2 unavailable (${(error as Error).message}); drawing with 2D canvas` };
    }
  }
  const canvas = makeCanvas();
  return { compositor: new Canvas2dCompositor(canvas), canvas, note: null };
}
