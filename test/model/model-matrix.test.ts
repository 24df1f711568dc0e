/**
 * Every kind in the model matrix loads with the right description, and what segstream predicts before the
 * first frame (output shape and element type) is what ONNX Runtime itself produces on a real run at the
 * predicted input size. The same check on exports derived from the real Hugging Face SegFormer-B0 export
 * (Optimum-style symbolic dims; ArgMax appended at 1/4 and after an in-graph upsample to 512x512).
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import onnxProto from 'onnx-proto';
import ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main as modelCli } from '../../server/cli/model.ts';
import { loadModelInfo } from '../../server/model/load.ts';
import type { ModelInfo } from '../../server/model/model-info.ts';
import { modelSummary } from '../../server/model/model-notes.ts';
import { capture } from '../toolkit/helpers.ts';
import { CLASS_NAMES, MATRIX, writeKind } from './model-matrix.ts';
import { at, lookup } from '../../server/util/checked-access.ts';

const HF_MODEL = fileURLToPath(new URL('../fixtures/models/segformer-b0-ade-random/model.onnx', import.meta.url));
const { onnx } = onnxProto;

let tmp: string;
beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'segstream-matrix-'));
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

/** The output dims segstream's description implies (batch 1). */
function predictedDims(m: ModelInfo): number[] {
  const o = m.output;
  if (o.kind === 'logits') return o.layout === 'NCHW' ? [1, o.classes, o.height, o.width] : [1, o.height, o.width, o.classes];
  return o.shape.length === 3 ? [1, o.height, o.width] : o.layout === 'NCHW' ? [1, 1, o.height, o.width] : [1, o.height, o.width, 1];
}

/** A real input of the model's type at the size segstream chose (varied values: a constant input hides bugs). */
function realInput(m: ModelInfo): ort.Tensor {
  const i = m.input;
  const shape = i.layout === 'NCHW' ? [1, 3, i.height, i.width] : [1, i.height, i.width, 3];
  const n = 3 * i.height * i.width;
  const wave = (k: number) => Math.sin(k * 0.37) * 2;
  if (i.dtype === 'float32') return new ort.Tensor('float32', Float32Array.from({ length: n }, (_, k) => wave(k)), shape);
  if (i.dtype === 'float16') return new ort.Tensor('float16', new Uint16Array(n).fill(0x3c00), shape); // 1.0
  if (i.dtype === 'uint8') return new ort.Tensor('uint8', Uint8Array.from({ length: n }, (_, k) => (k * 7) % 256), shape);
  return new ort.Tensor('int8', Int8Array.from({ length: n }, (_, k) => ((k * 7) % 256) - 128), shape);
}

async function ortOutput(file: string, m: ModelInfo): Promise<{ dims: number[]; type: string; metadataName: string }> {
  const session = await ort.InferenceSession.create(file, { intraOpNumThreads: 1 });
  try {
    const out = await session.run({ [m.input.name]: realInput(m) });
    const t = lookup(out, m.output.name, 'run results');
    return { dims: [...t.dims], type: t.type, metadataName: at(session.outputMetadata, 0, 'session.outputMetadata').name };
  } finally {
    await session.release();
  }
}

describe('model matrix: model info predicts what ONNX Runtime produces', () => {
  for (const kind of MATRIX) {
    it(`${kind.id}: ${kind.title}`, async () => {
      const file = await writeKind(path.join(tmp, kind.id), kind);
      const m = await loadModelInfo(file);
      expect(m.input).toMatchObject(kind.input);
      expect(m.output).toMatchObject(kind.output);
      expect(m.output.height).toBeGreaterThan(0);
      expect(m.output.width).toBeGreaterThan(0);
      expect(m.classNames).toEqual(kind.config ? CLASS_NAMES : CLASS_NAMES.map((_, i) => `class ${i}`));
      expect(String(m.details.outputShape)).not.toContain('unresolved');

      // Something we did not write: ONNX Runtime's own run at the input size segstream chose.
      const ortOut = await ortOutput(file, m);
      expect(ortOut.metadataName).toBe(m.output.name);
      expect(ortOut.dims).toEqual(predictedDims(m));
      expect(ortOut.type).toBe(m.output.dtype);

      // `segstream model info` says the same in its summary line.
      const cli = await capture(() => modelCli(['info', file]));
      expect(cli.code).toBe(0);
      expect(cli.stdout).toContain(`summary:      ${modelSummary(m)}`);
      expect(cli.stdout).not.toMatch(/ at 0x0/);
    });
  }

  it('the summary names the output kind and its scale', async () => {
    const byId = async (id: string) => loadModelInfo(await writeKind(path.join(tmp, `summary-${id}`), MATRIX.find((k) => k.id === id)!));
    expect(modelSummary(await byId('dynamic-other-names'))).toBe('input float32 NCHW 96x64 (dynamic) -> output: float32 logits at 1/4 of the input (24x16), 6 classes');
    expect(modelSummary(await byId('classmap-int64-bare'))).toBe('pixel_values float32 NCHW 64x64 -> classmap: int64 class map at the input size (64x64), 6 classes');
    expect(modelSummary(await byId('float16'))).toBe('pixel_values float16 NCHW 64x64 -> logits: float16 logits at 1/4 of the input (16x16), 6 classes');
  });
});

/** The real export, decoded by onnx-proto (not our reader), changed, and encoded again. */
async function deriveFromHf(name: string, change: (g: onnxProto.onnx.IGraphProto) => void): Promise<string> {
  const model = onnx.ModelProto.decode(await fs.readFile(HF_MODEL));
  change(model.graph!);
  const dir = path.join(tmp, name);
  await fs.mkdir(dir, { recursive: true });
  const file = path.join(dir, 'model.onnx');
  await fs.writeFile(file, onnx.ModelProto.encode(model).finish());
  return file;
}

const dim = (d: number | string) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d });
function setDims(vi: onnxProto.onnx.IValueInfoProto, dims: (number | string)[], elemType?: number): void {
  vi.type = { tensorType: { elemType: elemType ?? vi.type!.tensorType!.elemType!, shape: { dim: dims.map(dim) } } };
}

describe('the real Hugging Face export, derived (shapes predicted = ONNX Runtime run)', () => {
  it('declared as Optimum declares it: [batch_size, num_channels, height, width] -> [batch_size, num_labels, height, width]', async () => {
    const file = await deriveFromHf('hf-optimum-dims', (g) => {
      setDims(g.input![0]!, ['batch_size', 'num_channels', 'height', 'width']);
      setDims(g.output![0]!, ['batch_size', 'num_labels', 'height', 'width']);
    });
    const m = await loadModelInfo(file, { size: { height: 512, width: 512 } });
    expect(m.input).toMatchObject({ name: 'pixel_values', layout: 'NCHW', dynamic: true, height: 512, width: 512 });
    // The output's "height"/"width" are the input's names, but a quarter of it: propagation, not the names, decides.
    expect(m.output).toMatchObject({ name: 'logits', kind: 'logits', classes: 150, height: 128, width: 128 });
    expect((await ortOutput(file, m)).dims).toEqual(predictedDims(m));
  });

  it('class map at 1/4: ArgMax(keepdims 1) appended, int64 [1,1,128,128], 150 classes from the graph', async () => {
    const file = await deriveFromHf('hf-argmax-quarter', (g) => {
      g.node!.push({ opType: 'ArgMax', input: ['logits'], output: ['labels'], name: '/argmax', attribute: [{ name: 'axis', type: 2, i: 1 }, { name: 'keepdims', type: 2, i: 1 }] });
      g.output = [{ name: 'labels' }];
      setDims(at(g.output, 0, 'g.output'), ['batch_size', 1, 'h', 'w'], 7);
    });
    const m = await loadModelInfo(file);
    expect(m.output).toMatchObject({ kind: 'classmap', dtype: 'int64', classes: 150, height: 128, width: 128 });
    expect(m.details.classCountOrigin).toBe('graph');
    expect((await ortOutput(file, m)).dims).toEqual(predictedDims(m));
  });

  it('the issue\'s case: logits upsampled to 512x512 in the graph, then ArgMax: int64 [1,512,512], 150 classes', async () => {
    const file = await deriveFromHf('hf-argmax-full', (g) => {
      const i64 = (name: string, values: number[]) => ({ name, dims: [values.length], dataType: 7, rawData: new Uint8Array(BigInt64Array.from(values.map(BigInt)).buffer) });
      g.initializer!.push(i64('upsample_sizes', [1, 150, 512, 512]));
      g.node!.push(
        { opType: 'Resize', input: ['logits', '', '', 'upsample_sizes'], output: ['logits_full'], name: '/upsample', attribute: [{ name: 'mode', type: 3, s: new TextEncoder().encode('linear') }] },
        { opType: 'ArgMax', input: ['logits_full'], output: ['labels'], name: '/argmax', attribute: [{ name: 'axis', type: 2, i: 1 }, { name: 'keepdims', type: 2, i: 0 }] },
      );
      g.output = [{ name: 'labels' }];
      setDims(at(g.output, 0, 'g.output'), ['batch_size', 'height', 'width'], 7);
    });
    const m = await loadModelInfo(file);
    expect(m.output).toMatchObject({ kind: 'classmap', dtype: 'int64', classes: 150, height: 512, width: 512, shape: ['batch_size', 'height', 'width'] });
    expect((await ortOutput(file, m)).dims).toEqual(predictedDims(m));
  });
});
