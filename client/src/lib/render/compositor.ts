/** The drawing interface shared by the 2D-canvas and WebGL2 compositors. */
import type { ViewMode } from '../options.ts';
import type { ClassMapImage } from '../class-map.ts';

export interface CompositeFrame {
  /** The decoded JPEG. */
  image: ImageBitmap | HTMLCanvasElement | OffscreenCanvas;
  width: number;
  height: number;
  /** True when the JPEG already has the overlay blended in by the server. */
  overlaid: boolean;
  /** Null when not decoded: the compositor then draws the picture layers only (see layout.ts showsClassMap). */
  classMap: ClassMapImage | null;
}

export interface ViewSettings {
  mode: ViewMode;
  /** 0..1 */
  opacity: number;
}

/** [r, g, b] per class id plus which ids are shown (hidden classes and, while highlighting, all others are not). */
export interface ClassColours {
  palette: readonly (readonly [number, number, number])[];
  visible: (id: number) => boolean;
}

export interface Compositor {
  readonly kind: '2d' | 'webgl';
  /** Sets the colours; called when the palette, hidden classes or highlight change. */
  setColours(colours: ClassColours): void;
  /** Draws the frame into the whole canvas at its current size. */
  draw(frame: CompositeFrame, view: ViewSettings): void;
  /** False while the GPU context is lost; a WebGL compositor restores itself when the browser gives the context back. */
  readonly usable: boolean;
  destroy(): void;
}

/** Background behind letterboxed pictures, as CSS and as 0..1 floats. */
export const BACKGROUND_CSS = '#111318';
export const BACKGROUND_RGB: [number, number, number] = [0x11 / 255, 0x13 / 255, 0x18 / 255];

/** Palette entries as packed little-endian RGBA words (0 = transparent) for a visible-class mask. */
export function packedColourTable(colours: ClassColours, size: number): Uint32Array<ArrayBuffer> {
  const table = new Uint32Array(size);
  for (let id = 0; id < size; id++) {
    const colour = colours.palette[id];
    if (colour === undefined || !colours.visible(id)) continue;
    table[id] = (0xff << 24) | (colour[2] << 16) | (colour[1] << 8) | colour[0];
  }
  return table;
}
