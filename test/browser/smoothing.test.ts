/** Temporal smoothing: off by default, a majority vote that removes flicker when on, always shown in the HUD. */
import { describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { diagnostics, openViewer, shootPage, waitForFrames, type ServerUnderTest, useViewerFixture } from './harness.ts';
import { MOCK_CLASSES } from './mock-scene.ts';

let server: ServerUnderTest;
let browser: Browser;
  // 5 % of the pixels flicker to another class at random places every frame.
useViewerFixture((s, b) => {
  server = s;
  browser = b;
}, { motion: false, flickerShare: 0.05 }, { source: 'still' });

async function flickerShareDrawn(page: Page): Promise<number> {
  const classes = (await diagnostics(page)).lastClasses;
  const total = classes.reduce((s, [, n]) => s + n, 0);
  return (classes.find(([id]) => id === MOCK_CLASSES.flicker)?.[1] ?? 0) / total;
}

describe('temporal smoothing', () => {
  it('is off by default, shows in the HUD when on, and removes scattered flicker', async () => {
    const { page, context, errors } = await openViewer(browser, server);
    try {
      await waitForFrames(page, 3);
      expect(await page.locator('[data-testid="smoothing"]').inputValue()).toBe('0');
      expect(await page.locator('[data-testid="hud-smoothing"]').count()).toBe(0);
      if (server.mock) expect(await flickerShareDrawn(page)).toBeGreaterThan(0.04);

      await page.locator('[data-testid="smoothing"]').selectOption('3');
      const before = (await diagnostics(page)).framesDrawn;
      await waitForFrames(page, 4, before);
      await expect.poll(() => page.locator('[data-testid="hud-smoothing"]').textContent(), { timeout: 5000 }).toContain('viewer: majority of 3 frames');
      if (server.mock) {
        // A pixel stays flicker only when 2 of 3 frames put it there: about 3 x 0.05^2 of the pixels.
        expect(await flickerShareDrawn(page)).toBeLessThan(0.015);
        expect(await flickerShareDrawn(page)).toBeGreaterThan(0);
      }
      await shootPage(page, 'smoothing-on');

      await page.locator('[data-testid="smoothing"]').selectOption('0');
      await waitForFrames(page, 3, (await diagnostics(page)).framesDrawn);
      await expect.poll(() => page.locator('[data-testid="hud-smoothing"]').count(), { timeout: 5000 }).toBe(0);
      if (server.mock) expect(await flickerShareDrawn(page)).toBeGreaterThan(0.04);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('can be switched on from the URL (?smooth=5) for a kiosk', async () => {
    const { page, context } = await openViewer(browser, server, '?kiosk&smooth=5');
    try {
      await waitForFrames(page, 6);
      await expect.poll(() => page.locator('[data-testid="hud-smoothing"]').textContent(), { timeout: 5000 }).toContain('majority of 5 frames');
      if (server.mock) expect(await flickerShareDrawn(page)).toBeLessThan(0.01);
    } finally {
      await context.close();
    }
  });

  it('shows server-side smoothing reported in the frame header', async () => {
    const { page, context } = await openViewer(browser, server, `?token=${server.token}`);
    try {
      await waitForFrames(page, 2);
      await page.locator('[data-testid="control-smoothing"]').selectOption('3');
      await expect.poll(() => page.locator('[data-testid="control-result"]').getAttribute('data-ok'), { timeout: 5000 }).toBe('true');
      await expect.poll(() => page.locator('[data-testid="hud-smoothing"]').textContent(), { timeout: 5000 }).toContain('server: 3 frames');
    } finally {
      await context.close();
    }
  });
});
