/**
 * NV12 inputs: packed models get frames repacked from any strides; NV12_SEPARATE models keep a frame's
 * (16-aligned, shared) row stride and take its planes as they are. The double's models output f(Y,U,V) per
 * pixel, so every output value proves which input byte reached the model.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { BpuBackend } from '../../../../server/stages/infer/bpu-backend.ts';
import { packedNv12 } from '../../../../server/stages/frame-context.ts';
import { doubleModelFile, expectNothingAlive, expectedOutput, fixture, makeNv12, sourcePixel, testDouble, writeModel, type TestNv12 } from './helpers.ts';

const MODELS = fixture('nv12-models.json');

afterEach(() => expectNothingAlive());

/** What nv12_packed_f32 / nv12_separate_f32 output: Y, U, V + 0.5 at each pixel, NCHW. */
function expectedYuv(img: TestNv12, width: number, height: number): number[] {
  return expectedOutput('NCHW', 3, height, width, (c, h, w) => img.sample(c, w, h) + 0.5);
}

describe('packed NV12 input', () => {
  it('repacks a frame with row padding and a gap before UV, and reads the padded F32 NCHW output by stride', async () => {
    const bpu = await BpuBackend.load([MODELS], { modelName: 'nv12_packed_f32' });
    try {
      expect(bpu.model.input).toMatchObject({ kind: 'nv12', dtype: 'uint8', layout: 'NCHW', channels: 3, height: 8, width: 32 });
      expect(bpu.tensorInfo.outputs[0]).toMatchObject({ tensorType: 'F32', validShape: [1, 3, 8, 32], alignedShape: [1, 4, 8, 48] });
      const img = makeNv12(32, 8, { strideY: 40, strideUV: 48, gap: 16 });
      const result = await bpu.runNv12(img.image);
      expect(result.output.dtype).toBe('float32');
      expect(result.output.shape).toEqual([1, 3, 8, 32]);
      expect(Array.from(result.output.data as Float32Array)).toEqual(expectedYuv(img, 32, 8));
      expect(testDouble().stats().lastNv12RowStride).toBe(32);
    } finally {
      await bpu.close();
    }
  });

  it('takes an unpadded frame (packedNv12) and a second frame without reallocating', async () => {
    const bpu = await BpuBackend.load([MODELS], { modelName: 'nv12_packed_f32' });
    try {
      const a = makeNv12(32, 8, { seed: 3 });
      const b = makeNv12(32, 8, { seed: 101, strideY: 64, strideUV: 64 });
      const before = testDouble().stats().allocations;
      const ra = await bpu.runNv12(packedNv12(a.image.data, 32, 8));
      const rb = await bpu.runNv12(b.image);
      expect(Array.from(ra.output.data as Float32Array)).toEqual(expectedYuv(a, 32, 8));
      expect(Array.from(rb.output.data as Float32Array)).toEqual(expectedYuv(b, 32, 8));
      expect(testDouble().stats().allocations).toBe(before);
    } finally {
      await bpu.close();
    }
  });
});

describe('NV12_SEPARATE input', () => {
  it('keeps a 16-aligned shared row stride (no repacking): the runtime sees the frame stride', async () => {
    const bpu = await BpuBackend.load([MODELS], { modelName: 'nv12_separate_f32' });
    try {
      expect(bpu.tensorInfo.inputs[0]).toMatchObject({ tensorType: 'NV12_SEPARATE', validShape: [1, 3, 8, 24], alignedShape: [1, 3, 8, 32] });
      const img = makeNv12(24, 8, { strideY: 48, strideUV: 48, gap: 96 });
      const double = testDouble();
      const before = double.stats().allocations;
      const first = await bpu.runNv12(img.image);
      expect(double.stats().lastNv12RowStride).toBe(48);
      // The planes were sized for the model's 32-byte rows: they grow once for 48-byte rows...
      expect(double.stats().allocations).toBe(before + 2);
      const second = await bpu.runNv12(makeNv12(24, 8, { strideY: 48, strideUV: 48, seed: 9 }).image);
      // ...and not again.
      expect(double.stats().allocations).toBe(before + 2);
      expect(Array.from(first.output.data as Float32Array)).toEqual(expectedYuv(img, 24, 8));
      expect(Array.from(second.output.data as Float32Array)).toEqual(expectedYuv(makeNv12(24, 8, { seed: 9 }), 24, 8));
    } finally {
      await bpu.close();
    }
  });

  it('uses the model stride as it is when the frame already has it', async () => {
    const bpu = await BpuBackend.load([MODELS], { modelName: 'nv12_separate_f32' });
    try {
      const before = testDouble().stats().allocations;
      const img = makeNv12(24, 8, { strideY: 32, strideUV: 32 });
      const r = await bpu.runNv12(img.image);
      expect(testDouble().stats().lastNv12RowStride).toBe(32);
      expect(testDouble().stats().allocations).toBe(before);
      expect(Array.from(r.output.data as Float32Array)).toEqual(expectedYuv(img, 24, 8));
    } finally {
      await bpu.close();
    }
  });

  it.each([
    ['unaligned stride', { strideY: 24, strideUV: 24 }],
    ['different Y and UV strides', { strideY: 32, strideUV: 48 }],
    ['odd stride with a gap', { strideY: 27, strideUV: 29, gap: 5 }],
  ])('repacks to the model stride for %s', async (_label, layout) => {
    const bpu = await BpuBackend.load([MODELS], { modelName: 'nv12_separate_f32' });
    try {
      const img = makeNv12(24, 8, layout);
      const r = await bpu.runNv12(img.image);
      expect(testDouble().stats().lastNv12RowStride).toBe(32);
      expect(Array.from(r.output.data as Float32Array)).toEqual(expectedYuv(img, 24, 8));
    } finally {
      await bpu.close();
    }
  });
});

describe('class-map output from an NV12 model', () => {
  it('passes the 1-channel S32 class map through (aligned C skipped) with kind classmap', async () => {
    const names = ['c0', 'c1', 'c2', 'c3', 'c4', 'c5', 'c6', 'c7'];
    const bpu = await BpuBackend.load([MODELS], { modelName: 'nv12_classmap', classNames: names, rawIntOutput: true });
    try {
      expect(bpu.model.output).toMatchObject({ kind: 'classmap', dtype: 'int32', layout: 'NHWC', classes: 8, height: 8, width: 16 });
      expect(bpu.model.output.quantization).toBeUndefined();
      expect(bpu.model.classNames).toEqual(names);
      const img = makeNv12(32, 16, { strideY: 48, strideUV: 48 });
      const r = await bpu.runNv12(img.image);
      expect(r.output.dtype).toBe('int32');
      expect(r.output.data).toBeInstanceOf(Int32Array);
      const expected = expectedOutput('NHWC', 1, 8, 16, (_c, h, w) => {
        const [y, x] = sourcePixel(h, w, 8, 16, 16, 32);
        return Math.floor((img.sample(0, x, y) * 8) / 256);
      });
      expect(Array.from(r.output.data as Int32Array)).toEqual(expected);
      expect(new Set(expected).size).toBeGreaterThan(3);
    } finally {
      await bpu.close();
    }
  });

  it('is a class map without rawIntOutput too, and without class names the class count is unknown (0)', async () => {
    const bpu = await BpuBackend.load([MODELS], { modelName: 'nv12_classmap' });
    try {
      expect(bpu.model.output).toMatchObject({ kind: 'classmap', dtype: 'int32', classes: 0 });
      expect(bpu.model.classNames).toEqual([]);
    } finally {
      await bpu.close();
    }
  });
});

describe('3-D class-map output', () => {
  it('treats an (N,H,W) integer output as a class map, read through its padded row stride', async () => {
    const file = writeModel(
      doubleModelFile([
        {
          name: 'flat_classmap',
          compute: { kind: 'bands', classes: 4 },
          inputs: [{ name: 'image', tensorType: 'NV12', layout: 'NCHW', validShape: [1, 3, 16, 32] }],
          outputs: [{ name: 'classes', tensorType: 'S16', layout: 'NONE', validShape: [1, 8, 16], alignedShape: [1, 8, 24] }],
        },
      ]),
    );
    const bpu = await BpuBackend.load([file]);
    try {
      expect(bpu.model.output).toMatchObject({ kind: 'classmap', dtype: 'int16', height: 8, width: 16, shape: [1, 8, 16] });
      const img = makeNv12(32, 16, { seed: 77 });
      const r = await bpu.runNv12(img.image);
      const expected = expectedOutput('NHWC', 1, 8, 16, (_c, h, w) => Math.floor((img.sample(0, 2 * w, 2 * h) * 4) / 256));
      expect(Array.from(r.output.data as Int16Array)).toEqual(expected);
      expect(new Set(expected).size).toBe(4);
    } finally {
      await bpu.close();
    }
  });
});

describe('NV12 argument errors', () => {
  it('rejects a tensor for an NV12 model, a frame of another size, and a buffer too short for its planes', async () => {
    const bpu = await BpuBackend.load([MODELS], { modelName: 'nv12_packed_f32' });
    const inferCalls = testDouble().stats().inferCalls;
    try {
      await expect(bpu.run({ dtype: 'uint8', shape: [1, 3, 8, 32], data: new Uint8Array(768) })).rejects.toThrow(
        /model 'nv12_packed_f32' in '.*nv12-models\.json' takes NV12 input: call runNv12\(image\)/,
      );
      await expect(bpu.runNv12(makeNv12(64, 8).image)).rejects.toThrow(/image is 64x8 but model 'nv12_packed_f32' .* takes 32x8 NV12; resize it first/);
      const short = makeNv12(32, 8).image;
      await expect(bpu.runNv12({ ...short, data: short.data.subarray(0, short.data.length - 1) })).rejects.toThrow(
        /runNv12\(image\)\.data .*expected at least 384 bytes for the UV plane at offset 256, got a Uint8Array of length 383/,
      );
      await expect(bpu.runNv12({ ...short, strideY: 16 })).rejects.toThrow(/strideY .*expected >= width 32, got 16/);
      // Nothing reached the runtime.
      expect(testDouble().stats().inferCalls).toBe(inferCalls);
    } finally {
      await bpu.close();
    }
  });
});
