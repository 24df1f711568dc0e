/**
 * Each view mode renders, with both compositors: screenshots are saved and compared for the expected
 * differences (raw vs overlay, mask vs raw, ...), and mask colours must cover the reported class shares.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { colourShare, decodeRgb, type RawImage, diagnostics, freezePicture, meanAbsDiff, openViewer, shootStage, USING_REAL_SERVER, waitForFrames, wrapMock, type ServerUnderTest, useViewerFixture } from './harness.ts';
import { startMockServer, type MockServer } from './mock-server.ts';
import { at, first } from '../../server/util/checked-access.ts';

let server: ServerUnderTest;
let browser: Browser;
useViewerFixture((s, b) => {
  server = s;
  browser = b;
}, { motion: false }, { source: 'still' });

async function showMode(page: Page, mode: string, name: string): Promise<Buffer> {
  await page.locator(`[data-testid="mode-${mode}"]`).check();
  await page.waitForTimeout(350);
  return shootStage(page, name);
}

async function setOpacity(page: Page, value: number): Promise<void> {
  await page.locator('[data-testid="opacity"]').fill(String(value));
  await page.waitForTimeout(300);
}

async function palette(page: Page): Promise<[number, number, number][]> {
  return (await diagnostics(page)).hello!.palette;
}

describe.each(['2d', 'webgl'] as const)('view modes with the %s compositor', (renderer) => {
  it('renders overlay, mask, raw and side by side, each differing as expected', async () => {
    const { page, context, errors } = await openViewer(browser, server, `?renderer=${renderer}&opacity=0.55`);
    try {
      await waitForFrames(page, 3);
      const info = await diagnostics(page);
      expect(info.renderer).toBe(renderer);
      // One frame for every shot, whatever the server's picture does meanwhile.
      await freezePicture(page);
      const overlay = await showMode(page, 'overlay', `modes-${renderer}-overlay`);
      const raw = await showMode(page, 'raw', `modes-${renderer}-raw`);
      const rawAgain = await shootStage(page, `modes-${renderer}-raw-again`);
      const mask = await showMode(page, 'mask', `modes-${renderer}-mask`);
      const sideBySide = await showMode(page, 'side-by-side', `modes-${renderer}-side-by-side`);
      const noise = await meanAbsDiff(raw, rawAgain);
      const differs = async (a: Buffer, b: Buffer) => expect(await meanAbsDiff(a, b)).toBeGreaterThan(noise * 2 + 3);
      await differs(raw, overlay);
      await differs(mask, raw);
      await differs(mask, overlay);
      await differs(sideBySide, raw);
      await differs(sideBySide, overlay);

      // Mask only: each class's palette colour covers its share of the picture.
      const colours = await palette(page);
      const classes = (await diagnostics(page)).lastClasses;
      const total = classes.reduce((s, [, n]) => s + n, 0);
      const image = await decodeRgb(mask);
      const covered = classes.map(([id]) => colourShare(image, at(colours, id, 'viewer palette'), 6));
      const pictureShare = covered.reduce((a, b) => a + b, 0);
      expect(pictureShare).toBeGreaterThan(0.3); // the picture fills a good part of the stage
      classes.forEach(([id, count], i) => {
        if (count / total < 0.03) return;
        expect(Math.abs(at(covered, i, 'covered shares') / pictureShare - count / total), `class ${id}`).toBeLessThan(0.03);
      });

      // Side by side holds two pictures: the mask colours show (blended) in one of them only, so they cover
      // far less of the stage than in mask mode, yet more than nothing.
      const side = await decodeRgb(sideBySide);
      const [biggest] = first(classes, 'classes of the last frame');
      const sideCover = colourShare(side, at(colours, biggest, 'viewer palette'), 6);
      expect(sideCover).toBeLessThan(first(covered, 'covered shares') * 0.8);
      if (!(await diagnostics(page)).lastHeader!.overlaid) {
        // Opacity 0 is the raw picture; opacity 1 is the mask.
        await showMode(page, 'overlay', `modes-${renderer}-overlay-again`);
        await setOpacity(page, 0);
        const clear = await shootStage(page, `modes-${renderer}-opacity-0`);
        expect(await meanAbsDiff(clear, raw)).toBeLessThan(1);
        await setOpacity(page, 1);
        const solid = await shootStage(page, `modes-${renderer}-opacity-1`);
        expect(await meanAbsDiff(solid, mask)).toBeLessThan(1);
      }
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});

/** Runs of at least `minRun` lines (rows or columns) that hold picture, not the stage's background. */
function contentRuns(image: RawImage, axis: 'rows' | 'columns', minRun = 20): [number, number][] {
  const channel = (o: number) => at(image.data, o, 'stage RGB');
  const bg = [channel(0), channel(1), channel(2)] as const; // a corner: the letterbox around the pictures
  const lines = axis === 'rows' ? image.height : image.width;
  const across = axis === 'rows' ? image.width : image.height;
  const runs: [number, number][] = [];
  let start = -1;
  for (let line = 0; line <= lines; line++) {
    let content = 0;
    if (line < lines) {
      for (let k = 0; k < across; k++) {
        const o = (axis === 'rows' ? line * image.width + k : k * image.width + line) * 3;
        if (Math.abs(channel(o) - bg[0]) + Math.abs(channel(o + 1) - bg[1]) + Math.abs(channel(o + 2) - bg[2]) > 30) content++;
      }
    }
    const isContent = content > across * 0.05;
    if (isContent && start < 0) start = line;
    if (!isContent && start >= 0) {
      if (line - start >= minRun) runs.push([start, line]);
      start = -1;
    }
  }
  return runs;
}

describe('side by side', () => {
  it('puts the two pictures left and right on a landscape 1400x900 window (same rows)', async () => {
    const { page, context } = await openViewer(browser, server, '?mode=side-by-side', { width: 1400, height: 900 });
    try {
      await waitForFrames(page, 3);
      await page.waitForTimeout(300);
      const image = await decodeRgb(await shootStage(page, 'side-by-side-1400x900'));
      const columns = contentRuns(image, 'columns');
      const rows = contentRuns(image, 'rows');
      expect(columns, 'two pictures across').toHaveLength(2);
      expect(rows, 'one band of rows: both pictures at the same y').toHaveLength(1);
      // Equal sizes: the two pictures are as wide as each other.
      const [left, right] = [at(columns, 0, 'column runs'), at(columns, 1, 'column runs')];
      expect(Math.abs((left[1] - left[0]) - (right[1] - right[0]))).toBeLessThanOrEqual(3);
    } finally {
      await context.close();
    }
  });

  it('stacks them on a portrait 390x844 phone', async () => {
    const { page, context } = await openViewer(browser, server, '?mode=side-by-side', { width: 390, height: 844 }, { isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
    try {
      await waitForFrames(page, 3);
      await page.waitForTimeout(300);
      const image = await decodeRgb(await shootStage(page, 'side-by-side-390x844'));
      const rows = contentRuns(image, 'rows');
      const columns = contentRuns(image, 'columns');
      expect(rows, 'two pictures stacked').toHaveLength(2);
      expect(columns, 'one band of columns').toHaveLength(1);
      // Each picture spans most of the phone's width.
      const band = first(columns, 'column runs');
      expect(band[1] - band[0]).toBeGreaterThan(image.width * 0.7);
    } finally {
      await context.close();
    }
  });
});

describe('compositors agree', () => {
  it.skipIf(USING_REAL_SERVER)('2D and WebGL draw the same overlay', async () => {
    // Needs the same frame in two pages: the mock's still picture (the real server's test source moves).
    const shots: Buffer[] = [];
    for (const renderer of ['2d', 'webgl']) {
      const { page, context } = await openViewer(browser, server, `?renderer=${renderer}&opacity=0.55`);
      try {
        await waitForFrames(page, 3);
        await freezePicture(page);
        shots.push(await shootStage(page, `compositors-${renderer}`));
      } finally {
        await context.close();
      }
    }
    // Small differences only: bilinear picture scaling is not bit-identical between Skia and the GPU path.
    expect(await meanAbsDiff(at(shots, 0, 'compositor shots'), at(shots, 1, 'compositor shots'))).toBeLessThan(3);
  });
});

describe('server-blended overlay (FrameHeader.overlaid)', () => {
  let overlaid: MockServer | null = null;
  afterAll(async () => {
    await overlaid?.stop();
  });

  it.skipIf(USING_REAL_SERVER)('shows the JPEG as is in overlay and raw modes, and still draws the mask', async () => {
    overlaid = await startMockServer({ motion: false, overlaid: true });
    const { page, context } = await openViewer(browser, wrapMock(overlaid));
    try {
      await waitForFrames(page, 3);
      const overlay = await showMode(page, 'overlay', 'overlaid-overlay');
      const raw = await showMode(page, 'raw', 'overlaid-raw');
      const mask = await showMode(page, 'mask', 'overlaid-mask');
      expect(await meanAbsDiff(overlay, raw)).toBeLessThan(1);
      expect(await meanAbsDiff(mask, raw)).toBeGreaterThan(5);
      expect(await page.locator('[data-testid="opacity"]').isDisabled()).toBe(true);
    } finally {
      await context.close();
    }
  });
});
