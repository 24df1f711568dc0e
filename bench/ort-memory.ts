/**
 * ONNX Runtime's CPU memory arena on or off: speed of the same model with each setting, runs interleaved in one
 * process so machine drift affects both alike (the resident-memory side is bench/footprint.ts).
 *
 *   npx tsx bench/ort-memory.ts [--runs 20] [--threads 0] [--size 512] [--out FILE]
 */
import ort from 'onnxruntime-node';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { defaultConfig } from '../server/app/config.ts';
import { ensureDemoModel } from '../server/model/demo/demo-model.ts';
import { writeFileAtomic } from '../server/util/atomic-write.ts';
import { summarize } from '../server/util/stats.ts';
import { at, lookup } from '../server/util/checked-access.ts';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '20' },
    threads: { type: 'string', default: '0' },
    size: { type: 'string', default: '512' },
    out: { type: 'string', default: 'bench/results/ort-memory.json' },
  },
});

const size = Number(values.size);
const threads = Number(values.threads);
const files = await ensureDemoModel(path.join(defaultConfig(process.cwd()).cacheDir, 'demo-models'), { variant: 'b0', size, classes: 150 });
const variants = { arena: true, 'no-arena': false } as const;
const sessions = new Map<string, ort.InferenceSession>();
for (const [name, arena] of Object.entries(variants)) {
  sessions.set(
    name,
    await ort.InferenceSession.create(files.modelPath, {
      executionProviders: ['cpu'],
      graphOptimizationLevel: 'all',
      enableCpuMemArena: arena,
      ...(threads > 0 ? { intraOpNumThreads: threads, interOpNumThreads: 1 } : {}),
    }),
  );
}
const input = new ort.Tensor('float32', new Float32Array(3 * size * size).fill(0.1), [1, 3, size, size]);
const times = new Map<string, number[]>([...sessions.keys()].map((k) => [k, []]));
for (const [, s] of sessions) await s.run({ [at(s.inputNames, 0, 's.inputNames')]: input }); // warm-up
for (let i = 0; i < Number(values.runs); i++) {
  for (const [name, s] of sessions) {
    const t = performance.now();
    await s.run({ [at(s.inputNames, 0, 's.inputNames')]: input });
    times.get(name)!.push(performance.now() - t);
  }
}
const result = Object.fromEntries([...times].map(([k, v]) => [k, summarize(v)]));
const ratio = lookup(result, 'no-arena', 'results').p50 / lookup(result, 'arena', 'results').p50;
console.log(`median ms: arena ${lookup(result, 'arena', 'results').p50.toFixed(1)}, no arena ${lookup(result, 'no-arena', 'results').p50.toFixed(1)}; no-arena / arena = ${ratio.toFixed(3)}`);
await writeFileAtomic(values.out, `${JSON.stringify({ size, threads, runs: Number(values.runs), ms: result, ratioNoArenaToArena: ratio }, null, 2)}\n`);
for (const s of sessions.values()) await s.release();
