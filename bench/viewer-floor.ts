/**
 * The floor under the viewer's cost: what headless Chromium spends to decode a 1280x720 JPEG (the server's settings)
 * and show it, and nothing else (no WebSocket, no HUD, legend or chart), on a bare page at a fixed rate. Two ways
 * of showing it, alternated: drawImage on a 2D canvas (what the viewer does) and transferFromImageBitmap on a
 * "bitmaprenderer" canvas (no copy into a canvas of its own).
 *
 *   npx tsx bench/viewer-floor.ts [--fps 5] [--seconds 8] [--rounds 3] [--out bench/results/viewer-floor.json]
 */
import path from 'node:path';
import sharp from 'sharp';
import { chromium, type Browser } from 'playwright-core';
import { BrowserCpuMeter, chromiumPath, HEADLESS_CHROMIUM_ARGS, launchedChromiumPid } from '../server/bench/browser-cost.ts';
import { integerFlag, optionalString, parseCommandArgs } from '../server/cli/args.ts';
import { summarize } from '../server/util/stats.ts';
import { jpegOptions } from '../server/stages/render/render.ts';
import { writeFileAtomic } from '../server/util/atomic-write.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const MODES = ['2d', 'bitmaprenderer'] as const;
type Mode = (typeof MODES)[number];

const { values } = parseCommandArgs('bench/viewer-floor.ts', process.argv.slice(2), {
  fps: { type: 'string' },
  seconds: { type: 'string' },
  rounds: { type: 'string' },
  out: { type: 'string' },
});
const fps = integerFlag(values, 'fps', 1, 60, 5);
const seconds = integerFlag(values, 'seconds', 1, 600, 8);
const rounds = integerFlag(values, 'rounds', 1, 100, 3);
const out = optionalString(values, 'out') ?? path.join(ROOT, 'bench', 'results', 'viewer-floor.json');

// A real photo, encoded as the server encodes frames.
const jpeg = await sharp(path.join(ROOT, 'test', 'fixtures', 'golden', 'coffee_1280x720.png')).jpeg(jpegOptions(80)).toBuffer();

interface Measured {
  mode: Mode;
  frames: number;
  msPerFrame: number;
  byTypeMsPerFrame: Record<string, number>;
}

async function measure(browser: Browser, meter: BrowserCpuMeter, mode: Mode): Promise<Measured> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
  try {
    await page.setContent('<html><body style="margin:0;background:#111"><canvas id="view" style="width:960px;height:540px"></canvas></body></html>');
    await page.evaluate(({ base64, mode, everyMs }) => {
      const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      const canvas = document.getElementById('view') as HTMLCanvasElement;
      canvas.width = 960;
      canvas.height = 540;
      const ctx = mode === '2d' ? canvas.getContext('2d', { alpha: false }) : null;
      const renderer = mode === 'bitmaprenderer' ? canvas.getContext('bitmaprenderer') : null;
      const state = window as unknown as { drawn: number };
      state.drawn = 0;
      setInterval(() => {
        void createImageBitmap(new Blob([bytes], { type: 'image/jpeg' })).then((bitmap) => {
          if (ctx !== null) {
            ctx.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
            bitmap.close();
          } else renderer?.transferFromImageBitmap(bitmap);
          state.drawn++;
        });
      }, everyMs);
    }, { base64: jpeg.toString('base64'), mode, everyMs: 1000 / fps });
    const drawn = () => page.evaluate(() => (window as unknown as { drawn: number }).drawn);
    await page.waitForTimeout(1500); // first decodes and the page's own start-up out of the window
    const start = await drawn();
    meter.start();
    await page.waitForTimeout(seconds * 1000);
    const cpu = meter.stop();
    const frames = (await drawn()) - start;
    if (frames < 1) throw new Error(`${mode}: no frame drawn in ${seconds} s`);
    return {
      mode, frames, msPerFrame: (cpu.totalS * 1000) / frames,
      byTypeMsPerFrame: Object.fromEntries(Object.entries(cpu.byTypeS).map(([k, s]) => [k, (s * 1000) / frames])),
    };
  } finally {
    await page.close();
  }
}

const browser = await chromium.launch({ executablePath: chromiumPath(), args: [...HEADLESS_CHROMIUM_ARGS] });
try {
  const pid = launchedChromiumPid();
  if (pid === null) throw new Error('could not find the Chromium process playwright launched');
  const meter = new BrowserCpuMeter(pid);
  const results: (Measured & { round: number })[] = [];
  for (let round = 0; round < rounds; round++) {
    // Alternate which goes first, so a drift within the round favours neither.
    for (const mode of round % 2 === 0 ? MODES : [...MODES].reverse()) {
      const r = await measure(browser, meter, mode);
      console.log(`round ${round + 1} ${mode}: ${r.msPerFrame.toFixed(1)} ms Chromium CPU per drawn frame (${r.frames} frames)`);
      results.push({ round: round + 1, ...r });
    }
  }
  const median = (mode: Mode) => summarize(results.filter((r) => r.mode === mode).map((r) => r.msPerFrame)).p50;
  for (const mode of MODES) console.log(`${mode}: median ${median(mode).toFixed(1)} ms per drawn frame over ${rounds} rounds`);
  await writeFileAtomic(out, `${JSON.stringify({ bench: 'viewer-floor', date: new Date().toISOString(), fps, seconds, jpegBytes: jpeg.length, chromiumArgs: HEADLESS_CHROMIUM_ARGS, medianMsPerFrame: Object.fromEntries(MODES.map((m) => [m, median(m)])), results }, null, 2)}\n`);
  console.log(`wrote ${out}`);
} finally {
  await browser.close();
}
