/**
 * Loads a user's SegFormer-style ONNX model description (not the runtime session): input/output names, shapes,
 * layout, dtype and class count read from the model itself, class names and preprocessing from the optional
 * Hugging Face config files next to it. Nothing about names, sizes or class counts is assumed.
 * ONNX Runtime is not loaded here; the ONNX file is summarised without decoding its weights.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { ModelInfo, ModelInputSpec, ModelOutputSpec, PreprocessSpec, Quantization, TensorDType, TensorLayout } from './model-info.ts';
import { ModelLoadError } from './errors.ts';
import { PIL_RESAMPLE, readHfModelConfig, readHfPreprocessorConfig, type HfModelConfig, type HfPreprocessorConfig, IMAGENET_MEAN, IMAGENET_STD, DEFAULT_RESCALE } from './hf-config.ts';
import {
  countOps,
  countParameters,
  defaultOpset,
  elemTypeName,
  readOnnxSummary,
  type OnnxSummary,
  type OnnxValueInfo,
} from './onnx/reader.ts';
import { buildGraphView, type GraphNode, type OnnxGraph } from './onnx/graph.ts';
import { propagateShapes, type ShapePropagation } from './onnx/shapes.ts';
import { constantNodeValue, initializerValue } from './onnx/tensor-values.ts';
import { at } from '../util/checked-access.ts';

export { ModelLoadError } from './errors.ts';

export interface LoadModelOptions {
  /** config.json (class names); default: config.json next to the model, if present. */
  configPath?: string;
  /** preprocessor_config.json; default: preprocessor_config.json next to the model, if present. */
  preprocessorPath?: string;
  /** Display name; default: the file stem, or the folder name for a file called model.onnx. */
  name?: string;
  /** Input size for models with dynamic height/width (must equal the static size otherwise). */
  size?: { height: number; width: number };
}

/** Input size used for a dynamic model when neither options nor preprocessor_config.json give one. */
export const DEFAULT_DYNAMIC_SIZE = { height: 512, width: 512 };

const DTYPES: Record<number, TensorDType> = { 1: 'float32', 2: 'uint8', 3: 'int8', 5: 'int16', 6: 'int32', 7: 'int64', 10: 'float16' };
const INTEGER_DTYPES = new Set<TensorDType>(['uint8', 'int8', 'int16', 'int32', 'int64']);

function shapeText(dims: (number | string)[] | null): string {
  return dims === null ? 'no shape' : `[${dims.join(', ')}]`;
}

function validateOptions(modelPath: unknown, opts: unknown): asserts opts is LoadModelOptions {
  if (typeof modelPath !== 'string' || modelPath.length === 0) {
    throw new TypeError(`loadModelInfo: modelPath: expected a file path, got ${JSON.stringify(modelPath)}`);
  }
  if (typeof opts !== 'object' || opts === null) {
    throw new TypeError(`loadModelInfo: options: expected an object, got ${JSON.stringify(opts)}`);
  }
  const o = opts as Record<string, unknown>;
  for (const k of ['configPath', 'preprocessorPath', 'name'] as const) {
    if (o[k] !== undefined && (typeof o[k] !== 'string' || (o[k] as string).length === 0)) {
      throw new TypeError(`loadModelInfo: options.${k}: expected a non-empty string, got ${JSON.stringify(o[k])}`);
    }
  }
  if (o.size !== undefined) {
    const s = o.size as Record<string, unknown> | null;
    const ok = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v > 0 && v <= 16384;
    if (typeof s !== 'object' || s === null || !ok(s.height) || !ok(s.width)) {
      throw new TypeError(`loadModelInfo: options.size: expected {height, width} positive integers, got ${JSON.stringify(o.size)}`);
    }
  }
}

/** Resolves the model path (a folder means its model.onnx) and checks it is a readable file. */
async function resolveModelFile(modelPath: string): Promise<string> {
  let st;
  try {
    st = await fs.stat(modelPath);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new ModelLoadError(modelPath, 'model file not found', { cause: err });
    }
    throw new ModelLoadError(modelPath, `cannot access model file: ${(err as Error).message}`, { cause: err });
  }
  if (st.isDirectory()) {
    const inner = path.join(modelPath, 'model.onnx');
    try {
      if ((await fs.stat(inner)).isFile()) return inner;
    } catch {
      // fall through to the error below
    }
    throw new ModelLoadError(modelPath, 'is a directory without a model.onnx', { expected: 'an .onnx file or a folder holding model.onnx', found: 'a directory' });
  }
  if (!st.isFile()) throw new ModelLoadError(modelPath, 'is not a regular file', { expected: 'an .onnx file' });
  return modelPath;
}

async function isFile(p: string): Promise<boolean> {
  try {
    return (await fs.stat(p)).isFile();
  } catch {
    return false;
  }
}

function toDType(file: string, field: string, elemType: number): TensorDType {
  const d = DTYPES[elemType];
  if (!d) {
    throw new ModelLoadError(file, 'unsupported element type', {
      field,
      expected: 'float32, float16, uint8, int8, int16, int32 or int64',
      found: elemTypeName(elemType),
    });
  }
  return d;
}

interface InputAnalysis {
  info: OnnxValueInfo;
  dims: (number | string)[];
  layout: TensorLayout;
  dtype: TensorDType;
  /** Static H/W or null when symbolic. */
  height: number | null;
  width: number | null;
  quantization?: Quantization;
}

/**
 * The layout of an input whose channel axis is symbolic (Optimum declares `num_channels`): read from the
 * first Conv it reaches, directly (NCHW) or through a Transpose [0,3,1,2] (NHWC), whose weight takes 3 channels.
 */
function layoutFromConsumers(summary: OnnxSummary, graph: OnnxGraph, name: string): TensorLayout | null {
  const weightIn = (conv: GraphNode | undefined): number | null => {
    if (!conv || conv.opType !== 'Conv') return null;
    const w = summary.initializers.find((t) => t.name === conv.inputs[1]);
    const group = Number(conv.attributes.find((a) => a.name === 'group')?.i ?? 1);
    const inChannels = w && w.dims.length === 4 ? w.dims[1] : undefined;
    return inChannels === undefined ? null : inChannels * group;
  };
  const firstConsumer = (n: GraphNode): GraphNode | undefined => {
    const [out] = n.outputs;
    return out === undefined ? undefined : graph.consumers.get(out)?.[0];
  };
  for (const n of graph.consumers.get(name) ?? []) {
    // A DequantizeLinear (quantised input) or Cast (uint8 pixels) comes first in some exports.
    const next = n.opType === 'DequantizeLinear' || n.opType === 'Cast' ? firstConsumer(n) : n;
    if (!next) continue;
    if (weightIn(next) === 3) return 'NCHW';
    if (next.opType === 'Transpose') {
      const perm = next.attributes.find((a) => a.name === 'perm')?.ints?.map(Number);
      if (perm?.join(',') === '0,3,1,2' && weightIn(firstConsumer(next)) === 3) return 'NHWC';
    }
  }
  return null;
}

/** The scale and zero point of the DequantizeLinear an integer input feeds (per tensor), if it feeds one. */
function inputQuantization(bytes: Uint8Array, summary: OnnxSummary, graph: OnnxGraph, name: string): Quantization | undefined {
  const dq = (graph.consumers.get(name) ?? []).find((n) => n.opType === 'DequantizeLinear');
  if (!dq) return undefined;
  const valueOf = (v: string | undefined) => {
    if (!v) return null;
    const init = summary.initializers.find((t) => t.name === v);
    if (init) return initializerValue(bytes, init);
    const producer = graph.producers.get(v);
    return producer?.opType === 'Constant' ? constantNodeValue(producer) : null;
  };
  const scale = valueOf(dq.inputs[1]);
  const zp = dq.inputs[2] ? valueOf(dq.inputs[2]) : { elemType: 0, dims: [], values: [0] };
  // Per tensor only: exactly one scale (positive) and one zero point.
  const [scaleValue, ...moreScales] = scale?.values ?? [];
  const [zeroPoint, ...moreZeroPoints] = zp?.values ?? [];
  if (scaleValue === undefined || zeroPoint === undefined || moreScales.length > 0 || moreZeroPoints.length > 0 || !(scaleValue > 0)) return undefined;
  return { scales: Float32Array.of(scaleValue), zeroPoints: Int32Array.of(zeroPoint) };
}

function analyseInput(file: string, bytes: Uint8Array, summary: OnnxSummary, graph: OnnxGraph): InputAnalysis {
  const initNames = new Set(summary.initializers.map((t) => t.name));
  // Before IR 4, initializers were also listed as graph inputs: those are weights, not inputs.
  const inputs = summary.inputs.filter((i) => !initNames.has(i.name));
  const [info] = inputs;
  if (info === undefined) {
    throw new ModelLoadError(file, 'the model has no input', { field: 'graph.input', expected: 'one image input' });
  }
  if (inputs.length > 1) {
    throw new ModelLoadError(file, 'more than one input; segstream feeds exactly one image tensor', {
      field: 'graph.input',
      expected: '1 image input',
      found: `${inputs.length} inputs: ${inputs.map((i) => `${i.name} ${shapeText(i.dims)}`).join(', ')}`,
    });
  }
  const field = `input "${info.name}"`;
  if (info.typeKind !== 'tensor') {
    throw new ModelLoadError(file, 'the input is not a tensor', { field, expected: 'a tensor', found: info.typeKind });
  }
  const dims = info.dims;
  if (dims === null) {
    throw new ModelLoadError(file, 'the input has no declared shape', { field: `${field} shape`, expected: '[1, 3, H, W] or [1, H, W, 3]', found: 'no shape' });
  }
  if (dims.length !== 4) {
    throw new ModelLoadError(file, 'wrong input rank', {
      field: `${field} shape`,
      expected: 'rank 4: NCHW [1, 3, H, W] or NHWC [1, H, W, 3]',
      found: `rank ${dims.length} ${shapeText(dims)}`,
    });
  }
  let layout: TensorLayout | null = null;
  if (dims[1] === 3) layout = 'NCHW';
  else if (dims[3] === 3) layout = 'NHWC';
  else if (typeof dims[1] === 'string' || typeof dims[3] === 'string') layout = layoutFromConsumers(summary, graph, info.name);
  if (layout === null) {
    throw new ModelLoadError(file, 'wrong channel count', {
      field: `${field} shape`,
      expected: '3 (RGB) channels at axis 1 (NCHW) or axis 3 (NHWC)',
      found: `${shapeText(dims)}${typeof dims[1] === 'string' || typeof dims[3] === 'string' ? ' (a symbolic channel dim, and no Conv taking 3 channels reads the input)' : ''}`,
    });
  }
  if (typeof dims[0] === 'number' && dims[0] !== 1) {
    throw new ModelLoadError(file, 'unsupported batch size', { field: `${field} shape`, expected: 'batch 1 or a dynamic batch', found: shapeText(dims) });
  }
  const dtype = toDType(file, `${field} element type`, info.elemType);
  let quantization: Quantization | undefined;
  if (dtype === 'int8' || dtype === 'uint8') {
    quantization = inputQuantization(bytes, summary, graph, info.name);
    if (!quantization && dtype === 'int8') {
      throw new ModelLoadError(file, 'an int8 input that feeds no DequantizeLinear: what its values mean cannot be read from the model', {
        field: `${field} element type`,
        expected: 'float32/float16 (normalised), uint8 raw pixels, or an int8/uint8 input read by a DequantizeLinear with a constant scale',
        found: 'int8',
      });
    }
  } else if (dtype !== 'float32' && dtype !== 'float16') {
    throw new ModelLoadError(file, 'unsupported input element type', {
      field: `${field} element type`,
      expected: 'float32, float16, uint8 or int8',
      found: dtype,
    });
  }
  const [hAxis, wAxis] = layout === 'NCHW' ? [2, 3] : [1, 2];
  const height = typeof dims[hAxis] === 'number' ? (dims[hAxis] as number) : null;
  const width = typeof dims[wAxis] === 'number' ? (dims[wAxis] as number) : null;
  return { info, dims, layout, dtype, height, width, ...(quantization ? { quantization } : {}) };
}

interface OutputAnalysis {
  info: OnnxValueInfo;
  /** Declared dims. */
  dims: (number | string)[];
  /** Declared dims with every dim shape propagation resolved filled in (symbolic where it could not). */
  resolved: (number | string)[];
  kind: 'logits' | 'classmap';
  dtype: TensorDType;
  layout: TensorLayout;
  /** Class count read from the model; null for a class map whose count the model does not show. */
  classes: number | null;
  hDim: number | string;
  wDim: number | string;
  ignored: string[];
}

/** For a class-map output, look for the class count in the graph: ArgMax's input shape or the classifier weight. */
function classesBehindArgMax(summary: OnnxSummary, shapes: ShapePropagation, outputName: string): number | null {
  const producer = new Map<string, (typeof summary.nodes)[number]>();
  for (const n of summary.nodes) for (const o of n.outputs) producer.set(o, n);
  let node = producer.get(outputName);
  // Walk back through casts/reshapes to the ArgMax.
  for (let hops = 0; node && node.opType !== 'ArgMax' && hops < 4; hops++) {
    const [data] = node.inputs;
    node = data === undefined ? undefined : producer.get(data);
  }
  if (!node || node.opType !== 'ArgMax') return null;
  const axisAttr = node.attributes.find((a) => a.name === 'axis');
  const axisRaw = axisAttr?.i ?? 0;
  const axis = typeof axisRaw === 'number' ? axisRaw : Number(axisRaw.toString());
  const [src] = node.inputs;
  if (src === undefined) return null;
  // Shape propagation first (it sees through Resize, Relu, ...), then what the file declares.
  const propagated = shapes.values.get(src)?.dims;
  if (propagated) {
    const d = propagated[axis < 0 ? propagated.length + axis : axis];
    if (typeof d === 'number') return d;
  }
  const vi = [...summary.valueInfo, ...summary.outputs].find((v) => v.name === src);
  if (vi?.dims) {
    const d = vi.dims[axis < 0 ? vi.dims.length + axis : axis];
    if (typeof d === 'number') return d;
  }
  // The classifier: a Conv whose weight's first dim is the class count.
  const conv = producer.get(src);
  if (conv && conv.opType === 'Conv') {
    const w = summary.initializers.find((t) => t.name === conv.inputs[1]);
    const outChannels = w && w.dims.length === 4 ? w.dims[0] : undefined;
    if (outChannels !== undefined) return outChannels;
  }
  return null;
}

/** Declared dims with the propagated sizes filled in; the propagated rank when nothing is declared. */
function resolveDims(declared: (number | string)[] | null, propagated: (number | null)[] | null | undefined): (number | string)[] | null {
  if (!declared) return propagated ? propagated.map((d) => d ?? '?') : null;
  if (!propagated || propagated.length !== declared.length) return declared;
  return declared.map((d, i) => propagated[i] ?? d);
}

function analyseOutput(file: string, summary: OnnxSummary, input: InputAnalysis, shapes: ShapePropagation): OutputAnalysis {
  const resolvedOf = (o: OnnxValueInfo) => resolveDims(o.dims, shapes.values.get(o.name)?.dims);
  const tensors = summary.outputs.flatMap((o) => {
    const r = resolvedOf(o);
    return o.typeKind === 'tensor' && r !== null && (r.length === 3 || r.length === 4) ? [{ info: o, resolved: r }] : [];
  });
  const [usable] = tensors;
  if (usable === undefined) {
    throw new ModelLoadError(file, 'no usable output', {
      field: 'graph.output',
      expected: 'a rank-4 logits tensor [1, C, h, w] / [1, h, w, C] or a class map [1, h, w] / [1, 1, h, w]',
      found: summary.outputs.map((o) => `${o.name} ${shapeText(o.dims)}`).join(', '),
    });
  }
  const { info, resolved } = usable;
  const ignored = summary.outputs.filter((o) => o !== info).map((o) => o.name);
  const dims = info.dims ?? [];
  const field = `output "${info.name}"`;
  // resolved has rank 3 or 4 (the filter above), so these axes exist.
  const dim = (axis: number) => at(resolved, axis, `${field} dims`);
  const dtype = toDType(file, `${field} element type`, info.elemType);
  const isInt = INTEGER_DTYPES.has(dtype);

  if (resolved.length === 3) {
    if (!isInt) {
      throw new ModelLoadError(file, 'a rank-3 output must be an integer class map', {
        field: `${field} element type`,
        expected: 'an integer type (argmax taken inside the model)',
        found: `${dtype} ${shapeText(dims)}`,
      });
    }
    return { info, dims, resolved, kind: 'classmap', dtype, layout: 'NCHW', classes: classesBehindArgMax(summary, shapes, info.name), hDim: dim(1), wDim: dim(2), ignored };
  }

  // Rank 4: which axis holds the classes? Score each reading: its spatial pair having the input's aspect ratio
  // is strong evidence (2), an unverifiable pair (symbolic, or the input is dynamic) weak (1), a different aspect
  // none (0); a fixed class axis adds 0.5. Ties go to the input's own layout.
  const score = (l: TensorLayout): number => {
    const [h, w, c] = l === 'NCHW' ? [resolved[2], resolved[3], resolved[1]] : [resolved[1], resolved[2], resolved[3]];
    let s: number;
    if (typeof h !== 'number' || typeof w !== 'number' || input.height === null || input.width === null) s = 1;
    else {
      const sh = h / input.height;
      const sw = w / input.width;
      s = Math.abs(sh - sw) <= 0.1 * Math.max(sh, sw) ? 2 : 0;
    }
    return s + (typeof c === 'number' ? 0.5 : 0);
  };
  const other: TensorLayout = input.layout === 'NCHW' ? 'NHWC' : 'NCHW';
  const layout: TensorLayout = score(other) > score(input.layout) ? other : input.layout;

  const cAxis = layout === 'NCHW' ? 1 : 3;
  const c = resolved[cAxis];
  const [hDim, wDim] = layout === 'NCHW' ? [dim(2), dim(3)] : [dim(1), dim(2)];
  if (isInt) {
    if (c !== 1) {
      throw new ModelLoadError(file, 'an integer output must be a class map with one channel', {
        field: `${field} shape`,
        expected: layout === 'NCHW' ? '[1, 1, h, w]' : '[1, h, w, 1]',
        found: `${dtype} ${shapeText(dims)}`,
      });
    }
    return { info, dims, resolved, kind: 'classmap', dtype, layout, classes: classesBehindArgMax(summary, shapes, info.name), hDim, wDim, ignored };
  }
  if (typeof c !== 'number') {
    throw new ModelLoadError(file, 'the class count is not fixed in the model', {
      field: `${field} shape`,
      expected: `a fixed number of classes at axis ${cAxis}`,
      found: shapeText(dims),
    });
  }
  if (c < 2) {
    throw new ModelLoadError(file, 'a single-channel float output is not a segmentation over classes', {
      field: `${field} shape`,
      expected: 'at least 2 class planes (logits), or an integer class map',
      found: `${dtype} ${shapeText(dims)}`,
    });
  }
  return { info, dims, resolved, kind: 'logits', dtype, layout, classes: c, hDim, wDim, ignored };
}

function modelName(file: string, given?: string): string {
  if (given) return given;
  const stem = path.basename(file).replace(/\.onnx$/i, '');
  if (stem === 'model') {
    const dir = path.basename(path.dirname(path.resolve(file)));
    if (dir && dir !== path.sep) return dir;
  }
  return stem;
}

/**
 * Reads a model and its optional configs into a ModelInfo. Throws ModelLoadError (with .file and, where
 * relevant, .field) for a missing or non-ONNX file, an unusable input or output, or configs that disagree
 * with the model.
 */
export async function loadModelInfo(modelPath: string, opts: LoadModelOptions = {}): Promise<ModelInfo> {
  return (await loadModel(modelPath, opts)).info;
}

/** A loaded model description and the reader's summary it was made from (for tools that walk the graph). */
export interface LoadedModel {
  info: ModelInfo;
  summary: OnnxSummary;
}

/** loadModelInfo, also handing back the ONNX summary so the file is read once. */
export async function loadModel(modelPath: string, opts: LoadModelOptions = {}): Promise<LoadedModel> {
  validateOptions(modelPath, opts);
  const file = await resolveModelFile(modelPath);
  let bytes: Uint8Array;
  try {
    bytes = await fs.readFile(file);
  } catch (err) {
    throw new ModelLoadError(file, `cannot read model file: ${(err as Error).message}`, { cause: err });
  }
  const summary = readOnnxSummary(bytes, file);
  const graph = buildGraphView(summary);
  const input = analyseInput(file, bytes, summary, graph);

  // Side files: explicit paths must exist; otherwise look next to the model.
  const dir = path.dirname(file);
  let config: HfModelConfig | undefined;
  let pre: HfPreprocessorConfig | undefined;
  if (opts.configPath !== undefined) config = await readHfModelConfig(opts.configPath);
  else if (await isFile(path.join(dir, 'config.json'))) config = await readHfModelConfig(path.join(dir, 'config.json'));
  if (opts.preprocessorPath !== undefined) pre = await readHfPreprocessorConfig(opts.preprocessorPath);
  else if (await isFile(path.join(dir, 'preprocessor_config.json'))) pre = await readHfPreprocessorConfig(path.join(dir, 'preprocessor_config.json'));

  // Input size: static from the model (configs and options must agree), or chosen for a dynamic model.
  const details: Record<string, string | number> = {};
  const preSize = pre?.size;
  const checkAgainst = (what: string, sz: { height: number; width: number }, fileForError: string, field: string) => {
    const hBad = input.height !== null && input.height !== sz.height;
    const wBad = input.width !== null && input.width !== sz.width;
    if (hBad || wBad) {
      throw new ModelLoadError(fileForError, `${what} does not match the model's input size`, {
        field,
        expected: `${input.height ?? 'any'}x${input.width ?? 'any'} (input "${input.info.name}" ${shapeText(input.dims)})`,
        found: `${sz.height}x${sz.width}`,
      });
    }
  };
  if (preSize && pre) checkAgainst('the resize target', preSize, pre.file, 'size');
  if (opts.size) checkAgainst('options.size', opts.size, file, 'options.size');
  const dynamic = input.height === null || input.width === null;
  let height = input.height;
  let width = input.width;
  if (dynamic) {
    const chosen = opts.size ?? preSize ?? DEFAULT_DYNAMIC_SIZE;
    details.inputSizeOrigin = opts.size ? 'options' : preSize ? 'preprocessor_config' : 'default';
    height ??= chosen.height;
    width ??= chosen.width;
  }

  // Every value's shape at the size segstream feeds: symbolic output dims (dynamic exports, class counts
  // declared as `num_labels`) resolve here, before any runtime is loaded.
  const feedDims = input.layout === 'NCHW' ? [1, 3, height!, width!] : [1, height!, width!, 3];
  const shapes = propagateShapes(summary, bytes, { [input.info.name]: feedDims });
  const output = analyseOutput(file, summary, input, shapes);

  // Class count: from the model; a class map may leave it to config.json, or, failing both, to the ids seen.
  let classes = output.classes;
  const labels = config?.id2label ?? null;
  if (config && labels && classes !== null && labels.length !== classes) {
    throw new ModelLoadError(config.file, 'class names do not match the model', {
      field: 'id2label',
      expected: `${classes} entries (the model's output "${output.info.name}" has ${classes} classes)`,
      found: `${labels.length} entries`,
    });
  }
  if (config && !labels && config.numLabels !== undefined && classes !== null && config.numLabels !== classes) {
    throw new ModelLoadError(config.file, 'class count does not match the model', {
      field: 'num_labels',
      expected: `${classes} (the model's output "${output.info.name}")`,
      found: String(config.numLabels),
    });
  }
  if (output.kind === 'classmap') {
    details.classCountOrigin = output.classes !== null ? 'graph' : labels || config?.numLabels !== undefined ? 'config.json' : 'observed';
  }
  if (classes === null) classes = labels?.length ?? config?.numLabels ?? null;

  const inputSpec: ModelInputSpec = {
    name: input.info.name,
    kind: 'tensor',
    dtype: input.dtype,
    layout: input.layout,
    channels: 3,
    height: height!,
    width: width!,
    dynamic,
    shape: input.dims,
    ...(input.quantization ? { quantization: input.quantization } : {}),
  };

  // Output size: static, or resolved by shape propagation; 0 only when neither tells (the ONNX backend then
  // takes it from one warm-up inference at the input size, before the first frame).
  const outSize = (d: number | string) => (typeof d === 'number' ? d : 0);
  const outputSpec: ModelOutputSpec = {
    name: output.info.name,
    kind: output.kind,
    dtype: output.dtype,
    layout: output.layout,
    classes: classes ?? 0,
    height: outSize(output.hDim),
    width: outSize(output.wDim),
    shape: output.dims,
  };
  const declaredStatic = output.dims.length > 0 && output.dims.every((d) => typeof d === 'number');
  details.outputShape =
    outputSpec.height === 0 || outputSpec.width === 0
      ? `unresolved from the graph (${shapes.unknownOps.length ? `operators not propagated: ${shapes.unknownOps.join(', ')}` : 'no shape'}); set by a warm-up inference`
      : declaredStatic
        ? 'static'
        : `propagated through the graph at ${inputSpec.height}x${inputSpec.width}: [${output.resolved.join(', ')}]`;

  const preprocess: PreprocessSpec = {
    mean: [...(pre?.mean ?? IMAGENET_MEAN)] as [number, number, number],
    std: [...(pre?.std ?? IMAGENET_STD)] as [number, number, number],
    rescale: pre?.rescale ?? DEFAULT_RESCALE,
    resample: 'bilinear',
    channelOrder: 'rgb',
    origin: pre ? 'preprocessor_config' : 'default',
  };
  if (pre && pre.resample !== 2) {
    details.resampleRequested = `${PIL_RESAMPLE[pre.resample]} (PIL ${pre.resample}); bilinear is used`;
  }
  if (pre && pre.defaulted.length > 0) details.preprocessDefaulted = pre.defaulted.join(', ');

  // No count anywhere: the class map's own ids size the histogram and palette; names stay generic (`class N`).
  const classNames = labels ? labels.map((n) => n.trim()) : Array.from({ length: classes ?? 0 }, (_, i) => `class ${i}`);
  if (classes === null) {
    details.classes = 'unknown: neither the graph (ArgMax input shape) nor config.json gives the class count; counted from the class ids seen, with generic names';
  }
  if (input.quantization) {
    details.inputValues = `quantised normalised values (scale ${input.quantization.scales[0]}, zero point ${input.quantization.zeroPoints![0]}, read from the DequantizeLinear the input feeds)`;
  } else if (input.dtype === 'uint8') {
    details.inputValues = 'raw pixels 0..255 (the model normalises them itself)';
  }
  const untrainedDemo = config?.segstreamDemo === true || summary.metadata.segstream_demo === 'true';

  const ops = countOps(summary);
  Object.assign(details, {
    opset: defaultOpset(summary),
    irVersion: summary.irVersion,
    producer: [summary.producerName, summary.producerVersion].filter(Boolean).join(' ') || 'unknown',
    nodes: summary.nodes.length,
    ops: Object.entries(ops)
      .map(([k, v]) => `${k} ${v}`)
      .join(', '),
    parameters: countParameters(summary),
    initializers: summary.initializers.length,
    fileBytes: bytes.length,
    config: config?.file ?? 'none',
    preprocessorConfig: pre?.file ?? 'none',
  });
  if (output.ignored.length > 0) details.ignoredOutputs = output.ignored.join(', ');
  if (summary.initializers.some((t) => t.external)) details.externalData = 'yes';
  if (untrainedDemo) details.note = 'untrained demo model: masks are meaningless, only speed is real';

  const info: ModelInfo = {
    name: modelName(file, opts.name),
    path: path.resolve(file),
    format: 'onnx',
    input: inputSpec,
    output: outputSpec,
    classNames,
    preprocess,
    untrainedDemo,
    details,
  };
  return { info, summary };
}
