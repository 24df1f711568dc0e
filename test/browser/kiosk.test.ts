/**
 * Kiosk mode (?kiosk): no controls, no cursor, nothing to scroll; the compact HUD (frame rate, latency, frame age),
 * the legend and URL notices on screen at 1920x1080, 1280x720 and portrait 1080x1920. Screenshots:
 * test-artifacts/kiosk-<w>x<h>.png.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { openViewer, waitForFrames, writeAtomically, type ServerUnderTest, useViewerFixture } from './harness.ts';
import { REPO_ROOT } from './mock-server.ts';

let server: ServerUnderTest;
let browser: Browser;
// A busy scene on the mock: more classes than the legend shows, the case where the old panel overflowed.
useViewerFixture((s, b) => {
  server = s;
  browser = b;
}, { busyClasses: 30 });

/**
 * Whether `selector` lies wholly inside the viewport and is the topmost thing at its centre and corners (nothing
 * drawn over it). Returns what is wrong, or null.
 */
async function shownProblem(page: Page, selector: string): Promise<string | null> {
  return page.evaluate((sel) => {
    const element = document.querySelector(sel);
    if (element === null) return `${sel}: missing`;
    const r = element.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) return `${sel}: empty box`;
    if (r.top < 0 || r.left < 0 || r.bottom > innerHeight + 0.5 || r.right > innerWidth + 0.5) {
      return `${sel}: box ${r.left},${r.top} - ${r.right},${r.bottom} outside the ${innerWidth}x${innerHeight} viewport`;
    }
    // Inside the rounded corners (hit testing follows border-radius).
    const inset = Math.min(8, r.width / 4, r.height / 4);
    const probes: [number, number][] = [[r.left + r.width / 2, r.top + r.height / 2], [r.left + inset, r.top + inset], [r.right - inset, r.bottom - inset]];
    for (const [x, y] of probes) {
      const top = document.elementFromPoint(x, y);
      if (top === null || !(element === top || element.contains(top))) return `${sel}: covered at ${x},${y} by ${top?.outerHTML.slice(0, 80) ?? 'nothing'}`;
    }
    return null;
  }, selector);
}

const SCREENS = [
  { width: 1920, height: 1080 },
  { width: 1280, height: 720 },
  { width: 1080, height: 1920 },
] as const;

describe('kiosk mode', () => {
  it.each(SCREENS)('shows the compact HUD, the legend and URL notices without scrolling at $width x $height', async (viewport) => {
    // A bad parameter, so a notice must show too.
    const { page, context, errors } = await openViewer(browser, server, '?kiosk&mode=sideways', viewport);
    try {
      await waitForFrames(page, 5);
      // The frame age needs a few acknowledged frames and a stats message.
      await page.waitForFunction(() => /ms median/.test(document.querySelector('[data-testid="hud-age"]')?.textContent ?? ''), undefined, { timeout: 15_000 });
      await page.waitForTimeout(700); // the legend republishes twice a second
      // Saved first, so a failing run leaves the picture of what went wrong.
      const dir = join(REPO_ROOT, 'test-artifacts');
      await mkdir(dir, { recursive: true });
      await writeAtomically(join(dir, `kiosk-${viewport.width}x${viewport.height}.png`), await page.screenshot());

      expect(await page.locator('[data-testid="controls"]').count()).toBe(0);
      expect(await page.locator('input, select').count()).toBe(0);
      expect(await page.evaluate(() => getComputedStyle(document.body).cursor)).toBe('none');
      // Nothing scrolls: the page and the panel fit the screen.
      expect(await page.evaluate(() => document.documentElement.scrollHeight <= innerHeight && document.documentElement.scrollWidth <= innerWidth)).toBe(true);

      const problems: string[] = [];
      for (const selector of ['[data-testid="hud"]', '[data-testid="hud-fps"]', '[data-testid="hud-latency"]', '[data-testid="hud-age"]', '[data-testid="notices"]']) {
        const problem = await shownProblem(page, selector);
        if (problem) problems.push(problem);
      }
      // Every legend row the page lays out is fully on screen (none clipped away below the fold).
      const rows = await page.locator('[data-testid="legend"] li').count();
      expect(rows).toBeGreaterThanOrEqual(5);
      for (let i = 1; i <= rows; i++) {
        const problem = await shownProblem(page, `[data-testid="legend"] li:nth-child(${i})`);
        if (problem) problems.push(problem);
      }
      expect(problems).toEqual([]);
      expect(await page.locator('[data-testid="notices"]').textContent()).toContain('mode: expected one of');
      const fps = await page.locator('[data-testid="hud-fps"]').textContent();
      expect(fps).toMatch(/^\s*\d+(\.\d+)?\s+fps\s*$/);

      // The picture keeps most of the screen.
      const stage = (await page.locator('.stage').boundingBox())!;
      expect(stage.width * stage.height).toBeGreaterThan(viewport.width * viewport.height * 0.5);

      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('shows the controls and a normal cursor without ?kiosk, with the HUD above the legend', async () => {
    const { page, context } = await openViewer(browser, server, '');
    try {
      await waitForFrames(page, 1);
      await page.waitForTimeout(700);
      expect(await page.locator('[data-testid="controls"]').count()).toBe(1);
      expect(await page.evaluate(() => getComputedStyle(document.body).cursor)).not.toBe('none');
      // Reachable without scrolling past the legend: the HUD's numbers are on the first screen.
      expect(await shownProblem(page, '[data-testid="hud-fps"]')).toBeNull();
      const hud = (await page.locator('[data-testid="hud"]').boundingBox())!;
      const legend = (await page.locator('[data-testid="legend"]').boundingBox())!;
      expect(hud.y + hud.height).toBeLessThanOrEqual(legend.y + 0.5);
    } finally {
      await context.close();
    }
  });
});
