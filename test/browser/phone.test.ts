/** Phone screens: picture on top, panels below, no sideways scrolling, touch targets, tap-to-highlight. */
import { describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { openViewer, shootPage, waitForFrames, type ServerUnderTest, useViewerFixture } from './harness.ts';

let server: ServerUnderTest;
let browser: Browser;
useViewerFixture((s, b) => {
  server = s;
  browser = b;
});

describe('phone layout', () => {
  it('stacks picture and panels on a 390x844 touch screen', async () => {
    const { page, context, errors } = await openViewer(browser, server, '', { width: 390, height: 844 }, { isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
    try {
      await waitForFrames(page, 3);
      const stage = (await page.locator('.stage').boundingBox())!;
      const legend = (await page.locator('[data-testid="legend"]').boundingBox())!;
      expect(stage.width).toBeGreaterThan(380);
      expect(stage.height).toBeGreaterThan(200);
      expect(legend.y).toBeGreaterThanOrEqual(stage.y + stage.height - 1);
      expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
      // The canvas uses the device pixel ratio for a sharp picture.
      const canvas = await page.evaluate(() => {
        const c = document.querySelector('canvas.view') as HTMLCanvasElement;
        return { width: c.width, css: c.clientWidth };
      });
      expect(canvas.width).toBe(canvas.css * 2);
      // Touch targets at least 40 CSS px tall (44 where the browser reports a coarse pointer).
      const entry = page.locator('[data-testid="legend"] .entry').first();
      expect((await entry.boundingBox())!.height).toBeGreaterThanOrEqual(40);
      await entry.tap();
      expect(await entry.getAttribute('aria-pressed')).toBe('true');
      await shootPage(page, 'phone');
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
