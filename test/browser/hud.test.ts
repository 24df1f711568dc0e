/**
 * The HUD's numbers as a visitor reads them: a slow stream (the mock at 1 frame/s) reads about 1 fps, never
 * "0.0"; the source's GStreamer framerate fraction reads as "N fps", with no dangling separator.
 */
import { describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { openViewer, shootPage, waitForFrames, type ServerUnderTest, useViewerFixture } from './harness.ts';

let server: ServerUnderTest;
let browser: Browser;
useViewerFixture((s, b) => {
  server = s;
  browser = b;
}, { fps: 1 }, { source: 'still' });

describe('HUD numbers', () => {
  it('reads a slow stream at its rate and the source framerate as fps', async () => {
    const { page, context, errors } = await openViewer(browser, server, '');
    try {
      // Four frames at 1/s; then sample the HUD (republished twice a second) over the next seconds.
      await waitForFrames(page, 4, 0, 30_000);
      const readings: string[] = [];
      for (let i = 0; i < 6; i++) {
        readings.push((await page.locator('[data-testid="hud-fps"] strong').textContent())?.trim() ?? '');
        await page.waitForTimeout(400);
      }
      const expected = server.mock ? 1 : 10; // the real server's "still" source runs at 10 fps
      for (const reading of readings) {
        expect(reading, `readings ${readings.join(', ')}`).not.toMatch(/^0(\.0+)?$/);
        // The mock's 1/s timer holds on a busy machine; the real pipeline there may fall behind its 10 fps, then
        // catch up in a burst.
        expect(Number(reading), `readings ${readings.join(', ')}`).toBeLessThan(server.mock ? 1.4 : 25);
        expect(Number(reading), `readings ${readings.join(', ')}`).toBeGreaterThan(server.mock ? 0.6 : 1);
      }
      const source = (await page.locator('[data-testid="hud-source"]').textContent()) ?? '';
      expect(source).toMatch(new RegExp(`at ${expected} fps`));
      expect(source).not.toMatch(/\d+\/\d+/); // no raw GStreamer fraction
      expect(source.trim()).not.toMatch(/[·,]$/); // no dangling separator
      // Every separator stands between spaces, in the whole panel ("30 fps·bt601" was seen when markup trimmed one).
      const panel = await page.locator('.panel').innerText();
      expect(panel.match(/\S·|·(?!\s)/g) ?? [], panel).toEqual([]);
      const fpsLine = (await page.locator('[data-testid="hud-fps"]').textContent()) ?? '';
      expect(fpsLine).toMatch(/fps/);
      expect(fpsLine).not.toMatch(/·\s*$/);
      // The chart names its lines plainly, with no axis numbers glued to the names.
      const caption = (await page.locator('[data-testid="chart"] figcaption').textContent()) ?? '';
      expect(caption).toContain('frames drawn per second');
      expect(caption).toContain('model latency');
      expect(caption).not.toMatch(/top \d/);
      await shootPage(page, 'hud-slow-stream');
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
