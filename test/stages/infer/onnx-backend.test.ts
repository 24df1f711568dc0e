/**
 * The ONNX backend's part in "every output size before the first frame": a model whose graph hides its output
 * size gets it from one warm-up inference at load (and `model info` prints it); inputs in float16 and quantised
 * int8 are fed in the model's type, converted from the float32 preprocessing.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main as modelCli } from '../../../server/cli/model.ts';
import * as kernels from '../../../server/kernels/index.ts';
import { loadModelInfo } from '../../../server/model/load.ts';
import { OnnxBackend } from '../../../server/stages/infer/onnx-backend.ts';
import { Preprocessor } from '../../../server/stages/preprocess/preprocess.ts';
import { hiddenClassMapModel } from '../../model/hidden-graphs.ts';
import { MATRIX, writeKind } from '../../model/model-matrix.ts';
import { capture } from '../../toolkit/helpers.ts';

let tmp: string;
beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'segstream-backend-'));
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

function frame(width: number, height: number) {
  const data = new Uint8Array((width * height * 3) / 2);
  for (let i = 0; i < data.length; i++) data[i] = (i * 37) % 251;
  return { data, width, height, strideY: width, strideUV: width, offsetUV: width * height };
}

describe('OnnxBackend', () => {
  it('a graph that hides its output size: 0 from the description, set by a warm-up inference at load', async () => {
    const file = path.join(tmp, 'hidden.onnx');
    await fs.writeFile(file, hiddenClassMapModel(5));
    const described = await loadModelInfo(file, { size: { height: 48, width: 64 } });
    expect(described.output).toMatchObject({ kind: 'classmap', classes: 0, height: 0, width: 0 });
    expect(String(described.details.outputShape)).toContain('operators not propagated: Einsum');
    const backend = await OnnxBackend.load(described, { threads: 1 });
    try {
      expect(backend.model.output).toMatchObject({ height: 12, width: 16, classes: 0 });
      expect(backend.model.details.outputShape).toBe('from a warm-up inference at 48x64 (the graph did not tell): [1, 12, 16]');
      const out = await backend.run({ dtype: 'float32', shape: [1, 3, 48, 64], data: new Float32Array(3 * 48 * 64).fill(0.5) });
      expect(out.output.shape).toEqual([1, 12, 16]);
    } finally {
      await backend.close();
    }
    const cli = await capture(() => modelCli(['info', file]));
    expect(cli.stdout).toContain('summary:      pixel_values float32 NCHW 512x512 (dynamic) -> labels: int64 class map at 1/4 of the input (128x128), class count from the ids seen');
    expect(cli.stdout).toContain('counted from the ids seen, with generic names');
  });

  for (const id of ['float16', 'int8-input', 'uint8-pixels']) {
    it(`${id}: the preprocess stage feeds the model's own element type, and a float32 tensor is converted by the backend`, async () => {
      const kind = MATRIX.find((k) => k.id === id)!;
      const info = await loadModelInfo(await writeKind(path.join(tmp, id), kind));
      const pre = new Preprocessor(info);
      const color = { matrix: 'bt601', range: 'full' } as const;
      const input = pre.run(frame(96, 80), color);
      if (input.kind !== 'tensor') throw new Error('expected a tensor');
      expect(input.tensor.dtype).toBe(info.input.dtype);
      const raw = id === 'uint8-pixels';
      const p = raw ? { mean: [0, 0, 0] as [number, number, number], std: [1, 1, 1] as [number, number, number], rescale: 1 } : info.preprocess;
      const floats = kernels.nv12ToTensor(frame(96, 80), { width: 64, height: 64, mean: p.mean, std: p.std, rescale: p.rescale, color });
      const expected =
        id === 'float16'
          ? kernels.float32ToFloat16(floats)
          : Int8Array.from(floats, (x) => Math.max(-128, Math.min(127, Math.round(Math.fround(x / Math.fround(info.input.quantization?.scales[0] ?? 1))))));
      if (raw) expect([...input.tensor.data]).toEqual([...floats]);
      else expect([...input.tensor.data]).toEqual([...expected]);

      const backend = await OnnxBackend.load(info, { threads: 1 });
      try {
        const a = await backend.run(input.tensor);
        if (!raw) {
          // verify hands the normalised float32 tensor over; the backend converts it the same way.
          const b = await backend.run({ dtype: 'float32', shape: [1, 3, 64, 64], data: floats });
          expect([...b.output.data]).toEqual([...a.output.data]);
        }
        expect(a.output.shape).toEqual([1, 6, 16, 16]);
      } finally {
        await backend.close();
      }
    });
  }
});
