/** The legend lists the classes the server reported, with live shares summing to ~100 %; highlight and hide. */
import { describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { colourShare, decodeRgb, diagnostics, freezePicture, meanAbsDiff, openViewer, settle, shootStage, waitForFrames, type ServerUnderTest, useViewerFixture } from './harness.ts';
import { MOCK_CLASSES } from './mock-scene.ts';
import { ADE20K_LABELS } from '../../server/model/demo/ade20k-labels.ts';
import { at, first } from '../../server/util/checked-access.ts';

let server: ServerUnderTest;
let browser: Browser;
  // A still picture, so screenshots differ only by what the test changes.
useViewerFixture((s, b) => {
  server = s;
  browser = b;
}, { motion: false }, { source: 'still' });

async function legendRows(page: Page): Promise<{ id: number; share: number; text: string; name: string }[]> {
  // Class rows only (the folded "other" row has no class id).
  // In document order (see legend-order.test.ts on page.$$eval).
  return page.evaluate(() =>
    Array.from(document.querySelectorAll('[data-testid="legend"] li[data-class-id]'), (li) => ({ id: Number(li.getAttribute('data-class-id')), share: Number(li.getAttribute('data-share')), text: li.querySelector('[data-testid="share"]')?.textContent ?? '', name: li.querySelector('.name')?.textContent ?? '' })),
  );
}

describe('legend', () => {
  it('lists the reported classes, sorted, with shares that sum to ~100 %', async () => {
    const { page, context, errors } = await openViewer(browser, server);
    try {
      await waitForFrames(page, 5);
      await settle(page, 1500);
      const rows = await legendRows(page);
      const reported = (await diagnostics(page)).lastClasses;
      const total = reported.reduce((sum, [, n]) => sum + n, 0);
      // Every class with a visible share in the latest frame is listed (the average may still hold fading ones).
      for (const [id, count] of reported) if (count / total > 0.005) expect(rows.map((r) => r.id)).toContain(id);
      const other = await page.$$eval('[data-testid="legend-other"]', (items) => items.map((li) => Number(li.getAttribute('data-share'))));
      const sum = rows.reduce((s, r) => s + r.share, 0) + other.reduce((s, x) => s + x, 0);
      expect(sum).toBeGreaterThan(0.985);
      expect(sum).toBeLessThan(1.015);
      const shownSum = rows.reduce((s, r) => s + Number.parseFloat(r.text), 0) + other.reduce((s, x) => s + x * 100, 0);
      expect(Math.abs(shownSum - 100)).toBeLessThan(1.5);
      // rows.slice(1)[i] follows rows[i]: each share at most its predecessor's.
      for (const [i, row] of rows.slice(1).entries()) expect(row.share).toBeLessThanOrEqual(at(rows, i, 'legend rows').share + 0.01);
      // Names come from the server's class names.
      // Read with the rows (one snapshot): the real model's shares move, so the list may change between reads.
      const names = rows.map((r) => r.name);
      expect(names.every((n) => n.length > 0)).toBe(true);
      if (server.kind === 'real') {
        // The real server runs the demo model, which carries ADE20K's names: never a bare "class 12".
        expect(names.filter((n) => /^class \d+$/.test(n))).toEqual([]);
        expect(names).toEqual(rows.map((r) => ADE20K_LABELS[r.id]));
      }
      if (server.mock) {
        // The mock scene's exact shares.
        const expected = new Map<number, number>([[MOCK_CLASSES.sky, 0.4375], [MOCK_CLASSES.floor, 0.375], [MOCK_CLASSES.building, 0.125], [MOCK_CLASSES.person, 0.0625]]);
        expect(rows.map((r) => r.id)).toEqual([...expected.keys()]);
        for (const row of rows) expect(row.share).toBeCloseTo(expected.get(row.id)!, 3);
        expect(names).toEqual(['sky', 'floor', 'building', 'person']);
      }
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('highlights one class on hover and tap, and hides a class', async () => {
    const { page, context } = await openViewer(browser, server, '?opacity=1');
    try {
      await waitForFrames(page, 3);
      await freezePicture(page);
      const palette = (await diagnostics(page)).hello!.palette;
      const baseline = await shootStage(page, 'legend-all-classes');
      const baselineAgain = await shootStage(page, 'legend-all-classes-again');
      // The noise floor: the same view shot twice (zero while frozen).
      const noise = await meanAbsDiff(baseline, baselineAgain);
      const rows = await legendRows(page);
      const target = first(rows, 'legend rows').id;
      const others = rows.slice(1).filter((r) => r.share > 0.05).map((r) => r.id);
      // At opacity 1 a class's palette colour marks exactly its pixels.
      const cover = async (png: Buffer, id: number) => colourShare(await decodeRgb(png), at(palette, id, 'hello palette'), 4);
      expect(await cover(baseline, target)).toBeGreaterThan(0.05);

      const entry = page.locator(`[data-testid="legend"] li[data-class-id="${target}"] .entry`);
      await entry.hover();
      await page.waitForTimeout(300);
      const hovered = await shootStage(page, 'legend-hover-highlight');
      expect(await meanAbsDiff(baseline, hovered)).toBeGreaterThan(noise * 2 + 2);
      expect(await cover(hovered, target)).toBeCloseTo(await cover(baseline, target), 2);
      for (const id of others) expect(await cover(hovered, id), `class ${id} while highlighting ${target}`).toBeLessThan(0.005);
      const second = rows[1];
      if (second !== undefined) {
        await expect.poll(async () => page.locator(`[data-testid="legend"] li[data-class-id="${second.id}"]`).getAttribute('class')).toContain('is-dimmed');
      }

      // Tap (click) pins the highlight; it survives the pointer leaving.
      await entry.click();
      await page.mouse.move(5, 5);
      await page.waitForTimeout(300);
      expect(await entry.getAttribute('aria-pressed')).toBe('true');
      const pinned = await shootStage(page, 'legend-pinned-highlight');
      for (const id of others) expect(await cover(pinned, id)).toBeLessThan(0.005);
      await entry.click();
      expect(await entry.getAttribute('aria-pressed')).toBe('false');

      // Hide the biggest class: its colour leaves the picture, the others stay.
      const hide = page.locator(`[data-testid="legend"] li[data-class-id="${target}"] .hide`);
      await hide.click();
      expect(await hide.getAttribute('aria-pressed')).toBe('true');
      await page.mouse.move(5, 5);
      await page.waitForTimeout(300);
      const hidden = await shootStage(page, 'legend-hidden-class');
      expect(await meanAbsDiff(baseline, hidden)).toBeGreaterThan(noise * 2 + 2);
      expect(await cover(hidden, target)).toBeLessThan(0.005);
      for (const id of others) expect(await cover(hidden, id)).toBeCloseTo(await cover(baseline, id), 2);
      await page.getByRole('button', { name: 'Show all classes' }).click();
      await page.waitForTimeout(300);
      const restored = await shootStage(page, 'legend-restored');
      expect(await meanAbsDiff(baseline, restored)).toBeLessThan(noise * 2 + 1);
    } finally {
      await context.close();
    }
  });
});
