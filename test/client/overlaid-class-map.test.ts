/**
 * The class map left compressed (server overlay in the JPEG, overlay view) in a real Chromium: the class-map
 * snapshot still holds the mock server's ids, and switching to the mask view draws the classes.
 */
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { inflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import type { Browser } from 'playwright-core';
import { diagnostics, ensureViewerBuilt, launchBrowser, meanAbsDiff, openViewer, shootStage, waitForFrames, wrapMock } from '../browser/harness.ts';
import { startMockServer, type MockServer } from '../browser/mock-server.ts';
import { mockClassMap } from '../browser/mock-scene.ts';

const CHROMIUM = process.env.SEGSTREAM_CHROMIUM ?? '/usr/bin/chromium';

describe('class map inflated on demand', () => {
  // Not skipped when Chromium is missing: setup.sh installs it, and a silent skip would check nothing.
  beforeAll(() => {
    if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: run ./scripts/setup.sh or set SEGSTREAM_CHROMIUM`);
  });
  let mock: MockServer;
  let browser: Browser;
  beforeAll(async () => {
    await ensureViewerBuilt();
    mock = await startMockServer({ motion: false, overlaid: true });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await mock?.stop();
  });

  it('saves the exact class map and draws the mask although the overlay view never inflated it', async () => {
    const { page, context, errors } = await openViewer(browser, wrapMock(mock), '?mode=overlay');
    try {
      await waitForFrames(page, 3);
      expect((await diagnostics(page)).lastHeader!.overlaid).toBe(true);
      const [file] = await Promise.all([page.waitForEvent('download'), page.locator('[data-testid="snapshot-classmap"]').click()]);
      const png = await readFile(await file.path());
      const id = Number(/^segstream-(\d+)-/.exec(file.suggestedFilename())![1]);
      const [width, height] = mock.mapSize;
      const meta = await sharp(png).metadata();
      expect([meta.width, meta.height, meta.isPalette]).toEqual([width, height, true]);
      // The ids themselves: the indexed PNG's IDAT rows (filter byte 0, then one id per pixel).
      const expected = mockClassMap(id, width, height, mock.scene);
      const idat: Buffer[] = [];
      for (let offset = 8; offset < png.length; ) {
        const length = png.readUInt32BE(offset);
        if (png.toString('latin1', offset + 4, offset + 8) === 'IDAT') idat.push(png.subarray(offset + 8, offset + 8 + length));
        offset += 12 + length;
      }
      const rows = inflateSync(Buffer.concat(idat));
      const ids = new Uint8Array(width * height);
      for (let y = 0; y < height; y++) ids.set(rows.subarray(y * (width + 1) + 1, (y + 1) * (width + 1)), y * width);
      expect(Buffer.from(ids).equals(Buffer.from(expected))).toBe(true);

      const overlay = await shootStage(page, 'lazy-map-overlay');
      await page.locator('[data-testid="mode-mask"]').check();
      await page.waitForTimeout(350);
      const mask = await shootStage(page, 'lazy-map-mask');
      expect(await meanAbsDiff(overlay, mask)).toBeGreaterThan(5);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
