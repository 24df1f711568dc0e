/** Server controls: refused without the token (and the UI says so), applied with it; ?token= is read and hidden. */
import { describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { openViewer, shootPage, waitForFrames, type ServerUnderTest, useViewerFixture } from './harness.ts';

let server: ServerUnderTest;
let browser: Browser;
useViewerFixture((s, b) => {
  server = s;
  browser = b;
});

describe('controls', () => {
  it('are refused without the token and the UI shows the refusal', async () => {
    const { page, context } = await openViewer(browser, server);
    try {
      await waitForFrames(page, 1);
      // A viewer without the token still sees everything.
      expect(await page.locator('[data-testid="legend"] li').count()).toBeGreaterThan(0);
      const quality = page.locator('[data-testid="control-quality"]');
      const before = await quality.inputValue();
      await quality.fill('35'); // fires input and change, which sends the control
      const result = page.locator('[data-testid="control-result"]');
      await expect.poll(() => result.getAttribute('data-pending'), { timeout: 10_000 }).toBe('false');
      expect(await result.getAttribute('data-ok')).toBe('false');
      expect(await result.textContent()).toMatch(/Refused/);
      expect(await result.getAttribute('role')).toBe('alert');
      // The slider goes back to the server's value.
      expect(await quality.inputValue()).toBe(before);
      if (server.mock) {
        expect(server.mock.settings().jpegQuality).toBe(80);
        const sent = server.mock.received.filter((m) => m.type === 'control');
        expect(sent).toHaveLength(1);
        expect(sent[0]).toMatchObject({ type: 'control', token: '', action: 'set-jpeg-quality', value: 35 });
      }

      // A wrong token is refused too.
      await page.locator('[data-testid="token"]').fill('not-the-token');
      const source = page.locator('[data-testid="control-source"]');
      const sourceBefore = await source.inputValue();
      const other = (await source.locator('option').allTextContents()).find((name) => name !== sourceBefore);
      if (other !== undefined) {
        await source.selectOption(other);
        await expect.poll(() => result.getAttribute('data-pending'), { timeout: 10_000 }).toBe('false');
        expect(await result.getAttribute('data-ok')).toBe('false');
        expect(await source.inputValue()).toBe(sourceBefore);
      }
      await shootPage(page, 'controls-refused');
    } finally {
      await context.close();
    }
  });

  it('are applied with the token from ?token=, which is then removed from the address bar', async () => {
    const { page, context } = await openViewer(browser, server, `?token=${encodeURIComponent(server.token)}`);
    try {
      await waitForFrames(page, 1);
      expect(new URL(page.url()).searchParams.has('token')).toBe(false);
      expect(await page.locator('[data-testid="token"]').inputValue()).toBe(server.token);
      const result = page.locator('[data-testid="control-result"]');
      const quality = page.locator('[data-testid="control-quality"]');
      await quality.fill('60');
      await expect.poll(() => result.getAttribute('data-ok'), { timeout: 10_000 }).toBe('true');
      expect(await result.textContent()).toMatch(/Applied/);
      expect(await quality.inputValue()).toBe('60');
      if (server.mock) expect(server.mock.settings().jpegQuality).toBe(60);

      // Switching the source: the server says hello again and the HUD follows.
      const source = page.locator('[data-testid="control-source"]');
      const options = await source.locator('option').allTextContents();
      const other = options.find((name) => name !== 'test' && name !== (server.mock?.settings().source ?? ''));
      if (other !== undefined) {
        await source.selectOption(other);
        await expect.poll(() => result.textContent(), { timeout: 10_000 }).toMatch(/Applied: set-source/);
        await expect.poll(() => page.locator('[data-testid="hud-source"]').textContent(), { timeout: 10_000 }).toContain(other);
      }
    } finally {
      await context.close();
    }
  });
});
