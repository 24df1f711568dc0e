/**
 * The locally generated demo model: a SegFormer-B0-shaped ONNX graph with deterministic seeded random weights,
 * so segstream runs out of the box without downloading anything. It is UNTRAINED: its masks are meaningless,
 * only its speed is real. Every file it writes says so (config.json `segstream_demo: true`, ONNX metadata
 * `segstream_demo=true`, the doc string), and loadModelInfo() reports `untrainedDemo: true`.
 *
 * The graph follows the structure that `torch.onnx.export` of Hugging Face's SegformerForSemanticSegmentation
 * produces at opset 17 (the same op types in the same places), so ONNX Runtime runs the same kernels:
 *   encoder, per stage: overlapping patch embedding (Conv 7x7/4, then 3x3/2) + LayerNorm;
 *     per block: efficient self-attention (Q from all tokens; K/V from tokens reduced by a Conv with kernel =
 *     stride = sr ratio, then LayerNorm), Mix-FFN (Linear, depth-wise 3x3 Conv, Erf-based GELU, Linear),
 *     pre-norm residuals; a final LayerNorm per stage;
 *   all-MLP decoder: per stage Linear to the decoder width, bilinear Resize to 1/4 of the input, Concat,
 *     1x1 fuse Conv (BatchNorm folded into it, as the exporter does) + ReLU, 1x1 classifier Conv.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../../util/atomic-write.ts';
import { OnnxGraphBuilder, attr, type TensorData } from '../onnx/builder.ts';
import { OnnxElemType } from '../onnx/reader.ts';
import { numberToHalf } from '../onnx/tensor-values.ts';
import { SeededRandom } from './seeded-random.ts';
import { demoClassName } from './ade20k-labels.ts';
import { integerRange, invalidParameterError } from '../../util/validate.ts';
import { at, first } from '../../util/checked-access.ts';

export type DemoVariant = 'b0' | 'tiny';

export interface DemoModelOptions {
  /** Input size: a square side or {height, width}; default 512 (b0) or 64 (tiny). Each side 32..4096. */
  size?: number | { height: number; width: number };
  /** Number of classes; default 150 (b0) or 8 (tiny). 2..65535. */
  classes?: number;
  /** `b0`: SegFormer-B0 widths and depths (real speed). `tiny`: a few channels, one block per stage (tests). */
  variant?: DemoVariant;
  /** Weight seed (unsigned 32-bit integer); default 0. */
  seed?: number;
  /** Default-domain opset, 13..21; default 17. Below 17 LayerNormalization is decomposed, as exporters do. */
  opset?: number;
  /** Input tensor layout; default NCHW (NHWC adds a Transpose after the input). */
  inputLayout?: 'NCHW' | 'NHWC';
  /** `logits` (default, float32 [1,C,H/4,W/4]) or `classmap` (ArgMax inside, int64 [1,1,H/4,W/4]). */
  output?: 'logits' | 'classmap';
  /** Graph input name; default `pixel_values` (as Hugging Face exports). */
  inputName?: string;
  /** Graph output name; default `logits` or `classmap`. */
  outputName?: string;
  /**
   * Symbolic batch/channels/height/width, as Optimum exports them: input `[batch_size, num_channels, height,
   * width]`, logits declared `[batch_size, num_labels, height, width]` (the same names as the input although
   * they are a quarter of it), every reshape target and resize size computed from Shape inside the graph.
   */
  dynamic?: boolean;
  /** Bilinear Resize of the logits to the input size inside the graph (an `interpolate` before `argmax`). */
  upsample?: boolean;
  /** Class-map output: element type (default int64, ArgMax's own; others through a Cast). */
  classmapDtype?: 'int64' | 'int32' | 'uint8';
  /** Class-map output: rank 4 `[1,1,h,w]` (default) or rank 3 `[1,h,w]` (ArgMax keepdims 0). */
  classmapRank?: 3 | 4;
  /** `float16`: weights, constants, activations and IO in half precision (a float16 conversion). */
  precision?: 'float32' | 'float16';
  /**
   * `qdq`: every Conv and MatMul reads QuantizeLinear/DequantizeLinear pairs (uint8 activations, int8 weights per
   * output channel); `dynamic`: MatMuls with a weight become DynamicQuantizeLinear + MatMulInteger with int8
   * weights, as ONNX Runtime's dynamic quantisation writes them. Float32 only.
   */
  quantize?: 'none' | 'qdq' | 'dynamic';
  /**
   * What the input holds: `normalised` floats (default); `uint8-pixels`, raw pixels normalised inside the graph
   * (Cast, x/255, -mean, /std); `int8-quantized`, the normalised tensor quantised (int8, zero point 0) and read by
   * a DequantizeLinear, as fully quantised exports take it.
   */
  inputEncoding?: 'normalised' | 'uint8-pixels' | 'int8-quantized';
}

/** Architecture hyper-parameters of one SegFormer variant. */
export interface SegformerArch {
  hiddenSizes: number[];
  depths: number[];
  heads: number[];
  srRatios: number[];
  patchSizes: number[];
  strides: number[];
  mlpRatio: number;
  decoderHidden: number;
}

export const DEMO_ARCHS: Record<DemoVariant, SegformerArch> = {
  b0: {
    hiddenSizes: [32, 64, 160, 256],
    depths: [2, 2, 2, 2],
    heads: [1, 2, 5, 8],
    srRatios: [8, 4, 2, 1],
    patchSizes: [7, 3, 3, 3],
    strides: [4, 2, 2, 2],
    mlpRatio: 4,
    decoderHidden: 256,
  },
  tiny: {
    hiddenSizes: [8, 16, 24, 32],
    depths: [1, 1, 1, 1],
    heads: [1, 1, 2, 2],
    srRatios: [8, 4, 2, 1],
    patchSizes: [7, 3, 3, 3],
    strides: [4, 2, 2, 2],
    mlpRatio: 4,
    decoderHidden: 16,
  },
};

const DEFAULTS: Record<DemoVariant, { size: number; classes: number }> = {
  b0: { size: 512, classes: 150 },
  tiny: { size: 64, classes: 8 },
};

/**
 * Bumped whenever the generated files change (graph, weights or config), so cached files from older builders are
 * not reused. 2: ADE20K class names in config.json instead of "class N".
 */
export const DEMO_BUILDER_VERSION = 2;

export const DEMO_MODEL_NOTE =
  'segstream demo model: SegFormer-shaped graph with seeded RANDOM weights (untrained). ' +
  'Its masks are meaningless; only its speed is real.';

export interface ResolvedDemoOptions {
  height: number;
  width: number;
  classes: number;
  variant: DemoVariant;
  seed: number;
  opset: number;
  inputLayout: 'NCHW' | 'NHWC';
  output: 'logits' | 'classmap';
  inputName: string;
  outputName: string;
  dynamic: boolean;
  upsample: boolean;
  classmapDtype: 'int64' | 'int32' | 'uint8';
  classmapRank: 3 | 4;
  precision: 'float32' | 'float16';
  quantize: 'none' | 'qdq' | 'dynamic';
  inputEncoding: 'normalised' | 'uint8-pixels' | 'int8-quantized';
}

function checkInt(name: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw invalidParameterError(`DemoModelOptions.${name}`, integerRange(min, max), v);
  return v;
}

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_.:/-]*$/;

/** Validates options and fills in the variant's defaults. */
export function resolveDemoOptions(opts: DemoModelOptions = {}): ResolvedDemoOptions {
  if (typeof opts !== 'object' || opts === null) {
    throw invalidParameterError('DemoModelOptions', 'an object', opts);
  }
  const variant = opts.variant ?? 'b0';
  if (variant !== 'b0' && variant !== 'tiny') {
    throw invalidParameterError('DemoModelOptions.variant', "'b0' or 'tiny'", variant);
  }
  const d = DEFAULTS[variant];
  let height: number;
  let width: number;
  const size = opts.size ?? d.size;
  if (typeof size === 'number') {
    height = width = checkInt('size', size, 32, 4096);
  } else if (typeof size === 'object' && size !== null) {
    height = checkInt('size.height', size.height, 32, 4096);
    width = checkInt('size.width', size.width, 32, 4096);
  } else {
    throw invalidParameterError('DemoModelOptions.size', 'an integer or {height, width}', size);
  }
  const classes = checkInt('classes', opts.classes ?? d.classes, 2, 65535);
  const seed = checkInt('seed', opts.seed ?? 0, 0, 0xffffffff);
  const opset = checkInt('opset', opts.opset ?? 17, 12, 21);
  const inputLayout = opts.inputLayout ?? 'NCHW';
  if (inputLayout !== 'NCHW' && inputLayout !== 'NHWC') {
    throw invalidParameterError('DemoModelOptions.inputLayout', "'NCHW' or 'NHWC'", inputLayout);
  }
  const output = opts.output ?? 'logits';
  if (output !== 'logits' && output !== 'classmap') {
    throw invalidParameterError('DemoModelOptions.output', "'logits' or 'classmap'", output);
  }
  const inputName = opts.inputName ?? 'pixel_values';
  const outputName = opts.outputName ?? output;
  for (const [k, v] of [['inputName', inputName], ['outputName', outputName]] as const) {
    if (typeof v !== 'string' || !NAME_RE.test(v)) {
      throw invalidParameterError(`DemoModelOptions.${k}`, 'an identifier like "pixel_values"', v);
    }
  }
  if (inputName === outputName) {
    throw invalidParameterError('DemoModelOptions.outputName', 'a name other than inputName', outputName);
  }
  const oneOf = <T extends string | number | boolean>(name: string, v: unknown, allowed: readonly T[], fallback: T): T => {
    if (v === undefined) return fallback;
    if (!allowed.includes(v as T)) throw invalidParameterError(`DemoModelOptions.${name}`, allowed.map((a) => JSON.stringify(a)).join(' or '), v);
    return v as T;
  };
  const dynamic = oneOf('dynamic', opts.dynamic, [true, false], false);
  const upsample = oneOf('upsample', opts.upsample, [true, false], false);
  const classmapDtype = oneOf('classmapDtype', opts.classmapDtype, ['int64', 'int32', 'uint8'] as const, 'int64');
  const classmapRank = oneOf('classmapRank', opts.classmapRank, [3, 4] as const, 4);
  const precision = oneOf('precision', opts.precision, ['float32', 'float16'] as const, 'float32');
  const quantize = oneOf('quantize', opts.quantize, ['none', 'qdq', 'dynamic'] as const, 'none');
  const inputEncoding = oneOf('inputEncoding', opts.inputEncoding, ['normalised', 'uint8-pixels', 'int8-quantized'] as const, 'normalised');
  if (inputEncoding !== 'normalised' && precision === 'float16') {
    throw new RangeError("DemoModelOptions.inputEncoding: integer inputs are built for precision 'float32'");
  }
  if (output !== 'classmap' && (opts.classmapDtype !== undefined || opts.classmapRank !== undefined)) {
    throw new RangeError("DemoModelOptions.classmapDtype/classmapRank: only for output 'classmap'");
  }
  if (classmapDtype === 'uint8' && classes > 256) {
    throw new RangeError(`DemoModelOptions.classmapDtype: uint8 holds at most 256 classes, got ${classes}`);
  }
  if (precision === 'float16' && quantize !== 'none') {
    throw new RangeError("DemoModelOptions.quantize: quantised models are built from float32 weights; use precision 'float32'");
  }
  return {
    height, width, classes, variant, seed, opset, inputLayout, output, inputName, outputName,
    dynamic, upsample, classmapDtype, classmapRank, precision, quantize, inputEncoding,
  };
}

/** Output size of a convolution along one axis. */
function convOut(size: number, kernel: number, stride: number, pad: number): number {
  return Math.floor((size + 2 * pad - kernel) / stride) + 1;
}

/** One encoder stage: its row of the architecture's per-stage lists and its output's spatial size. */
interface EncoderStage {
  hidden: number;
  depth: number;
  heads: number;
  srRatio: number;
  patch: number;
  stride: number;
  h: number;
  w: number;
}

/** The architecture's parallel per-stage lists read as one record per stage, with each stage's output size. */
function encoderStages(arch: SegformerArch, height: number, width: number): EncoderStage[] {
  const out: EncoderStage[] = [];
  let h = height;
  let w = width;
  for (let i = 0; i < arch.hiddenSizes.length; i++) {
    const row = (list: number[], name: string) => at(list, i, `SegFormer architecture ${name}`);
    const patch = row(arch.patchSizes, 'patchSizes');
    const stride = row(arch.strides, 'strides');
    h = convOut(h, patch, stride, Math.floor(patch / 2));
    w = convOut(w, patch, stride, Math.floor(patch / 2));
    out.push({
      hidden: row(arch.hiddenSizes, 'hiddenSizes'),
      depth: row(arch.depths, 'depths'),
      heads: row(arch.heads, 'heads'),
      srRatio: row(arch.srRatios, 'srRatios'),
      patch,
      stride,
      h,
      w,
    });
  }
  return out;
}

/** Spatial size of each encoder stage's output for an input size. */
export function stageSizes(arch: SegformerArch, height: number, width: number): { h: number; w: number }[] {
  return encoderStages(arch, height, width).map(({ h, w }) => ({ h, w }));
}

const LN_EPS = 1e-5;
/**
 * Weights are scaled normals with std 1/sqrt(fan_in), so every layer keeps activations near unit variance
 * (nothing blows up or vanishes into denormals) and the untrained class map still varies across the image.
 */
const BIAS_STD = 0.02;

const i64 = (values: number[], dims: number[] = [values.length]): TensorData => ({ type: 'int64', dims, data: values });

/**
 * A spatial grid: its static size, and in a dynamic graph the 0-d int64 values holding batch, height and width
 * (read from a Shape in the graph, as the exporter traces `tensor.shape`).
 */
interface Grid {
  h: number;
  w: number;
  dyn?: { b: string; h: string; w: string };
}

/** Activation range assumed by the QDQ variant's fixed quantisation parameters (no calibration: a test model). */
const QDQ_RANGE = 8;

/** Emits the SegFormer graph into a builder. One instance per model. */
class SegformerEmitter {
  private readonly rng: SeededRandom;
  private readonly half: boolean;
  private readonly quant: ResolvedDemoOptions['quantize'];
  private qCount = 0;

  constructor(
    private readonly b: OnnxGraphBuilder,
    private readonly arch: SegformerArch,
    o: Pick<ResolvedDemoOptions, 'seed' | 'precision' | 'quantize'>,
  ) {
    this.rng = new SeededRandom(o.seed);
    this.half = o.precision === 'float16';
    this.quant = o.quantize;
  }

  /** A float tensor in the model's precision. */
  private floats(dims: number[], data: Float32Array): TensorData {
    if (!this.half) return { type: 'float32', dims, data };
    return { type: 'float16', dims, data: Uint16Array.from(data, numberToHalf) };
  }

  scalar(v: number): TensorData {
    return this.floats([], Float32Array.of(v));
  }

  /** A tensor drawn from N(0, std^2), bounded at about 3.5 std. */
  private weightData(dims: number[], std: number): Float32Array {
    return this.rng.normalArray(dims.reduce((a, d) => a * d, 1), std);
  }

  private weight(name: string, dims: number[], std: number): string {
    return this.b.initializer(name, this.floats(dims, this.weightData(dims, std)));
  }

  private filled(name: string, dims: number[], value: number): string {
    const count = dims.reduce((a, d) => a * d, 1);
    return this.b.initializer(name, this.floats(dims, new Float32Array(count).fill(value)));
  }

  /**
   * An int8 copy of a weight, symmetric per slice along `axis` (scale = max |w| / 127), and the value that
   * dequantises it: a DequantizeLinear (QDQ), or the raw int8 tensor and its scales (dynamic).
   */
  private quantizedWeight(param: string, dims: number[], data: Float32Array, axis: number): { q: string; scales: Float32Array } {
    const n = at(dims, axis, `${param} dims`);
    const inner = dims.slice(axis + 1).reduce((a, d) => a * d, 1);
    const scales = new Float32Array(n);
    const sliceScale = (i: number) => at(scales, Math.floor(i / inner) % n, `${param} scales`);
    for (let i = 0; i < data.length; i++) {
      scales[Math.floor(i / inner) % n] = Math.max(sliceScale(i), Math.abs(at(data, i, param)) / 127);
    }
    for (let c = 0; c < n; c++) if (scales[c] === 0) scales[c] = 1;
    const q = new Int8Array(data.length);
    for (let i = 0; i < data.length; i++) q[i] = Math.max(-127, Math.min(127, Math.round(at(data, i, param) / sliceScale(i))));
    return { q: this.b.initializer(`${param}_quantized`, { type: 'int8', dims, data: q }), scales };
  }

  private dequantizedWeight(param: string, dims: number[], data: Float32Array, axis: number, scope: string): string {
    const { q, scales } = this.quantizedWeight(param, dims, data, axis);
    const n = scales.length;
    const s = this.b.initializer(`${param}_scale`, { type: 'float32', dims: [n], data: scales });
    const z = this.b.initializer(`${param}_zero_point`, { type: 'int8', dims: [n], data: new Int8Array(n) });
    return this.b.node('DequantizeLinear', [q, s, z], { axis: { int: axis } }, { scope });
  }

  /** QuantizeLinear -> DequantizeLinear of an activation (uint8), over [-range, range] or [0, 1] for probabilities. */
  private qdq(x: string, scope: string, unit = false): string {
    const k = this.qCount++;
    const scale = unit ? 1 / 255 : (2 * QDQ_RANGE) / 255;
    const s = this.b.initializer(`qdq.${k}.scale`, { type: 'float32', dims: [], data: Float32Array.of(scale) });
    const z = this.b.initializer(`qdq.${k}.zero_point`, { type: 'uint8', dims: [], data: Uint8Array.of(unit ? 0 : 128) });
    const q = this.b.node('QuantizeLinear', [x, s, z], {}, { scope });
    return this.b.node('DequantizeLinear', [q, s, z], {}, { scope });
  }

  /** x @ W + b over the last axis. */
  linear(x: string, inF: number, outF: number, scope: string, param: string): string {
    const dims = [inF, outF];
    const data = this.weightData(dims, 1 / Math.sqrt(inF));
    if (this.quant === 'dynamic') {
      // One symmetric scale per weight tensor, as ONNX Runtime's dynamic quantisation defaults to.
      const b = this.b;
      let s = 0;
      for (const v of data) s = Math.max(s, Math.abs(v) / 127);
      const q = Int8Array.from(data, (v) => Math.max(-127, Math.min(127, Math.round(v / s))));
      const wq = b.initializer(`${param}.weight_quantized`, { type: 'int8', dims, data: q });
      const wScale = b.initializer(`${param}.weight_scale`, { type: 'float32', dims: [], data: Float32Array.of(s) });
      const wz = b.initializer(`${param}.weight_zero_point`, { type: 'int8', dims: [], data: Int8Array.of(0) });
      const [xq, xs, xz] = [`${scope}/x_quantized`, `${scope}/x_scale`, `${scope}/x_zero_point`];
      b.node('DynamicQuantizeLinear', [x], {}, { scope, outputs: [xq, xs, xz] });
      const mm = b.node('MatMulInteger', [xq, wq, xz, wz], {}, { scope });
      const asFloat = b.node('Cast', [mm], { to: attr.int(OnnxElemType.FLOAT) }, { scope });
      const scale = b.node('Mul', [xs, wScale], {}, { scope });
      const scaled = b.node('Mul', [asFloat, scale], {}, { scope });
      const bias = this.weight(`${param}.bias`, [outF], BIAS_STD);
      return b.node('Add', [bias, scaled], {}, { scope });
    }
    let w: string;
    let input = x;
    if (this.quant === 'qdq') {
      w = this.dequantizedWeight(`${param}.weight`, dims, data, 1, scope);
      input = this.qdq(x, scope);
    } else {
      w = this.b.initializer(`${param}.weight`, this.floats(dims, data));
    }
    const bias = this.weight(`${param}.bias`, [outF], BIAS_STD);
    const mm = this.b.node('MatMul', [input, w], {}, { scope });
    return this.b.node('Add', [bias, mm], {}, { scope });
  }

  conv(
    x: string,
    inC: number,
    outC: number,
    k: number,
    stride: number,
    pad: number,
    group: number,
    scope: string,
    param: string,
  ): string {
    const dims = [outC, inC / group, k, k];
    const data = this.weightData(dims, 1 / Math.sqrt((inC / group) * k * k));
    let w: string;
    let input = x;
    if (this.quant === 'qdq') {
      w = this.dequantizedWeight(`${param}.weight`, dims, data, 0, scope);
      input = this.qdq(x, scope);
    } else {
      w = this.b.initializer(`${param}.weight`, this.floats(dims, data));
    }
    const bias = this.weight(`${param}.bias`, [outC], BIAS_STD);
    return this.b.node(
      'Conv',
      [input, w, bias],
      {
        dilations: attr.ints([1, 1]),
        group: attr.int(group),
        kernel_shape: attr.ints([k, k]),
        pads: attr.ints([pad, pad, pad, pad]),
        strides: attr.ints([stride, stride]),
      },
      { scope },
    );
  }

  /** MatMul of two activations (attention); QDQ on both sides in the QDQ variant. */
  private matmul(a: string, b: string, scope: string, aIsProbability = false): string {
    if (this.quant === 'qdq') return this.b.node('MatMul', [this.qdq(a, scope, aIsProbability), this.qdq(b, scope)], {}, { scope });
    return this.b.node('MatMul', [a, b], {}, { scope });
  }

  /** LayerNormalization over the last axis; decomposed into primitive ops below opset 17. */
  layerNorm(x: string, c: number, scope: string, param: string): string {
    const gamma = this.filled(`${param}.weight`, [c], 1);
    const beta = this.filled(`${param}.bias`, [c], 0);
    const b = this.b;
    if (b.opset >= 17) {
      return b.node('LayerNormalization', [x, gamma, beta], { axis: attr.int(-1), epsilon: attr.float(LN_EPS) }, { scope });
    }
    const mean = b.node('ReduceMean', [x], { axes: attr.ints([-1]), keepdims: attr.int(1) }, { scope });
    const centred = b.node('Sub', [x, mean], {}, { scope });
    const sq = b.node('Pow', [centred, b.constant(scope, this.scalar(2))], {}, { scope });
    const variance = b.node('ReduceMean', [sq], { axes: attr.ints([-1]), keepdims: attr.int(1) }, { scope });
    const eps = b.node('Add', [variance, b.constant(scope, this.scalar(LN_EPS))], {}, { scope });
    const std = b.node('Sqrt', [eps], {}, { scope });
    const norm = b.node('Div', [centred, std], {}, { scope });
    const scaled = b.node('Mul', [norm, gamma], {}, { scope });
    return b.node('Add', [scaled, beta], {}, { scope });
  }

  /** [1,C,H,W] -> [1,C,H*W] through Shape/Slice/Concat/Reshape, as `flatten(2)` exports. */
  flattenSpatial(x: string, scope: string): string {
    const b = this.b;
    const lead = this.shapeSlice(x, 0, 2, scope);
    const target = b.node('Concat', [lead, b.constant(scope, i64([-1]))], { axis: attr.int(0) }, { scope });
    return b.node('Reshape', [x, target], this.reshapeAttrs(), { scope });
  }

  /** Shape(x)[start:end] (Shape, then Slice with constant bounds). */
  private shapeSlice(x: string, start: number, end: number, scope: string): string {
    const b = this.b;
    const shape = b.node('Shape', [x], {}, { scope });
    const axes = b.constant(scope, i64([0]));
    const starts = b.constant(scope, i64([start]));
    const ends = b.constant(scope, i64([end]));
    return b.node('Slice', [shape, starts, ends, axes], {}, { scope });
  }

  /** The 0-d int64 dims of x at the given axes (Shape, then Gather per axis: `tensor.shape[i]` as traced). */
  private dimsOf<const Axes extends readonly number[]>(x: string, axes: Axes, scope: string): { [K in keyof Axes]: string } {
    const shape = this.b.node('Shape', [x], {}, { scope });
    // map keeps the length, so the result has one name per axis, as the mapped tuple type says.
    return axes.map((a) => this.b.node('Gather', [shape, this.b.constant(scope, i64([a], []))], { axis: attr.int(0) }, { scope })) as {
      [K in keyof Axes]: string;
    };
  }

  /** A 1-D shape vector from 0-d int64 values and constants (Unsqueeze each value, Concat). */
  private shapeVector(parts: (string | number)[], scope: string): string {
    const b = this.b;
    const pieces = parts.map((p) => {
      if (typeof p === 'number') return b.constant(scope, i64([p]));
      if (b.opset >= 13) return b.node('Unsqueeze', [p, b.constant(scope, i64([0]))], {}, { scope });
      return b.node('Unsqueeze', [p], { axes: attr.ints([0]) }, { scope });
    });
    return b.node('Concat', pieces, { axis: attr.int(0) }, { scope });
  }

  transpose(x: string, perm: number[], scope: string): string {
    return this.b.node('Transpose', [x], { perm: attr.ints(perm) }, { scope });
  }

  reshape(x: string, shape: number[], scope: string): string {
    return this.b.node('Reshape', [x, this.b.constant(scope, i64(shape))], this.reshapeAttrs(), { scope });
  }

  /** Reshape to a target mixing 0-d int64 values (dynamic dims) and constants. */
  reshapeTo(x: string, parts: (string | number)[], scope: string): string {
    if (parts.every((p) => typeof p === 'number')) return this.reshape(x, parts as number[], scope);
    return this.b.node('Reshape', [x, this.shapeVector(parts, scope)], this.reshapeAttrs(), { scope });
  }

  /** `allowzero` exists from Reshape-14 on; exporters state it explicitly there. */
  reshapeAttrs(): Record<string, ReturnType<typeof attr.int>> {
    return this.b.opset >= 14 ? { allowzero: attr.int(0) } : {};
  }

  /** Bilinear (half_pixel) Resize to `sizes`; below opset 13 roi and scales are required inputs (empty). */
  resize(x: string, sizes: string, scope: string): string {
    const b = this.b;
    const inputs = b.opset >= 13 ? [x, '', '', sizes] : [x, b.constant(scope, this.floats([0], new Float32Array(0))), b.constant(scope, { type: 'float32', dims: [0], data: new Float32Array(0) }), sizes];
    return b.node(
      'Resize',
      inputs,
      {
        coordinate_transformation_mode: attr.string('half_pixel'),
        cubic_coeff_a: attr.float(-0.75),
        mode: attr.string('linear'),
        nearest_mode: attr.string('floor'),
      },
      { scope },
    );
  }

  /** Efficient self-attention with spatial reduction; x is [1,N,C] (already layer-normed). */
  attention(x: string, c: number, heads: number, sr: number, g: Grid, scope: string, param: string): string {
    const b = this.b;
    const { h, w } = g;
    const d = g.dyn;
    const hd = c / heads;
    // Dynamic graphs read batch and token count from the tensor, as the exporter traces `hidden_states.shape`.
    const [bq, nq] = d ? this.dimsOf(x, [0, 1], scope) : [1, h * w];
    let q = this.linear(x, c, c, `${scope}/q_proj`, `${param}.q_proj`);
    q = this.reshapeTo(q, [bq, nq, -1, hd], scope);
    q = this.transpose(q, [0, 2, 1, 3], scope);

    let kv = x;
    let nk: string | number = h * w;
    if (sr > 1) {
      const s = `${scope}/sequence_reduction`;
      let t = this.transpose(x, [0, 2, 1], s);
      t = this.reshapeTo(t, d ? [d.b, c, d.h, d.w] : [1, c, h, w], s);
      t = this.conv(t, c, c, sr, sr, 0, 1, `${s}/sequence_reduction`, `${param}.sequence_reduction`);
      t = this.reshapeTo(t, [d ? d.b : 1, c, -1], s);
      t = this.transpose(t, [0, 2, 1], s);
      kv = this.layerNorm(t, c, `${s}/layer_norm`, `${param}.sequence_reduction.layer_norm`);
      nk = Math.floor(h / sr) * Math.floor(w / sr);
    }
    const nkv: string | number = d ? this.dimsOf(kv, [1], scope)[0] : nk;
    let k = this.linear(kv, c, c, `${scope}/k_proj`, `${param}.k_proj`);
    k = this.reshapeTo(k, [d ? d.b : 1, nkv, -1, hd], scope);
    let v = this.linear(kv, c, c, `${scope}/v_proj`, `${param}.v_proj`);
    v = this.reshapeTo(v, [d ? d.b : 1, nkv, -1, hd], scope);
    v = this.transpose(v, [0, 2, 1, 3], scope);
    const kT = this.transpose(k, [0, 2, 3, 1], scope);

    // The 1/sqrt(head_dim) scale is split as head_dim^-1/4 on each side, as the exporter emits it.
    const scale = Math.pow(hd, -0.25);
    const qs = b.node('Mul', [q, b.constant(scope, this.scalar(scale))], {}, { scope });
    const ks = b.node('Mul', [kT, b.constant(scope, this.scalar(scale))], {}, { scope });
    const scores = this.matmul(qs, ks, scope);
    const probs = b.node('Softmax', [scores], { axis: attr.int(-1) }, { scope });
    let ctx = this.matmul(probs, v, scope, true);
    ctx = this.transpose(ctx, [0, 2, 1, 3], scope);
    ctx = this.reshapeTo(ctx, [bq!, nq!, -1], scope);
    return this.linear(ctx, c, c, `${scope}/o_proj`, `${param}.o_proj`);
  }

  /** Mix-FFN: Linear, depth-wise 3x3 Conv on the token grid, Erf-GELU, Linear. */
  mixFfn(x: string, c: number, g: Grid, scope: string, param: string): string {
    const b = this.b;
    const hidden = c * this.arch.mlpRatio;
    const d = g.dyn;
    let t = this.linear(x, c, hidden, `${scope}/fc1`, `${param}.fc1`);
    const dw = `${scope}/dwconv`;
    t = this.transpose(t, [0, 2, 1], dw);
    t = this.reshapeTo(t, d ? [d.b, hidden, d.h, d.w] : [1, hidden, g.h, g.w], dw);
    t = this.conv(t, hidden, hidden, 3, 1, 1, hidden, `${dw}/dwconv`, `${param}.dwconv`);
    t = this.flattenSpatial(t, dw);
    t = this.transpose(t, [0, 2, 1], dw);
    // GELU(x) = 0.5 * x * (1 + erf(x / sqrt(2)))
    const act = `${scope}/activation_fn`;
    const div = b.node('Div', [t, b.constant(act, this.scalar(Math.SQRT2))], {}, { scope: act });
    const erf = b.node('Erf', [div], {}, { scope: act });
    const plus1 = b.node('Add', [erf, b.constant(act, this.scalar(1))], {}, { scope: act });
    const mul = b.node('Mul', [t, plus1], {}, { scope: act });
    const gelu = b.node('Mul', [mul, b.constant(act, this.scalar(0.5))], {}, { scope: act });
    return this.linear(gelu, hidden, c, `${scope}/fc2`, `${param}.fc2`);
  }

  /** The encoder: returns each stage's NCHW feature map. */
  encoder(input: string, height: number, width: number, dynamic: boolean): { name: string; c: number; h: number; w: number }[] {
    const a = this.arch;
    const feats: { name: string; c: number; h: number; w: number }[] = [];
    let x = input;
    let inC = 3;
    for (const [i, stage] of encoderStages(a, height, width).entries()) {
      const { hidden: c, h, w, patch: k } = stage;
      const scope = `/encoder/stages.${i}`;
      const param = `encoder.stages.${i}`;
      const pe = `${scope}/patch_embeddings`;
      let t = this.conv(x, inC, c, k, stage.stride, Math.floor(k / 2), 1, `${pe}/proj`, `${param}.patch_embeddings.proj`);
      // `_, _, height, width = embeddings.shape`: in a dynamic graph the stage's size is read from the tensor.
      const g: Grid = { h, w };
      if (dynamic) {
        const [db, dh, dw] = this.dimsOf(t, [0, 2, 3], pe);
        g.dyn = { b: db, h: dh, w: dw };
      }
      t = this.flattenSpatial(t, pe);
      t = this.transpose(t, [0, 2, 1], pe);
      t = this.layerNorm(t, c, `${pe}/layer_norm`, `${param}.patch_embeddings.layer_norm`);
      for (let j = 0; j < stage.depth; j++) {
        const bs = `${scope}/blocks.${j}`;
        const bp = `${param}.blocks.${j}`;
        const n1 = this.layerNorm(t, c, `${bs}/layernorm_before`, `${bp}.layernorm_before`);
        const att = this.attention(n1, c, stage.heads, stage.srRatio, g, `${bs}/attention`, `${bp}.attention`);
        t = this.b.node('Add', [att, t], {}, { scope: bs });
        const n2 = this.layerNorm(t, c, `${bs}/layernorm_after`, `${bp}.layernorm_after`);
        const ffn = this.mixFfn(n2, c, g, `${bs}/mlp`, `${bp}.mlp`);
        t = this.b.node('Add', [ffn, t], {}, { scope: bs });
      }
      t = this.layerNorm(t, c, `${scope}/layer_norm`, `${param}.layer_norm`);
      t = this.reshapeTo(t, g.dyn ? [g.dyn.b, g.dyn.h, g.dyn.w, -1] : [1, h, w, -1], scope);
      t = this.transpose(t, [0, 3, 1, 2], scope);
      feats.push({ name: t, c, h, w });
      x = t;
      inC = c;
    }
    return feats;
  }

  /** The all-MLP decoder; returns the logits value name ([1, classes, h0, w0]). */
  decoder(feats: { name: string; c: number; h: number; w: number }[], classes: number, logitsName: string, dynamic: boolean): string {
    const b = this.b;
    const d = this.arch.decoderHidden;
    const stage0 = first(feats, 'decoder: encoder feature maps');
    const { h: h0, w: w0 } = stage0;
    const upsampled: string[] = [];
    for (const [i, f] of feats.entries()) {
      const lp = `/decode_head/linear_projections.${i}`;
      const fd = dynamic ? this.dimsOf(f.name, [0, 2, 3], '/decode_head') : null;
      let t = this.flattenSpatial(f.name, lp);
      t = this.transpose(t, [0, 2, 1], lp);
      t = this.linear(t, f.c, d, `${lp}/proj`, `decode_head.linear_projections.${i}.proj`);
      t = this.transpose(t, [0, 2, 1], '/decode_head');
      t = this.reshapeTo(t, fd ? [fd[0], -1, fd[1], fd[2]] : [1, -1, f.h, f.w], '/decode_head');
      // Resize target = (N, C) of the tensor itself + the stage-0 size, as the exporter builds it.
      const nc = this.shapeSlice(t, 0, 2, '/decode_head');
      const hw = dynamic ? this.shapeSlice(stage0.name, 2, 4, '/decode_head') : b.constant('/decode_head', i64([h0, w0]));
      const sizes = b.node('Concat', [nc, hw], { axis: attr.int(0) }, { scope: '/decode_head' });
      upsampled.push(this.resize(t, sizes, '/decode_head'));
    }
    const cat = b.node('Concat', upsampled.reverse(), { axis: attr.int(1) }, { scope: '/decode_head' });
    // linear_fuse + BatchNorm(eval) folded into one 1x1 Conv, then ReLU.
    const fused = this.conv(cat, d * feats.length, d, 1, 1, 0, 1, '/decode_head/linear_fuse', 'decode_head.linear_fuse');
    const relu = b.node('Relu', [fused], {}, { scope: '/decode_head/activation' });
    const classifierDims = [classes, d, 1, 1];
    const classifierData = this.weightData(classifierDims, 1 / Math.sqrt(d));
    let wc: string;
    let input = relu;
    if (this.quant === 'qdq') {
      wc = this.dequantizedWeight('decode_head.classifier.weight', classifierDims, classifierData, 0, '/decode_head/classifier');
      input = this.qdq(relu, '/decode_head/classifier');
    } else {
      wc = b.initializer('decode_head.classifier.weight', this.floats(classifierDims, classifierData));
    }
    const bc = this.weight('decode_head.classifier.bias', [classes], BIAS_STD);
    return b.node(
      'Conv',
      [input, wc, bc],
      {
        dilations: attr.ints([1, 1]),
        group: attr.int(1),
        kernel_shape: attr.ints([1, 1]),
        pads: attr.ints([0, 0, 0, 0]),
        strides: attr.ints([1, 1]),
      },
      { scope: '/decode_head/classifier', outputs: [logitsName] },
    );
  }

  /** Bilinear upsampling of the logits to the input's size (`nn.functional.interpolate(logits, size=...)`). */
  upsampleTo(logits: string, input: string, o: ResolvedDemoOptions, outputName: string | undefined): string {
    const b = this.b;
    const scope = '/upsample';
    const nc = this.shapeSlice(logits, 0, 2, scope);
    const [hs, he] = o.inputLayout === 'NCHW' ? [2, 4] : [1, 3];
    const hw = o.dynamic ? this.shapeSlice(input, hs, he, scope) : b.constant(scope, i64([o.height, o.width]));
    const sizes = b.node('Concat', [nc, hw], { axis: attr.int(0) }, { scope });
    const out = this.resize(logits, sizes, scope);
    if (!outputName) return out;
    return b.node('Identity', [out], {}, { scope, outputs: [outputName] });
  }
}

/** Scale of the int8-quantized input variant: the normalised range of SegFormer's preprocessing, [-2.12, 2.64], in 127 steps. */
export const DEMO_INPUT_INT8_SCALE = 2.65 / 127;

/** Output spatial size (1/4 of the input, rounded up like the stride-4 patch embedding). */
export function demoOutputSize(o: Pick<ResolvedDemoOptions, 'variant' | 'height' | 'width'> & { upsample?: boolean }): { height: number; width: number } {
  if (o.upsample) return { height: o.height, width: o.width };
  const s = first(stageSizes(DEMO_ARCHS[o.variant], o.height, o.width), `demo ${o.variant} encoder stages`);
  return { height: s.h, width: s.w };
}

const CLASSMAP_TYPES = { int64: OnnxElemType.INT64, int32: OnnxElemType.INT32, uint8: OnnxElemType.UINT8 } as const;

/** Builds the demo model's ONNX bytes. Same options, same bytes. */
export function buildDemoModel(opts: DemoModelOptions = {}): Uint8Array {
  const o = resolveDemoOptions(opts);
  const arch = DEMO_ARCHS[o.variant];
  const b = new OnnxGraphBuilder({
    opset: o.opset,
    graphName: `segstream_demo_segformer_${o.variant}`,
    producerName: 'segstream-demo-builder',
    producerVersion: String(DEMO_BUILDER_VERSION),
    docString: DEMO_MODEL_NOTE,
    metadata: {
      segstream_demo: 'true',
      segstream_demo_variant: o.variant,
      segstream_demo_seed: String(o.seed),
      segstream_demo_note: DEMO_MODEL_NOTE,
    },
  });
  const floatType = o.precision === 'float16' ? OnnxElemType.FLOAT16 : OnnxElemType.FLOAT;
  // Optimum's dynamic axes: symbolic batch, channels, height and width on the input.
  const inDims = o.dynamic
    ? o.inputLayout === 'NCHW' ? ['batch_size', 'num_channels', 'height', 'width'] : ['batch_size', 'height', 'width', 'num_channels']
    : o.inputLayout === 'NCHW' ? [1, 3, o.height, o.width] : [1, o.height, o.width, 3];
  const inType = o.inputEncoding === 'uint8-pixels' ? OnnxElemType.UINT8 : o.inputEncoding === 'int8-quantized' ? OnnxElemType.INT8 : floatType;
  const input = b.input(o.inputName, inType, inDims);
  let x = input;
  if (o.inputEncoding === 'int8-quantized') {
    const s = b.initializer('input_scale', { type: 'float32', dims: [], data: Float32Array.of(DEMO_INPUT_INT8_SCALE) });
    const z = b.initializer('input_zero_point', { type: 'int8', dims: [], data: Int8Array.of(0) });
    x = b.node('DequantizeLinear', [x, s, z], {}, { scope: '/input' });
  }
  if (o.inputLayout === 'NHWC') x = b.node('Transpose', [x], { perm: attr.ints([0, 3, 1, 2]) }, { scope: '/input' });
  if (o.inputEncoding === 'uint8-pixels') {
    // SegFormer's normalisation inside the graph: (x / 255 - mean) / std per channel.
    const f = b.node('Cast', [x], { to: attr.int(OnnxElemType.FLOAT) }, { scope: '/input' });
    const r = b.node('Mul', [f, b.constant('/input', { type: 'float32', dims: [], data: Float32Array.of(1 / 255) })], {}, { scope: '/input' });
    const m = b.node('Sub', [r, b.constant('/input', { type: 'float32', dims: [1, 3, 1, 1], data: Float32Array.of(0.485, 0.456, 0.406) })], {}, { scope: '/input' });
    x = b.node('Div', [m, b.constant('/input', { type: 'float32', dims: [1, 3, 1, 1], data: Float32Array.of(0.229, 0.224, 0.225) })], {}, { scope: '/input' });
  }

  const emitter = new SegformerEmitter(b, arch, o);
  const feats = emitter.encoder(x, o.height, o.width, o.dynamic);
  const out = demoOutputSize(o);
  if (o.output === 'logits') {
    if (o.upsample) {
      const logits = emitter.decoder(feats, o.classes, 'logits_low_res', o.dynamic);
      emitter.upsampleTo(logits, input, o, o.outputName);
    } else {
      emitter.decoder(feats, o.classes, o.outputName, o.dynamic);
    }
    // Optimum declares the logits with the input's own dim names although they are a quarter of it.
    b.output(o.outputName, floatType, o.dynamic ? ['batch_size', 'num_labels', 'height', 'width'] : [1, o.classes, out.height, out.width]);
  } else {
    let logits = emitter.decoder(feats, o.classes, 'logits', o.dynamic);
    if (o.upsample) logits = emitter.upsampleTo(logits, input, o, undefined);
    const keep = o.classmapRank === 4 ? 1 : 0;
    const cast = o.classmapDtype !== 'int64';
    const ids = b.node('ArgMax', [logits], { axis: attr.int(1), keepdims: attr.int(keep) }, { scope: '/argmax', ...(cast ? {} : { outputs: [o.outputName] }) });
    if (cast) b.node('Cast', [ids], { to: attr.int(CLASSMAP_TYPES[o.classmapDtype]) }, { scope: '/argmax', outputs: [o.outputName] });
    const dims: (number | string)[] = o.dynamic ? ['batch_size', 'height', 'width'] : [1, out.height, out.width];
    if (keep) dims.splice(1, 0, 1);
    b.output(o.outputName, CLASSMAP_TYPES[o.classmapDtype], dims);
  }
  return b.toBytes();
}

/** The Hugging Face-style config.json of a demo model (ADE20K's class names, the demo marker). */
export function demoConfigJson(opts: DemoModelOptions = {}): Record<string, unknown> {
  const o = resolveDemoOptions(opts);
  const a = DEMO_ARCHS[o.variant];
  const id2label: Record<string, string> = {};
  const label2id: Record<string, number> = {};
  for (let i = 0; i < o.classes; i++) {
    const name = demoClassName(i);
    id2label[String(i)] = name;
    label2id[name] = i;
  }
  return {
    segstream_demo: true,
    segstream_demo_note: DEMO_MODEL_NOTE,
    segstream_demo_options: o,
    segstream_demo_builder_version: DEMO_BUILDER_VERSION,
    model_type: 'segformer',
    num_channels: 3,
    hidden_sizes: a.hiddenSizes,
    depths: a.depths,
    num_attention_heads: a.heads,
    sr_ratios: a.srRatios,
    patch_sizes: a.patchSizes,
    strides: a.strides,
    mlp_ratios: a.hiddenSizes.map(() => a.mlpRatio),
    decoder_hidden_size: a.decoderHidden,
    hidden_act: 'gelu',
    layer_norm_eps: LN_EPS,
    id2label,
    label2id,
  };
}

/** The preprocessor_config.json of a demo model: SegFormer's preprocessing at the model's size. */
export function demoPreprocessorJson(opts: DemoModelOptions = {}): Record<string, unknown> {
  const o = resolveDemoOptions(opts);
  return {
    do_normalize: true,
    do_rescale: true,
    do_resize: true,
    image_mean: [0.485, 0.456, 0.406],
    image_std: [0.229, 0.224, 0.225],
    image_processor_type: 'SegformerImageProcessor',
    resample: 2,
    rescale_factor: 1 / 255,
    size: { height: o.height, width: o.width },
  };
}

/** The cache folder name of a demo model: readable prefix + hash of all options and the builder version. */
export function demoModelKey(opts: DemoModelOptions = {}): string {
  const o = resolveDemoOptions(opts);
  const hash = createHash('sha256')
    .update(JSON.stringify({ ...o, builder: DEMO_BUILDER_VERSION }))
    .digest('hex')
    .slice(0, 10);
  return `segformer-${o.variant}-demo-${o.height}x${o.width}-c${o.classes}-${hash}`;
}

export interface DemoModelFiles {
  modelPath: string;
  configPath: string;
  preprocessorPath: string;
  /** Set when a cached copy was found damaged and written again: what was wrong. */
  repaired?: string;
}


function sha256(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

async function readOrNull(p: string): Promise<Buffer | null> {
  try {
    return await fs.readFile(p);
  } catch {
    return null;
  }
}

/**
 * Makes sure the demo model for `opts` exists under `cacheDir/<key>/` (model.onnx, config.json,
 * preprocessor_config.json) and returns the paths. Every file is written to a temporary file and renamed, so a
 * crash or a concurrent writer never leaves a half-written model; `<key>.sha256.json` beside the folder, written
 * last, records each file's SHA-256. A cached copy is checked against it on every call, and one that does not match (a truncated
 * or damaged file, a file missing) is generated again: the demo model is derived data, so a bad copy must never
 * stop the server from starting. A folder from before checksums were kept is compared with a fresh build once.
 */
/** The files of a cached demo model, in the order their checksums are recorded. */
const DEMO_FILE_NAMES = ['model.onnx', 'preprocessor_config.json', 'config.json'] as const;
type DemoFileName = (typeof DEMO_FILE_NAMES)[number];

export async function ensureDemoModel(cacheDir: string, opts: DemoModelOptions = {}): Promise<DemoModelFiles> {
  if (typeof cacheDir !== 'string' || cacheDir.length === 0) {
    throw invalidParameterError('ensureDemoModel: cacheDir', 'a directory path', cacheDir);
  }
  const dir = path.join(cacheDir, demoModelKey(opts));
  const files: DemoModelFiles = {
    modelPath: path.join(dir, 'model.onnx'),
    configPath: path.join(dir, 'config.json'),
    preprocessorPath: path.join(dir, 'preprocessor_config.json'),
  };
  const names: Record<DemoFileName, string> = { 'model.onnx': files.modelPath, 'preprocessor_config.json': files.preprocessorPath, 'config.json': files.configPath };
  // Beside the folder, not in it: the folder holds exactly the model's three files.
  const checksumFile = `${dir}.sha256.json`;
  const read = await Promise.all(DEMO_FILE_NAMES.map((n) => readOrNull(names[n])));
  const current = Object.fromEntries(DEMO_FILE_NAMES.map((n, i) => [n, read[i] ?? null])) as Record<DemoFileName, Buffer | null>;
  let recorded: Record<string, string> | null;
  try {
    recorded = JSON.parse((await fs.readFile(checksumFile, 'utf8')) || 'null') as Record<string, string>;
  } catch {
    recorded = null;
  }

  let problem: string | null;
  let expected: Record<DemoFileName, Uint8Array | string> | null = null;
  const build = (): Record<DemoFileName, Uint8Array | string> => ({
    'model.onnx': buildDemoModel(opts),
    'preprocessor_config.json': `${JSON.stringify(demoPreprocessorJson(opts), null, 2)}\n`,
    'config.json': `${JSON.stringify(demoConfigJson(opts), null, 2)}\n`,
  });
  if (Object.values(current).every((b) => b === null) && !recorded) {
    problem = null; // nothing cached yet: a first generation, not a repair
    expected = build();
  } else if (recorded && typeof recorded === 'object') {
    const sums = recorded;
    const bad = DEMO_FILE_NAMES.filter((n) => {
      const bytes = current[n];
      return !bytes || typeof sums[n] !== 'string' || sha256(bytes) !== sums[n];
    });
    if (bad.length === 0) return files;
    problem = bad.map((n) => (current[n] ? `${n} does not match its checksum (damaged)` : `${n} is missing`)).join(', ');
  } else {
    // No (readable) checksums: an older cache, or one interrupted before they were written. Compare with a build.
    const built = build();
    expected = built;
    const bad = DEMO_FILE_NAMES.filter((n) => {
      const bytes = current[n];
      return !bytes || sha256(bytes) !== sha256(built[n]);
    });
    problem = bad.length === 0 ? null : bad.map((n) => (current[n] ? `${n} differs from what the generator makes (damaged)` : `${n} is missing`)).join(', ');
    if (bad.length === 0) {
      await writeFileAtomic(checksumFile, `${JSON.stringify(Object.fromEntries(DEMO_FILE_NAMES.map((n) => [n, sha256(built[n])])), null, 2)}\n`);
      return files;
    }
  }
  const toWrite = expected ?? build();
  await fs.mkdir(dir, { recursive: true });
  // The checksums go first (the old ones no longer hold while files are rewritten) and last (the folder is complete).
  await fs.rm(checksumFile, { force: true });
  for (const n of DEMO_FILE_NAMES) await writeFileAtomic(names[n], toWrite[n]);
  await writeFileAtomic(checksumFile, `${JSON.stringify(Object.fromEntries(DEMO_FILE_NAMES.map((n) => [n, sha256(toWrite[n])])), null, 2)}\n`);
  return problem ? { ...files, repaired: `${dir}: ${problem}; generated again` } : files;
}
