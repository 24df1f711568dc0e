/**
 * What the built viewer costs Chromium per drawn frame: the viewer (built here with source maps) in headless
 * Chromium against the mock server (test/browser/mock-server.ts) at 1280x720, a fixed number of frames per round.
 *
 *   npx tsx bench/viewer.ts [--frames 60] [--rounds 3] [--fps 10] [--mode overlay] [--smooth 0] [--renderer auto]
 *                           [--map 1280x720] [--no-overlaid] [--viewport 1280x720] [--reduced-motion]
 *                           [--url http://127.0.0.1:8080/] [--out bench/results/viewer.json]
 *
 * Each round has two windows of --frames drawn frames: one with nothing attached, timed by /proc CPU of the whole
 * Chromium process tree (the figure), then one with a DevTools trace and a JavaScript sampling profile (the
 * breakdown; tracing costs CPU of its own, so it is never in the timed window). By default the mock sends what the
 * real server sends by default: the overlay drawn into the JPEG and a full-size class map.
 *
 * --url measures a running server instead of the mock (e.g. `segstream serve --static-dir
 * test-artifacts/bench/viewer-client`, the build this script makes, so profiles resolve to source files);
 * --reduced-motion asks the page for prefers-reduced-motion (what animations and transitions cost).
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';
import { chromium, type Page } from 'playwright-core';
import { integerFlag, optionalString, parseCommandArgs } from '../server/cli/args.ts';
import { BrowserCpuMeter, chromiumPath, formatBreakdown, HEADLESS_CHROMIUM_ARGS, launchedChromiumPid, recordViewerCost, type BrowserCpu, type ViewerCostBreakdown } from '../server/bench/browser-cost.ts';
import { startMockServer } from '../test/browser/mock-server.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function size(name: string, raw: string | undefined, fallback: [number, number]): [number, number] {
  if (raw === undefined) return fallback;
  const match = /^(\d+)x(\d+)$/.exec(raw);
  if (!match) throw new Error(`--${name}: expected WIDTHxHEIGHT, e.g. 1280x720, got "${raw}"`);
  return [Number(match[1]), Number(match[2])];
}

function parseArgs(argv: string[]) {
  const { values } = parseCommandArgs('bench/viewer.ts', argv, {
    frames: { type: 'string' },
    rounds: { type: 'string' },
    fps: { type: 'string' },
    mode: { type: 'string' },
    smooth: { type: 'string' },
    renderer: { type: 'string' },
    map: { type: 'string' },
    viewport: { type: 'string' },
    'no-overlaid': { type: 'boolean' },
    'reduced-motion': { type: 'boolean' },
    url: { type: 'string' },
    out: { type: 'string' },
  });
  return {
    frames: integerFlag(values, 'frames', 5, 100_000, 60),
    rounds: integerFlag(values, 'rounds', 1, 100, 3),
    fps: integerFlag(values, 'fps', 1, 60, 10),
    mode: optionalString(values, 'mode') ?? 'overlay',
    smooth: optionalString(values, 'smooth') ?? '0',
    renderer: optionalString(values, 'renderer') ?? 'auto',
    map: size('map', optionalString(values, 'map'), [1280, 720]),
    viewport: size('viewport', optionalString(values, 'viewport'), [1280, 720]),
    overlaid: values['no-overlaid'] !== true,
    reducedMotion: values['reduced-motion'] === true,
    url: optionalString(values, 'url'),
    out: resolve(optionalString(values, 'out') ?? join(ROOT, 'bench', 'results', 'viewer.json')),
  };
}

async function buildViewer(outDir: string): Promise<void> {
  // The project's own build, plus source maps so profile samples can be traced back to source files.
  await build({ configFile: join(ROOT, 'vite.config.ts'), logLevel: 'warn', build: { outDir, emptyOutDir: true, sourcemap: true } });
}

async function framesDrawn(page: Page): Promise<number> {
  return page.evaluate(() => (window as unknown as { __segstream?: { framesDrawn: number } }).__segstream?.framesDrawn ?? 0);
}

/** Waits (polling from Node, 4 times a second, so the page does no extra work) until `count` more frames are drawn. */
async function drawnFrames(page: Page, count: number, fps: number): Promise<number> {
  const start = await framesDrawn(page);
  const deadline = Date.now() + 60_000 + (count / fps) * 20_000;
  for (;;) {
    await new Promise((r) => setTimeout(r, 250));
    const now = await framesDrawn(page);
    if (now - start >= count) return now - start;
    if (Date.now() > deadline) throw new Error(`bench/viewer.ts: the viewer drew ${now - start} of ${count} frames in time`);
  }
}

interface Round {
  frames: number;
  cpu: BrowserCpu;
  msPerFrame: number;
  byTypeMsPerFrame: Record<string, number>;
  breakdown: ViewerCostBreakdown;
}

let options: ReturnType<typeof parseArgs>;
try {
  options = parseArgs(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`bench/viewer.ts: ${(err as Error).message} (usage: see the top of bench/viewer.ts)\n`);
  process.exit(2);
}

const clientDir = join(ROOT, 'test-artifacts', 'bench', 'viewer-client');
await buildViewer(clientDir);
const server = options.url !== undefined
  ? { url: options.url, stop: async () => undefined }
  : await startMockServer({
    fps: options.fps, frameWidth: 1280, frameHeight: 720, mapWidth: options.map[0], mapHeight: options.map[1], overlaid: options.overlaid, staticDir: clientDir, token: '',
  });
const browser = await chromium.launch({ executablePath: chromiumPath(), args: [...HEADLESS_CHROMIUM_ARGS] });
const rounds: Round[] = [];
try {
  const pid = launchedChromiumPid();
  if (pid === null) throw new Error('bench/viewer.ts: cannot find the Chromium process playwright started');
  const meter = new BrowserCpuMeter(pid);
  const page = await browser.newPage({ viewport: { width: options.viewport[0], height: options.viewport[1] }, reducedMotion: options.reducedMotion ? 'reduce' : 'no-preference' });
  const query = new URLSearchParams({ mode: options.mode, smooth: options.smooth, renderer: options.renderer });
  await page.goto(new URL(`?${query.toString()}`, server.url).href);
  await drawnFrames(page, Math.max(10, options.fps * 2), options.fps); // warm-up: JIT, first layout, caches
  for (let r = 0; r < options.rounds; r++) {
    meter.start();
    const frames = await drawnFrames(page, options.frames, options.fps);
    const cpu = meter.stop();
    const recording = await recordViewerCost(page);
    const traced = await drawnFrames(page, options.frames, options.fps);
    const breakdown = await recording.stop(traced);
    const byTypeMsPerFrame = Object.fromEntries(Object.entries(cpu.byTypeS).map(([k, s]) => [k, (s * 1000) / frames]));
    const round: Round = { frames, cpu, msPerFrame: (cpu.totalS * 1000) / frames, byTypeMsPerFrame, breakdown };
    rounds.push(round);
    console.log(`round ${r + 1}: ${round.msPerFrame.toFixed(1)} ms Chromium CPU per drawn frame (${frames} frames in ${cpu.wallS.toFixed(1)} s = ${(frames / cpu.wallS).toFixed(2)} fps; ${(cpu.totalS / cpu.wallS).toFixed(2)} cores; ${formatBreakdown(byTypeMsPerFrame)})`);
    console.log(`  trace (thread ms/frame): ${formatBreakdown(breakdown.tracePerFrameMs)}`);
    console.log(`  script (sampled ms/frame${breakdown.scriptAttributed ? '' : ', no source maps'}): ${formatBreakdown(breakdown.scriptPerFrameMs)}`);
  }
} finally {
  await browser.close();
  await server.stop();
}

const perFrame = rounds.map((r) => r.msPerFrame).sort((a, b) => a - b);
const median = perFrame[Math.floor(perFrame.length / 2)]!;
console.log(`Chromium CPU per drawn frame: median ${median.toFixed(1)} ms over ${rounds.length} rounds (min ${perFrame[0]!.toFixed(1)}, max ${perFrame[perFrame.length - 1]!.toFixed(1)})`);
await mkdir(dirname(options.out), { recursive: true });
const temp = `${options.out}.${process.pid}.tmp`;
const { out: _out, ...settings } = options;
await writeFile(temp, JSON.stringify({ bench: 'viewer-cost', date: new Date().toISOString(), settings, chromiumArgs: HEADLESS_CHROMIUM_ARGS, medianMsPerFrame: median, rounds }, null, 2));
await rename(temp, options.out);
console.log(`wrote ${options.out}`);
