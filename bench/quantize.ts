/**
 * The quantization benchmark for docs/quantization.md, in one run on the demo SegFormer-B0 (512x512, 150
 * classes, untrained):
 *   1. `segstream quantize --target cpu` all int8, and with --sensitivity (the measured int16 set for a
 *      target agreement), both calibrated and scored on the golden photos (test/fixtures/golden);
 *   2. `segstream bench --compare-quantized` for each: float vs QDQ end-to-end and model-only (also
 *      interleaved), ONNX Runtime's integer kernels, and verify's class-map agreement on the golden photos.
 * Writes bench/results/quantize-demo.json and copies each quantize.json / report.html next to it.
 *
 *   npx tsx bench/quantize.ts [--target-agreement 0.99] [--variant b0|tiny] [--frames 60] [--skip-sensitivity]
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_BENCH } from '../server/bench/run.ts';
import { machineFacts } from '../server/bench/machine.ts';
import { ensureDemoModel } from '../server/model/demo/demo-model.ts';
import { runQuantizedComparison, type QuantizedComparison } from '../server/toolkit/quantize/bench-compare.ts';
import { runQuantize, type QuantizeOptions, type QuantizeReport } from '../server/toolkit/quantize/quantize.ts';
import { writeQuantizeReports } from '../server/toolkit/quantize/report.ts';
import { writeFileAtomic } from '../server/util/atomic-write.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const GOLDEN_PHOTOS = ['chelsea.png', 'coffee_1280x720.png', 'grass.png', 'rocket_1920x1080.png'];

function arg(argv: string[], flag: string): string | undefined {
  const i = argv.indexOf(flag);
  return i >= 0 ? argv[i + 1] : undefined;
}

async function main(argv: string[]): Promise<void> {
  const target = Number(arg(argv, '--target-agreement') ?? 0.99);
  const variant = (arg(argv, '--variant') ?? 'b0') as 'b0' | 'tiny';
  const frames = Number(arg(argv, '--frames') ?? 60);
  const outDir = path.resolve(arg(argv, '--out') ?? path.join(ROOT, 'bench/results'));
  const log = (l: string) => process.stderr.write(`${l}\n`);
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'segstream-bench-quantize-'));
  const started = new Date().toISOString();
  const loadStart = os.loadavg();
  try {
    const photos = path.join(work, 'golden');
    await fs.mkdir(photos);
    for (const p of GOLDEN_PHOTOS) await fs.copyFile(path.join(ROOT, 'test/fixtures/golden', p), path.join(photos, p));
    const demo = await ensureDemoModel(path.join(ROOT, '.cache'), { variant, ...(variant === 'b0' ? { size: 512, classes: 150 } : {}) });
    log(`bench/quantize: float model ${demo.modelPath}`);

    const base: QuantizeOptions = { model: demo.modelPath, images: photos, calibrator: 'max', target: 'cpu', out: '', threads: 2, maxEvalImages: GOLDEN_PHOTOS.length };
    const runs: { label: string; report: QuantizeReport; seconds: number }[] = [];
    for (const [label, extra] of [
      ['all-int8', {}],
      ...(argv.includes('--skip-sensitivity') ? [] : [['measured', { sensitivity: true, targetAgreement: target }]]),
    ] as [string, Partial<QuantizeOptions>][]) {
      const t = performance.now();
      const run = await runQuantize({ ...base, ...extra, out: path.join(work, label) });
      await writeQuantizeReports(run);
      const seconds = (performance.now() - t) / 1000;
      runs.push({ label, report: run.report, seconds });
      const keep = path.join(outDir, `quantize-demo-${variant}-cpu-${label}`);
      await fs.mkdir(keep, { recursive: true });
      for (const f of ['quantize.json', 'report.html']) await fs.copyFile(path.join(work, label, f), path.join(keep, f));
      log(`bench/quantize: ${label}: ${run.report.output.counts.nodes.int8} int8 / ${run.report.output.counts.nodes.int16} int16 / ${run.report.output.counts.nodes.float} float nodes, worst-image agreement ${(run.report.score.worstAgreement * 100).toFixed(2)}% (${seconds.toFixed(0)} s)`);
    }

    const comparisons: { label: string; comparison: QuantizedComparison }[] = [];
    for (const r of runs) {
      const comparison = await runQuantizedComparison(
        { ...DEFAULT_BENCH, model: demo.modelPath, backend: 'onnx', demoVariant: variant, demoSize: 512, frames, threads: 2, cacheDir: path.join(ROOT, '.cache'), log },
        { quantized: path.join(work, r.label, 'model.onnx'), accuracyImages: photos },
      );
      comparisons.push({ label: r.label, comparison });
      log(`bench/quantize: ${r.label}: model-only ${comparison.speedup.modelOnly.toFixed(2)}x (interleaved ${comparison.speedup.modelOnlyInterleaved.toFixed(2)}x), end-to-end ${comparison.speedup.endToEnd.toFixed(2)}x, agreement ${((comparison.accuracy?.agreement ?? NaN) * 100).toFixed(2)}%`);
    }

    const result = {
      tool: 'bench/quantize.ts',
      startedAt: started,
      finishedAt: new Date().toISOString(),
      machine: machineFacts(),
      load: { start: loadStart, end: os.loadavg(), note: 'shared 2-core machine: other engineers ran tests and builds during the measurement' },
      model: { path: demo.modelPath, variant, untrainedDemo: true },
      targetAgreement: target,
      quantize: runs.map((r) => ({
        label: r.label,
        seconds: r.seconds,
        nodes: r.report.output.counts.nodes,
        score: r.report.score,
        search: r.report.search ? { reached: r.report.search.reached, int16: r.report.search.int16, float: r.report.search.float, steps: r.report.search.history.length } : null,
        sensitivity: r.report.sensitivity ? { evaluations: r.report.sensitivity.evaluations, seconds: r.report.sensitivity.seconds, top: r.report.sensitivity.ranked.slice(0, 15).map((u) => ({ rank: u.rank, kind: u.kind, label: u.label, worstAgreement: u.score.worstAgreement, cosine: u.score.cosine })) } : null,
      })),
      comparisons: comparisons.map(({ label, comparison: c }) => ({
        label,
        speedup: c.speedup,
        float: { modelOnlyFps: c.float.modelOnly.fps, modelOnlyP50Ms: c.float.modelOnly.ms.p50, endToEndFps: c.float.pipeline.fps },
        quantized: { modelOnlyFps: c.quantized.modelOnly.fps, modelOnlyP50Ms: c.quantized.modelOnly.ms.p50, endToEndFps: c.quantized.pipeline.fps },
        interleaved: c.interleaved,
        optimisedGraph: c.optimisedGraph,
        accuracy: c.accuracy,
        load: c.load,
      })),
    };
    const file = path.join(outDir, `quantize-demo-${variant}.json`);
    await writeFileAtomic(file, `${JSON.stringify(result, null, 2)}\n`);
    log(`bench/quantize: wrote ${path.relative(process.cwd(), file)}`);
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}

main(process.argv.slice(2)).catch((err) => {
  process.stderr.write(`bench/quantize: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
