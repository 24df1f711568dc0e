/**
 * The calibration pass: the float model runs in ONNX Runtime on every calibration input with every
 * activation value exposed as an extra graph output, and each float32 value's statistics (min, max,
 * max |x|, |x| histogram) are accumulated. Values are fetched a few at a time (a byte budget learned from
 * the first input), so a SegFormer-B0 at 512x512 - about 0.9 GB of intermediate values per image - never
 * holds them all at once.
 */
import ort from 'onnxruntime-node';
import { Progress } from '../../util/progress.ts';
import { DEFAULT_BINS, TensorStats } from './calibrators.ts';
import type { QuantGraph } from './graph.ts';
import { onnx } from './onnx-tensors.ts';
import type { ModelFeed } from './inputs.ts';

export interface CalibrationOptions {
  threads?: number;
  bins?: number;
  /** Collect |x| histograms (needed by the percentile and kl calibrators; default true). */
  histograms?: boolean;
  /** Bytes of fetched values per ONNX Runtime call (default 512 MiB). */
  fetchBudget?: number;
  quiet?: boolean;
  label?: string;
}

/** The float model with all activation values as extra outputs (untyped: ONNX Runtime infers the types). */
export function withIntermediateOutputs(g: QuantGraph, values: readonly string[]): Uint8Array {
  const m = g.model;
  const src = m.graph!;
  const declared = new Set((src.output ?? []).map((o) => o.name ?? ''));
  const extra = values.filter((v) => !declared.has(v)).map((name) => onnx.ValueInfoProto.create({ name }));
  const graph = onnx.GraphProto.create({ ...src, output: [...(src.output ?? []), ...extra] });
  return onnx.ModelProto.encode(onnx.ModelProto.create({ ...m, graph })).finish();
}

/** Runs the float model over the feeds and returns the statistics of every float32 activation and graph input. */
export async function collectStats(g: QuantGraph, feeds: readonly ModelFeed[], o: CalibrationOptions = {}): Promise<Map<string, TensorStats>> {
  if (feeds.length === 0) throw new Error('calibration: no inputs');
  const values = g.activationValues();
  const session = await ort.InferenceSession.create(withIntermediateOutputs(g, values), {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'basic',
    ...(o.threads ? { intraOpNumThreads: o.threads, interOpNumThreads: 1 } : {}),
  });
  const stats = new Map<string, TensorStats>();
  const bins = o.bins ?? DEFAULT_BINS;
  const budget = o.fetchBudget ?? 512 * 2 ** 20;
  const bytesOf = new Map<string, number>();
  const skipped = new Set<string>();
  const progress = new Progress(o.label ?? 'calibrate', feeds.length, o.quiet ?? false);
  try {
    for (const feed of feeds) {
      const inputName = feed.inputName;
      const input = new ort.Tensor('float32', feed.data, feed.shape);
      const add = (name: string, t: ort.Tensor) => {
        bytesOf.set(name, (t.data as ArrayBufferView).byteLength);
        if (t.type !== 'float32') {
          skipped.add(name);
          return;
        }
        let s = stats.get(name);
        if (!s) stats.set(name, (s = new TensorStats(bins, o.histograms ?? true)));
        s.add(t.data as Float32Array);
      };
      add(inputName, input);
      const wanted = values.filter((v) => !skipped.has(v));
      // Chunks: known sizes packed up to the budget; unknown ones 32 at a time.
      const chunks: string[][] = [];
      let cur: string[] = [];
      let curBytes = 0;
      for (const v of wanted) {
        const b = bytesOf.get(v) ?? budget / 32;
        if (cur.length > 0 && curBytes + b > budget) {
          chunks.push(cur);
          cur = [];
          curBytes = 0;
        }
        cur.push(v);
        curBytes += b;
      }
      if (cur.length > 0) chunks.push(cur);
      for (const chunk of chunks) {
        const out = await session.run({ [inputName]: input }, chunk);
        for (const name of chunk) {
          const t = out[name];
          if (t) add(name, t);
        }
      }
      progress.tick(feed.name);
    }
  } finally {
    await session.release();
  }
  return stats;
}
