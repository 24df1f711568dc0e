import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDemoModel, demoConfigJson } from '../../server/model/demo/demo-model.ts';
import { loadModelInfo } from '../../server/model/load.ts';
import { classMapSegmenter, convSegmenter, nhwcSegmenter } from './graphs.ts';

const HF_DIR = fileURLToPath(new URL('../fixtures/models/segformer-b0-ade-random/', import.meta.url));
const HF_MODEL = path.join(HF_DIR, 'model.onnx');

let tmp: string;
/** Writes files into a fresh folder under the test's temp dir and returns the folder. */
async function folder(name: string, files: Record<string, Uint8Array | string | object>): Promise<string> {
  const dir = path.join(tmp, name);
  await fs.mkdir(dir, { recursive: true });
  for (const [file, content] of Object.entries(files)) {
    const data = typeof content === 'string' || content instanceof Uint8Array ? content : JSON.stringify(content);
    await fs.writeFile(path.join(dir, file), data);
  }
  return dir;
}

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'segstream-load-'));
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

describe('loadModelInfo: the Hugging Face export (fixture)', () => {
  it('reads names, shapes, layout, 150 classes and id2label from the model and its configs', async () => {
    const m = await loadModelInfo(HF_MODEL);
    expect(m.name).toBe('segformer-b0-ade-random');
    expect(m.format).toBe('onnx');
    expect(m.path).toBe(path.resolve(HF_MODEL));
    expect(m.input).toEqual({
      name: 'pixel_values',
      kind: 'tensor',
      dtype: 'float32',
      layout: 'NCHW',
      channels: 3,
      height: 512,
      width: 512,
      dynamic: false,
      shape: [1, 3, 512, 512],
    });
    expect(m.output).toEqual({
      name: 'logits',
      kind: 'logits',
      dtype: 'float32',
      layout: 'NCHW',
      classes: 150,
      height: 128,
      width: 128,
      shape: [1, 150, 128, 128],
    });
    expect(m.classNames).toHaveLength(150);
    expect(m.classNames.slice(0, 4)).toEqual(['wall', 'building', 'sky', 'floor']);
    // "bed " has a trailing space in the ADE20K config; names are trimmed for display.
    expect(m.classNames[7]).toBe('bed');
    expect(m.classNames[149]).toBe('flag');
    expect(m.preprocess).toEqual({
      mean: [0.485, 0.456, 0.406],
      std: [0.229, 0.224, 0.225],
      rescale: 0.00392156862745098,
      resample: 'bilinear',
      channelOrder: 'rgb',
      origin: 'preprocessor_config',
    });
    expect(m.untrainedDemo).toBe(false);
    expect(m.details.opset).toBe(17);
    expect(m.details.producer).toBe('pytorch 2.13.0');
    expect(m.details.nodes).toBe(768);
    expect(m.details.parameters).toBe(3732470);
    expect(String(m.details.ops)).toContain('LayerNormalization 30');
    expect(m.details.config).toBe(path.join(HF_DIR, 'config.json'));
  });

  it('accepts the folder instead of the file, and a custom name', async () => {
    const m = await loadModelInfo(HF_DIR, { name: 'ade' });
    expect(m.name).toBe('ade');
    expect(m.output.classes).toBe(150);
  });

  it('without side files: numbered class names and default preprocessing marked as such', async () => {
    const dir = await folder('hf-alone', {});
    await fs.symlink(HF_MODEL, path.join(dir, 'segformer.onnx'));
    const m = await loadModelInfo(path.join(dir, 'segformer.onnx'));
    expect(m.name).toBe('segformer');
    expect(m.classNames[0]).toBe('class 0');
    expect(m.classNames[149]).toBe('class 149');
    expect(m.preprocess.origin).toBe('default');
    expect(m.preprocess.mean).toEqual([0.485, 0.456, 0.406]);
    expect(m.preprocess.std).toEqual([0.229, 0.224, 0.225]);
    expect(m.preprocess.rescale).toBeCloseTo(1 / 255, 12);
    expect(m.details.config).toBe('none');
  });

  it('explicit config paths win over discovery', async () => {
    const dir = await folder('hf-explicit', {
      'labels.json': { id2label: Object.fromEntries(Array.from({ length: 150 }, (_, i) => [String(i), `c${i}`])) },
      'prep.json': { size: { height: 512, width: 512 }, image_mean: [0.5, 0.5, 0.5], image_std: [0.5, 0.5, 0.5], rescale_factor: 0.5, resample: 3 },
    });
    const m = await loadModelInfo(HF_MODEL, { configPath: path.join(dir, 'labels.json'), preprocessorPath: path.join(dir, 'prep.json') });
    expect(m.classNames[5]).toBe('c5');
    expect(m.preprocess).toMatchObject({ mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], rescale: 0.5, origin: 'preprocessor_config' });
    // bicubic was asked for; the stated fact is kept in details.
    expect(String(m.details.resampleRequested)).toContain('bicubic');
  });

  it('honours do_normalize / do_rescale = false and lists defaulted fields', async () => {
    const dir = await folder('prep-flags', {
      'model.onnx': buildDemoModel({ variant: 'tiny' }),
      'preprocessor_config.json': { do_normalize: false, do_rescale: false },
    });
    const m = await loadModelInfo(path.join(dir, 'model.onnx'));
    expect(m.preprocess).toMatchObject({ mean: [0, 0, 0], std: [1, 1, 1], rescale: 1, origin: 'preprocessor_config' });
    expect(m.details.preprocessDefaulted).toBe('resample');
  });
});

describe('loadModelInfo: models that are not the HF export', () => {
  it('dynamic H/W: size from options, then preprocessor_config, then the stated default', async () => {
    const bytes = convSegmenter({ inputDims: ['batch', 3, 'height', 'width'], outputDims: ['batch', 6, 'h_out', 'w_out'], classes: 6, stride: 4 });
    const dir = await folder('dynamic', { 'model.onnx': bytes });
    const plain = await loadModelInfo(path.join(dir, 'model.onnx'));
    expect(plain.input).toMatchObject({ name: 'image', dynamic: true, height: 512, width: 512, shape: ['batch', 3, 'height', 'width'] });
    expect(plain.details.inputSizeOrigin).toBe('default');
    expect(plain.output).toMatchObject({ name: 'scores', kind: 'logits', classes: 6, layout: 'NCHW' });
    // Output dims unrelated to the input's symbols: resolved by shape propagation (Conv 4x4 stride 4), never 0.
    expect(plain.output.height).toBe(128);
    expect(plain.output.width).toBe(128);
    expect(plain.details.outputShape).toBe('propagated through the graph at 512x512: [1, 6, 128, 128]');

    const withOpts = await loadModelInfo(path.join(dir, 'model.onnx'), { size: { height: 360, width: 640 } });
    expect(withOpts.input).toMatchObject({ height: 360, width: 640, dynamic: true });
    expect(withOpts.output).toMatchObject({ height: 90, width: 160 });
    expect(withOpts.details.inputSizeOrigin).toBe('options');

    await fs.writeFile(path.join(dir, 'preprocessor_config.json'), JSON.stringify({ size: { height: 256, width: 384 } }));
    const withPrep = await loadModelInfo(path.join(dir, 'model.onnx'));
    expect(withPrep.input).toMatchObject({ height: 256, width: 384 });
    expect(withPrep.details.inputSizeOrigin).toBe('preprocessor_config');

    // The model really is dynamic: ONNX Runtime runs it at two sizes.
    const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 });
    for (const [h, w] of [[32, 48], [64, 16]] as const) {
      const out = await session.run({ image: new ort.Tensor('float32', new Float32Array(3 * h * w), [1, 3, h, w]) });
      expect(out.scores?.dims).toEqual([1, 6, h / 4, w / 4]);
    }
    await session.release();
  });

  it('dynamic output sharing the input symbols takes the chosen input size', async () => {
    const bytes = convSegmenter({ inputDims: [1, 3, 'H', 'W'], outputDims: [1, 4, 'H', 'W'], classes: 4 });
    const dir = await folder('dynamic-same', { 'seg.onnx': bytes });
    const m = await loadModelInfo(path.join(dir, 'seg.onnx'), { size: { height: 200, width: 300 } });
    expect(m.output).toMatchObject({ height: 200, width: 300, classes: 4 });
  });

  it('NHWC input (demo model with a transposed input)', async () => {
    const dir = await folder('nhwc-demo', { 'model.onnx': buildDemoModel({ variant: 'tiny', inputLayout: 'NHWC', inputName: 'image', outputName: 'out' }) });
    const m = await loadModelInfo(path.join(dir, 'model.onnx'));
    expect(m.input).toMatchObject({ name: 'image', layout: 'NHWC', height: 64, width: 64, shape: [1, 64, 64, 3] });
    expect(m.output).toMatchObject({ name: 'out', layout: 'NCHW', classes: 8, height: 16, width: 16 });
  });

  it('NHWC input and NHWC logits output', async () => {
    const dir = await folder('nhwc-out', { 'm.onnx': nhwcSegmenter(96, 64, 5) });
    const m = await loadModelInfo(path.join(dir, 'm.onnx'));
    expect(m.input).toMatchObject({ name: 'input_rgb', layout: 'NHWC', height: 96, width: 64 });
    expect(m.output).toMatchObject({ name: 'seg', layout: 'NHWC', kind: 'logits', classes: 5, height: 24, width: 16 });
  });

  it('a class-map output ([1,1,h,w] int64): count read from the classifier weight, names from config', async () => {
    const dir = await folder('classmap4', { 'model.onnx': classMapSegmenter({ size: 64, classes: 7, keepdims: 1 }) });
    const bare = await loadModelInfo(path.join(dir, 'model.onnx'));
    expect(bare.output).toEqual({
      name: 'labels',
      kind: 'classmap',
      dtype: 'int64',
      layout: 'NCHW',
      classes: 7,
      height: 16,
      width: 16,
      shape: [1, 1, 16, 16],
    });
    expect(bare.classNames).toHaveLength(7);

    await fs.writeFile(path.join(dir, 'config.json'), JSON.stringify({ id2label: Object.fromEntries(['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((n, i) => [String(i), n])) }));
    const named = await loadModelInfo(path.join(dir, 'model.onnx'));
    expect(named.classNames).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g']);
  });

  it('a rank-3 class map whose class count only config.json knows', async () => {
    const dir = await folder('classmap3', {
      'model.onnx': classMapSegmenter({ size: 32, classes: 3, keepdims: 0, hideClassCount: true }),
      'config.json': { num_labels: 3, id2label: { '0': 'x', '1': 'y', '2': 'z' } },
    });
    const m = await loadModelInfo(path.join(dir, 'model.onnx'));
    expect(m.output).toMatchObject({ kind: 'classmap', classes: 3, height: 8, width: 8, shape: [1, 8, 8] });
    expect(m.classNames).toEqual(['x', 'y', 'z']);
  });

  it('a symbolic class dim (`num_labels`, as Optimum declares it) resolves from the graph', async () => {
    const dir = await folder('symbolic-classes', { 'model.onnx': convSegmenter({ inputDims: [1, 3, 8, 8], outputDims: [1, 'num_labels', 8, 8], classes: 4 }) });
    const m = await loadModelInfo(path.join(dir, 'model.onnx'));
    expect(m.output).toMatchObject({ kind: 'logits', classes: 4, height: 8, width: 8, shape: [1, 'num_labels', 8, 8] });
    expect(m.classNames).toHaveLength(4);
  });

  it('a class map whose class count neither the graph nor a config gives: counted from the ids seen, generic names', async () => {
    const dir = await folder('classmap-unknown', { 'model.onnx': classMapSegmenter({ size: 32, classes: 3, keepdims: 1, hideClassCount: true }) });
    const m = await loadModelInfo(path.join(dir, 'model.onnx'));
    expect(m.output).toMatchObject({ kind: 'classmap', classes: 0, height: 8, width: 8 });
    expect(m.classNames).toEqual([]);
    expect(m.details.classCountOrigin).toBe('observed');
    expect(String(m.details.classes)).toContain('counted from the class ids seen');
  });

  it('the demo model with a class-map output and other names', async () => {
    const dir = await folder('demo-classmap', { 'model.onnx': buildDemoModel({ variant: 'tiny', output: 'classmap', classes: 5 }) });
    const m = await loadModelInfo(path.join(dir, 'model.onnx'));
    expect(m.output).toMatchObject({ name: 'classmap', kind: 'classmap', dtype: 'int64', classes: 5 });
    expect(m.untrainedDemo).toBe(true);
  });

  it('the demo model: untrainedDemo from the config marker, facts in details', async () => {
    const opts = { variant: 'tiny' as const, classes: 6, size: 96 };
    const dir = await folder('demo', { 'model.onnx': buildDemoModel(opts), 'config.json': demoConfigJson(opts) });
    const m = await loadModelInfo(path.join(dir, 'model.onnx'));
    expect(m.untrainedDemo).toBe(true);
    expect(m.classNames).toEqual(['wall', 'building', 'sky', 'floor', 'tree', 'ceiling']);
    expect(m.input).toMatchObject({ height: 96, width: 96 });
    expect(m.output).toMatchObject({ classes: 6, height: 24, width: 24 });
    expect(m.details.opset).toBe(17);
    expect(m.details.producer).toContain('segstream-demo-builder');
    expect(Number(m.details.parameters)).toBeGreaterThan(10_000);
    expect(String(m.details.note)).toContain('untrained');
  });

  it('an opset-13 model (LayerNorm decomposed) loads with its opset stated', async () => {
    const dir = await folder('opset13', { 'model.onnx': buildDemoModel({ variant: 'tiny', opset: 13 }) });
    const m = await loadModelInfo(path.join(dir, 'model.onnx'));
    expect(m.details.opset).toBe(13);
    expect(String(m.details.ops)).not.toContain('LayerNormalization');
    expect(String(m.details.ops)).toContain('ReduceMean');
  });
});
