/**
 * `segstream bench --compare-quantized <qdq.onnx>`: the float model and its QDQ model timed in one run
 * - the whole chain (end-to-end) and the model alone for each, as `segstream bench` measures one model,
 * - then model-only again with the two sessions interleaved run by run (float, quantized, float, ...), so a
 *   change in machine load hits both alike and their ratio holds,
 * and the accuracy cost beside the speed: `segstream verify` of the quantized model against the float one
 * on the given images (logit cosine, class-map agreement at each image's size, mIoU).
 * It also reports which operators ONNX Runtime turned into integer kernels (from its optimised graph).
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ort from 'onnxruntime-node';
import { runBench, type BenchOptions, type BenchResult } from '../../bench/run.ts';
import { loadModelInfo } from '../../model/load.ts';
import { summarize, type Summary } from '../../util/stats.ts';
import { onnx, type ModelProto } from './onnx-tensors.ts';
import { readQdqSummary } from './qdq-model-info.ts';

export interface QuantizedComparisonOptions {
  /** The QDQ model (its config files next to it, as segstream quantize writes them). */
  quantized: string;
  /** Images for the accuracy cost (a directory of photos); none = no accuracy section. */
  accuracyImages?: string;
  /** Interleaved model-only runs per model (default 20). */
  interleavedRuns?: number;
}

export interface OptimisedOps {
  /** Op type -> count in ONNX Runtime's optimised graph (domain-qualified outside ai.onnx). */
  ops: Record<string, number>;
  /** Integer kernels: QLinear*, MatMulInteger*, ConvInteger, DynamicQuantize* ... */
  integerKernels: number;
  /** QuantizeLinear/DequantizeLinear left around float operators. */
  quantizeDequantize: number;
  /** Compute operators still running in float (not data movement). */
  floatCompute: Record<string, number>;
}

export interface QuantizedComparison {
  startedAt: string;
  float: BenchResult;
  quantized: BenchResult;
  quantizedSummary: Record<string, unknown> | null;
  interleaved: { runs: number; threads: number; floatMs: Summary; quantizedMs: Summary; speedup: number };
  speedup: { modelOnly: number; modelOnlyInterleaved: number; endToEnd: number };
  optimisedGraph: { float: OptimisedOps; quantized: OptimisedOps };
  accuracy: {
    images: string[];
    cosine: number | null;
    worstCosine: number | null;
    agreement: number;
    worstAgreement: number;
    meanIoU: number;
    postprocess: string;
    execution: string;
  } | null;
  load: { start: number[]; end: number[] };
}

const INTEGER_OPS = /^(QLinear|MatMulInteger|ConvInteger|DynamicQuantize|QGemm|QAttention|QEmbed|QOrderedMatMul|MatMulIntegerToFloat)/;
const DATA_MOVEMENT = new Set(['Transpose', 'Reshape', 'Shape', 'Slice', 'Concat', 'Squeeze', 'Unsqueeze', 'Gather', 'Identity', 'Cast', 'Constant', 'ReorderInput', 'ReorderOutput', 'Flatten', 'Expand']);

/** The op mix of ONNX Runtime's optimised graph for a model (written with optimizedModelFilePath). */
export async function optimisedOps(model: string, threads: number): Promise<OptimisedOps> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'segstream-opt-'));
  const file = path.join(dir, 'optimised.onnx');
  try {
    const s = await ort.InferenceSession.create(model, { graphOptimizationLevel: 'all', optimizedModelFilePath: file, ...(threads ? { intraOpNumThreads: threads } : {}), logSeverityLevel: 3 });
    await s.release();
    const m = onnx.ModelProto.decode(await fs.readFile(file)) as ModelProto;
    const ops: Record<string, number> = {};
    for (const n of m.graph?.node ?? []) {
      const key = n.domain && n.domain !== 'ai.onnx' ? `${n.domain}.${n.opType}` : (n.opType ?? '');
      ops[key] = (ops[key] ?? 0) + 1;
    }
    let integerKernels = 0;
    let quantizeDequantize = 0;
    const floatCompute: Record<string, number> = {};
    for (const [k, v] of Object.entries(ops)) {
      const op = k.split('.').pop()!;
      if (INTEGER_OPS.test(op)) integerKernels += v;
      else if (op === 'QuantizeLinear' || op === 'DequantizeLinear') quantizeDequantize += v;
      else if (!DATA_MOVEMENT.has(op)) floatCompute[k] = v;
    }
    return { ops, integerKernels, quantizeDequantize, floatCompute };
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

async function interleave(floatModel: string, quantModel: string, inputName: string, shape: number[], threads: number, runs: number) {
  const opts: ort.InferenceSession.SessionOptions = { executionProviders: ['cpu'], graphOptimizationLevel: 'all', executionMode: 'sequential', ...(threads > 0 ? { intraOpNumThreads: threads, interOpNumThreads: 1 } : {}) };
  const a = await ort.InferenceSession.create(floatModel, opts);
  const b = await ort.InferenceSession.create(quantModel, opts);
  try {
    let seed = 1;
    const data = new Float32Array(shape.reduce((x, y) => x * y, 1));
    for (let i = 0; i < data.length; i++) data[i] = ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) * 4 - 2;
    const feeds = { [inputName]: new ort.Tensor('float32', data, shape) };
    for (let i = 0; i < 2; i++) {
      await a.run(feeds);
      await b.run(feeds);
    }
    const fa: number[] = [];
    const fb: number[] = [];
    for (let i = 0; i < runs; i++) {
      // Alternate which goes first, so neither always follows the other's cache footprint.
      const order = i % 2 === 0 ? [a, b] : [b, a];
      for (const s of order) {
        const t = performance.now();
        await s.run(feeds);
        (s === a ? fa : fb).push(performance.now() - t);
      }
    }
    const floatMs = summarize(fa);
    const quantizedMs = summarize(fb);
    return { runs, threads, floatMs, quantizedMs, speedup: floatMs.p50 / quantizedMs.p50 };
  } finally {
    await a.release();
    await b.release();
  }
}

export async function runQuantizedComparison(bench: BenchOptions, o: QuantizedComparisonOptions): Promise<QuantizedComparison> {
  const quantized = path.resolve(o.quantized);
  await fs.access(quantized).catch(() => {
    throw new Error(`--compare-quantized ${o.quantized}: no such file (write one with segstream quantize)`);
  });
  const summary = (await readQdqSummary(quantized)) ?? null;
  if (!summary) bench.log(`bench: ${quantized} carries no segstream quantize metadata; comparing it anyway`);
  const loadStart = os.loadavg();
  bench.log('bench: float model');
  const float = await runBench(bench);
  bench.log(`bench: quantized model ${quantized}`);
  const quant = await runBench({ ...bench, model: quantized, backend: 'onnx' });
  const info = await loadModelInfo(float.model.path);
  const { height: h, width: w } = info.input;
  const inputShape = info.input.layout === 'NCHW' ? [1, 3, h, w] : [1, h, w, 3];
  const inputName = info.input.name;
  bench.log(`bench: model-only interleaved, ${o.interleavedRuns ?? 20} runs each`);
  const interleaved = await interleave(float.model.path, quantized, inputName, inputShape, bench.threads, o.interleavedRuns ?? 20);
  const optimisedGraph = { float: await optimisedOps(float.model.path, bench.threads), quantized: await optimisedOps(quantized, bench.threads) };

  let accuracy: QuantizedComparison['accuracy'] = null;
  if (o.accuracyImages) {
    bench.log(`bench: accuracy on ${o.accuracyImages} (segstream verify)`);
    const { runVerify } = await import('../commands/verify.ts');
    const out = await fs.mkdtemp(path.join(os.tmpdir(), 'segstream-bench-verify-'));
    try {
      const r = await runVerify({ reference: float.model.path, deployed: quantized, images: o.accuracyImages, out, noHtml: true, quiet: true, ...(bench.threads ? { threads: bench.threads } : {}) });
      accuracy = {
        images: r.images.map((i) => i.image),
        cosine: r.overall.logits?.cosine ?? null,
        worstCosine: r.overall.worstCosine,
        agreement: r.overall.classMap.agreement,
        worstAgreement: r.overall.worstAgreement,
        meanIoU: r.overall.classMap.meanIoU,
        postprocess: r.postprocess,
        execution: r.deployed.note ?? 'ONNX Runtime, all optimisations',
      };
    } finally {
      await fs.rm(out, { recursive: true, force: true });
    }
  }
  return {
    startedAt: float.startedAt,
    float,
    quantized: quant,
    quantizedSummary: summary,
    interleaved,
    speedup: { modelOnly: quant.modelOnly.fps / float.modelOnly.fps, modelOnlyInterleaved: interleaved.speedup, endToEnd: quant.pipeline.fps / float.pipeline.fps },
    optimisedGraph,
    accuracy,
    load: { start: loadStart, end: os.loadavg() },
  };
}

export function formatComparison(c: QuantizedComparison): string {
  const f = c.float;
  const q = c.quantized;
  const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
  const lines = [
    `segstream bench --compare-quantized  ${c.startedAt}`,
    `machine: ${f.machine.cpuModel}, ${f.machine.cores} cores; onnxruntime-node ${f.machine.onnxruntime}; load average ${c.load.start.map((x) => x.toFixed(2)).join(' ')} at start, ${c.load.end.map((x) => x.toFixed(2)).join(' ')} at the end`,
    `float:     ${f.model.path}${f.model.untrainedDemo ? ' (untrained demo model)' : ''}`,
    `quantized: ${q.model.path}${c.quantizedSummary ? ` (segstream quantize: target ${String(c.quantizedSummary.target ?? '?')}, nodes ${JSON.stringify(c.quantizedSummary.nodes ?? {})})` : ''}`,
    '',
    `                      float        quantized    quantized/float`,
    `model-only fps        ${f.modelOnly.fps.toFixed(2).padEnd(13)}${q.modelOnly.fps.toFixed(2).padEnd(13)}${c.speedup.modelOnly.toFixed(2)}x`,
    `model-only p50 ms     ${f.modelOnly.ms.p50.toFixed(1).padEnd(13)}${q.modelOnly.ms.p50.toFixed(1).padEnd(13)}`,
    `interleaved p50 ms    ${c.interleaved.floatMs.p50.toFixed(1).padEnd(13)}${c.interleaved.quantizedMs.p50.toFixed(1).padEnd(13)}${c.speedup.modelOnlyInterleaved.toFixed(2)}x (${c.interleaved.runs} runs each, alternating)`,
    `end-to-end fps        ${f.pipeline.fps.toFixed(2).padEnd(13)}${q.pipeline.fps.toFixed(2).padEnd(13)}${c.speedup.endToEnd.toFixed(2)}x`,
    '',
    `ONNX Runtime's optimised quantized graph: ${c.optimisedGraph.quantized.integerKernels} integer kernels, ${c.optimisedGraph.quantized.quantizeDequantize} Q/DQ left, float compute: ${Object.entries(c.optimisedGraph.quantized.floatCompute).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}`,
  ];
  if (c.accuracy) {
    const a = c.accuracy;
    lines.push(
      `accuracy (segstream verify, ${a.images.length} images, ${a.postprocess} post-processing): cosine ${a.cosine?.toFixed(5) ?? '-'} (worst ${a.worstCosine?.toFixed(5) ?? '-'}), class-map agreement ${pct(a.agreement)} (worst image ${pct(a.worstAgreement)}), mIoU ${a.meanIoU.toFixed(4)}`,
    );
  }
  return `${lines.join('\n')}\n`;
}
