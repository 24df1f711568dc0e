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
import { SeededRandom } from './seeded-random.ts';

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

/** Bumped whenever the generated graph or weights change, so cached files from older builders are not reused. */
export const DEMO_BUILDER_VERSION = 1;

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
}

function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'object' && v !== null) {
    try {
      return JSON.stringify(v);
    } catch {
      return String(v);
    }
  }
  return String(v);
}

function checkInt(name: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new RangeError(`DemoModelOptions.${name}: expected an integer from ${min} to ${max}, got ${describe(v)}`);
  }
  return v;
}

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_.:/-]*$/;

/** Validates options and fills in the variant's defaults. */
export function resolveDemoOptions(opts: DemoModelOptions = {}): ResolvedDemoOptions {
  if (typeof opts !== 'object' || opts === null) {
    throw new TypeError(`DemoModelOptions: expected an object, got ${describe(opts)}`);
  }
  const variant = opts.variant ?? 'b0';
  if (variant !== 'b0' && variant !== 'tiny') {
    throw new RangeError(`DemoModelOptions.variant: expected 'b0' or 'tiny', got ${describe(variant)}`);
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
    throw new RangeError(`DemoModelOptions.size: expected an integer or {height, width}, got ${describe(size)}`);
  }
  const classes = checkInt('classes', opts.classes ?? d.classes, 2, 65535);
  const seed = checkInt('seed', opts.seed ?? 0, 0, 0xffffffff);
  const opset = checkInt('opset', opts.opset ?? 17, 13, 21);
  const inputLayout = opts.inputLayout ?? 'NCHW';
  if (inputLayout !== 'NCHW' && inputLayout !== 'NHWC') {
    throw new RangeError(`DemoModelOptions.inputLayout: expected 'NCHW' or 'NHWC', got ${describe(inputLayout)}`);
  }
  const output = opts.output ?? 'logits';
  if (output !== 'logits' && output !== 'classmap') {
    throw new RangeError(`DemoModelOptions.output: expected 'logits' or 'classmap', got ${describe(output)}`);
  }
  const inputName = opts.inputName ?? 'pixel_values';
  const outputName = opts.outputName ?? output;
  for (const [k, v] of [['inputName', inputName], ['outputName', outputName]] as const) {
    if (typeof v !== 'string' || !NAME_RE.test(v)) {
      throw new RangeError(`DemoModelOptions.${k}: expected an identifier like "pixel_values", got ${describe(v)}`);
    }
  }
  if (inputName === outputName) {
    throw new RangeError(`DemoModelOptions.outputName: must differ from inputName, both are ${describe(inputName)}`);
  }
  return { height, width, classes, variant, seed, opset, inputLayout, output, inputName, outputName };
}

/** Output size of a convolution along one axis. */
function convOut(size: number, kernel: number, stride: number, pad: number): number {
  return Math.floor((size + 2 * pad - kernel) / stride) + 1;
}

/** Spatial size of each encoder stage's output for an input size. */
export function stageSizes(arch: SegformerArch, height: number, width: number): { h: number; w: number }[] {
  const out: { h: number; w: number }[] = [];
  let h = height;
  let w = width;
  for (let i = 0; i < arch.hiddenSizes.length; i++) {
    const k = arch.patchSizes[i];
    h = convOut(h, k, arch.strides[i], Math.floor(k / 2));
    w = convOut(w, k, arch.strides[i], Math.floor(k / 2));
    out.push({ h, w });
  }
  return out;
}

const LN_EPS = 1e-5;
/**
 * Weights are scaled normals with std 1/sqrt(fan_in), so every layer keeps activations near unit variance
 * (nothing blows up or vanishes into denormals) and the untrained class map still varies across the image.
 */
const BIAS_STD = 0.02;

const i64 = (values: number[], dims: number[] = [values.length]): TensorData => ({ type: 'int64', dims, data: values });
const f32Scalar = (v: number): TensorData => ({ type: 'float32', dims: [], data: Float32Array.of(v) });

/** Emits the SegFormer graph into a builder. One instance per model. */
class SegformerEmitter {
  private readonly rng: SeededRandom;

  constructor(
    private readonly b: OnnxGraphBuilder,
    private readonly arch: SegformerArch,
    seed: number,
  ) {
    this.rng = new SeededRandom(seed);
  }

  /** A tensor drawn from N(0, std^2), bounded at about 3.5 std. */
  private weight(name: string, dims: number[], std: number): string {
    const count = dims.reduce((a, d) => a * d, 1);
    return this.b.initializer(name, { type: 'float32', dims, data: this.rng.normalArray(count, std) });
  }

  private filled(name: string, dims: number[], value: number): string {
    const count = dims.reduce((a, d) => a * d, 1);
    return this.b.initializer(name, { type: 'float32', dims, data: new Float32Array(count).fill(value) });
  }

  /** x @ W + b over the last axis. */
  linear(x: string, inF: number, outF: number, scope: string, param: string): string {
    const w = this.weight(`${param}.weight`, [inF, outF], 1 / Math.sqrt(inF));
    const bias = this.weight(`${param}.bias`, [outF], BIAS_STD);
    const mm = this.b.node('MatMul', [x, w], {}, { scope });
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
    const w = this.weight(`${param}.weight`, [outC, inC / group, k, k], 1 / Math.sqrt((inC / group) * k * k));
    const bias = this.weight(`${param}.bias`, [outC], BIAS_STD);
    return this.b.node(
      'Conv',
      [x, w, bias],
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
    const sq = b.node('Pow', [centred, b.constant(scope, f32Scalar(2))], {}, { scope });
    const variance = b.node('ReduceMean', [sq], { axes: attr.ints([-1]), keepdims: attr.int(1) }, { scope });
    const eps = b.node('Add', [variance, b.constant(scope, f32Scalar(LN_EPS))], {}, { scope });
    const std = b.node('Sqrt', [eps], {}, { scope });
    const norm = b.node('Div', [centred, std], {}, { scope });
    const scaled = b.node('Mul', [norm, gamma], {}, { scope });
    return b.node('Add', [scaled, beta], {}, { scope });
  }

  /** [1,C,H,W] -> [1,C,H*W] through Shape/Slice/Concat/Reshape, as `flatten(2)` exports. */
  flattenSpatial(x: string, scope: string): string {
    const b = this.b;
    const shape = b.node('Shape', [x], {}, { scope });
    const axes = b.constant(scope, i64([0]));
    const starts = b.constant(scope, i64([0]));
    const ends = b.constant(scope, i64([2]));
    const lead = b.node('Slice', [shape, starts, ends, axes], {}, { scope });
    const target = b.node('Concat', [lead, b.constant(scope, i64([-1]))], { axis: attr.int(0) }, { scope });
    return b.node('Reshape', [x, target], this.reshapeAttrs(), { scope });
  }

  transpose(x: string, perm: number[], scope: string): string {
    return this.b.node('Transpose', [x], { perm: attr.ints(perm) }, { scope });
  }

  reshape(x: string, shape: number[], scope: string): string {
    return this.b.node('Reshape', [x, this.b.constant(scope, i64(shape))], this.reshapeAttrs(), { scope });
  }

  /** `allowzero` exists from Reshape-14 on; exporters state it explicitly there. */
  reshapeAttrs(): Record<string, ReturnType<typeof attr.int>> {
    return this.b.opset >= 14 ? { allowzero: attr.int(0) } : {};
  }

  /** Efficient self-attention with spatial reduction; x is [1,N,C] (already layer-normed). */
  attention(x: string, c: number, heads: number, sr: number, h: number, w: number, scope: string, param: string): string {
    const b = this.b;
    const n = h * w;
    const hd = c / heads;
    let q = this.linear(x, c, c, `${scope}/q_proj`, `${param}.q_proj`);
    q = this.reshape(q, [1, n, -1, hd], scope);
    q = this.transpose(q, [0, 2, 1, 3], scope);

    let kv = x;
    let nk = n;
    if (sr > 1) {
      const s = `${scope}/sequence_reduction`;
      let t = this.transpose(x, [0, 2, 1], s);
      t = this.reshape(t, [1, c, h, w], s);
      t = this.conv(t, c, c, sr, sr, 0, 1, `${s}/sequence_reduction`, `${param}.sequence_reduction`);
      t = this.reshape(t, [1, c, -1], s);
      t = this.transpose(t, [0, 2, 1], s);
      kv = this.layerNorm(t, c, `${s}/layer_norm`, `${param}.sequence_reduction.layer_norm`);
      nk = Math.floor(h / sr) * Math.floor(w / sr);
    }
    let k = this.linear(kv, c, c, `${scope}/k_proj`, `${param}.k_proj`);
    k = this.reshape(k, [1, nk, -1, hd], scope);
    let v = this.linear(kv, c, c, `${scope}/v_proj`, `${param}.v_proj`);
    v = this.reshape(v, [1, nk, -1, hd], scope);
    v = this.transpose(v, [0, 2, 1, 3], scope);
    const kT = this.transpose(k, [0, 2, 3, 1], scope);

    // The 1/sqrt(head_dim) scale is split as head_dim^-1/4 on each side, as the exporter emits it.
    const scale = Math.pow(hd, -0.25);
    const qs = b.node('Mul', [q, b.constant(scope, f32Scalar(scale))], {}, { scope });
    const ks = b.node('Mul', [kT, b.constant(scope, f32Scalar(scale))], {}, { scope });
    const scores = b.node('MatMul', [qs, ks], {}, { scope });
    const probs = b.node('Softmax', [scores], { axis: attr.int(-1) }, { scope });
    let ctx = b.node('MatMul', [probs, v], {}, { scope });
    ctx = this.transpose(ctx, [0, 2, 1, 3], scope);
    ctx = this.reshape(ctx, [1, n, -1], scope);
    return this.linear(ctx, c, c, `${scope}/o_proj`, `${param}.o_proj`);
  }

  /** Mix-FFN: Linear, depth-wise 3x3 Conv on the token grid, Erf-GELU, Linear. */
  mixFfn(x: string, c: number, h: number, w: number, scope: string, param: string): string {
    const b = this.b;
    const hidden = c * this.arch.mlpRatio;
    let t = this.linear(x, c, hidden, `${scope}/fc1`, `${param}.fc1`);
    const dw = `${scope}/dwconv`;
    t = this.transpose(t, [0, 2, 1], dw);
    t = this.reshape(t, [1, hidden, h, w], dw);
    t = this.conv(t, hidden, hidden, 3, 1, 1, hidden, `${dw}/dwconv`, `${param}.dwconv`);
    t = this.flattenSpatial(t, dw);
    t = this.transpose(t, [0, 2, 1], dw);
    // GELU(x) = 0.5 * x * (1 + erf(x / sqrt(2)))
    const act = `${scope}/activation_fn`;
    const div = b.node('Div', [t, b.constant(act, f32Scalar(Math.SQRT2))], {}, { scope: act });
    const erf = b.node('Erf', [div], {}, { scope: act });
    const plus1 = b.node('Add', [erf, b.constant(act, f32Scalar(1))], {}, { scope: act });
    const mul = b.node('Mul', [t, plus1], {}, { scope: act });
    const gelu = b.node('Mul', [mul, b.constant(act, f32Scalar(0.5))], {}, { scope: act });
    return this.linear(gelu, hidden, c, `${scope}/fc2`, `${param}.fc2`);
  }

  /** The encoder: returns each stage's NCHW feature map. */
  encoder(input: string, height: number, width: number): { name: string; c: number; h: number; w: number }[] {
    const a = this.arch;
    const sizes = stageSizes(a, height, width);
    const feats: { name: string; c: number; h: number; w: number }[] = [];
    let x = input;
    let inC = 3;
    for (let i = 0; i < a.hiddenSizes.length; i++) {
      const c = a.hiddenSizes[i];
      const { h, w } = sizes[i];
      const scope = `/encoder/stages.${i}`;
      const param = `encoder.stages.${i}`;
      const pe = `${scope}/patch_embeddings`;
      const k = a.patchSizes[i];
      let t = this.conv(x, inC, c, k, a.strides[i], Math.floor(k / 2), 1, `${pe}/proj`, `${param}.patch_embeddings.proj`);
      t = this.flattenSpatial(t, pe);
      t = this.transpose(t, [0, 2, 1], pe);
      t = this.layerNorm(t, c, `${pe}/layer_norm`, `${param}.patch_embeddings.layer_norm`);
      for (let j = 0; j < a.depths[i]; j++) {
        const bs = `${scope}/blocks.${j}`;
        const bp = `${param}.blocks.${j}`;
        const n1 = this.layerNorm(t, c, `${bs}/layernorm_before`, `${bp}.layernorm_before`);
        const att = this.attention(n1, c, a.heads[i], a.srRatios[i], h, w, `${bs}/attention`, `${bp}.attention`);
        t = this.b.node('Add', [att, t], {}, { scope: bs });
        const n2 = this.layerNorm(t, c, `${bs}/layernorm_after`, `${bp}.layernorm_after`);
        const ffn = this.mixFfn(n2, c, h, w, `${bs}/mlp`, `${bp}.mlp`);
        t = this.b.node('Add', [ffn, t], {}, { scope: bs });
      }
      t = this.layerNorm(t, c, `${scope}/layer_norm`, `${param}.layer_norm`);
      t = this.reshape(t, [1, h, w, -1], scope);
      t = this.transpose(t, [0, 3, 1, 2], scope);
      feats.push({ name: t, c, h, w });
      x = t;
      inC = c;
    }
    return feats;
  }

  /** The all-MLP decoder; returns the logits value name ([1, classes, h0, w0]). */
  decoder(feats: { name: string; c: number; h: number; w: number }[], classes: number, logitsName: string): string {
    const b = this.b;
    const d = this.arch.decoderHidden;
    const { h: h0, w: w0 } = feats[0];
    const upsampled: string[] = [];
    for (let i = 0; i < feats.length; i++) {
      const f = feats[i];
      const lp = `/decode_head/linear_projections.${i}`;
      let t = this.flattenSpatial(f.name, lp);
      t = this.transpose(t, [0, 2, 1], lp);
      t = this.linear(t, f.c, d, `${lp}/proj`, `decode_head.linear_projections.${i}.proj`);
      t = this.transpose(t, [0, 2, 1], '/decode_head');
      t = this.reshape(t, [1, -1, f.h, f.w], '/decode_head');
      // Resize target = (N, C) of the tensor itself + the stage-0 size, as the exporter builds it.
      const shape = b.node('Shape', [t], {}, { scope: '/decode_head' });
      const axes = b.constant('/decode_head', i64([0]));
      const starts = b.constant('/decode_head', i64([0]));
      const ends = b.constant('/decode_head', i64([2]));
      const nc = b.node('Slice', [shape, starts, ends, axes], {}, { scope: '/decode_head' });
      const sizes = b.node('Concat', [nc, b.constant('/decode_head', i64([h0, w0]))], { axis: attr.int(0) }, { scope: '/decode_head' });
      t = b.node(
        'Resize',
        [t, '', '', sizes],
        {
          coordinate_transformation_mode: attr.string('half_pixel'),
          cubic_coeff_a: attr.float(-0.75),
          mode: attr.string('linear'),
          nearest_mode: attr.string('floor'),
        },
        { scope: '/decode_head' },
      );
      upsampled.push(t);
    }
    const cat = b.node('Concat', upsampled.reverse(), { axis: attr.int(1) }, { scope: '/decode_head' });
    // linear_fuse + BatchNorm(eval) folded into one 1x1 Conv, then ReLU.
    const fused = this.conv(cat, d * feats.length, d, 1, 1, 0, 1, '/decode_head/linear_fuse', 'decode_head.linear_fuse');
    const relu = b.node('Relu', [fused], {}, { scope: '/decode_head/activation' });
    const wc = this.weight('decode_head.classifier.weight', [classes, d, 1, 1], 1 / Math.sqrt(d));
    const bc = this.weight('decode_head.classifier.bias', [classes], BIAS_STD);
    return b.node(
      'Conv',
      [relu, wc, bc],
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
}

/** Output spatial size (1/4 of the input, rounded up like the stride-4 patch embedding). */
export function demoOutputSize(o: Pick<ResolvedDemoOptions, 'variant' | 'height' | 'width'>): { height: number; width: number } {
  const s = stageSizes(DEMO_ARCHS[o.variant], o.height, o.width)[0];
  return { height: s.h, width: s.w };
}

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
  const inDims = o.inputLayout === 'NCHW' ? [1, 3, o.height, o.width] : [1, o.height, o.width, 3];
  let x = b.input(o.inputName, OnnxElemType.FLOAT, inDims);
  if (o.inputLayout === 'NHWC') x = b.node('Transpose', [x], { perm: attr.ints([0, 3, 1, 2]) }, { scope: '/input' });

  const emitter = new SegformerEmitter(b, arch, o.seed);
  const feats = emitter.encoder(x, o.height, o.width);
  const out = demoOutputSize(o);
  if (o.output === 'logits') {
    emitter.decoder(feats, o.classes, o.outputName);
    b.output(o.outputName, OnnxElemType.FLOAT, [1, o.classes, out.height, out.width]);
  } else {
    const logits = emitter.decoder(feats, o.classes, 'logits');
    b.node('ArgMax', [logits], { axis: attr.int(1), keepdims: attr.int(1) }, { scope: '/argmax', outputs: [o.outputName] });
    b.output(o.outputName, OnnxElemType.INT64, [1, 1, out.height, out.width]);
  }
  return b.toBytes();
}

/** The Hugging Face-style config.json of a demo model (numbered class names, the demo marker). */
export function demoConfigJson(opts: DemoModelOptions = {}): Record<string, unknown> {
  const o = resolveDemoOptions(opts);
  const a = DEMO_ARCHS[o.variant];
  const id2label: Record<string, string> = {};
  const label2id: Record<string, number> = {};
  for (let i = 0; i < o.classes; i++) {
    id2label[String(i)] = `class ${i}`;
    label2id[`class ${i}`] = i;
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
export async function ensureDemoModel(cacheDir: string, opts: DemoModelOptions = {}): Promise<DemoModelFiles> {
  if (typeof cacheDir !== 'string' || cacheDir.length === 0) {
    throw new TypeError(`ensureDemoModel: cacheDir: expected a directory path, got ${describe(cacheDir)}`);
  }
  const dir = path.join(cacheDir, demoModelKey(opts));
  const files: DemoModelFiles = {
    modelPath: path.join(dir, 'model.onnx'),
    configPath: path.join(dir, 'config.json'),
    preprocessorPath: path.join(dir, 'preprocessor_config.json'),
  };
  const names = { 'model.onnx': files.modelPath, 'preprocessor_config.json': files.preprocessorPath, 'config.json': files.configPath };
  // Beside the folder, not in it: the folder holds exactly the model's three files.
  const checksumFile = `${dir}.sha256.json`;
  const current = Object.fromEntries(await Promise.all(Object.entries(names).map(async ([n, p]) => [n, await readOrNull(p)] as const))) as Record<string, Buffer | null>;
  let recorded: Record<string, string> | null = null;
  try {
    recorded = JSON.parse((await fs.readFile(checksumFile, 'utf8')) || 'null') as Record<string, string>;
  } catch {
    recorded = null;
  }

  let problem: string | null;
  let expected: Record<string, Uint8Array | string> | null = null;
  const build = (): Record<string, Uint8Array | string> => ({
    'model.onnx': buildDemoModel(opts),
    'preprocessor_config.json': `${JSON.stringify(demoPreprocessorJson(opts), null, 2)}\n`,
    'config.json': `${JSON.stringify(demoConfigJson(opts), null, 2)}\n`,
  });
  if (Object.values(current).every((b) => b === null) && !recorded) {
    problem = null; // nothing cached yet: a first generation, not a repair
    expected = build();
  } else if (recorded && typeof recorded === 'object') {
    const bad = Object.keys(names).filter((n) => !current[n] || typeof recorded![n] !== 'string' || sha256(current[n]!) !== recorded![n]);
    if (bad.length === 0) return files;
    problem = bad.map((n) => (current[n] ? `${n} does not match its checksum (damaged)` : `${n} is missing`)).join(', ');
  } else {
    // No (readable) checksums: an older cache, or one interrupted before they were written. Compare with a build.
    expected = build();
    const bad = Object.keys(names).filter((n) => !current[n] || sha256(current[n]!) !== sha256(expected![n]!));
    problem = bad.length === 0 ? null : bad.map((n) => (current[n] ? `${n} differs from what the generator makes (damaged)` : `${n} is missing`)).join(', ');
    if (bad.length === 0) {
      await writeFileAtomic(checksumFile, `${JSON.stringify(Object.fromEntries(Object.keys(names).map((n) => [n, sha256(current[n]!)])), null, 2)}\n`);
      return files;
    }
  }
  expected ??= build();
  await fs.mkdir(dir, { recursive: true });
  // The checksums go first (the old ones no longer hold while files are rewritten) and last (the folder is complete).
  await fs.rm(checksumFile, { force: true });
  for (const [n, p] of Object.entries(names)) await writeFileAtomic(p, expected[n]!);
  await writeFileAtomic(checksumFile, `${JSON.stringify(Object.fromEntries(Object.keys(names).map((n) => [n, sha256(expected![n]!)])), null, 2)}\n`);
  return problem ? { ...files, repaired: `${dir}: ${problem}; generated again` } : files;
}
