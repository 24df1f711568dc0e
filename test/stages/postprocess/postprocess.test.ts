/**
 * The postprocess stage for each output kind: class maps of every integer type skip argmax and are resized
 * nearest (ids checked), a class map without a class count sizes its histogram from the ids seen, float16 logits
 * go through the argmax kernel, and an output that does not match the model's description is a clear error.
 */
import { describe, expect, it } from 'vitest';
import * as kernels from '../../../server/kernels/index.ts';
import type { ModelInfo, ModelOutputSpec, Tensor } from '../../../server/model/model-info.ts';
import { classIds, Postprocessor } from '../../../server/stages/postprocess/postprocess.ts';

function model(output: Partial<ModelOutputSpec>): ModelInfo {
  return {
    name: 'm',
    path: '/models/m.onnx',
    format: 'onnx',
    input: { name: 'x', kind: 'tensor', dtype: 'float32', layout: 'NCHW', channels: 3, height: 8, width: 8, dynamic: false, shape: [1, 3, 8, 8] },
    output: { name: 'y', kind: 'classmap', dtype: 'int64', layout: 'NCHW', classes: 3, height: 2, width: 2, shape: [1, 2, 2], ...output },
    classNames: [],
    preprocess: { mean: [0, 0, 0], std: [1, 1, 1], rescale: 1, resample: 'bilinear', channelOrder: 'rgb', origin: 'default' },
    untrainedDemo: false,
    details: {},
  };
}

describe('Postprocessor: class maps computed in the model', () => {
  const ids = [0, 2, 1, 2];
  const cases: [string, Tensor][] = [
    ['int64', { dtype: 'int64', shape: [1, 2, 2], data: BigInt64Array.from(ids.map(BigInt)) }],
    ['int32', { dtype: 'int32', shape: [1, 1, 2, 2], data: Int32Array.from(ids) }],
    ['uint8', { dtype: 'uint8', shape: [1, 2, 2], data: Uint8Array.from(ids) }],
  ];
  for (const [dtype, tensor] of cases) {
    it(`${dtype}: upscaled nearest to the map size, histogram of the map`, () => {
      const p = new Postprocessor(model({ dtype: tensor.dtype }), { mode: 'exact', smoothing: 0 });
      const r = p.run(tensor, 4, 4);
      expect([...r.classMap.data]).toEqual([0, 0, 2, 2, 0, 0, 2, 2, 1, 1, 2, 2, 1, 1, 2, 2]);
      expect([...r.histogram]).toEqual([4, 4, 8]);
    });
  }

  it('no class count: the histogram is sized by the largest id seen; ids beyond 255 widen the map', () => {
    const p = new Postprocessor(model({ classes: 0 }), { mode: 'exact', smoothing: 0 });
    const r = p.run({ dtype: 'int64', shape: [1, 2, 2], data: BigInt64Array.from([0n, 7n, 7n, 3n]) }, 2, 2);
    expect(r.histogram).toHaveLength(8);
    expect(r.histogram[7]).toBe(2);
    const wide = classIds({ dtype: 'int64', shape: [1, 2], data: BigInt64Array.from([300n, 1n]) }, 0, '/m.onnx');
    expect(wide).toBeInstanceOf(Uint16Array);
    expect([...wide]).toEqual([300, 1]);
  });

  it('a negative or huge id is an error naming the model and the index', () => {
    expect(() => classIds({ dtype: 'int64', shape: [1, 2], data: BigInt64Array.from([1n, -1n]) }, 3, '/m.onnx')).toThrow('/m.onnx: class-map id -1 at index 1 is outside 0..65535');
    expect(() => classIds({ dtype: 'int64', shape: [1, 1], data: BigInt64Array.from([2n ** 40n]) }, 3, '/m.onnx')).toThrow(/class-map id 1099511627776 at index 0/);
  });

  it('an output of another size than described is refused with both shapes', () => {
    const p = new Postprocessor(model({}), { mode: 'exact', smoothing: 0 });
    expect(() => p.run({ dtype: 'int64', shape: [1, 3, 3], data: new BigInt64Array(9) }, 4, 4)).toThrow(
      '/models/m.onnx: output "y" came back as int64 [1, 3, 3] (9 values); segstream expected a class map of 2x2 (4 values) from the model\'s description',
    );
  });
});

describe('Postprocessor: float16 logits', () => {
  it('gives what the float32 logits give', () => {
    const values = Float32Array.from({ length: 3 * 4 * 4 }, (_, i) => Math.sin(i));
    const half = kernels.float32ToFloat16(values);
    const m = model({ kind: 'logits', dtype: 'float16', classes: 3, height: 4, width: 4, shape: [1, 3, 4, 4] });
    const a = new Postprocessor(m, { mode: 'exact', smoothing: 0 }).run({ dtype: 'float16', shape: [1, 3, 4, 4], data: half }, 10, 6);
    const b = kernels.argmax(kernels.float16ToFloat32(half), { layout: 'NCHW', classes: 3, height: 4, width: 4, mode: 'exact', outWidth: 10, outHeight: 6 });
    expect(a.classMap.data).toEqual(b.classMap.data);
  });
});
