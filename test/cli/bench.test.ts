// `segstream bench`: flag errors, the flags it shares with serve (old spellings still work, with a note), a
// missing development package reported before anything runs, and a real run whose results land outside the
// checkout, with an HTML datasheet that real Chromium renders (screenshot in test-artifacts/).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { benchOutputs, parseBenchArgs } from '../../server/cli/bench.ts';
import { chromiumPath, HEADLESS_CHROMIUM_ARGS } from '../../server/bench/browser-cost.ts';
import { benchModelName } from '../../server/bench/run.ts';
import { STAGES } from '../../server/stages/frame-context.ts';
import { tempDir } from '../helpers/media.ts';
import { cli, lines, ROOT, run } from './helpers.ts';
import { at } from '../../server/util/checked-access.ts';

const HELP = '(see segstream bench --help)';
const DEV_DEPS = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> }).devDependencies;

describe('segstream bench: usage errors (exit 2, one line naming the flag)', () => {
  const cases: [string[], string][] = [
    [['--frames', '-5'], '--frames: expected an integer from 2 to 1000000, got "-5"'],
    [['--frames', '1'], '--frames: expected an integer from 2 to 1000000, got "1"'],
    [['--frames'], '--frames: expected a value'],
    [['--warmup', '-1'], '--warmup: expected an integer from 0 to 10000, got "-1"'],
    [['--duration', '0'], '--duration: expected an integer from 1 to 86400, got "0"'],
    [['--fps', '300'], '--fps: expected an integer from 0 to 240, got "300"'],
    [['--demo-size', '16'], '--demo-size: expected an integer from 32 to 2048, got "16"'],
    [['--peers', 'all'], '--peers: expected an integer from 0 to 10000, got "all"'],
    [['--overlay', 'maybe'], '--overlay: expected one of client, server, got "maybe"'],
    [['--postprocess', 'fast'], '--postprocess: expected one of boundary, exact, lowres, got "fast"'],
    [['--backend', 'bpu'], '--backend bpu needs --model with the .bin file(s)'],
    [['--size', 'big'], '--size: expected WIDTHxHEIGHT such as 1280x720, got "big"'],
    [['--file', 'a.mp4', '--rtsp', 'rtsp://cam/1'], 'choose one source: got --file and --rtsp'],
    [['--fps', '10', '--source-fps', '10'], '--source-fps is the old spelling of --fps: give one'],
    [['--jpegQuality', '90'], 'unknown option --jpegQuality (did you mean --jpeg-quality?)'],
    [['--json=yes'], '--json: takes no value'],
  ];
  for (const [args, message] of cases) {
    it(args.join(' '), async () => {
      const r = await cli('bench', ...args);
      expect(r.code).toBe(2);
      expect(lines(r.stderr)).toEqual([`segstream bench: ${message} ${HELP}`]);
    });
  }
});

describe('segstream bench: the same flags as serve', () => {
  it('--file, --fps and --overlay client|server; the old --source FILE, --source-fps and on|off still work', () => {
    const now = parseBenchArgs(['--file', 'clip.mp4', '--fps', '0', '--overlay', 'client']);
    const old = parseBenchArgs(['--source', 'clip.mp4', '--source-fps', '0', '--overlay', 'off']);
    expect(old.options).toEqual(now.options);
    expect(now.options).toMatchObject({ source: 'file', file: path.resolve('clip.mp4'), sourceFps: 0, overlay: false });
    expect(now.deprecations).toEqual([]);
    expect(old.deprecations).toEqual([
      ['--overlay off', '--overlay client'],
      ['--source clip.mp4', '--file clip.mp4'],
      ['--source-fps', '--fps'],
    ]);
    expect(parseBenchArgs(['--overlay', 'on']).options.overlay).toBe(true);
    expect(parseBenchArgs([]).options).toMatchObject({ source: 'test', overlay: true, model: 'demo' });
  });

  it('prints the deprecation notes, then fails on the missing file (exit 1) before measuring anything', async () => {
    const missing = path.join(tempDir('bench-missing'), 'clip.mp4');
    const r = await cli('bench', '--source', missing, '--overlay', 'off');
    expect(r.code).toBe(1);
    expect(lines(r.stderr)).toEqual([
      'segstream bench: --overlay off is deprecated; use --overlay client',
      `segstream bench: --source ${missing} is deprecated; use --file ${missing}`,
      `segstream bench: --file: ${missing} does not exist`,
    ]);
  });

  it('names the model as the user named it', () => {
    expect(benchModelName('demo')).toBe('demo');
    expect(benchModelName('models/segformer-b0-ade/model.onnx')).toBe('segformer-b0-ade');
    expect(benchModelName('hub/nvidia--segformer/onnx/model_quantized.onnx')).toBe('nvidia--segformer');
    expect(benchModelName('/x/seg.bin,/x/seg2.bin')).toBe('seg');
  });
});

describe('segstream bench --peers on a production install', () => {
  it('says which development package is missing and how to install it, before running anything (exit 1)', async () => {
    const r = await run(['bench', '--peers', '2', '--frames', '2'], {
      nodeArgs: ['--import', path.join(ROOT, 'test/cli/fixtures/hide-packages.mjs')],
      env: { SEGSTREAM_TEST_HIDE: '@huggingface/transformers' },
    });
    expect(r.code).toBe(1);
    expect(lines(r.stderr)).toEqual([
      `segstream bench: --peers needs the package @huggingface/transformers, a development dependency that a production install (npm ci --omit=dev) leaves out: install it with \`npm install --no-save @huggingface/transformers@${DEV_DEPS['@huggingface/transformers']}\`, or run without --peers`,
    ]);
  });

  it('--browser likewise names playwright-core', async () => {
    const r = await run(['bench', '--browser', '--frames', '2'], {
      nodeArgs: ['--import', path.join(ROOT, 'test/cli/fixtures/hide-packages.mjs')],
      env: { SEGSTREAM_TEST_HIDE: 'playwright-core' },
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('segstream bench: --browser needs the package playwright-core, a development dependency');
  });
});

describe('segstream bench: where results go', () => {
  it('a new folder under $XDG_CACHE_HOME by default; a folder or a .json file with --out; --csv appends', () => {
    const at = new Date('2026-12-02T18:04:05.678Z');
    expect(benchOutputs(undefined, undefined, at, { XDG_CACHE_HOME: '/c' })).toEqual({
      json: '/c/segstream/bench/2026-12-02T18-04-05Z/bench.json',
      html: '/c/segstream/bench/2026-12-02T18-04-05Z/report.html',
      csv: '/c/segstream/bench/2026-12-02T18-04-05Z/bench.csv',
    });
    expect(benchOutputs('/r/run1', undefined, at, {}).html).toBe('/r/run1/report.html');
    expect(benchOutputs('/r/e2e.json', '/r/bench.csv', at, {})).toEqual({ json: '/r/e2e.json', html: '/r/e2e.html', csv: '/r/bench.csv', appendCsv: '/r/bench.csv' });
  });

  it('a real run leaves the checkout untouched and writes JSON, CSV and an HTML datasheet that Chromium renders', async () => {
    const cache = tempDir('bench-xdg');
    const status = () => execFileSync('git', ['status', '--porcelain', '--untracked-files=all'], { cwd: ROOT, encoding: 'utf8' });
    const before = status();
    const r = await run(
      ['bench', '--size', '320x240', '--fps', '15', '--demo-size', '64', '--frames', '40', '--warmup', '2', '--model-only-runs', '3', '--cache-dir', path.join(ROOT, '.cache')],
      { env: { XDG_CACHE_HOME: cache }, timeoutMs: 300_000 },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(status()).toBe(before);
    const runs = readdirSync(path.join(cache, 'segstream', 'bench'));
    expect(runs).toHaveLength(1);
    const dir = path.join(cache, 'segstream', 'bench', at(runs, 0, 'runs'));
    expect(readdirSync(dir).sort()).toEqual(['bench.csv', 'bench.json', 'report.html']);
    expect(r.stderr).toContain(`bench: datasheet: ${path.join(dir, 'report.html')}`);
    const result = JSON.parse(readFileSync(path.join(dir, 'bench.json'), 'utf8'));
    expect(result.model.name).toBe('demo');
    expect(r.stdout).toMatch(/^model: {3}demo \(pixel_values /m);
    expect(readFileSync(path.join(dir, 'bench.csv'), 'utf8').trim().split('\n')).toHaveLength(2);
    expect(result.series.frameDoneS).toHaveLength(result.pipeline.frames);
    expect(result.series.frameAgeMs.length).toBe(result.frameAge.count);

    const browser = await chromium.launch({
      executablePath: chromiumPath(),
      args: [...HEADLESS_CHROMIUM_ARGS],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 900, height: 900 } });
      const requests: string[] = [];
      page.on('request', (req) => requests.push(req.url()));
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`file://${path.join(dir, 'report.html')}`);
      expect(await page.title()).toBe('segstream bench: demo');
      expect(await page.textContent('#model-name')).toBe('demo');
      const stageCount = STAGES.filter((s) => result.pipeline.stages[s]).length;
      expect(await page.locator('g.stage').count()).toBe(stageCount + 2); // + frame total + frame age
      expect(await page.locator('g.fps-bar').count()).toBe(2);
      expect(await page.locator('rect.age-bin').count()).toBe(30);
      const cdfPoints = await page.locator('polyline.cdf').getAttribute('points');
      expect(cdfPoints!.trim().split(/\s+/)).toHaveLength(result.series.frameAgeMs.length);
      // The bars are drawn where they should be: p50 bar of `infer` is the widest of the pipeline stages.
      const widths = await page.$$eval('g.stage', (gs) => gs.map((g) => [g.getAttribute('data-stage'), Number(g.querySelectorAll('rect')[1]!.getAttribute('width'))] as const));
      const inferWidth = widths.find(([s]) => s === 'infer')![1];
      const byP50 = STAGES.filter((s) => result.pipeline.stages[s]).sort((a, b) => result.pipeline.stages[b].p50 - result.pipeline.stages[a].p50);
      expect(widths.find(([s]) => s === byP50[0])![1]).toBeGreaterThanOrEqual(inferWidth);
      expect(requests).toEqual([`file://${path.join(dir, 'report.html')}`]);
      expect(errors).toEqual([]);
      mkdirSync(path.join(ROOT, 'test-artifacts', 'bench'), { recursive: true });
      const shot = path.join(ROOT, 'test-artifacts', 'bench', 'report.png');
      await page.screenshot({ path: shot, fullPage: true });
      expect(existsSync(shot)).toBe(true);
    } finally {
      await browser.close();
    }
  });
});
