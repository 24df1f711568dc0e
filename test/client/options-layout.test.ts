/** URL options (kiosk configuration by URL) and the letterbox / side-by-side layout. */
import { describe, expect, it } from 'vitest';
import { parseViewerOptions, urlWithoutToken } from '../../client/src/lib/options.ts';
import { fitRect, layoutViewports } from '../../client/src/lib/render/layout.ts';
import { at } from '../../server/util/checked-access.ts';

describe('parseViewerOptions', () => {
  it('has sensible defaults and derives the WebSocket URL from the page', () => {
    const o = parseViewerOptions('http://board.local:8080/');
    expect(o).toMatchObject({ kiosk: false, token: '', mode: 'overlay', smoothing: 0, renderer: 'auto', wsUrl: 'ws://board.local:8080/ws', warnings: [] });
    expect(parseViewerOptions('https://example.org/segstream/?x=1').wsUrl).toBe('wss://example.org/segstream/ws');
  });

  it('reads kiosk settings and reports bad values by parameter', () => {
    const o = parseViewerOptions('http://h/?kiosk&mode=side-by-side&opacity=0.8&smooth=3&renderer=webgl&token=abc');
    expect(o).toMatchObject({ kiosk: true, mode: 'side-by-side', opacity: 0.8, smoothing: 3, renderer: 'webgl', token: 'abc' });
    expect(parseViewerOptions('http://h/?kiosk=0').kiosk).toBe(false);
    const bad = parseViewerOptions('http://h/?mode=fancy&opacity=2&smooth=4&renderer=vulkan&ws=http://x');
    expect(bad.mode).toBe('overlay');
    expect(bad.warnings.join('\n')).toMatch(/mode: expected one of overlay, mask, raw, side-by-side, got "fancy"/);
    expect(bad.warnings.join('\n')).toMatch(/opacity: expected a number from 0 to 1, got "2"/);
    expect(bad.warnings.join('\n')).toMatch(/smooth: expected 0, 3 or 5/);
    expect(bad.warnings.join('\n')).toMatch(/renderer: expected one of auto, 2d, webgl/);
    expect(bad.warnings.join('\n')).toMatch(/ws: expected a ws:\/\/ or wss:\/\/ URL/);
  });

  it('removes the token from the URL', () => {
    expect(urlWithoutToken('http://h/?kiosk&token=s3cret')).toBe('http://h/?kiosk=');
    expect(urlWithoutToken('http://h/?kiosk')).toBeNull();
  });
});

describe('layout', () => {
  it('fits without distortion, centred', () => {
    expect(fitRect({ x: 0, y: 0, width: 1920, height: 1080 }, 640, 480)).toEqual({ x: 240, y: 0, width: 1440, height: 1080 });
    expect(fitRect({ x: 0, y: 0, width: 390, height: 800 }, 1280, 720)).toEqual({ x: 0, y: 290, width: 390, height: 219 });
  });

  it('puts side-by-side pictures across on a wide canvas and stacked on a tall one', () => {
    const wide = layoutViewports('side-by-side', 1920, 1080, 1280, 720, false);
    expect(wide.map((v) => v.layer)).toEqual(['frame', 'overlay']);
    const [wideLeft, wideRight] = [at(wide, 0, 'wide viewports'), at(wide, 1, 'wide viewports')];
    expect(wideRight.x).toBeGreaterThan(wideLeft.x + wideLeft.width - 1);
    const tall = layoutViewports('side-by-side', 400, 900, 1280, 720, false);
    const [tallTop, tallBottom] = [at(tall, 0, 'tall viewports'), at(tall, 1, 'tall viewports')];
    expect(tallBottom.y).toBeGreaterThan(tallTop.y + tallTop.height - 1);
    for (const v of [...wide, ...tall]) expect(v.width / v.height).toBeCloseTo(1280 / 720, 1);
    // The stage of a 1400x900 window beside the panel: landscape, so across (same y), although stacking would give
    // larger pictures there.
    const beside = layoutViewports('side-by-side', 1064, 900, 1280, 720, false);
    const [besideLeft, besideRight] = [at(beside, 0, 'beside viewports'), at(beside, 1, 'beside viewports')];
    expect(Math.abs(besideLeft.y - besideRight.y)).toBeLessThanOrEqual(1); // halves may differ by a pixel of rounding
    expect(besideRight.x).toBeGreaterThanOrEqual(besideLeft.x + besideLeft.width);
  });

  it('cannot un-blend a server-overlaid JPEG: overlay and raw show it, side by side pairs it with the mask', () => {
    expect(layoutViewports('overlay', 100, 100, 10, 10, true).map((v) => v.layer)).toEqual(['frame']);
    expect(layoutViewports('side-by-side', 200, 100, 10, 10, true).map((v) => v.layer)).toEqual(['frame', 'mask']);
    expect(layoutViewports('mask', 100, 100, 10, 10, true).map((v) => v.layer)).toEqual(['mask']);
  });
});
