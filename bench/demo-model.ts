/**
 * Compares the locally generated SegFormer-B0-shaped demo model with a real Hugging Face SegFormer-B0 export:
 * input/output shapes, op-type mix (as stored and after ONNX Runtime's graph optimisation), parameter count,
 * and inference time with onnxruntime-node (CPU) at 1 and 2 intra-op threads, both models in the same run,
 * their runs interleaved so machine load affects both alike. Writes bench/results/demo-model.json.
 *
 *   npx tsx bench/demo-model.ts [--runs 30] [--warmup 3] [--threads 1,2] [--reference path/to/model.onnx]
 *
 * The reference defaults to ../shared/models/segformer-b0-ade-random/model.onnx, else the test fixture copy.
 */
import { promises as fs, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ort from 'onnxruntime-node';
import { writeFileAtomic } from '../server/util/atomic-write.ts';
import { at, first, lookup } from '../server/util/checked-access.ts';
import { buildDemoModel, resolveDemoOptions, type DemoModelOptions } from '../server/model/demo/demo-model.ts';
import { countOps, countParameters, defaultOpset, readOnnxSummary, type OnnxSummary } from '../server/model/onnx/reader.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

interface Args {
  runs: number;
  warmup: number;
  threads: number[];
  reference: string;
  out: string;
}

function parseArgs(argv: string[]): Args {
  const fixtureCopy = path.join(ROOT, 'test/fixtures/models/segformer-b0-ade-random/model.onnx');
  const candidates = [
    path.resolve(ROOT, '../shared/models/segformer-b0-ade-random/model.onnx'),
    '/work/shared/models/segformer-b0-ade-random/model.onnx',
    fixtureCopy,
  ];
  const args: Args = {
    runs: 30,
    warmup: 3,
    threads: [1, 2],
    reference: candidates.find((p) => existsSync(p)) ?? fixtureCopy,
    out: path.join(ROOT, 'bench/results/demo-model.json'),
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    const int = (min: number) => {
      const n = Number(value);
      if (!Number.isInteger(n) || n < min) throw new Error(`${flag}: expected an integer >= ${min}, got ${JSON.stringify(value)}`);
      return n;
    };
    if (flag === '--runs') args.runs = int(1);
    else if (flag === '--warmup') args.warmup = int(0);
    else if (flag === '--threads') {
      args.threads = String(value).split(',').map(Number);
      if (args.threads.some((t) => !Number.isInteger(t) || t < 1)) throw new Error(`--threads: expected e.g. 1,2, got ${JSON.stringify(value)}`);
    } else if (flag === '--reference') args.reference = path.resolve(String(value));
    else if (flag === '--out') args.out = path.resolve(String(value));
    else if (flag === '--help' || flag === '-h') {
      console.log('usage: npx tsx bench/demo-model.ts [--runs N] [--warmup N] [--threads 1,2] [--reference model.onnx] [--out file.json]');
      process.exit(0);
    } else throw new Error(`unknown argument ${JSON.stringify(flag)} (see --help)`);
    i++;
  }
  return args;
}

interface Stats {
  runs: number;
  medianMs: number;
  meanMs: number;
  minMs: number;
  p10Ms: number;
  p90Ms: number;
}

function stats(samples: number[]): Stats {
  const s = [...samples].sort((a, b) => a - b);
  const q = (p: number) => at(s, Math.min(s.length - 1, Math.max(0, Math.round(p * (s.length - 1)))), 'timing samples');
  const round = (v: number) => Math.round(v * 100) / 100;
  return {
    runs: s.length,
    medianMs: round(q(0.5)),
    meanMs: round(s.reduce((a, b) => a + b, 0) / s.length),
    minMs: round(first(s, 'timing samples')),
    p10Ms: round(q(0.1)),
    p90Ms: round(q(0.9)),
  };
}

function describeModel(summary: OnnxSummary) {
  const shape = (v: OnnxSummary['inputs'][number]) => ({ name: v.name, dims: v.dims });
  return {
    opset: defaultOpset(summary),
    producer: `${summary.producerName} ${summary.producerVersion}`.trim(),
    inputs: summary.inputs.filter((i) => !summary.initializers.some((t) => t.name === i.name)).map(shape),
    outputs: summary.outputs.map(shape),
    nodes: summary.nodes.length,
    parameters: countParameters(summary),
    initializers: summary.initializers.length,
    ops: countOps(summary),
  };
}

/** Op counts of the graph ONNX Runtime actually executes (after its optimisations), via optimizedModelFilePath. */
async function optimisedOps(model: Uint8Array, file: string): Promise<Record<string, number> | string> {
  try {
    const session = await ort.InferenceSession.create(model, { graphOptimizationLevel: 'all', optimizedModelFilePath: file, intraOpNumThreads: 1 });
    await session.release();
    const ops = countOps(readOnnxSummary(await fs.readFile(file), file));
    await fs.rm(file, { force: true });
    return ops;
  } catch (err) {
    return `unavailable: ${(err as Error).message}`;
  }
}

function sideBySide(a: Record<string, number>, b: Record<string, number>): { op: string; demo: number; reference: number }[] {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
  return keys
    .map((op) => ({ op, demo: a[op] ?? 0, reference: b[op] ?? 0 }))
    .sort((x, y) => y.reference + y.demo - (x.reference + x.demo) || x.op.localeCompare(y.op));
}

/** A deterministic, image-like normalised input (smooth gradients plus texture), NCHW. */
function makeInput(h: number, w: number): Float32Array {
  const data = new Float32Array(3 * h * w);
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) data[(c * h + y) * w + x] = Math.sin(x * 0.031 + c) * Math.cos(y * 0.017) * 1.8 + Math.sin(x * 0.9 + y * 1.3) * 0.3;
  return data;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const require = createRequire(import.meta.url);
  const ortVersion = (require('onnxruntime-node/package.json') as { version: string }).version;

  const reference = new Uint8Array(await fs.readFile(args.reference));
  const refSummary = readOnnxSummary(reference, args.reference);
  const refIn = describeModel(refSummary).inputs[0];
  const dims = refIn?.dims ?? [];
  if (dims.length !== 4 || typeof dims[2] !== 'number' || typeof dims[3] !== 'number') {
    throw new Error(`${args.reference}: expected a static NCHW input, found ${JSON.stringify(dims)}`);
  }
  const refOut = first(refSummary.outputs, `${args.reference}: outputs`).dims ?? [];
  const classes = typeof refOut[1] === 'number' ? refOut[1] : 150;
  // buildDemoModel takes the options as asked; the resolved ones (defaults filled in) are for the report only,
  // since they carry class-map settings a logits model refuses.
  const demoRequest: DemoModelOptions = { variant: 'b0', size: { height: dims[2], width: dims[3] }, classes };
  const demoOptions = resolveDemoOptions(demoRequest);

  const t0 = performance.now();
  const demo = buildDemoModel(demoRequest);
  const buildMs = performance.now() - t0;
  const demoSummary = readOnnxSummary(demo, 'demo');

  const tmpDir = await fs.mkdtemp(path.join(os.tmpdir(), 'segstream-bench-'));
  const optimisedDemo = await optimisedOps(demo, path.join(tmpDir, 'demo.opt.onnx'));
  const optimisedRef = await optimisedOps(reference, path.join(tmpDir, 'ref.opt.onnx'));
  await fs.rm(tmpDir, { recursive: true, force: true });

  const input = new ort.Tensor('float32', makeInput(dims[2], dims[3]), [1, 3, dims[2], dims[3]]);
  const loadStart = os.loadavg();
  const timing: Record<string, unknown>[] = [];
  for (const threads of args.threads) {
    const opts: ort.InferenceSession.SessionOptions = {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    };
    const sessions = {
      demo: await ort.InferenceSession.create(demo, opts),
      reference: await ort.InferenceSession.create(reference, opts),
    };
    const outDims: Record<string, readonly number[]> = {};
    /** One run: wall-clock ms, and CPU ms of this process (all ORT threads), which other processes disturb less. */
    const once = async (which: 'demo' | 'reference') => {
      const s = sessions[which];
      const cpu0 = process.cpuUsage();
      const t = performance.now();
      const out = await s.run({ [first(s.inputNames, `${which} model inputs`)]: input });
      const ms = performance.now() - t;
      const cpu = process.cpuUsage(cpu0);
      const outputName = first(s.outputNames, `${which} model outputs`);
      outDims[which] = lookup(out, outputName, `${which} model run results`).dims;
      return { ms, cpuMs: (cpu.user + cpu.system) / 1000 };
    };
    for (let i = 0; i < args.warmup; i++) {
      await once('demo');
      await once('reference');
    }
    const wall = { demo: [] as number[], reference: [] as number[] };
    const cpu = { demo: [] as number[], reference: [] as number[] };
    const pairedRatios: number[] = [];
    for (let i = 0; i < args.runs; i++) {
      // Alternate which model goes first so slow drifts in machine load fall on both alike.
      const order: ('demo' | 'reference')[] = i % 2 === 0 ? ['demo', 'reference'] : ['reference', 'demo'];
      const round = { demo: NaN, reference: NaN };
      for (const which of order) {
        const r = await once(which);
        wall[which].push(r.ms);
        cpu[which].push(r.cpuMs);
        round[which] = r.ms;
      }
      pairedRatios.push(round.demo / round.reference);
    }
    await sessions.demo.release();
    await sessions.reference.release();
    const d = stats(wall.demo);
    const r = stats(wall.reference);
    const dc = stats(cpu.demo);
    const rc = stats(cpu.reference);
    const r3 = (v: number) => Math.round(v * 1000) / 1000;
    const ratio = r3(d.medianMs / r.medianMs);
    const ratios = {
      medianWall: ratio,
      p10Wall: r3(d.p10Ms / r.p10Ms),
      medianOfPairedRuns: r3(stats(pairedRatios).medianMs),
      medianCpu: r3(dc.medianMs / rc.medianMs),
    };
    timing.push({
      threads,
      wallMs: { demo: d, reference: r },
      cpuMs: { demo: dc, reference: rc },
      ratiosDemoOverReference: ratios,
      withinFifteenPercent: Object.fromEntries(Object.entries(ratios).map(([k, v]) => [k, Math.abs(v - 1) <= 0.15])),
      outputDims: outDims,
    });
    console.log(
      `threads=${threads}: wall median demo ${d.medianMs} ms / reference ${r.medianMs} ms (p10 ${d.p10Ms} / ${r.p10Ms}); ` +
        `cpu median ${dc.medianMs} / ${rc.medianMs} ms; ratios demo/reference ${JSON.stringify(ratios)}`,
    );
  }

  const demoDesc = describeModel(demoSummary);
  const refDesc = describeModel(refSummary);
  const result = {
    benchmark: 'demo-model',
    command: `npx tsx bench/demo-model.ts ${process.argv.slice(2).join(' ')}`.trim(),
    date: new Date().toISOString(),
    machine: {
      cpu: os.cpus()[0]?.model ?? 'unknown',
      cores: os.cpus().length,
      node: process.version,
      onnxruntimeNode: ortVersion,
      loadAverageBefore: loadStart.map((v) => Math.round(v * 100) / 100),
      loadAverageAfter: os.loadavg().map((v) => Math.round(v * 100) / 100),
      note: 'shared machine: other processes may have been running; compare the ratio, not absolute times',
    },
    reference: { path: args.reference, ...refDesc, ops: undefined },
    demo: { options: demoOptions, buildMs: Math.round(buildMs), ...demoDesc, ops: undefined },
    sameInputShape: JSON.stringify(demoDesc.inputs.map((i) => i.dims)) === JSON.stringify(refDesc.inputs.map((i) => i.dims)),
    sameOutputShape: JSON.stringify(demoDesc.outputs.map((o) => o.dims)) === JSON.stringify(refDesc.outputs.map((o) => o.dims)),
    opsAsStored: sideBySide(demoDesc.ops, refDesc.ops),
    opsAfterOrtOptimisation:
      typeof optimisedDemo === 'string' || typeof optimisedRef === 'string'
        ? { demo: optimisedDemo, reference: optimisedRef }
        : sideBySide(optimisedDemo, optimisedRef),
    timing,
  };
  await writeFileAtomic(args.out, `${JSON.stringify(result, null, 2)}\n`);

  console.log(`\nshapes: input same=${result.sameInputShape}, output same=${result.sameOutputShape}`);
  console.log(`parameters: demo ${demoDesc.parameters}, reference ${refDesc.parameters}`);
  console.log('op type            demo  reference   (as stored)');
  for (const row of result.opsAsStored) console.log(`${row.op.padEnd(24)}${String(row.demo).padStart(5)}${String(row.reference).padStart(11)}`);
  if (Array.isArray(result.opsAfterOrtOptimisation)) {
    console.log('op type            demo  reference   (after ORT optimisation)');
    for (const row of result.opsAfterOrtOptimisation) console.log(`${row.op.padEnd(24)}${String(row.demo).padStart(5)}${String(row.reference).padStart(11)}`);
  }
  console.log(`\nwrote ${path.relative(process.cwd(), args.out)}`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
