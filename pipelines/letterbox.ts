/**
 * Where videoscale puts a picture of another shape inside the output frame when the output's pixels are square
 * (`add-borders`): scaled to fit, centred, the rest black. Used to tell viewers what they see; the pipeline itself
 * does the scaling.
 */
import type { OutputSize } from './common.ts';

/** A source's own picture before scaling, as its caps describe it. */
export interface InputPicture {
  width: number;
  height: number;
  /** Pixel aspect ratio as GStreamer writes it, e.g. "1/1" or "16/15". */
  pixelAspectRatio: string;
}

/** The picture's rectangle inside the output frame, in output pixels. */
export interface PictureRect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** A GStreamer fraction "n/d" as integers; 1/1 for anything else. */
function fraction(text: string): [number, number] {
  const m = /^(\d+)\/(\d+)$/.exec(text);
  if (!m || Number(m[1]) === 0 || Number(m[2]) === 0) return [1, 1];
  return [Number(m[1]), Number(m[2])];
}

/**
 * The rectangle a picture of `input`'s display shape fills in an NV12 `output` with square pixels, as videoscale
 * (1.22) places it: the scaled side rounded down, the bars split in two with the first one rounded down to an
 * even size (NV12's chroma covers 2x2 pixels), so the far bar can be a pixel or three wider. A picture of the
 * output's shape fills the whole frame. Checked against real GStreamer in test/integration/aspect.test.ts.
 */
export function letterboxRect(input: InputPicture, output: OutputSize): PictureRect {
  const [parN, parD] = fraction(input.pixelAspectRatio);
  // Display aspect ratio n/d of the input.
  const n = input.width * parN;
  const d = input.height * parD;
  const even = (v: number): number => v - (v % 2);
  const scaledHeight = Math.floor((output.width * d) / n);
  if (scaledHeight <= output.height) {
    return { x: 0, y: even(Math.floor((output.height - scaledHeight) / 2)), width: output.width, height: scaledHeight };
  }
  const scaledWidth = Math.floor((output.height * n) / d);
  return { x: even(Math.floor((output.width - scaledWidth) / 2)), y: 0, width: scaledWidth, height: output.height };
}
