/**
 * Shape propagation over the reader's graph: every value of the real Hugging Face export resolves; a dynamic
 * export at odd sizes gives what ONNX Runtime's run gives; an operator it does not follow is named, never guessed.
 */
import { promises as fs } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { buildDemoModel } from '../../../server/model/demo/demo-model.ts';
import { readOnnxSummary } from '../../../server/model/onnx/reader.ts';
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
