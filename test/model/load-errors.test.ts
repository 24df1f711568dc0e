import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDemoModel } from '../../server/model/demo/demo-model.ts';
import { ModelLoadError, loadModelInfo, type LoadModelOptions } from '../../server/model/load.ts';
import { convSegmenter, twoInputModel } from './graphs.ts';

let tmp: string;
let tinyBytes: Uint8Array;

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'segstream-load-errors-'));
  tinyBytes = buildDemoModel({ variant: 'tiny' }); // 64x64 input, 8 classes
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

let counter = 0;
/** A fresh folder with `model.onnx` (or other files) written into it; returns the model path. */
async function modelDir(files: Record<string, Uint8Array | string | object>, modelFile = 'model.onnx'): Promise<string> {
  const dir = path.join(tmp, `case-${counter++}`);
  await fs.mkdir(dir, { recursive: true });
  for (const [file, content] of Object.entries(files)) {
    const data = typeof content === 'string' || content instanceof Uint8Array ? content : JSON.stringify(content);
    await fs.writeFile(path.join(dir, file), data);
  }
  return path.join(dir, modelFile);
}

/** Loads and returns the ModelLoadError it must throw. */
async function loadError(modelPath: string, opts?: LoadModelOptions): Promise<ModelLoadError> {
  try {
    await loadModelInfo(modelPath, opts);
  } catch (err) {
    expect(err).toBeInstanceOf(ModelLoadError);
    return err as ModelLoadError;
  }
  throw new Error(`expected loadModelInfo(${modelPath}) to fail`);
}

const labels = (n: number) => ({ id2label: Object.fromEntries(Array.from({ length: n }, (_, i) => [String(i), `l${i}`])) });

describe('loadModelInfo: files that are not usable models', () => {
  it('a missing file', async () => {
    const p = path.join(tmp, 'nope', 'model.onnx');
    const e = await loadError(p);
    expect(e.file).toBe(p);
    expect(e.message).toContain('not found');
    expect(e.message).toContain(p);
  });

  it('a folder without model.onnx', async () => {
    const dir = path.dirname(await modelDir({ 'readme.txt': 'hi' }));
    const e = await loadError(dir);
    expect(e.message).toContain('without a model.onnx');
  });

  it('an empty file', async () => {
    const e = await loadError(await modelDir({ 'model.onnx': new Uint8Array(0) }));
    expect(e.message).toContain('empty');
  });

  it('a JPEG renamed to .onnx', async () => {
    const jpeg = await sharp({ create: { width: 16, height: 16, channels: 3, background: { r: 200, g: 10, b: 10 } } }).jpeg().toBuffer();
    const p = await modelDir({ 'model.onnx': jpeg });
    const e = await loadError(p);
    expect(e.file).toBe(p);
    expect(e.message).toContain('not an ONNX model');
    expect(e.found).toBe('a JPEG image');
  });

  it('a text file', async () => {
    const e = await loadError(await modelDir({ 'model.onnx': 'version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 15090234\n' }));
    expect(e.message).toContain('not an ONNX model');
    expect(e.found).toBe('a text file');
  });

  it('a truncated model, cut at many points, always fails with a ModelLoadError', async () => {
    const cuts = [1, 7, 64, 1000, Math.floor(tinyBytes.length / 3), Math.floor(tinyBytes.length / 2), tinyBytes.length - 100, tinyBytes.length - 1];
    for (const cut of cuts) {
      const p = await modelDir({ 'model.onnx': tinyBytes.subarray(0, cut) });
      const e = await loadError(p);
      expect(e.file).toBe(p);
      expect(e.message).toMatch(/not a valid ONNX model|not an ONNX model|empty or truncated/);
    }
  });

  it('random bytes fail with a ModelLoadError, never another error', async () => {
    let state = 12345;
    for (let trial = 0; trial < 20; trial++) {
      const bytes = new Uint8Array(512);
      for (let i = 0; i < bytes.length; i++) {
        state = (Math.imul(state, 1103515245) + 12345) >>> 0;
        bytes[i] = state >>> 24;
      }
      await loadError(await modelDir({ 'model.onnx': bytes }));
    }
  });
});

describe('loadModelInfo: inputs and outputs segstream cannot feed', () => {
  it('wrong input rank', async () => {
    const p = await modelDir({ 'model.onnx': convSegmenter({ inputDims: [3, 64, 64], outputDims: [4, 64, 64], classes: 4 }) });
    const e = await loadError(p);
    expect(e.message).toContain('wrong input rank');
    expect(e.field).toBe('input "image" shape');
    expect(e.expected).toContain('rank 4');
    expect(e.found).toBe('rank 3 [3, 64, 64]');
  });

  it('wrong channel count (grayscale and RGBA)', async () => {
    for (const c of [1, 4]) {
      const p = await modelDir({ 'model.onnx': convSegmenter({ inputDims: [1, c, 64, 64], outputDims: [1, 4, 64, 64], classes: 4, inChannels: c }) });
      const e = await loadError(p);
      expect(e.message).toContain('wrong channel count');
      expect(e.found).toBe(`[1, ${c}, 64, 64]`);
      expect(e.expected).toContain('3 (RGB) channels');
    }
  });

  it('more than one image input', async () => {
    const e = await loadError(await modelDir({ 'model.onnx': twoInputModel() }));
    expect(e.message).toContain('more than one input');
    expect(e.found).toContain('left [1, 3, 32, 32]');
    expect(e.found).toContain('right [1, 3, 32, 32]');
  });

  it('a static batch larger than 1', async () => {
    const e = await loadError(await modelDir({ 'model.onnx': convSegmenter({ inputDims: [2, 3, 8, 8], outputDims: [2, 4, 8, 8], classes: 4 }) }));
    expect(e.message).toContain('batch');
  });

  // float16 inputs are supported now (converted in the kernels); float64 is not.
  it('an unsupported input element type (float64)', async () => {
    const e = await loadError(await modelDir({ 'model.onnx': convSegmenter({ inputDims: [1, 3, 8, 8], outputDims: [1, 4, 8, 8], classes: 4, inputType: 11 }) }));
    expect(e.field).toBe('input "image" element type');
    expect(e.found).toBe('float64');
  });

  it('an int8 input that feeds no DequantizeLinear (its values mean nothing readable)', async () => {
    const e = await loadError(await modelDir({ 'model.onnx': convSegmenter({ inputDims: [1, 3, 8, 8], outputDims: [1, 4, 8, 8], classes: 4, inputType: 3 }) }));
    expect(e.field).toBe('input "image" element type');
    expect(e.message).toContain('feeds no DequantizeLinear');
    expect(e.found).toBe('int8');
  });

  // A symbolic class dim that shape propagation resolves loads (see load.test.ts); one behind an operator
  // propagation does not follow stays an error.
  it('a symbolic class count that the graph does not resolve', async () => {
    const e = await loadError(await modelDir({ 'model.onnx': convSegmenter({ inputDims: [1, 3, 8, 8], outputDims: [1, 'classes', 8, 8], classes: 4, opaque: true }) }));
    expect(e.message).toContain('class count is not fixed');
  });

});

describe('loadModelInfo: configs that disagree with the model', () => {
  it('id2label count != model classes', async () => {
    const p = await modelDir({ 'model.onnx': tinyBytes, 'config.json': labels(150) });
    const e = await loadError(p);
    expect(e.file).toBe(path.join(path.dirname(p), 'config.json'));
    expect(e.field).toBe('id2label');
    expect(e.expected).toContain('8 entries');
    expect(e.found).toBe('150 entries');
  });

  it('id2label with a gap, a non-string name, or not an object', async () => {
    const gap = await loadError(await modelDir({ 'model.onnx': tinyBytes, 'config.json': { id2label: { '0': 'a', '2': 'c' } } }));
    expect(gap.field).toBe('id2label["2"]');
    const nonString = await loadError(await modelDir({ 'model.onnx': tinyBytes, 'config.json': { id2label: { '0': 'a', '1': 5 } } }));
    expect(nonString.field).toBe('id2label["1"]');
    expect(nonString.found).toBe('5'); // strings are quoted, so an unquoted 5 is the number
    const list = await loadError(await modelDir({ 'model.onnx': tinyBytes, 'config.json': { id2label: ['a', 'b'] } }));
    expect(list.field).toBe('id2label');
  });

  it('num_labels disagreeing with the model', async () => {
    const e = await loadError(await modelDir({ 'model.onnx': tinyBytes, 'config.json': { num_labels: 19 } }));
    expect(e.field).toBe('num_labels');
    expect(e.found).toBe('19');
  });

  it('config.json that is not JSON', async () => {
    const p = await modelDir({ 'model.onnx': tinyBytes, 'config.json': '{"id2label": {' });
    const e = await loadError(p);
    expect(e.file).toBe(path.join(path.dirname(p), 'config.json'));
    expect(e.message).toContain('not valid JSON');
  });

  it('an explicit config path that does not exist', async () => {
    const p = await modelDir({ 'model.onnx': tinyBytes });
    const missing = path.join(path.dirname(p), 'labels.json');
    const e = await loadError(p, { configPath: missing });
    expect(e.file).toBe(missing);
    expect(e.message).toContain('not found');
  });

  it('preprocessor size != static model size', async () => {
    const p = await modelDir({ 'model.onnx': tinyBytes, 'preprocessor_config.json': { size: { height: 512, width: 512 } } });
    const e = await loadError(p);
    expect(e.file).toBe(path.join(path.dirname(p), 'preprocessor_config.json'));
    expect(e.field).toBe('size');
    expect(e.expected).toContain('64x64');
    expect(e.found).toBe('512x512');
  });

  it('options.size != static model size', async () => {
    const e = await loadError(await modelDir({ 'model.onnx': tinyBytes }), { size: { height: 32, width: 32 } });
    expect(e.field).toBe('options.size');
  });

  it('an aspect-preserving resize target', async () => {
    const e = await loadError(await modelDir({ 'model.onnx': tinyBytes, 'preprocessor_config.json': { size: { shortest_edge: 64 } } }));
    expect(e.field).toBe('size');
    expect(e.message).toContain('aspect-preserving');
  });

  it('mean / std of the wrong length, and a zero std', async () => {
    const mean = await loadError(await modelDir({ 'model.onnx': tinyBytes, 'preprocessor_config.json': { image_mean: [0.5, 0.5] } }));
    expect(mean.field).toBe('image_mean');
    expect(mean.expected).toContain('3');
    expect(mean.found).toContain('an array of length 2');
    const std = await loadError(await modelDir({ 'model.onnx': tinyBytes, 'preprocessor_config.json': { image_std: [0.2, 0.2, 0.2, 0.2] } }));
    expect(std.field).toBe('image_std');
    expect(std.found).toContain('an array of length 4');
    const zero = await loadError(await modelDir({ 'model.onnx': tinyBytes, 'preprocessor_config.json': { image_std: [0.2, 0, 0.2] } }));
    expect(zero.field).toBe('image_std');
  });

  it('a bad rescale factor or resample code', async () => {
    const r = await loadError(await modelDir({ 'model.onnx': tinyBytes, 'preprocessor_config.json': { rescale_factor: -1 } }));
    expect(r.field).toBe('rescale_factor');
    const s = await loadError(await modelDir({ 'model.onnx': tinyBytes, 'preprocessor_config.json': { resample: 'linear' } }));
    expect(s.field).toBe('resample');
  });
});

describe('loadModelInfo: argument validation', () => {
  it('rejects bad arguments with TypeErrors naming the argument', async () => {
    await expect(loadModelInfo('' as string)).rejects.toThrow(/modelPath/);
    await expect(loadModelInfo('x.onnx', { size: { height: 0, width: 5 } })).rejects.toThrow(/options\.size/);
    await expect(loadModelInfo('x.onnx', { name: '' })).rejects.toThrow(/options\.name/);
  });
});
