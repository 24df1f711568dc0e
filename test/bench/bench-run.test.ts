/** Runs `segstream bench` for a few frames (tiny model, small frames) and checks what it writes. */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { meanInterval } from '../../server/bench/interval.ts';
import { CSV_COLUMNS, formatResult, parseBenchArgs } from '../../server/cli/bench.ts';
import { STAGES } from '../../server/stages/frame-context.ts';
import { tempDir } from '../helpers/media.ts';
import { at } from '../../server/util/checked-access.ts';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');

describe('segstream bench', () => {
  it('writes a JSON datasheet and a CSV row whose stage times add up to the frame time', async () => {
    const dir = tempDir('bench');
    const out = path.join(dir, 'r.json');
    const csv = path.join(dir, 'r.csv');
    const args = ['bin/segstream.js', 'bench', '--size', '320x240', '--model', 'demo', '--demo-size', '64', '--frames', '8', '--warmup', '2', '--model-only-runs', '3', '--json', '--out', out, '--csv', csv, '--cache-dir', path.join(ROOT, '.cache')];
    const { stdout } = await run(process.execPath, args, { cwd: ROOT, maxBuffer: 1 << 24 });
    const printed = JSON.parse(stdout);
    const saved = JSON.parse(readFileSync(out, 'utf8'));
    expect(saved).toEqual(printed);
    const r = saved;
    expect(r.pipeline.frames).toBe(8);
    expect(r.pipeline.warmupFrames).toBe(2);
    expect(r.pipeline.fps).toBeGreaterThan(0);
    for (const stage of STAGES.filter((s) => s !== 'send')) {
      for (const k of ['p50', 'p90', 'p99', 'max', 'mean']) expect(typeof r.pipeline.stages[stage][k], `${stage}.${k}`).toBe('number');
    }
    expect(r.modelOnly.runs).toBe(3);
    expect(r.modelOnly.fps).toBeGreaterThan(0);
    expect(r.endToEndVsModelOnly).toBeCloseTo(r.pipeline.fps / r.modelOnly.fps, 9);
    expect(r.machine.cores).toBeGreaterThan(0);
    expect(r.memory.rssPeakMiB).toBeGreaterThanOrEqual(r.memory.rssEndMiB - 1e-9);
    expect(r.model.untrainedDemo).toBe(true);
    // Every measured frame the headless viewer acknowledged has an age (capture -> received).
    expect(r.frameAge.count).toBeGreaterThan(0);
    expect(r.frameAge.count).toBeLessThanOrEqual(r.pipeline.frames + 2);
    // Stated tolerance: the named stages explain at least 80% of each frame's measured time on average (the
    // rest is hand-off between the main thread, the worker and the thread pool) and never more than all of it.
    expect(r.pipeline.stageSumRatio).toBeGreaterThan(0.8);
    expect(r.pipeline.stageSumRatio).toBeLessThanOrEqual(1.0001);
    const lines = readFileSync(csv, 'utf8').trim().split('\n');
    expect(lines[0]).toBe(CSV_COLUMNS.join(','));
    expect(lines).toHaveLength(2);
    expect(at(lines, 1, 'lines').split(',').length).toBeGreaterThanOrEqual(CSV_COLUMNS.length);
  });

  it('interleaves rounds: each round its own server and model-only segment, per-round ratios, their interval, RSS and the arena setting in JSON, CSV and text', async () => {
    const dir = tempDir('bench-rounds');
    const out = path.join(dir, 'r.json');
    const csv = path.join(dir, 'r.csv');
    const args = ['bin/segstream.js', 'bench', '--size', '320x240', '--demo-size', '64', '--rounds', '3', '--frames', '9', '--warmup', '1', '--model-only-runs', '6', '--memory-arena', 'off', '--json', '--out', out, '--csv', csv, '--cache-dir', path.join(ROOT, '.cache')];
    const { stdout, stderr } = await run(process.execPath, args, { cwd: ROOT, maxBuffer: 1 << 24 });
    const r = JSON.parse(stdout);
    const rounds = r.interleaved.rounds as { round: number; first: string; pipeline: { frames: number; seconds: number; fps: number; frameAgeP99Ms: number | null; rss: { samples: number; minMiB: number; medianMiB: number; maxMiB: number } }; modelOnly: { runs: number; seconds: number; fps: number; p50Ms: number }; e2eVsModelOnly: number; frameAgeP99VsModelP50: number | null }[];
    expect(rounds.map((x) => [x.round, x.first])).toEqual([[1, 'pipeline'], [2, 'model-only'], [3, 'pipeline']]);
    expect(r.interleaved.automatic).toBe(false);
    // Every round has a fresh server (its own log lines) and gets its share of the totals.
    for (const n of [1, 2, 3]) expect(stderr).toContain(`server[${n}]: model: demo`);
    expect(rounds.map((x) => x.pipeline.frames)).toEqual([3, 3, 3]);
    expect(rounds.map((x) => x.modelOnly.runs)).toEqual([2, 2, 2]);
    expect(r.pipeline.frames).toBe(9);
    expect(r.modelOnly.runs).toBe(6);
    // The per-round ratios are the rounds' own figures; the pooled ones are the totals'.
    for (const x of rounds) {
      expect(x.e2eVsModelOnly).toBeCloseTo(x.pipeline.fps / x.modelOnly.fps, 9);
      if (x.frameAgeP99VsModelP50 !== null) expect(x.frameAgeP99VsModelP50).toBeCloseTo(x.pipeline.frameAgeP99Ms! / x.modelOnly.p50Ms, 9);
      expect(x.pipeline.rss.minMiB).toBeLessThanOrEqual(x.pipeline.rss.medianMiB);
      expect(x.pipeline.rss.medianMiB).toBeLessThanOrEqual(x.pipeline.rss.maxMiB);
    }
    expect(r.pipeline.fps).toBeCloseTo(9 / rounds.reduce((a, x) => a + x.pipeline.seconds, 0), 9);
    expect(r.modelOnly.fps).toBeCloseTo(6 / rounds.reduce((a, x) => a + x.modelOnly.seconds, 0), 9);
    expect(r.endToEndVsModelOnly).toBeCloseTo(r.pipeline.fps / r.modelOnly.fps, 9);
    const e2e = meanInterval(rounds.map((x) => x.e2eVsModelOnly));
    expect(r.interleaved.e2eVsModelOnly).toEqual(e2e);
    expect(r.interleaved.e2eVsModelOnly.low).toBeLessThanOrEqual(r.interleaved.e2eVsModelOnly.mean);
    const ages = rounds.map((x) => x.frameAgeP99VsModelP50).filter((v): v is number => v !== null);
    expect(ages.length).toBeGreaterThan(0);
    expect(r.interleaved.frameAgeP99VsModelP50).toEqual(meanInterval(ages));
    // Resident memory over the measured windows, and the arena as asked.
    expect(r.memory.memoryArena).toBe(false);
    expect(r.options.memoryArena).toBe(false);
    expect(r.memory.rss.samples).toBe(rounds.reduce((a, x) => a + x.pipeline.rss.samples, 0));
    expect(r.memory.rss.minMiB).toBe(Math.min(...rounds.map((x) => x.pipeline.rss.minMiB)));
    expect(r.memory.rss.maxMiB).toBe(Math.max(...rounds.map((x) => x.pipeline.rss.maxMiB)));
    expect(r.memory.rssPeakMiB).toBeGreaterThanOrEqual(r.memory.rss.maxMiB);
    expect(r.modelOnly.rssMiB).toBeGreaterThan(0);
    // The measured windows laid end to end on one axis.
    expect(r.series.roundStartS).toHaveLength(3);
    expect(r.series.frameDoneS).toHaveLength(9);
    for (let i = 1; i < 9; i++) expect(r.series.frameDoneS[i]).toBeGreaterThanOrEqual(r.series.frameDoneS[i - 1]);
    expect(r.series.roundStartS[1]).toBeGreaterThan(0);
    expect(r.series.roundStartS[2]).toBeGreaterThan(r.series.roundStartS[1]);

    const [header, row] = readFileSync(csv, 'utf8').trim().split('\n');
    expect(header).toBe(CSV_COLUMNS.join(','));
    const cells = Object.fromEntries(CSV_COLUMNS.map((c, i) => [c, csvCells(row!)[i]]));
    expect(cells).toMatchObject({
      memoryArena: 'off',
      rounds: '3',
      e2eVsModelOnly: r.endToEndVsModelOnly.toFixed(3),
      e2eVsModelOnlyMean: e2e.mean.toFixed(3),
      e2eVsModelOnlyCi95Low: e2e.low!.toFixed(3),
      e2eVsModelOnlyCi95High: e2e.high!.toFixed(3),
      ageP99VsModelP50: r.frameAgeP99VsModel.toFixed(3),
      ageP99VsModelP50Mean: r.interleaved.frameAgeP99VsModelP50.mean.toFixed(3),
      rssMinMiB: r.memory.rss.minMiB.toFixed(1),
      rssMedianMiB: r.memory.rss.medianMiB.toFixed(1),
      rssMaxMiB: r.memory.rss.maxMiB.toFixed(1),
    });

    const text = formatResult(r);
    expect(text).toContain(`rounds:       3 of [pipeline | model-only], order alternating (--rounds); end-to-end / model-only per round: ${rounds.map((x) => x.e2eVsModelOnly.toFixed(3)).join(' ')}`);
    expect(text).toContain(`mean ${e2e.mean.toFixed(3)} (95% CI [${e2e.low!.toFixed(3)}, ${e2e.high!.toFixed(3)}], Student t over 3 rounds)`);
    expect(text).toContain('memory arena off');
  }, 300_000);

  it('ends with the source status, not a hang, when a camera is not there', async () => {
    const args = ['bin/segstream.js', 'bench', '--usb', '/dev/video63', '--size', '320x240', '--demo-size', '64', '--frames', '2', '--model-only-runs', '1', '--cache-dir', path.join(ROOT, '.cache')];
    const failed = await run(process.execPath, args, { cwd: ROOT }).then(() => null, (e: { code: number; stderr: string }) => e);
    expect(failed).not.toBeNull();
    expect(failed!.code).toBe(1);
    expect(failed!.stderr).toMatch(/source-lost for 20 s: .*\/dev\/video63 not found/);
  });

  it('takes one source: the test pattern, a file, or a camera', () => {
    expect(parseBenchArgs([]).options.source).toBe('test');
    expect(parseBenchArgs(['--usb', '/dev/video0']).options).toMatchObject({ source: 'usb', device: '/dev/video0' });
    expect(parseBenchArgs(['--x5-mipi', '/dev/video8']).options).toMatchObject({ source: 'x5-mipi', device: '/dev/video8' });
    expect(parseBenchArgs(['--rtsp', 'rtsp://cam/1']).options).toMatchObject({ source: 'rtsp', url: 'rtsp://cam/1' });
    expect(parseBenchArgs(['--source', 'clip.mp4']).options).toMatchObject({ source: 'file', file: path.resolve('clip.mp4') });
    expect(() => parseBenchArgs(['--source', 'clip.mp4', '--rtsp', 'rtsp://cam/1'])).toThrow('choose one source: got --source and --rtsp');
  });
});

/** The cells of one CSV line (quoted cells may hold commas and doubled quotes). */
function csvCells(line: string): string[] {
  const out: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = at(line, i, 'line');
    if (quoted && c === '"' && line[i + 1] === '"') {
      cell += '"';
      i++;
    } else if (c === '"') {
      quoted = !quoted;
    } else if (c === ',' && !quoted) {
      out.push(cell);
      cell = '';
    } else {
      cell += c;
    }
  }
  out.push(cell);
  return out;
}
