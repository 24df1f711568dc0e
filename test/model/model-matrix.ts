/**
 * The model matrix: one tiny SegFormer-shaped variant per kind of export users really have, made by the
 * project's ONNX builder (server/model/demo) with the same weights (same seed) as a float32 reference, so
 * `verify` compares like with like. Used by test/model/model-matrix.test.ts (model info against ONNX Runtime's
 * own output shapes) and test/integration/model-matrix.test.ts (streaming and verify).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { buildDemoModel, demoPreprocessorJson, type DemoModelOptions } from '../../server/model/demo/demo-model.ts';
import type { ModelInputSpec, ModelOutputSpec } from '../../server/model/model-info.ts';

export const MATRIX_CLASSES = 6;
export const MATRIX_SEED = 5;
export const CLASS_NAMES = ['road', 'sidewalk', 'building', 'wall', 'fence', 'pole'];

export interface MatrixKind {
  id: string;
  /** What it stands for, for the closing table. */
  title: string;
  options: DemoModelOptions;
  /** Write config.json with id2label (CLASS_NAMES). */
  config: boolean;
  /** preprocessor_config.json's size (the input size of a dynamic model); default the model's own 64x64. */
  size?: { height: number; width: number };
  input: Partial<ModelInputSpec>;
  output: Partial<ModelOutputSpec>;
}

const base: DemoModelOptions = { variant: 'tiny', classes: MATRIX_CLASSES, seed: MATRIX_SEED };

export const MATRIX: MatrixKind[] = [
  {
    id: 'dynamic-other-names',
    title: 'dynamic batch/H/W (Optimum dims), other IO names',
    options: { dynamic: true, inputName: 'input', outputName: 'output' },
    config: true,
    size: { height: 96, width: 64 },
    input: { name: 'input', dtype: 'float32', layout: 'NCHW', dynamic: true, height: 96, width: 64, shape: ['batch_size', 'num_channels', 'height', 'width'] },
    output: { name: 'output', kind: 'logits', dtype: 'float32', classes: 6, height: 24, width: 16, shape: ['batch_size', 'num_labels', 'height', 'width'] },
  },
  {
    id: 'classmap-int64-config',
    title: 'class map in the graph (upsampled, int64 [1,H,W]) + config.json',
    options: { output: 'classmap', upsample: true, classmapRank: 3 },
    config: true,
    input: { dtype: 'float32', height: 64, width: 64 },
    output: { name: 'classmap', kind: 'classmap', dtype: 'int64', classes: 6, height: 64, width: 64, shape: [1, 64, 64] },
  },
  {
    id: 'classmap-int64-bare',
    title: 'class map in the graph (int64 [1,H,W]), no config.json',
    options: { output: 'classmap', upsample: true, classmapRank: 3 },
    config: false,
    input: { dtype: 'float32', height: 64, width: 64 },
    output: { kind: 'classmap', dtype: 'int64', classes: 6, height: 64, width: 64 },
  },
  {
    id: 'classmap-uint8-quarter',
    title: 'class map in the graph at 1/4 (uint8 [1,1,h,w])',
    options: { output: 'classmap', classmapDtype: 'uint8' },
    config: false,
    input: { dtype: 'float32', height: 64, width: 64 },
    output: { kind: 'classmap', dtype: 'uint8', classes: 6, height: 16, width: 16, shape: [1, 1, 16, 16] },
  },
  {
    id: 'logits-input-size',
    title: 'logits upsampled to the input size in the graph',
    options: { upsample: true },
    config: true,
    input: { dtype: 'float32', height: 64, width: 64 },
    output: { kind: 'logits', dtype: 'float32', classes: 6, height: 64, width: 64 },
  },
  {
    id: 'opset12',
    title: 'opset 12 (LayerNorm decomposed, attention MatMul/Softmax)',
    options: { opset: 12 },
    config: true,
    input: { dtype: 'float32', height: 64, width: 64 },
    output: { kind: 'logits', dtype: 'float32', classes: 6, height: 16, width: 16 },
  },
  {
    id: 'opset13-dynamic',
    title: 'opset 13, dynamic H/W',
    options: { opset: 13, dynamic: true },
    config: true,
    size: { height: 64, width: 96 },
    input: { dtype: 'float32', height: 64, width: 96, dynamic: true },
    output: { kind: 'logits', dtype: 'float32', classes: 6, height: 16, width: 24 },
  },
  {
    id: 'float16',
    title: 'float16 (weights, IO)',
    options: { precision: 'float16' },
    config: true,
    input: { dtype: 'float16', height: 64, width: 64 },
    output: { kind: 'logits', dtype: 'float16', classes: 6, height: 16, width: 16 },
  },
  {
    id: 'qdq-int8',
    title: 'QDQ int8 (uint8 activations, int8 per-channel weights)',
    options: { quantize: 'qdq' },
    config: true,
    input: { dtype: 'float32', height: 64, width: 64 },
    output: { kind: 'logits', dtype: 'float32', classes: 6, height: 16, width: 16 },
  },
  {
    id: 'dynamic-int8',
    title: 'dynamic int8 (DynamicQuantizeLinear + MatMulInteger)',
    options: { quantize: 'dynamic' },
    config: true,
    input: { dtype: 'float32', height: 64, width: 64 },
    output: { kind: 'logits', dtype: 'float32', classes: 6, height: 16, width: 16 },
  },
  {
    id: 'uint8-pixels',
    title: 'uint8 raw-pixel input (normalised in the graph)',
    options: { inputEncoding: 'uint8-pixels' },
    config: true,
    input: { dtype: 'uint8', height: 64, width: 64 },
    output: { kind: 'logits', dtype: 'float32', classes: 6, height: 16, width: 16 },
  },
  {
    id: 'int8-input',
    title: 'int8 quantised input (DequantizeLinear first)',
    options: { inputEncoding: 'int8-quantized' },
    config: true,
    input: { dtype: 'int8', height: 64, width: 64 },
    output: { kind: 'logits', dtype: 'float32', classes: 6, height: 16, width: 16 },
  },
];

/** The full builder options of a kind. */
export function kindOptions(k: MatrixKind): DemoModelOptions {
  return { ...base, ...k.options };
}

/** The float32 reference with the same weights at the same input size (static, logits at 1/4). */
export function referenceOptions(k: MatrixKind): DemoModelOptions {
  return { ...base, size: k.size ?? 64 };
}

function configJson(): Record<string, unknown> {
  return { model_type: 'segformer', num_labels: MATRIX_CLASSES, id2label: Object.fromEntries(CLASS_NAMES.map((n, i) => [String(i), n])) };
}

/** Writes a kind into `dir` (model.onnx, preprocessor_config.json, config.json when the kind has one). */
export async function writeKind(dir: string, k: MatrixKind): Promise<string> {
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(path.join(dir, 'model.onnx'), buildDemoModel(kindOptions(k)));
  const size = k.size ?? { height: 64, width: 64 };
  await fs.writeFile(path.join(dir, 'preprocessor_config.json'), JSON.stringify(demoPreprocessorJson({ ...base, size })));
  if (k.config) await fs.writeFile(path.join(dir, 'config.json'), JSON.stringify(configJson()));
  return path.join(dir, 'model.onnx');
}

/** Writes the float32 reference of a kind into `dir`. */
export async function writeReference(dir: string, k: MatrixKind): Promise<string> {
  await fs.mkdir(dir, { recursive: true });
  const o = referenceOptions(k);
  await fs.writeFile(path.join(dir, 'model.onnx'), buildDemoModel(o));
  await fs.writeFile(path.join(dir, 'preprocessor_config.json'), JSON.stringify(demoPreprocessorJson(o)));
  await fs.writeFile(path.join(dir, 'config.json'), JSON.stringify(configJson()));
  return path.join(dir, 'model.onnx');
}
