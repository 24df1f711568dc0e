/**
 * Readers for the two Hugging Face side files of a SegFormer export: `config.json` (class names in id2label,
 * and segstream's demo-model marker) and `preprocessor_config.json` (size, mean/std, rescale, resample).
 * Each field is validated on its own, and errors name the file, the field, what was expected and what was found.
 */
import { promises as fs } from 'node:fs';
import { describe } from '../util/validate.ts';
import { ModelLoadError } from './errors.ts';

export interface HfModelConfig {
  file: string;
  /** Class names in id order (raw, untrimmed), or null when config.json has no id2label. */
  id2label: string[] | null;
  /** `num_labels` when the file states it. */
  numLabels?: number;
  /** True when the file marks segstream's untrained demo model (`"segstream_demo": true`). */
  segstreamDemo: boolean;
}

/** PIL resample codes used by Hugging Face image processors. */
export const PIL_RESAMPLE: Record<number, string> = {
  0: 'nearest',
  1: 'lanczos',
  2: 'bilinear',
  3: 'bicubic',
  4: 'box',
  5: 'hamming',
};

export interface HfPreprocessorConfig {
  file: string;
  /** Resize target, when stated. */
  size?: { height: number; width: number };
  mean: [number, number, number];
  std: [number, number, number];
  rescale: number;
  /** PIL resample code (2 = bilinear). */
  resample: number;
  /** Which fields were absent and took the ImageNet/SegFormer default. */
  defaulted: string[];
}

export const IMAGENET_MEAN: [number, number, number] = [0.485, 0.456, 0.406];
export const IMAGENET_STD: [number, number, number] = [0.229, 0.224, 0.225];
export const DEFAULT_RESCALE = 1 / 255;

async function readJsonObject(file: string, what: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ModelLoadError(file, `${what} not found`, { cause: err });
    if (code === 'EISDIR') throw new ModelLoadError(file, `${what} is a directory, expected a JSON file`, { cause: err });
    throw new ModelLoadError(file, `cannot read ${what}: ${(err as Error).message}`, { cause: err });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ModelLoadError(file, `${what} is not valid JSON (${(err as Error).message})`, {
      expected: 'a JSON object',
      found: text.length === 0 ? 'an empty file' : `${text.length} characters starting ${JSON.stringify(text.slice(0, 24))}`,
      cause: err,
    });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ModelLoadError(file, `${what} must hold a JSON object`, { expected: 'a JSON object', found: describe(parsed) });
  }
  return parsed as Record<string, unknown>;
}

/** Reads config.json: id2label (must be ids 0..N-1, each a string), num_labels, segstream_demo. */
export async function readHfModelConfig(file: string): Promise<HfModelConfig> {
  const json = await readJsonObject(file, 'model config (config.json)');
  const out: HfModelConfig = { file, id2label: null, segstreamDemo: json.segstream_demo === true };

  if (json.num_labels !== undefined) {
    const n = json.num_labels;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) {
      throw new ModelLoadError(file, 'invalid class count', { field: 'num_labels', expected: 'a positive integer', found: describe(n) });
    }
    out.numLabels = n;
  }

  const raw = json.id2label;
  if (raw !== undefined) {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      throw new ModelLoadError(file, 'invalid class names', {
        field: 'id2label',
        expected: 'an object mapping "0", "1", ... to class names',
        found: describe(raw),
      });
    }
    const entries = Object.entries(raw as Record<string, unknown>);
    const names: string[] = new Array(entries.length);
    for (const [key, value] of entries) {
      const id = /^(0|[1-9][0-9]*)$/.test(key) ? Number(key) : NaN;
      if (!Number.isInteger(id) || id >= entries.length) {
        throw new ModelLoadError(file, 'class ids must run 0..N-1 without gaps', {
          field: `id2label["${key}"]`,
          expected: `an integer id from 0 to ${entries.length - 1}`,
          found: JSON.stringify(key),
        });
      }
      if (typeof value !== 'string') {
        throw new ModelLoadError(file, 'class names must be strings', {
          field: `id2label["${key}"]`,
          expected: 'a string',
          found: describe(value),
        });
      }
      names[id] = value;
    }
    // Keys are distinct integers in 0..N-1 and there are N of them, so every slot is filled.
    if (out.numLabels !== undefined && out.numLabels !== names.length) {
      throw new ModelLoadError(file, 'num_labels and id2label disagree', {
        field: 'num_labels',
        expected: `${names.length} (the number of id2label entries)`,
        found: String(out.numLabels),
      });
    }
    out.id2label = names;
  }
  return out;
}

function readTriple(file: string, json: Record<string, unknown>, field: string, positive: boolean): [number, number, number] | undefined {
  const v = json[field];
  if (v === undefined || v === null) return undefined;
  const arr = typeof v === 'number' ? [v, v, v] : v;
  const ok =
    Array.isArray(arr) &&
    arr.length === 3 &&
    arr.every((x) => typeof x === 'number' && Number.isFinite(x) && (!positive || x > 0));
  if (!ok) {
    throw new ModelLoadError(file, `invalid ${field === 'image_mean' ? 'mean' : 'standard deviation'}`, {
      field,
      expected: `3 ${positive ? 'positive ' : ''}numbers, one per RGB channel`,
      found: describe(v),
    });
  }
  return [arr[0], arr[1], arr[2]] as [number, number, number];
}

function readSize(file: string, v: unknown, field: string): { height: number; width: number } {
  const isDim = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x) && x > 0 && x <= 16384;
  if (isDim(v)) return { height: v, width: v };
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    if (isDim(o.height) && isDim(o.width)) return { height: o.height, width: o.width };
    if ('shortest_edge' in o || 'longest_edge' in o) {
      throw new ModelLoadError(file, 'aspect-preserving resize is not supported; segmentation models need a fixed size', {
        field,
        expected: '{"height": H, "width": W}',
        found: describe(v),
      });
    }
  }
  throw new ModelLoadError(file, 'invalid resize target', {
    field,
    expected: '{"height": H, "width": W} or one positive integer',
    found: describe(v),
  });
}

/**
 * Reads preprocessor_config.json. Honours do_rescale / do_normalize = false (rescale 1, mean 0, std 1);
 * absent fields take SegFormer's defaults (ImageNet mean/std, 1/255, bilinear) and are listed in `defaulted`.
 */
export async function readHfPreprocessorConfig(file: string): Promise<HfPreprocessorConfig> {
  const json = await readJsonObject(file, 'preprocessor config (preprocessor_config.json)');
  const defaulted: string[] = [];
  const out: HfPreprocessorConfig = {
    file,
    mean: IMAGENET_MEAN,
    std: IMAGENET_STD,
    rescale: DEFAULT_RESCALE,
    resample: 2,
    defaulted,
  };

  if (json.size !== undefined) out.size = readSize(file, json.size, 'size');
  else if (json.crop_size !== undefined) out.size = readSize(file, json.crop_size, 'crop_size');

  if (json.do_normalize === false) {
    out.mean = [0, 0, 0];
    out.std = [1, 1, 1];
  } else {
    const mean = readTriple(file, json, 'image_mean', false);
    const std = readTriple(file, json, 'image_std', true);
    if (mean) out.mean = mean;
    else defaulted.push('image_mean');
    if (std) out.std = std;
    else defaulted.push('image_std');
  }

  if (json.do_rescale === false) out.rescale = 1;
  else if (json.rescale_factor !== undefined) {
    const r = json.rescale_factor;
    if (typeof r !== 'number' || !Number.isFinite(r) || r <= 0) {
      throw new ModelLoadError(file, 'invalid rescale factor', { field: 'rescale_factor', expected: 'a positive number such as 1/255', found: describe(r) });
    }
    out.rescale = r;
  } else defaulted.push('rescale_factor');

  if (json.resample !== undefined) {
    const r = json.resample;
    if (typeof r !== 'number' || !(r in PIL_RESAMPLE)) {
      throw new ModelLoadError(file, 'invalid resample filter', {
        field: 'resample',
        expected: 'a PIL filter code 0..5 (2 = bilinear)',
        found: describe(r),
      });
    }
    out.resample = r;
  } else defaulted.push('resample');
  return out;
}
