/**
 * Measures the two ways this project has read ONNX graphs, on the real Hugging Face SegFormer-B0 export
 * (15 MB), on the same export with its weights re-encoded as float_data (repeated float, what
 * onnx.helper.make_tensor(..., vals) and some older converters write instead of raw_data) and on the
 * generated B0-shaped demo model:
 *   - walker:     server/model/onnx/reader.ts (a protobuf field walker that skips weight payloads by length,
 *                 onnx-proto only for nodes and value infos) plus the graph view (consumers, producers,
 *                 constants) the toolkit needs;
 *   - onnx-proto: onnx-proto's full ModelProto.decode (every message decoded, weights included) plus the same
 *                 graph view built from the decoded object, as the toolkit's own reader did.
 * Each (reader, model) pair runs in fresh Node processes with --expose-gc (several, the readers interleaved,
 * medians reported), so one cannot warm or pollute the other. Reports cold (first call) and warm (median) time, the heap + ArrayBuffer memory one result keeps
 * alive after GC, and the RSS growth of the first call. Writes bench/results/onnx-readers.json.
 *
 *   npx tsx bench/onnx-readers.ts [--runs 20] [--processes 5] [--model path/to/model.onnx]
 *
 * The reference model defaults to the test fixture copy of the HF export (same sha256 as the shared one).
 */
import { fork } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import onnxProto from 'onnx-proto';
import { writeFileAtomic } from '../server/util/atomic-write.ts';
import { buildDemoModel } from '../server/model/demo/demo-model.ts';
import { buildGraphView } from '../server/model/onnx/graph.ts';
import { readOnnxModel } from '../server/model/onnx/reader.ts';
import { at, first } from '../server/util/checked-access.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const READERS = ['walker', 'onnx-proto'] as const;
type ReaderName = (typeof READERS)[number];

/** onnx-proto's full decode, then the same graph view (what the toolkit's second reader did): only the decoding differs. */
function onnxProtoGraph(bytes: Uint8Array) {
  const model = onnxProto.onnx.ModelProto.decode(bytes);
  const g = model.graph!;
  const graph = buildGraphView({
    nodes: (g.node ?? []).map((n) => ({ opType: n.opType ?? '', domain: n.domain ?? '', name: n.name ?? '', inputs: [...(n.input ?? [])], outputs: [...(n.output ?? [])], attributes: n.attribute ?? [] })),
    initializers: (g.initializer ?? []).map((t) => ({ name: t.name ?? '', dims: (t.dims ?? []).map(Number), dataType: t.dataType ?? 0, external: t.dataLocation === 1, payload: null })),
  });
  return { model, graph };
}

/** The same model with every float32 raw_data initializer stored as float_data instead. */
function asFloatData(bytes: Uint8Array): Uint8Array {
  const model = onnxProto.onnx.ModelProto.decode(bytes);
  for (const t of model.graph!.initializer ?? []) {
    if (t.dataType !== 1 || !t.rawData || t.rawData.length === 0) continue;
    const copy = new Uint8Array(t.rawData);
    t.floatData = Array.from(new Float32Array(copy.buffer, 0, copy.length / 4));
    t.rawData = new Uint8Array(0);
  }
  return onnxProto.onnx.ModelProto.encode(model).finish();
}

function readWith(reader: ReaderName, bytes: Uint8Array, file: string): unknown {
  return reader === 'walker' ? readOnnxModel(bytes, file) : onnxProtoGraph(bytes);
}

interface ChildResult {
  reader: ReaderName;
  model: string;
  fileBytes: number;
  nodes: number;
  coldMs: number;
  medianMs: number;
  minMs: number;
  retainedBytes: number;
  firstCallRssGrowthBytes: number;
}

async function child(reader: ReaderName, file: string, runs: number): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc');
  const bytes = new Uint8Array(await fs.readFile(file));
  gc();
  const rss0 = process.memoryUsage().rss;
  const t0 = performance.now();
  let held: unknown = readWith(reader, bytes, file);
  const coldMs = performance.now() - t0;
  const firstCallRssGrowthBytes = process.memoryUsage().rss - rss0;
  const nodes = (held as { graph: { nodes: unknown[] } }).graph.nodes.length;
  // Let the first result go before the retained-memory measurement below (the assignment is for the collector).
  // eslint-disable-next-line no-useless-assignment
  held = undefined;
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    readWith(reader, bytes, file);
    times.push(performance.now() - t);
  }
  gc();
  gc();
  const mem = () => {
    const m = process.memoryUsage();
    return m.heapUsed + m.arrayBuffers;
  };
  const before = mem();
  held = readWith(reader, bytes, file);
  gc();
  gc();
  const retainedBytes = mem() - before;
  if (!held) throw new Error('unreachable');
  times.sort((a, b) => a - b);
  const result: ChildResult = {
    reader,
    model: file,
    fileBytes: bytes.length,
    nodes,
    coldMs: Math.round(coldMs * 100) / 100,
    medianMs: Math.round(at(times, Math.floor(times.length / 2), 'times') * 100) / 100,
    minMs: Math.round(at(times, 0, 'times') * 100) / 100,
    retainedBytes,
    firstCallRssGrowthBytes,
  };
  process.send!(result);
}

function runChild(reader: ReaderName, file: string, runs: number): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const p = fork(fileURLToPath(import.meta.url), ['--child', reader, file, String(runs)], { execArgv: [...process.execArgv, '--expose-gc'] });
    let got: ChildResult | undefined;
    p.on('message', (m) => (got = m as ChildResult));
    p.on('error', reject);
    p.on('exit', (code) => (got ? resolve(got) : reject(new Error(`${reader} ${file}: child exited ${code} without a result`))));
  });
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === '--child') {
    await child(argv[1] as ReaderName, at(argv, 2, 'argv'), Number(argv[3]));
    return;
  }
  let runs = 20;
  let processes = 5;
  let reference = path.join(ROOT, 'test/fixtures/models/segformer-b0-ade-random/model.onnx');
  for (let i = 0; i < argv.length; i += 2) {
    if (argv[i] === '--runs') runs = Number(argv[i + 1]);
    else if (argv[i] === '--model') reference = path.resolve(at(argv, i + 1, 'argv'));
    else if (argv[i] === '--processes') processes = Number(argv[i + 1]);
    else throw new Error(`unknown argument ${JSON.stringify(argv[i])}; usage: npx tsx bench/onnx-readers.ts [--runs N] [--processes N] [--model file.onnx]`);
  }
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs: expected an integer >= 1, got ${runs}`);
  if (!Number.isInteger(processes) || processes < 1) throw new Error(`--processes: expected an integer >= 1, got ${processes}`);
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'segstream-readers-'));
  const demo = path.join(tmp, 'demo-b0-512.onnx');
  await fs.writeFile(demo, buildDemoModel({ variant: 'b0', size: 512 }));
  const floatData = path.join(tmp, 'hf-float-data.onnx');
  await fs.writeFile(floatData, asFloatData(new Uint8Array(await fs.readFile(reference))));
  const results: (ChildResult & { processes: number; coldMsAll: number[] })[] = [];
  const median = (xs: number[]) => at([...xs].sort((a, b) => a - b), Math.floor(xs.length / 2), 'timings');
  try {
    for (const model of [reference, floatData, demo]) {
      // Fresh processes, the two readers interleaved, so machine load hits both alike; medians across processes.
      const per = new Map<ReaderName, ChildResult[]>(READERS.map((r) => [r, []]));
      for (let i = 0; i < processes; i++) for (const reader of READERS) per.get(reader)!.push(await runChild(reader, model, runs));
      for (const reader of READERS) {
        const all = per.get(reader)!;
        const r = {
          ...first(all, 'reader results'),
          processes,
          coldMsAll: all.map((x) => x.coldMs),
          coldMs: median(all.map((x) => x.coldMs)),
          medianMs: median(all.map((x) => x.medianMs)),
          minMs: Math.min(...all.map((x) => x.minMs)),
          retainedBytes: median(all.map((x) => x.retainedBytes)),
          firstCallRssGrowthBytes: median(all.map((x) => x.firstCallRssGrowthBytes)),
        };
        results.push(r);
        console.log(
          `${path.basename(path.dirname(model))}/${path.basename(model)} ${reader.padEnd(10)} ${(r.fileBytes / 1e6).toFixed(1)} MB, ${r.nodes} nodes (median of ${processes} processes): ` +
            `cold ${r.coldMs} ms, warm median ${r.medianMs} ms (min ${r.minMs}), retained ${(r.retainedBytes / 1e6).toFixed(2)} MB, first-call RSS +${(r.firstCallRssGrowthBytes / 1e6).toFixed(1)} MB`,
        );
      }
    }
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
  const out = path.join(ROOT, 'bench/results/onnx-readers.json');
  await writeFileAtomic(out, `${JSON.stringify({ createdAt: new Date().toISOString(), node: process.version, cpus: os.cpus().length, runs, processes, note: 'shared 2-core machine; other engineers ran tests at the same time', results }, null, 2)}\n`);
  console.log(`wrote ${out}`);
}

await main();
