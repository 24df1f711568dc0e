/**
 * Scores a candidate model against the float model on a fixed set of inputs: logits cosine similarity
 * (pooled over all values), class-map pixel agreement and mean IoU of the candidate's classes against the
 * float model's (metrics.ts), worst image included. Class maps are the argmax on the logit grid: the search
 * compares many candidates, and `segstream verify` measures the chosen one at each image's own size.
 * Candidates run in ONNX Runtime either with all graph optimisations (integer kernels, as the CPU backend
 * runs them) or with none (the QDQ arithmetic exactly as ONNX defines it); see `Execution`.
 */
import ort from 'onnxruntime-node';
import { argmax } from '../../kernels/index.ts';
import { ClassMapAccumulator, LogitAccumulator } from '../verify/accuracy-metrics.ts';
import type { ModelFeed } from './inputs.ts';
import { at, lookup } from '../../util/checked-access.ts';

export interface Score {
  cosine: number;
  agreement: number;
  meanIoU: number;
  worstAgreement: number;
  worstCosine: number;
  maxAbsDiff: number;
}

export interface ScoredImage {
  name: string;
  cosine: number;
  agreement: number;
  meanIoU: number;
}

export interface LogitsShape {
  classes: number;
  height: number;
  width: number;
  layout: 'NCHW' | 'NHWC';
}

/**
 * `all`: ONNX Runtime fuses Q/DQ pairs into its integer kernels (what the CPU backend runs, with their
 * rounding and, on x86 without VNNI, their int16 saturation); `disabled`: every QuantizeLinear,
 * DequantizeLinear and float op runs as the ONNX spec defines it - a faithful simulation of integer
 * arithmetic, independent of this CPU's kernels (the reference for a board target).
 */
export type Execution = 'all' | 'disabled';

export async function createSession(model: Uint8Array | string, threads?: number, execution: Execution = 'all'): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(model as Uint8Array, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: execution,
    executionMode: 'sequential',
    ...(threads ? { intraOpNumThreads: threads, interOpNumThreads: 1 } : {}),
  });
}

/** NCHW float logits of one run (an NHWC output is transposed). */
function logitsOf(t: ort.Tensor, shape: LogitsShape): Float32Array {
  if (t.type !== 'float32') throw new Error(`evaluate: the output is ${t.type}; quantize keeps the logits float32`);
  const data = t.data as Float32Array;
  if (shape.layout === 'NCHW') return data;
  const plane = shape.height * shape.width;
  const out = new Float32Array(data.length);
  for (let p = 0; p < plane; p++) for (let c = 0; c < shape.classes; c++) out[c * plane + p] = at(data, p * shape.classes + c, 'data');
  return out;
}

function classMap(logits: Float32Array, s: LogitsShape): Uint8Array | Uint16Array {
  return argmax(logits, { layout: 'NCHW', classes: s.classes, height: s.height, width: s.width, mode: 'lowres' }).classMap.data;
}

export class Evaluator {
  private constructor(
    readonly feeds: readonly ModelFeed[],
    readonly outputName: string,
    readonly shape: LogitsShape,
    private readonly refLogits: Float32Array[],
    private readonly refMaps: (Uint8Array | Uint16Array)[],
    readonly threads: number | undefined,
    readonly execution: Execution,
  ) {}

  /** Runs the float model once per input and keeps its logits and class maps as the reference. */
  static async create(floatModel: Uint8Array | string, feeds: readonly ModelFeed[], outputName: string, shape: LogitsShape, threads?: number, execution: Execution = 'all'): Promise<Evaluator> {
    if (feeds.length === 0) throw new Error('evaluate: no evaluation inputs');
    const session = await createSession(floatModel, threads);
    const logits: Float32Array[] = [];
    const maps: (Uint8Array | Uint16Array)[] = [];
    try {
      for (const f of feeds) {
        const out = await session.run({ [f.inputName]: new ort.Tensor('float32', f.data, f.shape) }, [outputName]);
        const l = Float32Array.from(logitsOf(lookup(out, outputName, 'run results'), shape));
        logits.push(l);
        maps.push(classMap(l, shape));
      }
    } finally {
      await session.release();
    }
    return new Evaluator(feeds, outputName, shape, logits, maps, threads, execution);
  }

  /** The float model's class map of input i (for reports). */
  referenceMap(i: number): Uint8Array | Uint16Array {
    return at(this.refMaps, i, 'this.refMaps');
  }

  /** Scores a candidate model; `keepMaps` also returns its class maps (for report pictures). */
  async score(model: Uint8Array | string, keepMaps = false): Promise<{ score: Score; images: ScoredImage[]; maps?: (Uint8Array | Uint16Array)[] }> {
    const session = await createSession(model, this.threads, this.execution);
    const logitAcc = new LogitAccumulator();
    const mapAcc = new ClassMapAccumulator(this.shape.classes);
    const images: ScoredImage[] = [];
    const maps: (Uint8Array | Uint16Array)[] = [];
    try {
      for (let i = 0; i < this.feeds.length; i++) {
        const f = at(this.feeds, i, 'this.feeds');
        const out = await session.run({ [f.inputName]: new ort.Tensor('float32', f.data, f.shape) }, [this.outputName]);
        const l = logitsOf(lookup(out, this.outputName, 'run results'), this.shape);
        const ls = logitAcc.add(at(this.refLogits, i, 'this.refLogits'), l);
        const m = classMap(l, this.shape);
        const ms = mapAcc.add(at(this.refMaps, i, 'this.refMaps'), m);
        if (keepMaps) maps.push(m);
        images.push({ name: f.name, cosine: ls.cosine, agreement: ms.agreement, meanIoU: ms.meanIoU });
      }
    } finally {
      await session.release();
    }
    const l = logitAcc.result();
    const m = mapAcc.result();
    return {
      score: {
        cosine: l.cosine,
        agreement: m.agreement,
        meanIoU: m.meanIoU,
        worstAgreement: Math.min(...images.map((x) => x.agreement)),
        worstCosine: Math.min(...images.map((x) => x.cosine)),
        maxAbsDiff: l.maxAbsDiff,
      },
      images,
      ...(keepMaps ? { maps } : {}),
    };
  }
}
