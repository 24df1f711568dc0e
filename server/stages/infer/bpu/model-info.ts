/**
 * Builds the backend-neutral ModelInfo from a BPU model's tensor properties, so the server picks preprocessing
 * (NV12 at model size, or a tensor) and post-processing (logits, raw int logits with scales, or a class map)
 * from what the model file says.
 */
import { basename } from 'node:path';
import type { ModelInfo, ModelInputSpec, ModelOutputSpec, Quantization, TensorDType } from '../../../model/model-info.ts';
import { BpuBackendError } from './errors.ts';
import { at, first } from '../../../util/checked-access.ts';
import { axesOf, isIntegerType, shapeText, type BpuTensorInfo, type BpuTensorType } from './tensor-info.ts';
import type { NativeOutputDType } from './native.ts';

const IMAGENET_MEAN: [number, number, number] = [0.485, 0.456, 0.406];
const IMAGENET_STD: [number, number, number] = [0.229, 0.224, 0.225];

/** dtype of a tensor input the caller hands to run(). */
export function inputDType(t: BpuTensorType): TensorDType | null {
  switch (t) {
    case 'F32':
      return 'float32';
    case 'S8':
      return 'int8';
    case 'U8':
    case 'RGB':
    case 'BGR':
    case 'YUV444':
      return 'uint8';
    default:
      return null;
  }
}

/** How an output is handed over: its dtype and whether it is a class map. */
export interface OutputPlan {
  dtype: NativeOutputDType;
  kind: 'logits' | 'classmap';
  quantization?: Quantization;
}

function rawDType(t: BpuTensorType): NativeOutputDType | null {
  switch (t) {
    case 'S8':
      return 'int8';
    case 'U8':
      return 'uint8';
    case 'S16':
      return 'int16';
    case 'U16':
    case 'S32':
      return 'int32';
    default:
      return null;
  }
}

export function planOutput(out: BpuTensorInfo, rawIntOutput: boolean, subject: string, files: string[]): OutputPlan {
  const ax = axesOf(out);
  // A 3-D integer output (N,H,W) is a class map too (argmax folded in, channel axis dropped).
  const channels = out.validShape.length === 4 ? at(out.validShape, ax.c, `output '${out.name}' shape`) : out.validShape.length === 3 ? 1 : 0;
  const integer = isIntegerType(out.tensorType);
  if (integer && channels === 1) {
    // Argmax folded into the model: class ids pass through untouched (any quantisation of them is ignored).
    const narrow = out.tensorType === 'S8' ? 'int8' : out.tensorType === 'U8' ? 'uint8' : out.tensorType === 'S16' ? 'int16' : 'int32';
    return { dtype: narrow, kind: 'classmap' };
  }
  if (out.validShape.length !== 4) {
    throw new BpuBackendError(
      `output '${out.name}' of ${subject} has shape ${shapeText(out.validShape)}; segstream reads 4-D (N,C,H,W) or (N,H,W,C) outputs`,
      'unsupported-output-type',
      files,
    );
  }
  if (!rawIntOutput || !integer) return { dtype: 'float32', kind: 'logits' };
  const dtype = rawDType(out.tensorType);
  if (!dtype) {
    throw new BpuBackendError(
      `rawIntOutput: output '${out.name}' of ${subject} is ${out.tensorType}, which has no raw form segstream passes on; load without rawIntOutput to get float32`,
      'unsupported-output-type',
      files,
    );
  }
  const q = out.quantization;
  let scales: number[];
  let zeroPoints: number[] = [];
  if (q.type === 'SCALE') {
    scales = q.scales;
    zeroPoints = q.zeroPoints;
  } else if (q.type === 'SHIFT') {
    scales = q.shifts.map((s) => 2 ** -s);
  } else {
    scales = [1];
  }
  const quantization: Quantization = { scales: Float32Array.from(scales) };
  if (zeroPoints.some((z) => z !== 0)) {
    // One zero point for all, or one per scale; anything else would pair scales with the wrong zero points.
    if (zeroPoints.length !== 1 && zeroPoints.length !== scales.length) {
      throw new BpuBackendError(
        `output '${out.name}' of ${subject} has ${scales.length} scales but ${zeroPoints.length} zero points`,
        'unsupported-output-type',
        files,
      );
    }
    const perScale = zeroPoints;
    quantization.zeroPoints = Int32Array.from(scales, (_, i) => at(perScale, perScale.length === 1 ? 0 : i, 'zero points'));
  }
  if (q.axis !== null) quantization.axis = q.axis;
  return { dtype, kind: 'logits', quantization };
}

export interface ModelInfoSource {
  name: string;
  files: string[];
  modelNames: string[];
  input: BpuTensorInfo;
  output: BpuTensorInfo;
  outputCount: number;
  plan: OutputPlan;
  runtime: 'board' | 'test-double';
  pipelineDepth: number;
  /** hbDNNGetInputSource of the input (hbDNNInputSource value). */
  inputSource: number;
  /** How an NV12 input is fed (null for tensor inputs) and the row stride of its memory. */
  nv12Feed: 'separate' | 'packed' | null;
  nv12Stride: number;
  classNames?: string[];
}

/** hbDNNInputSource values, in enum order. */
export const BPU_INPUT_SOURCES = ['DDR', 'RESIZER', 'PYRAMID'] as const;

/** True when a model runs on segstream's hb_dnn test double rather than a board's libdnn. */
export function isBpuTestDouble(model: Pick<ModelInfo, 'details'>): boolean {
  return model.details.hbDnnRuntime === 'test-double';
}

function feedText(s: ModelInfoSource): string {
  if (s.nv12Feed === 'separate') return `NV12_SEPARATE: Y in sysMem[0], UV in sysMem[1], row stride ${s.nv12Stride} (alignedShape W)`;
  if (s.nv12Feed === 'packed') return `NV12 packed: rows at ${s.nv12Stride}, alignedShape = validShape`;
  return `${s.input.tensorType} tensor`;
}

export function buildModelInfo(s: ModelInfoSource): ModelInfo {
  // The addon describes only 4-D inputs and 3-D/4-D outputs; a shape without the axis is refused by name.
  const dim = (t: BpuTensorInfo, axis: number, what: string): number => {
    const d = t.validShape[axis];
    if (d === undefined) {
      throw new BpuBackendError(`${what} '${t.name}' has shape ${shapeText(t.validShape)}, with no axis ${axis}`, 'unsupported-model', s.files);
    }
    return d;
  };
  const inAx = axesOf(s.input);
  const nv12 = s.input.tensorType === 'NV12' || s.input.tensorType === 'NV12_SEPARATE';
  const inShape = s.input.validShape;
  const input: ModelInputSpec = {
    name: s.input.name,
    kind: nv12 ? 'nv12' : 'tensor',
    dtype: nv12 ? 'uint8' : inputDType(s.input.tensorType)!,
    layout: inAx.layout,
    channels: dim(s.input, inAx.c, 'input'),
    height: dim(s.input, inAx.h, 'input'),
    width: dim(s.input, inAx.w, 'input'),
    dynamic: false,
    shape: [...inShape],
  };
  const outAx = axesOf(s.output);
  const outShape = s.output.validShape;
  const classes = s.plan.kind === 'classmap' ? (s.classNames?.length ?? 0) : dim(s.output, outAx.c, 'output');
  const output: ModelOutputSpec = {
    name: s.output.name,
    kind: s.plan.kind,
    dtype: s.plan.dtype,
    layout: outAx.layout,
    classes,
    height: dim(s.output, outShape.length === 4 ? outAx.h : outShape.length - 2, 'output'),
    width: dim(s.output, outShape.length === 4 ? outAx.w : outShape.length - 1, 'output'),
    shape: [...outShape],
    ...(s.plan.quantization ? { quantization: s.plan.quantization } : {}),
  };
  const classNames = s.classNames ?? (s.plan.kind === 'logits' ? Array.from({ length: classes }, (_, i) => `class ${i}`) : []);
  const q = s.output.quantization;
  return {
    name: s.name,
    path: first(s.files, 'BPU model files'),
    format: 'bpu-bin',
    input,
    output,
    classNames,
    preprocess: {
      mean: IMAGENET_MEAN,
      std: IMAGENET_STD,
      rescale: 1 / 255,
      resample: 'bilinear',
      channelOrder: s.input.tensorType === 'BGR' ? 'bgr' : 'rgb',
      origin: 'default',
    },
    // The test double computes synthetic outputs: its class maps mean nothing (nor do its timings).
    untrainedDemo: s.runtime === 'test-double',
    details: {
      runtime: s.runtime === 'board' ? 'hb_dnn (libdnn)' : 'hb_dnn test double (synthetic outputs)',
      /** Typed flag: 'board' or 'test-double' (see isBpuTestDouble). */
      hbDnnRuntime: s.runtime,
      files: s.files.map((f) => basename(f)).join(', '),
      packedModels: s.modelNames.join(', '),
      inputType: s.input.tensorType,
      inputLayout: s.input.layout,
      inputAlignedShape: shapeText(s.input.alignedShape),
      inputSource: BPU_INPUT_SOURCES[s.inputSource] ?? `unknown (${s.inputSource})`,
      inputFeed: feedText(s),
      preprocessInModel: nv12 ? 'yes: mean/scale and YUV->RGB are compiled into the model' : 'no',
      outputType: s.output.tensorType,
      outputLayout: s.output.layout,
      outputAlignedShape: shapeText(s.output.alignedShape),
      outputQuantization: q.type === 'NONE' ? 'NONE' : `${q.type} ${q.axis === null ? 'per-tensor' : `per-axis ${q.axis}`}`,
      outputs: s.outputCount,
      pipelineDepth: s.pipelineDepth,
    },
  };
}
