/** Frames arrive, are drawn and acknowledged; the canvas changes between frames; the HUD fills in. */
import { describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { diagnostics, meanAbsDiff, openViewer, shootPage, shootStage, waitForFrames, type ServerUnderTest, useViewerFixture } from './harness.ts';

let server: ServerUnderTest;
let browser: Browser;
useViewerFixture((s, b) => {
  server = s;
  browser = b;
});

describe('live stream', () => {
  it('draws arriving frames, the picture changes, drawn acks reach the server and the HUD fills in', async () => {
    const { page, context, errors } = await openViewer(browser, server);
    try {
      await waitForFrames(page, 3);
      const first = await diagnostics(page);
      expect(first.lastHeader).not.toBeNull();
      const a = await shootStage(page, 'stream-frame-a');
      await waitForFrames(page, 4, first.framesDrawn);
      const b = await shootStage(page, 'stream-frame-b');
      const later = await diagnostics(page);
      expect(later.lastDrawnId).toBeGreaterThan(first.lastDrawnId);
      expect(later.decodeFailures).toBe(0);
      // A moving picture: the two screenshots differ.
      expect(await meanAbsDiff(a, b)).toBeGreaterThan(0.5);

      // The server gets `drawn` acks and answers with a frame age for this viewer.
      await page.waitForFunction(() => !/^–/.test(document.querySelector('[data-testid="hud-age"]')?.textContent?.trim() ?? '–'), undefined, { timeout: 15_000 });
      const age = await page.locator('[data-testid="hud-age"]').textContent();
      expect(age).toMatch(/\d+(\.\d)? ms median/);
      if (server.mock) {
        const acked = server.mock.received.filter((m) => m.type === 'drawn').map((m) => (m as { id: number }).id);
        expect(acked.length).toBeGreaterThan(3);
        expect(acked).toContain(first.lastDrawnId);
      }

      // HUD: rates, model latency, stages, source and model description.
      const fps = await page.locator('[data-testid="hud-fps"] strong').textContent();
      expect(Number(fps)).toBeGreaterThan(0);
      await expect.poll(async () => page.locator('[data-testid="hud-latency"]').textContent()).toMatch(/^\s*\d+(\.\d)? ms/);
      expect(await page.locator('[data-testid="hud-stages"] li').count()).toBeGreaterThan(1);
      expect(await page.locator('[data-testid="hud-source"]').textContent()).toMatch(/\d+×\d+/);
      const model = await page.locator('[data-testid="hud-model"]').textContent();
      expect(model).toMatch(/input \d+×\d+/);
      const untrained = (await diagnostics(page)).lastHeader !== null && (await page.evaluate(() => document.querySelector('[data-testid="untrained-banner"]') !== null));
      if (server.kind === 'mock') expect(untrained).toBe(true); // the mock says untrainedDemo: true
      if (untrained) expect(model).toContain('untrained demo model');

      // The chart gets a sample per second.
      await page.waitForFunction(() => (document.querySelector('[data-testid="chart"] polyline.fps')?.getAttribute('points') ?? '').split(' ').length >= 2, undefined, { timeout: 10_000 });
      await shootPage(page, 'stream-page');

      // Freeze: frames keep arriving but the picture (and its acks) stop; resume draws again.
      await page.locator('[data-testid="freeze"]').click();
      await page.waitForTimeout(300);
      const frozen = await diagnostics(page);
      await page.waitForFunction((n) => (window as unknown as { __segstream: { framesReceived: number } }).__segstream.framesReceived >= n + 4, frozen.framesReceived, { timeout: 10_000 });
      const stillFrozen = await diagnostics(page);
      expect(stillFrozen.framesDrawn).toBe(frozen.framesDrawn);
      expect(await page.locator('[data-testid="connection"]').textContent()).toBe('frozen');
      await page.locator('[data-testid="freeze"]').click();
      await waitForFrames(page, 2, stillFrozen.framesDrawn);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
