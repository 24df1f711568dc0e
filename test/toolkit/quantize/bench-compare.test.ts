/**
 * `segstream bench --compare-quantized`: float and QDQ model timed in one run (end-to-end, model-only,
 * interleaved model-only), ONNX Runtime's own optimised graph of the CPU-target model holding integer
 * kernels, and the accuracy cost from verify beside the speed. Numbers are checked for consistency, never
 * against wall-clock limits.
 */
import { execFile } from 'node:child_process';
import { promises as fs, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseBenchArgs } from '../../../server/cli/bench.ts';
import { ensureDemoModel } from '../../../server/model/demo/demo-model.ts';
import type { QuantizedComparison } from '../../../server/toolkit/quantize/bench-compare.ts';
import { optimisedOps } from '../../../server/toolkit/quantize/bench-compare.ts';
import { tempDir } from '../../helpers/media.ts';
import { writeImageSet } from '../helpers.ts';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../../..');
let dir: string;
let floatModel: string;
let images: string;
let quantized: string;

beforeAll(async () => {
  dir = tempDir('bench-compare');
  floatModel = (await ensureDemoModel(path.join(dir, 'float'), { variant: 'tiny', size: 64, classes: 8, seed: 5 })).modelPath;
  images = path.join(dir, 'images');
  await writeImageSet(images, [[96, 64], [64, 64], [80, 60]], 3);
  quantized = path.join(dir, 'q');
  await run(process.execPath, ['bin/segstream.js', 'quantize', '--model', floatModel, '--images', images, '--out', quantized, '--target', 'cpu', '--quiet', '--no-html'], { cwd: ROOT });
}, 300_000);

afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('bench --compare-quantized', () => {
  it('times both models in one run and reports the accuracy cost beside the speed', async () => {
    const out = path.join(dir, 'cmp.json');
    const csv = path.join(dir, 'cmp.csv');
    const args = ['bin/segstream.js', 'bench', '--size', '320x240', '--model', floatModel, '--compare-quantized', path.join(quantized, 'model.onnx'), '--accuracy-images', images, '--frames', '4', '--warmup', '1', '--model-only-runs', '3', '--json', '--out', out, '--csv', csv, '--cache-dir', path.join(ROOT, '.cache')];
    const { stdout } = await run(process.execPath, args, { cwd: ROOT, maxBuffer: 1 << 26 });
    const c = JSON.parse(stdout) as QuantizedComparison;
    expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual(c);
    expect(c.float.model.path).toBe(floatModel);
    expect(c.quantized.model.path).toBe(path.join(quantized, 'model.onnx'));
    expect(c.quantizedSummary).toMatchObject({ tool: 'segstream quantize', target: 'cpu' });
    for (const r of [c.float, c.quantized]) {
      expect(r.pipeline.frames).toBe(4);
      expect(r.modelOnly.runs).toBe(3);
    }
    // The ratios are the measured numbers' ratios.
    expect(c.speedup.modelOnly).toBeCloseTo(c.quantized.modelOnly.fps / c.float.modelOnly.fps, 9);
    expect(c.speedup.endToEnd).toBeCloseTo(c.quantized.pipeline.fps / c.float.pipeline.fps, 9);
    expect(c.interleaved.runs).toBe(20);
    expect(c.interleaved.floatMs.count).toBe(20);
    expect(c.speedup.modelOnlyInterleaved).toBeCloseTo(c.interleaved.floatMs.p50 / c.interleaved.quantizedMs.p50, 9);
    // ONNX Runtime's optimised graph: integer kernels for the QDQ model, none for the float one.
    expect(c.optimisedGraph.quantized.integerKernels).toBeGreaterThan(10);
    expect(c.optimisedGraph.float.integerKernels).toBe(0);
    // The accuracy cost, from verify (3 images, image-size class maps).
    expect(c.accuracy!.images).toHaveLength(3);
    expect(c.accuracy!.agreement).toBeGreaterThan(0);
    expect(c.accuracy!.agreement).toBeLessThanOrEqual(1);
    expect(c.accuracy!.worstAgreement).toBeLessThanOrEqual(c.accuracy!.agreement);
    expect(c.accuracy!.execution).toMatch(/target cpu.*integer kernels/);
    expect(readFileSync(csv, 'utf8').trim().split('\n')).toHaveLength(3); // header + float + quantized
  }, 600_000);

  it('names the kernels ONNX Runtime fused for a CPU-target model', async () => {
    const ops = await optimisedOps(path.join(quantized, 'model.onnx'), 1);
    expect(Object.keys(ops.ops).some((k) => /QLinearConv|QLinearMatMul/.test(k))).toBe(true);
    expect(ops.integerKernels).toBeGreaterThan(0);
  });

  it('refuses combinations that make no sense', () => {
    expect(() => parseBenchArgs(['--accuracy-images', 'x'])).toThrow(/--accuracy-images applies to --compare-quantized/);
    expect(() => parseBenchArgs(['--compare-quantized', 'q.onnx', '--backend', 'bpu', '--model', 'm.bin'])).toThrow(/compares two ONNX models on the CPU/);
    // Each run writes into its own folder (outside the checkout unless --out names one).
    expect(parseBenchArgs(['--compare-quantized', 'q.onnx'])).toMatchObject({ compareQuantized: expect.stringMatching(/q\.onnx$/), out: undefined });
  });
});
