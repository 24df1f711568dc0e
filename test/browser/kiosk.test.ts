/** Kiosk mode (?kiosk): no controls, no cursor, legend and HUD still shown, frames still live; 1080p layout. */
import { describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { openViewer, shootPage, waitForFrames, type ServerUnderTest, useViewerFixture } from './harness.ts';

let server: ServerUnderTest;
let browser: Browser;
useViewerFixture((s, b) => {
  server = s;
  browser = b;
});

describe('kiosk mode', () => {
  it('hides controls and the cursor on a 1080p screen, keeps legend and HUD', async () => {
    const { page, context, errors } = await openViewer(browser, server, '?kiosk', { width: 1920, height: 1080 });
    try {
      await waitForFrames(page, 3);
      expect(await page.locator('[data-testid="controls"]').count()).toBe(0);
      expect(await page.locator('input, select').count()).toBe(0);
      const cursors = await page.evaluate(() => ['body', 'canvas.view', '.panel', '[data-testid="legend"] .entry'].map((selector) => {
        const element = document.querySelector(selector);
        return element === null ? 'missing' : getComputedStyle(element).cursor;
      }));
      expect(cursors).toEqual(['none', 'none', 'none', 'none']);
      expect(await page.locator('[data-testid="legend"] li').count()).toBeGreaterThan(0);
      await expect.poll(() => page.locator('[data-testid="hud"]').isVisible()).toBe(true);
      // The picture gets most of a 1080p screen.
      const stage = await page.locator('.stage').boundingBox();
      expect(stage!.width).toBeGreaterThan(1920 * 0.7);
      expect(stage!.height).toBe(1080);
      await page.waitForTimeout(1200); // a chart sample or two
      await shootPage(page, 'kiosk-1080p');
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('shows the controls and a normal cursor without ?kiosk', async () => {
    const { page, context } = await openViewer(browser, server, '');
    try {
      await waitForFrames(page, 1);
      expect(await page.locator('[data-testid="controls"]').count()).toBe(1);
      expect(await page.evaluate(() => getComputedStyle(document.body).cursor)).not.toBe('none');
    } finally {
      await context.close();
    }
  });
});
