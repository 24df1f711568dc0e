/**
 * Viewer compositor benchmark: 2D canvas vs WebGL2, same frames, same Chromium, one run.
 *
 *   npx tsx bench/viewer-compositor.ts [--out test-artifacts/bench/viewer-compositor.json] [--iterations 60] [--chromium-arg=--enable-gpu]...
 *
 * In-page part: bench/viewer/compositor-bench.ts (kept out of test/: a benchmark, not a test).
 *
 * Writes JSON with per-case medians and the webgl/2d ratio. Extra Chromium flags let the same bench run with a
 * real GPU (e.g. on the board) instead of this machine's software rendering.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';
import { chromium } from 'playwright-core';
import { chromiumPath, HEADLESS_CHROMIUM_ARGS } from '../server/bench/browser-cost.ts';
import { integerFlag, optionalString, parseCommandArgs } from '../server/cli/args.ts';
import type { BenchCase, BenchResult } from './viewer/compositor-bench.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function parseArgs(argv: string[]) {
  const { values } = parseCommandArgs('bench/viewer-compositor.ts', argv, {
    out: { type: 'string' },
    iterations: { type: 'string' },
    'chromium-arg': { type: 'string', multiple: true },
  });
  return {
    out: resolve(optionalString(values, 'out') ?? join(ROOT, 'test-artifacts', 'bench', 'viewer-compositor.json')),
    iterations: integerFlag(values, 'iterations', 10, 100_000, 60),
    chromiumArgs: (values['chromium-arg'] as string[] | undefined) ?? [],
  };
}

async function bundle(): Promise<string> {
  const output = await build({
    configFile: false,
    root: ROOT,
    logLevel: 'warn',
    build: {
      write: false,
      minify: false,
      lib: { entry: join(ROOT, 'bench', 'viewer', 'compositor-bench.ts'), formats: ['iife'], name: 'SegstreamBench', fileName: 'bench' },
    },
  });
  const result = Array.isArray(output) ? output[0] : output;
  if (result === undefined) throw new Error('vite build returned an empty list of outputs');
  if (!('output' in result)) throw new Error('vite build did not return output');
  const chunk = result.output.find((item) => item.type === 'chunk');
  if (!chunk || chunk.type !== 'chunk') throw new Error('vite build produced no chunk');
  return chunk.code;
}

let parsed: ReturnType<typeof parseArgs>;
try {
  parsed = parseArgs(process.argv.slice(2));
} catch (err) {
  // Usage errors of this script, in the same words as segstream's commands (cli/args.ts).
  process.stderr.write(`bench/viewer-compositor.ts: ${(err as Error).message} (usage: see the top of bench/viewer-compositor.ts)\n`);
  process.exit(2);
}
const { out, iterations, chromiumArgs } = parsed;
const code = await bundle();
const args = chromiumArgs.includes('--enable-gpu') ? HEADLESS_CHROMIUM_ARGS.filter((a) => a !== '--disable-gpu') : HEADLESS_CHROMIUM_ARGS;
const browser = await chromium.launch({ executablePath: chromiumPath(), args: [...args, ...chromiumArgs.filter((a) => a !== '--enable-gpu')] });
const cases: BenchCase[] = [
  { frameWidth: 1280, frameHeight: 720, mapWidth: 128, mapHeight: 128, canvasWidth: 1280, canvasHeight: 720, mode: 'overlay', iterations },
  { frameWidth: 1280, frameHeight: 720, mapWidth: 1280, mapHeight: 720, canvasWidth: 1280, canvasHeight: 720, mode: 'overlay', iterations },
  { frameWidth: 1280, frameHeight: 720, mapWidth: 128, mapHeight: 128, canvasWidth: 1920, canvasHeight: 1080, mode: 'side-by-side', iterations },
  { frameWidth: 640, frameHeight: 480, mapWidth: 128, mapHeight: 128, canvasWidth: 390, canvasHeight: 292, mode: 'overlay', iterations },
];
const results: { case: BenchCase; results: BenchResult[]; ratioWebglTo2d: { draw: number; finished: number } }[] = [];
try {
  const page = await browser.newPage();
  await page.setContent('<!doctype html><html><body style="margin:0"></body></html>');
  await page.addScriptTag({ content: code });
  for (const c of cases) {
    const r = (await page.evaluate((benchCase) => (window as unknown as { SegstreamBench: { run(c: unknown): Promise<unknown> } }).SegstreamBench.run(benchCase), c)) as BenchResult[];
    const twoD = r.find((x) => x.renderer === '2d')!;
    const gl = r.find((x) => x.renderer === 'webgl')!;
    const entry = { case: c, results: r, ratioWebglTo2d: { draw: gl.drawMedianMs / twoD.drawMedianMs, finished: gl.finishedMedianMs / twoD.finishedMedianMs } };
    results.push(entry);
    const label = `${c.frameWidth}x${c.frameHeight} frame, ${c.mapWidth}x${c.mapHeight} map -> ${c.canvasWidth}x${c.canvasHeight} ${c.mode}`;
    console.log(`${label}\n  2d:    draw ${twoD.drawMedianMs.toFixed(2)} ms, finished ${twoD.finishedMedianMs.toFixed(2)} ms (p90 ${twoD.finishedP90Ms.toFixed(2)})\n  webgl: draw ${gl.drawMedianMs.toFixed(2)} ms, finished ${gl.finishedMedianMs.toFixed(2)} ms (p90 ${gl.finishedP90Ms.toFixed(2)})  [${gl.rendererInfo}]\n  webgl/2d finished ratio ${entry.ratioWebglTo2d.finished.toFixed(2)}`);
  }
} finally {
  await browser.close();
}
await mkdir(dirname(out), { recursive: true });
const temp = `${out}.${process.pid}.tmp`;
await writeFile(temp, JSON.stringify({ bench: 'viewer-compositor', date: new Date().toISOString(), chromiumArgs: [...args, ...chromiumArgs], results }, null, 2));
await rename(temp, out);
console.log(`wrote ${out}`);
