/**
 * Shape propagation over the reader's graph: every value of the real Hugging Face export resolves; a dynamic
 * export at odd sizes gives what ONNX Runtime's run gives; an operator it does not follow is named, never guessed.
 */
import { promises as fs } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { buildDemoModel } from '../../../server/model/demo/demo-model.ts';
import { attr, OnnxGraphBuilder } from '../../../server/model/onnx/builder.ts';
import { OnnxElemType, readOnnxSummary } from '../../../server/model/onnx/reader.ts';
import { propagateShapes } from '../../../server/model/onnx/shapes.ts';
import { hiddenClassMapModel } from '../hidden-graphs.ts';

const HF_MODEL = fileURLToPath(new URL('../../fixtures/models/segformer-b0-ade-random/model.onnx', import.meta.url));

describe('propagateShapes', () => {
  it('resolves every value of the real export (Shape/Slice/Concat/Reshape folded) to [1,150,128,128] logits', async () => {
    const bytes = new Uint8Array(await fs.readFile(HF_MODEL));
    const s = readOnnxSummary(bytes, HF_MODEL);
    const p = propagateShapes(s, bytes, { pixel_values: [1, 3, 512, 512] });
    expect(p.unknownOps).toEqual([]);
    const unresolved = s.nodes.flatMap((n) => n.outputs).filter((o) => !p.values.get(o)?.dims || p.values.get(o)!.dims!.some((d) => d === null));
    expect(unresolved).toEqual([]);
    expect(p.values.get('logits')).toMatchObject({ dims: [1, 150, 128, 128], elemType: 1 });
  });

  it('a dynamic export at odd sizes and opsets: what ONNX Runtime returns', async () => {
    for (const [opset, h, w] of [[12, 100, 70], [13, 37, 64], [17, 130, 90], [18, 64, 33]] as const) {
      const bytes = buildDemoModel({ variant: 'tiny', dynamic: true, opset, classes: 4, output: 'classmap', upsample: opset === 18, classmapRank: 3 });
      const s = readOnnxSummary(bytes, 'm');
      const p = propagateShapes(s, bytes, { pixel_values: [1, 3, h, w] });
      const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 });
      const out = await session.run({ pixel_values: new ort.Tensor('float32', new Float32Array(3 * h * w), [1, 3, h, w]) });
      expect(p.values.get('classmap')!.dims, `opset ${opset} at ${h}x${w}`).toEqual(out.classmap!.dims);
      await session.release();
    }
  });

  it('names an operator it does not follow and leaves what depends on it unknown', () => {
    const bytes = hiddenClassMapModel(3);
    const p = propagateShapes(readOnnxSummary(bytes, 'm'), bytes, { pixel_values: [1, 3, 32, 32] });
    expect(p.unknownOps).toEqual(['Einsum']);
    expect(p.values.get('/head/Conv_output_0')!.dims).toEqual([1, 3, 8, 8]);
    expect(p.values.get('labels')!.dims).toBeNull();
  });
});

describe('propagateShapes on malformed attributes', () => {
  /** x [1,2,8,8] -> Conv with 3x3 weights and the given strides/pads, as a file could hold them. */
  function convModel(strides: number[], pads: number[]): Uint8Array {
    const b = new OnnxGraphBuilder({ opset: 17 });
    const x = b.input('x', OnnxElemType.FLOAT, [1, 2, 8, 8]);
    const w = b.initializer('w', { type: 'float32', dims: [4, 2, 3, 3], data: new Float32Array(72) });
    b.node('Conv', [x, w], { kernel_shape: attr.ints([3, 3]), strides: attr.ints(strides), pads: attr.ints(pads) }, { outputs: ['y'] });
    b.output('y', OnnxElemType.FLOAT, ['n', 'c', 'h', 'w']);
    return b.toBytes();
  }

  it('a well-formed Conv resolves to what ONNX Runtime returns', async () => {
    const bytes = convModel([2, 2], [1, 1, 1, 1]);
    const p = propagateShapes(readOnnxSummary(bytes, 'conv'), bytes, { x: [1, 2, 8, 8] });
    const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 });
    const out = await session.run({ x: new ort.Tensor('float32', new Float32Array(128), [1, 2, 8, 8]) });
    expect(p.values.get('y')?.dims).toEqual(out.y?.dims);
    await session.release();
  });

  it('strides and pads shorter than the rank leave those axes unknown, never NaN; ONNX Runtime refuses the file', async () => {
    const bytes = convModel([2], [1, 1]);
    const p = propagateShapes(readOnnxSummary(bytes, 'conv'), bytes, { x: [1, 2, 8, 8] });
    expect(p.values.get('y')?.dims).toEqual([1, 4, null, null]);
    await expect(ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 })).rejects.toThrow();
  });
});
