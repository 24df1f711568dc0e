/** Where each picture goes on the canvas: fitted without distortion, centred, in device pixels. */
import type { ViewMode } from '../options.ts';

/** What a viewport shows: the JPEG alone, the JPEG with the class colours blended in, or the colours alone. */
export type Layer = 'frame' | 'overlay' | 'mask';

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface Viewport extends Rect {
  layer: Layer;
}

/** Largest rect of the frame's aspect inside `box`, centred, on whole pixels. */
export function fitRect(box: Rect, frameWidth: number, frameHeight: number): Rect {
  if (frameWidth <= 0 || frameHeight <= 0 || box.width <= 0 || box.height <= 0) return { x: box.x, y: box.y, width: 0, height: 0 };
  const scale = Math.min(box.width / frameWidth, box.height / frameHeight);
  const width = Math.max(1, Math.round(frameWidth * scale));
  const height = Math.max(1, Math.round(frameHeight * scale));
  return { x: box.x + Math.floor((box.width - width) / 2), y: box.y + Math.floor((box.height - height) / 2), width, height };
}

/** Whether a view mode shows the class colours at all (else the class map need not be decoded to draw it). */
export function showsClassMap(mode: ViewMode, overlaid: boolean): boolean {
  return mode === 'mask' || mode === 'side-by-side' || (mode === 'overlay' && !overlaid);
}

/**
 * Viewports for a view mode. `overlaid` means the JPEG already carries the server's overlay: then the plain
 * frame cannot be shown, so "overlay" and "raw" show the JPEG as is, and side by side pairs it with the mask.
 */
export function layoutViewports(mode: ViewMode, canvasWidth: number, canvasHeight: number, frameWidth: number, frameHeight: number, overlaid: boolean): Viewport[] {
  const whole: Rect = { x: 0, y: 0, width: canvasWidth, height: canvasHeight };
  if (mode === 'raw') return [{ ...fitRect(whole, frameWidth, frameHeight), layer: 'frame' }];
  if (mode === 'mask') return [{ ...fitRect(whole, frameWidth, frameHeight), layer: 'mask' }];
  if (mode === 'overlay') return [{ ...fitRect(whole, frameWidth, frameHeight), layer: overlaid ? 'frame' : 'overlay' }];

  // Side by side means left and right on a landscape canvas, as the name promises, even where stacking would give
  // larger pictures; only a portrait canvas (a phone held upright) stacks them.
  const gap = Math.round(Math.min(canvasWidth, canvasHeight) * 0.01);
  const halfW = Math.floor((canvasWidth - gap) / 2);
  const halfH = Math.floor((canvasHeight - gap) / 2);
  const across = canvasWidth >= canvasHeight;
  const first: Rect = across ? { x: 0, y: 0, width: halfW, height: canvasHeight } : { x: 0, y: 0, width: canvasWidth, height: halfH };
  const second: Rect = across
    ? { x: halfW + gap, y: 0, width: canvasWidth - halfW - gap, height: canvasHeight }
    : { x: 0, y: halfH + gap, width: canvasWidth, height: canvasHeight - halfH - gap };
  return [
    { ...fitRect(first, frameWidth, frameHeight), layer: 'frame' },
    { ...fitRect(second, frameWidth, frameHeight), layer: overlaid ? 'mask' : 'overlay' },
  ];
}
