/** Runs `segstream bench` for a few frames (tiny model, small frames) and checks what it writes. */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { CSV_COLUMNS, parseBenchArgs } from '../../server/cli/bench.ts';
import { STAGES } from '../../server/stages/frame-context.ts';
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
    expect(lines[1]!.split(',').length).toBeGreaterThanOrEqual(CSV_COLUMNS.length);
  });

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
