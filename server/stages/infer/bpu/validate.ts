/**
 * Argument checks for the BPU backend's public API (sharp style: which argument, what was expected, what was
 * given), run before anything reaches the addon.
 */
import type { Nv12Image } from '../../frame-context.ts';
import type { Tensor, TensorDType } from '../../../model/model-info.ts';
import { BpuBackendError } from './errors.ts';
import { shapeText } from './tensor-info.ts';
import { expectedGot } from '../../../util/validate.ts';

export interface BpuLoadOptions {
  /** Which model of the packed file(s) to use; default: the first. */
  modelName?: string;
  /** Hand integer logits over raw, with `model.output.quantization` filled (for the argmax kernel). */
  rawIntOutput?: boolean;
  /** 1: one inference in flight (default); 2: a second set of buffers so two can overlap. */
  pipelineDepth?: 1 | 2;
  /** Class names (and, for class-map outputs, the class count the file cannot tell). */
  classNames?: string[];
  /**
   * How an NV12 input reaches the runtime: 'separate' (default; Y and UV planes, 16-aligned row stride) or
   * 'packed' (the fallback; rows at the valid width). Default: SEGSTREAM_BPU_NV12_FEED, else 'separate'.
   */
  nv12Feed?: Nv12Feed;
}

export type Nv12Feed = 'separate' | 'packed';
export const NV12_FEEDS: readonly Nv12Feed[] = ['separate', 'packed'];

const LOAD_KEYS = ['modelName', 'rawIntOutput', 'pipelineDepth', 'classNames', 'nv12Feed'];

function invalid(what: string, expected: string, got: unknown, files: string[] = []): never {
  throw new BpuBackendError(`${what}: ${expectedGot(expected, got)}`, 'invalid-argument', files);
}

export function validateLoadArgs(files: unknown, opts: unknown): { files: string[]; opts: BpuLoadOptions } {
  if (!Array.isArray(files) || files.length === 0) invalid('BpuBackend.load files', 'a non-empty array of model file paths', files);
  files.forEach((f, i) => {
    if (typeof f !== 'string' || f.length === 0) invalid(`BpuBackend.load files[${i}]`, 'a non-empty string (a .bin path)', f);
  });
  const list = files as string[];
  if (opts === undefined) return { files: list, opts: {} };
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) invalid('BpuBackend.load opts', 'an options object', opts, list);
  const o = opts as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!LOAD_KEYS.includes(key)) invalid(`BpuBackend.load opts.${key}`, `one of the options ${LOAD_KEYS.join(', ')}`, key, list);
  }
  if (o.modelName !== undefined && (typeof o.modelName !== 'string' || o.modelName.length === 0))
    invalid('BpuBackend.load opts.modelName', 'a non-empty string', o.modelName, list);
  if (o.rawIntOutput !== undefined && typeof o.rawIntOutput !== 'boolean') invalid('BpuBackend.load opts.rawIntOutput', 'a boolean', o.rawIntOutput, list);
  if (o.pipelineDepth !== undefined && o.pipelineDepth !== 1 && o.pipelineDepth !== 2)
    invalid('BpuBackend.load opts.pipelineDepth', '1 or 2', o.pipelineDepth, list);
  if (o.nv12Feed !== undefined && !NV12_FEEDS.includes(o.nv12Feed as Nv12Feed))
    invalid('BpuBackend.load opts.nv12Feed', `one of ${NV12_FEEDS.map((f) => `'${f}'`).join(', ')}`, o.nv12Feed, list);
  if (o.classNames !== undefined) {
    if (!Array.isArray(o.classNames) || o.classNames.length === 0) invalid('BpuBackend.load opts.classNames', 'a non-empty array of strings', o.classNames, list);
    o.classNames.forEach((n, i) => {
      if (typeof n !== 'string') invalid(`BpuBackend.load opts.classNames[${i}]`, 'a string', n, list);
    });
  }
  return { files: list, opts: o as BpuLoadOptions };
}

/** The NV12 feed to use: the option, else SEGSTREAM_BPU_NV12_FEED, else 'separate'. */
export function resolveNv12Feed(option: Nv12Feed | undefined, env: NodeJS.ProcessEnv = process.env): Nv12Feed {
  if (option !== undefined) return option;
  const fromEnv = env.SEGSTREAM_BPU_NV12_FEED;
  if (fromEnv === undefined || fromEnv === '') return 'separate';
  if (!NV12_FEEDS.includes(fromEnv as Nv12Feed)) invalid('SEGSTREAM_BPU_NV12_FEED', `one of ${NV12_FEEDS.join(', ')}`, fromEnv);
  return fromEnv as Nv12Feed;
}

const ARRAY_OF: Record<TensorDType, string> = {
  float32: 'Float32Array',
  float16: 'Uint16Array',
  uint8: 'Uint8Array',
  int8: 'Int8Array',
  int16: 'Int16Array',
  int32: 'Int32Array',
  int64: 'BigInt64Array',
};

/** Checks a tensor input against what the model takes (dtype and exact valid shape). */
export function validateTensorInput(input: unknown, dtype: TensorDType, shape: number[], subject: string, files: string[]): Tensor {
  if (input === null || typeof input !== 'object') invalid(`run(input) for ${subject}`, 'a Tensor { dtype, shape, data }', input, files);
  const t = input as Partial<Tensor>;
  if (t.dtype !== dtype) invalid(`run(input).dtype for ${subject}`, `'${dtype}'`, t.dtype, files);
  if (!Array.isArray(t.shape) || t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i]))
    invalid(`run(input).shape for ${subject}`, `the model's input shape ${shapeText(shape)}`, t.shape, files);
  const want = shape.reduce((a, b) => a * b, 1);
  if (!ArrayBuffer.isView(t.data) || t.data.constructor.name !== ARRAY_OF[dtype] || (t.data as ArrayLike<number>).length !== want)
    invalid(`run(input).data for ${subject}`, `a ${ARRAY_OF[dtype]} of length ${want}`, t.data, files);
  return t as Tensor;
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0;
}

/** Checks an NV12 image: integer geometry, even size equal to the model's, planes inside the buffer. */
export function validateNv12Input(image: unknown, width: number, height: number, subject: string, files: string[]): Nv12Image {
  if (image === null || typeof image !== 'object') invalid(`runNv12(image) for ${subject}`, 'an Nv12Image', image, files);
  const im = image as Partial<Nv12Image>;
  if (!(im.data instanceof Uint8Array)) invalid(`runNv12(image).data for ${subject}`, 'a Uint8Array', im.data, files);
  for (const key of ['width', 'height', 'strideY', 'strideUV', 'offsetUV'] as const) {
    if (!isCount(im[key])) invalid(`runNv12(image).${key} for ${subject}`, 'a non-negative integer', im[key], files);
  }
  const img = im as Nv12Image;
  if (img.width !== width || img.height !== height) {
    throw new BpuBackendError(
      `runNv12(image): image is ${img.width}x${img.height} but ${subject} takes ${width}x${height} NV12; resize it first (resizeNv12)`,
      'invalid-argument',
      files,
    );
  }
  if (img.strideY < img.width) invalid(`runNv12(image).strideY for ${subject}`, `>= width ${img.width}`, img.strideY, files);
  if (img.strideUV < img.width) invalid(`runNv12(image).strideUV for ${subject}`, `>= width ${img.width}`, img.strideUV, files);
  const yEnd = img.strideY * (img.height - 1) + img.width;
  const uvEnd = img.offsetUV + img.strideUV * (img.height / 2 - 1) + img.width;
  if (yEnd > img.data.length) invalid(`runNv12(image).data for ${subject}`, `at least ${yEnd} bytes for the Y plane`, img.data, files);
  if (uvEnd > img.data.length)
    invalid(`runNv12(image).data for ${subject}`, `at least ${uvEnd} bytes for the UV plane at offset ${img.offsetUV}`, img.data, files);
  return img;
}
