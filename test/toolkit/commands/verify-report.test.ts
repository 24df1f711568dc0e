/**
 * The verify HTML report is self-contained (every image inline, nothing fetched) and opens in headless
 * Chromium without console errors; a screenshot is kept in test-artifacts/.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumPath, HEADLESS_CHROMIUM_ARGS } from '../../../server/bench/browser-cost.ts';
import { runVerify, type VerifyReport } from '../../../server/toolkit/commands/verify.ts';
import { demoModel, tempDir, writeImageSet } from '../helpers.ts';

let dir: string;
let report: VerifyReport;
let browser: Browser;

beforeAll(async () => {
  dir = tempDir('verify-html');
  const model = (await demoModel(path.join(dir, 'model'), { size: 128, classes: 12 })).modelPath;
  const images = path.join(dir, 'images');
  await writeImageSet(images, [[320, 240], [200, 200]], 41);
  // A limited-range camera decoded as full range: the report has a finding, a failure and real diffs.
  report = await runVerify({ reference: model, deployedInput: 'nv12', sourceRange: 'limited', decodeRange: 'full', images, out: path.join(dir, 'report'), threads: 1, quiet: true, thresholds: { minAgreement: 0.5 } });
  browser = await chromium.launch({ executablePath: chromiumPath(), args: [...HEADLESS_CHROMIUM_ARGS] });
});

afterAll(async () => {
  await browser?.close();
  await fs.rm(dir, { recursive: true, force: true });
});

describe('verify report.html', () => {
  it('is one self-contained file', async () => {
    const html = await fs.readFile(report.htmlPath!, 'utf8');
    expect(html).not.toMatch(/<script|<link|src="http|url\(http|@import/);
    // 3 pictures per image, all inline PNGs.
    expect(html.match(/<img [^>]*src="data:image\/png;base64,/g)).toHaveLength(3 * report.images.length);
    expect(html).toContain('colour-range-limited-as-full');
  });

  it('opens in headless Chromium without errors and renders every image', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1600 } });
    const problems: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(`file://${path.resolve(report.htmlPath!)}`, { waitUntil: 'load' });
    const images = await page.evaluate(() => Array.from(document.images).map((i) => ({ ok: i.complete && i.naturalWidth > 0, w: i.naturalWidth })));
    expect(images).toHaveLength(3 * report.images.length);
    expect(images.every((i) => i.ok)).toBe(true);
    expect(await page.textContent('.verdict')).toBe('FAIL');
    expect(await page.locator('section.card').count()).toBe(report.images.length);
    expect(problems).toEqual([]);
    expect(requests.filter((u) => !u.startsWith('file:') && !u.startsWith('data:'))).toEqual([]);
    await fs.mkdir('test-artifacts', { recursive: true });
    await page.screenshot({ path: path.join('test-artifacts', 'verify-report.png'), fullPage: true });
    expect((await fs.stat(path.join('test-artifacts', 'verify-report.png'))).size).toBeGreaterThan(10_000);
    await page.close();
  });
});
