import { describe, expect, it } from 'vitest';
import { colorModelFromCaps, describeColor, parseColorOverride } from '../../../server/stages/source/colorimetry.ts';

describe('colorimetry', () => {
  it('reads named colorimetry from caps', () => {
    expect(colorModelFromCaps('bt601', 480)).toEqual({ matrix: 'bt601', range: 'limited', origin: 'caps' });
    expect(colorModelFromCaps('bt709', 480)).toEqual({ matrix: 'bt709', range: 'limited', origin: 'caps' });
    expect(colorModelFromCaps('sRGB', 480)).toEqual({ matrix: 'bt709', range: 'full', origin: 'caps' });
  });

  it('reads range:matrix codes (jpegdec output is 1:4:0:0, full-range BT.601)', () => {
    expect(colorModelFromCaps('1:4:0:0', 720)).toEqual({ matrix: 'bt601', range: 'full', origin: 'caps' });
    expect(colorModelFromCaps('2:3:5:1', 480)).toEqual({ matrix: 'bt709', range: 'limited', origin: 'caps' });
  });

  it("falls back to GStreamer's size default when caps carry none or an unmodelled matrix", () => {
    expect(colorModelFromCaps(undefined, 576)).toEqual({ matrix: 'bt601', range: 'limited', origin: 'default' });
    expect(colorModelFromCaps(undefined, 720)).toEqual({ matrix: 'bt709', range: 'limited', origin: 'default' });
    expect(colorModelFromCaps('2:6:0:0', 1080).origin).toBe('default');
  });

  it('parses config overrides and describes the model', () => {
    expect(parseColorOverride('bt601-full')).toEqual({ matrix: 'bt601', range: 'full' });
    expect(parseColorOverride('bt2020-full')).toBeNull();
    expect(describeColor({ matrix: 'bt709', range: 'limited', origin: 'default' })).toBe('bt709 limited range (GStreamer default for the size)');
  });
});
