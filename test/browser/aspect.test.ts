/**
 * A 4:3 source in the viewer (real server: a file source of an 800x600 PNG, a white disc on grey, streamed at
 * 1280x720): the picture is letterboxed between black bars, the disc is round on screen, and the class map covers
 * the same rectangle as the picture (bars included), so the overlay lines up with it. Needs the real server
 * (SEGSTREAM_BROWSER_SERVER=real): the mock server draws its own scene and knows nothing of pipelines.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { makeDiscPng, tempDir } from '../helpers/media.ts';
import { startServer, type RunningServer } from '../helpers/server.ts';
import { decodeRgb, diagnostics, ensureViewerBuilt, freezePicture, launchBrowser, openViewer, shootPage, shootStage, USING_REAL_SERVER, waitForFrames, type RawImage, type ServerUnderTest } from './harness.ts';

const FRAME = { width: 1280, height: 720 };

interface Rect {
  x0: number;
  x1: number;
  y0: number;
  y1: number;
}

const at = (img: RawImage, x: number, y: number): [number, number, number] => {
  const o = (y * img.width + x) * 3;
  return [img.data[o]!, img.data[o + 1]!, img.data[o + 2]!];
};
const luma = ([r, g, b]: [number, number, number]): number => 0.299 * r + 0.587 * g + 0.114 * b;
const near = (a: [number, number, number], b: [number, number, number], tolerance: number): boolean => a.every((v, i) => Math.abs(v - b[i]!) <= tolerance);

/** Bounding box of the pixels that are not the stage's own background (the top-left corner's colour). */
function drawnRect(img: RawImage): Rect {
  const background = at(img, 0, 0);
  const r: Rect = { x0: img.width, x1: -1, y0: img.height, y1: -1 };
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      if (near(at(img, x, y), background, 3)) continue;
      r.x0 = Math.min(r.x0, x);
      r.x1 = Math.max(r.x1, x);
      r.y0 = Math.min(r.y0, y);
      r.y1 = Math.max(r.y1, y);
    }
  }
  return r;
}

/** Bounding box of the pixels with luma above `threshold` inside `within`. */
function brightRect(img: RawImage, within: Rect, threshold: number): Rect {
  const r: Rect = { x0: img.width, x1: -1, y0: img.height, y1: -1 };
  for (let y = within.y0; y <= within.y1; y++) {
    for (let x = within.x0; x <= within.x1; x++) {
      if (luma(at(img, x, y)) <= threshold) continue;
      r.x0 = Math.min(r.x0, x);
      r.x1 = Math.max(r.x1, x);
      r.y0 = Math.min(r.y0, y);
      r.y1 = Math.max(r.y1, y);
    }
  }
  return r;
}

const widthOf = (r: Rect): number => r.x1 - r.x0 + 1;
const heightOf = (r: Rect): number => r.y1 - r.y0 + 1;

let server: RunningServer;
let browser: Browser;

/** openViewer needs only the server's address; this server is started here, not by the harness. */
const viewerTarget = (): ServerUnderTest => ({ url: server.url }) as ServerUnderTest;

async function shootMode(mode: string): Promise<RawImage> {
  const { page, context, errors } = await openViewer(browser, viewerTarget(), `?mode=${mode}`);
  try {
    await waitForFrames(page, 2, 0, 60_000);
    await freezePicture(page);
    const image = await decodeRgb(await shootStage(page, `aspect-4x3-${mode}`));
    expect(errors).toEqual([]);
    return image;
  } finally {
    await context.close();
  }
}

async function helloSource(page: Page): Promise<unknown> {
  return (await diagnostics(page)).hello?.source;
}

describe.skipIf(!USING_REAL_SERVER)('a 4:3 file source in the viewer (real server)', () => {
  beforeAll(async () => {
    await ensureViewerBuilt();
    const png = makeDiscPng(path.join(tempDir('aspect-browser'), 'disc-800x600.png'), 800, 600, 200);
    server = await startServer({
      source: 'aspect',
      config: {
        sources: {
          test: { kind: 'test', width: 320, height: 240 },
          aspect: { kind: 'file', path: png, ...FRAME, framerate: 5 },
        },
      },
    });
    browser = await launchBrowser();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('is letterboxed: black bars left and right of a 4:3 picture, the disc round; the mask covers the same frame', async () => {
    const raw = await shootMode('raw');
    const frame = drawnRect(raw);
    const scale = widthOf(frame) / FRAME.width;
    // The viewer fits the 16:9 frame into the stage.
    expect(Math.abs(heightOf(frame) - FRAME.height * scale)).toBeLessThanOrEqual(2);

    // Along the middle row: black, then the grey picture, then black again.
    const midY = Math.round((frame.y0 + frame.y1) / 2);
    const rowAbove = frame.y0 + 2; // above the disc: grey picture between the bars
    let left = frame.x0;
    while (left <= frame.x1 && luma(at(raw, left, rowAbove)) < 40) left++;
    let right = frame.x1;
    while (right >= frame.x0 && luma(at(raw, right, rowAbove)) < 40) right--;
    const pictureWidth = right - left + 1;
    // 960 of 1280 frame columns, centred: bars of 160 each side.
    expect(Math.abs(pictureWidth - 960 * scale)).toBeLessThanOrEqual(2);
    expect(Math.abs(left - frame.x0 - 160 * scale)).toBeLessThanOrEqual(2);
    expect(Math.abs(frame.x1 - right - 160 * scale)).toBeLessThanOrEqual(2);
    for (const y of [frame.y0 + 1, midY, frame.y1 - 1]) {
      for (let x = frame.x0 + 1; x < left - 1; x++) expect(near(at(raw, x, y), [0, 0, 0], 6)).toBe(true);
      for (let x = right + 2; x < frame.x1; x++) expect(near(at(raw, x, y), [0, 0, 0], 6)).toBe(true);
    }
    // The picture is 4:3 and fills the frame's height.
    expect(Math.abs(pictureWidth / heightOf(frame) - 4 / 3)).toBeLessThan(0.01);
    // The disc: 480 frame pixels across in both directions (not 640 x 480, as it was stretched).
    const disc = brightRect(raw, frame, 200);
    expect(Math.abs(widthOf(disc) - heightOf(disc))).toBeLessThanOrEqual(2);
    expect(Math.abs(widthOf(disc) - 480 * scale)).toBeLessThanOrEqual(3);

    // The class map is computed on the letterboxed frame: the mask fills the same rectangle, bars included.
    const mask = await shootMode('mask');
    expect(drawnRect(mask)).toEqual(frame);
    // Away from the picture's edge the bars are one class, the same on both sides: the model saw the same black
    // there. Near the edge the class map may differ (the tiny model sees 64x64: a 160-column bar is 8 input pixels,
    // 2 cells of its 16x16 output), so only the outer half of each bar is checked.
    const barColour = at(mask, frame.x0 + 2, midY);
    const half = Math.floor((left - frame.x0) / 2);
    for (let y = frame.y0; y <= frame.y1; y += 4) {
      for (let x = frame.x0; x < frame.x0 + half; x += 2) expect(near(at(mask, x, y), barColour, 2)).toBe(true);
      for (let x = frame.x1 - half + 1; x <= frame.x1; x += 2) expect(near(at(mask, x, y), barColour, 2)).toBe(true);
    }

    // The overlay is the mask blended over the picture pixel for pixel (viewer default opacity 0.55): were the mask
    // drawn over another rectangle than the picture, the blend would not match where classes change.
    const overlay = await shootMode('overlay');
    expect(drawnRect(overlay)).toEqual(frame);
    let off = 0;
    let count = 0;
    for (let y = frame.y0; y <= frame.y1; y += 3) {
      for (let x = frame.x0; x <= frame.x1; x += 3) {
        const [p, m, o] = [at(raw, x, y), at(mask, x, y), at(overlay, x, y)];
        const blended = p.map((v, i) => v + 0.55 * (m[i]! - v)) as [number, number, number];
        if (!near(o, blended, 12)) off++;
        count++;
      }
    }
    expect(off / count).toBeLessThan(0.01);
  }, 180_000);

  it('says it is letterboxed: hello carries the input size and where the picture sits; the HUD shows it', async () => {
    const { page, context } = await openViewer(browser, viewerTarget());
    try {
      await waitForFrames(page, 1, 0, 60_000);
      await expect.poll(() => helloSource(page), { timeout: 10_000 }).toMatchObject({
        width: 1280,
        height: 720,
        input: { width: 800, height: 600, pixelAspectRatio: '1/1', picture: { x: 160, y: 0, width: 960, height: 720 } },
      });
      await expect.poll(() => page.locator('[data-testid="hud-picture"]').textContent(), { timeout: 10_000 }).toBe('800×600 letterboxed: 960×720 in 1280×720');
      await shootPage(page, 'aspect-4x3-hud');
    } finally {
      await context.close();
    }
  }, 120_000);
});
