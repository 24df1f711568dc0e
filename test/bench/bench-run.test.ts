/** Runs `segstream bench` for a few frames (tiny model, small frames) and checks what it writes. */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { CSV_COLUMNS } from '../../server/bench/bench-cli.ts';
import { STAGES } from '../../server/frame.ts';
import { tempDir } from '../helpers/media.ts';

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
    // Stated tolerance: the named stages explain at least 80% of each frame's measured time on average (the
    // rest is hand-off between the main thread, the worker and the thread pool) and never more than all of it.
    expect(r.pipeline.stageSumRatio).toBeGreaterThan(0.8);
    expect(r.pipeline.stageSumRatio).toBeLessThanOrEqual(1.0001);
    const lines = readFileSync(csv, 'utf8').trim().split('\n');
    expect(lines[0]).toBe(CSV_COLUMNS.join(','));
    expect(lines).toHaveLength(2);
    expect(lines[1]!.split(',').length).toBeGreaterThanOrEqual(CSV_COLUMNS.length);
  });
});
