/**
 * Class colours. Deterministic for a class count, neighbouring ids far apart in hue (golden-angle steps) so
 * adjacent classes stay distinguishable; lightness and saturation vary in a short cycle for large class counts.
 */
import { at } from '../../util/checked-access.ts';

const SATURATIONS = [0.75, 0.55, 0.9];
const VALUES = [0.95, 0.75, 0.85];

export function makePalette(classes: number): Uint8Array {
  if (!Number.isInteger(classes) || classes < 1 || classes > 65536) {
    throw new Error(`makePalette: classes must be an integer from 1 to 65536, got ${JSON.stringify(classes)}`);
  }
  const out = new Uint8Array(classes * 3);
  for (let i = 0; i < classes; i++) {
    const hue = (i * 137.508) % 360;
    const sat = at(SATURATIONS, i % 3, 'palette saturations');
    const val = at(VALUES, Math.floor(i / 3) % 3, 'palette values');
    const [r, g, b] = hsvToRgb(hue, sat, val);
    out[i * 3] = r;
    out[i * 3 + 1] = g;
    out[i * 3 + 2] = b;
  }
  return out;
}

function hsvToRgb(h: number, s: number, v: number): [number, number, number] {
  const c = v * s;
  const x = c * (1 - Math.abs(((h / 60) % 2) - 1));
  const m = v - c;
  const [r, g, b] = h < 60 ? [c, x, 0] : h < 120 ? [x, c, 0] : h < 180 ? [0, c, x] : h < 240 ? [0, x, c] : h < 300 ? [x, 0, c] : [c, 0, x];
  return [Math.round((r + m) * 255), Math.round((g + m) * 255), Math.round((b + m) * 255)];
}

export function paletteTriples(palette: Uint8Array): [number, number, number][] {
  const out: [number, number, number][] = [];
  const channel = (i: number) => at(palette, i, 'palette');
  for (let i = 0; i + 2 < palette.length; i += 3) out.push([channel(i), channel(i + 1), channel(i + 2)]);
  return out;
}

/**
 * The palette for a model's class map. A class-map model may not say how many classes it has: then every id
 * its map can hold gets a colour.
 */
export function paletteForModel(output: { classes: number; dtype: string }): Uint8Array {
  if (output.classes > 0) return makePalette(output.classes);
  return makePalette(output.dtype === 'uint8' || output.dtype === 'int8' ? 256 : 1024);
}
