import type { ColorModel } from '../frame-context.ts';

/**
 * Turns GStreamer colorimetry into the YUV -> RGB model the kernels need. Caps carry either a name
 * ("bt601", "bt709", "bt2020", "smpte240m", "sRGB", "jpeg" style) or "range:matrix:transfer:primaries" codes
 * (GstVideoColorRange: 1 = 0-255, 2 = 16-235; GstVideoColorMatrix: 1 RGB, 2 FCC, 3 BT709, 4 BT601, 5 SMPTE240M,
 * 6 BT2020). When caps carry none, GStreamer's own default applies: BT.601 for SD (height <= 576) and BT.709
 * above, both limited range.
 */
export function colorModelFromCaps(colorimetry: string | undefined, height: number): ColorModel {
  if (colorimetry) {
    const named = NAMED[colorimetry];
    if (named) return { ...named, origin: 'caps' };
    const codes = /^(\d+):(\d+):(\d+):(\d+)$/.exec(colorimetry);
    if (codes) {
      const range = codes[1] === '1' ? 'full' : 'limited';
      // Only BT.601 and BT.709 are modelled; other matrices fall back to the size default below.
      if (codes[2] === '3' || codes[2] === '4') return { matrix: codes[2] === '3' ? 'bt709' : 'bt601', range, origin: 'caps' };
    }
  }
  return { matrix: height > 576 ? 'bt709' : 'bt601', range: 'limited', origin: 'default' };
}

const NAMED: Record<string, Omit<ColorModel, 'origin'>> = {
  bt601: { matrix: 'bt601', range: 'limited' },
  bt709: { matrix: 'bt709', range: 'limited' },
  sRGB: { matrix: 'bt709', range: 'full' },
};

/** Parses a config override such as "bt601-full" or "bt709-limited". */
export function parseColorOverride(value: string): Omit<ColorModel, 'origin'> | null {
  const m = /^(bt601|bt709)-(full|limited)$/.exec(value);
  return m ? { matrix: m[1] as ColorModel['matrix'], range: m[2] as ColorModel['range'] } : null;
}

export function describeColor(c: ColorModel): string {
  const origin = c.origin === 'caps' ? 'from caps' : c.origin === 'config' ? 'from config' : 'GStreamer default for the size';
  return `${c.matrix} ${c.range} range (${origin})`;
}
