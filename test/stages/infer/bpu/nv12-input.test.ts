/**
 * NV12 inputs. Compiled X5 models report NV12; the backend switches the input tensor to NV12_SEPARATE (Y in
 * sysMem[0], UV in sysMem[1], one 16-aligned row stride in alignedShape W) and fills the planes straight from the
 * frame, or lends the planes' memory so a frame is written there with no copy; packed NV12 (rows at the valid
 * width, alignedShape = validShape) is the fallback. The double records what it received (properties and plane
 * bytes), and its models output f(Y,U,V) per pixel, so every output value proves which input byte reached it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { BpuBackend } from '../../../../server/stages/infer/bpu-backend.ts';
import { resolveNv12Feed } from '../../../../server/stages/infer/bpu/validate.ts';
import { packedNv12, type Nv12Image } from '../../../../server/stages/frame-context.ts';
import * as kernels from '../../../../server/kernels/index.ts';
import { doubleModelFile, expectNothingAlive, expectedOutput, fixture, makeNv12, sourcePixel, testDouble, writeModel, type TestNv12 } from './helpers.ts';
import { at } from '../../../../server/util/checked-access.ts';

const NV12 = 1;
const NV12_SEPARATE = 2;

/** Rows `rows` of `width` bytes from `data` at `stride` (what a plane holds, padding left out). */
function rowsOf(data: Uint8Array, offset: number, stride: number, width: number, rows: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < rows; r++) out.push(...data.subarray(offset + r * stride, offset + r * stride + width));
  return out;
}

/** The frame's Y rows and UV rows as the model sees them (valid width only). */
function planesOf(img: Nv12Image): { y: number[]; uv: number[] } {
  return {
    y: rowsOf(img.data, 0, img.strideY, img.width, img.height),
    uv: rowsOf(img.data, img.offsetUV, img.strideUV, img.width, img.height / 2),
  };
}

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

describe('NV12_SEPARATE feed of a model that reports NV12', () => {
  it('switches the tensor to NV12_SEPARATE and fills Y and UV from a strided frame: the bytes the runtime receives', async () => {
    const bpu = await BpuBackend.load([MODELS], { modelName: 'nv12_w24_f32' });
    try {
      // What the model reports, as compiled X5 models do.
      expect(bpu.tensorInfo.inputs[0]).toMatchObject({ tensorType: 'NV12', validShape: [1, 3, 8, 24], alignedShape: [1, 3, 8, 24], declaredStride: [0, 0, 0, 0] });
      expect(bpu.model.details.inputFeed).toBe('NV12_SEPARATE: Y in sysMem[0], UV in sysMem[1], row stride 32 (alignedShape W)');
      const img = makeNv12(24, 8, { strideY: 40, strideUV: 56, gap: 96 });
      const copiedBefore = bpu.counters().inputBytesCopied;
      const r = await bpu.runNv12(img.image);
      const got = testDouble().lastInput()!;
      expect(got).toMatchObject({ tensorType: NV12_SEPARATE, validShape: [1, 3, 8, 24], alignedShape: [1, 3, 8, 32] });
      expect(got.planes.map((p) => p.length)).toEqual([32 * 8, 32 * 4]);
      // Row r of each plane starts at r * 32 and holds the frame's row r.
      const frame = planesOf(img.image);
      expect(rowsOf(at(got.planes, 0, 'got.planes'), 0, 32, 24, 8)).toEqual(frame.y);
      expect(rowsOf(at(got.planes, 1, 'got.planes'), 0, 32, 24, 4)).toEqual(frame.uv);
      expect(testDouble().stats().lastNv12RowStride).toBe(32);
      expect(Array.from(r.output.data as Float32Array)).toEqual(expectedYuv(img, 24, 8));
      expect(bpu.counters().inputBytesCopied - copiedBefore).toBe((24 * 8 * 3) / 2);
    } finally {
      await bpu.close();
    }
  });

  it('takes a frame that already has the 16-aligned stride, and a second frame without reallocating', async () => {
    const bpu = await BpuBackend.load([MODELS], { modelName: 'nv12_w24_f32' });
    try {
      const before = testDouble().stats().allocations;
      const a = makeNv12(24, 8, { strideY: 32, strideUV: 32 });
      const b = makeNv12(24, 8, { strideY: 64, strideUV: 64, seed: 9 });
      const ra = await bpu.runNv12(a.image);
      expect(rowsOf(testDouble().lastInput()!.planes[0]!, 0, 32, 24, 8)).toEqual(planesOf(a.image).y);
      const rb = await bpu.runNv12(b.image);
      expect(Array.from(ra.output.data as Float32Array)).toEqual(expectedYuv(a, 24, 8));
      expect(Array.from(rb.output.data as Float32Array)).toEqual(expectedYuv(b, 24, 8));
      expect(testDouble().stats().allocations).toBe(before);
    } finally {
      await bpu.close();
    }
  });

  it.each([
    ['unaligned stride', { strideY: 24, strideUV: 24 }],
    ['different Y and UV strides', { strideY: 32, strideUV: 48 }],
    ['odd stride with a gap', { strideY: 27, strideUV: 29, gap: 5 }],
  ])('copies the rows of a frame with %s to the 16-aligned stride', async (_label, layout) => {
    const bpu = await BpuBackend.load([MODELS], { modelName: 'nv12_w24_f32' });
    try {
      const img = makeNv12(24, 8, layout);
      const r = await bpu.runNv12(img.image);
      expect(testDouble().stats().lastNv12RowStride).toBe(32);
      expect(rowsOf(testDouble().lastInput()!.planes[1]!, 0, 32, 24, 4)).toEqual(planesOf(img.image).uv);
      expect(Array.from(r.output.data as Float32Array)).toEqual(expectedYuv(img, 24, 8));
    } finally {
      await bpu.close();
    }
  });

  it('runNv12With lends the planes: a frame resized straight into them runs with no copy', async () => {
    const bpu = await BpuBackend.load([MODELS], { modelName: 'nv12_w24_f32', pipelineDepth: 2 });
    try {
      const source = makeNv12(64, 20, { strideY: 80, strideUV: 80, seed: 31 }).image;
      const reference = kernels.resizeNv12(source, 24, 8);
      const copied = bpu.counters().inputBytesCopied;
      let lent: Nv12Image | null = null;
      const r = await bpu.runNv12With((target) => {
        lent = target;
        expect(target).toMatchObject({ width: 24, height: 8, strideY: 32, strideUV: 32, offsetUV: 32 * 8 });
        kernels.resizeNv12(source, 24, 8, { out: target });
      });
      expect(bpu.counters().inputBytesCopied).toBe(copied);
      const got = testDouble().lastInput()!;
      expect(got).toMatchObject({ tensorType: NV12_SEPARATE, alignedShape: [1, 3, 8, 32] });
      expect(rowsOf(at(got.planes, 0, 'got.planes'), 0, 32, 24, 8)).toEqual(planesOf(reference).y);
      expect(rowsOf(at(got.planes, 1, 'got.planes'), 0, 32, 24, 4)).toEqual(planesOf(reference).uv);
      const expected = expectedOutput('NCHW', 3, 8, 24, (c, h, w) => {
        const p = planesOf(reference);
        return (c === 0 ? at(p.y, h * 24 + w, 'p.y') : at(p.uv, (h >> 1) * 24 + (w & ~1) + c - 1, 'p.uv')) + 0.5;
      });
      expect(Array.from(r.output.data as Float32Array)).toEqual(expected);
      // Once the model is closed the lent memory is gone: its view is detached, not dangling.
      expect(lent!.data.length).toBe(32 * 12);
      await bpu.close();
      expect(lent!.data.length).toBe(0);
    } finally {
      await bpu.close();
    }
  });

  it('resizeNv12 into a target checks its size, its buffer and the options it combines with', () => {
    const source = makeNv12(64, 20).image;
    const target = makeNv12(24, 8, { strideY: 32, strideUV: 32 }).image;
    expect(() => kernels.resizeNv12(source, 32, 8, { out: target })).toThrow('opts.out: expected 32x8, got 24x8');
    expect(() => kernels.resizeNv12(source, 24, 8, { out: target, alignWidth: 16 })).toThrow('opts.out and opts.alignWidth cannot be combined');
    expect(() => kernels.resizeNv12(source, 24, 8, { out: { ...target, data: source.data } })).toThrow("opts.out must not share the input image's buffer");
    const written = kernels.resizeNv12(source, 24, 8, { out: target });
    expect(written.data).toBe(target.data);
    expect(written).toEqual(target);
    expect(planesOf(written)).toEqual(planesOf(kernels.resizeNv12(source, 24, 8)));
  });

  it('the lent image must be written by fill only; a throwing fill runs nothing and frees the slot', async () => {
    const bpu = await BpuBackend.load([MODELS], { modelName: 'nv12_w24_f32' });
    try {
      const calls = testDouble().stats().inferCalls;
      await expect(bpu.runNv12With(() => { throw new Error('camera gone'); })).rejects.toThrow('camera gone');
      expect(testDouble().stats().inferCalls).toBe(calls);
      await expect(bpu.runNv12With(5 as never)).rejects.toThrow(/runNv12With\(fill\) for model 'nv12_w24_f32' .*: expected a function, got number/);
      // The slot is free again.
      await bpu.runNv12(makeNv12(24, 8).image);
    } finally {
      await bpu.close();
    }
  });
});

describe('packed NV12 fallback', () => {
  it('writes rows at the valid width and sets alignedShape = validShape (the model reports W 32, rows are 24)', async () => {
    const bpu = await BpuBackend.load([MODELS], { modelName: 'nv12_aligned_w32', nv12Feed: 'packed' });
    try {
      expect(bpu.tensorInfo.inputs[0]).toMatchObject({ tensorType: 'NV12', validShape: [1, 3, 8, 24], alignedShape: [1, 3, 8, 32] });
      expect(bpu.model.details.inputFeed).toBe('NV12 packed: rows at 24, alignedShape = validShape');
      const img = makeNv12(24, 8, { strideY: 40, strideUV: 40, gap: 8 });
      const r = await bpu.runNv12(img.image);
      const got = testDouble().lastInput()!;
      expect(got).toMatchObject({ tensorType: NV12, validShape: [1, 3, 8, 24], alignedShape: [1, 3, 8, 24] });
      expect(got.planes.map((p) => p.length)).toEqual([(24 * 8 * 3) / 2]);
      const frame = planesOf(img.image);
      expect(Array.from(at(got.planes, 0, 'got.planes'))).toEqual([...frame.y, ...frame.uv]);
      expect(testDouble().stats().lastNv12RowStride).toBe(24);
      // The double reads rows at the alignedShape it is given: 24-byte rows read at 32 would scramble these.
      expect(Array.from(r.output.data as Float32Array)).toEqual(expectedYuv(img, 24, 8));
    } finally {
      await bpu.close();
    }
  });

  it('the same model fed separate gets the 16-aligned stride in alignedShape W', async () => {
    const bpu = await BpuBackend.load([MODELS], { modelName: 'nv12_aligned_w32' });
    try {
      const img = makeNv12(24, 8);
      const r = await bpu.runNv12(img.image);
      expect(testDouble().lastInput()).toMatchObject({ tensorType: NV12_SEPARATE, alignedShape: [1, 3, 8, 32] });
      expect(Array.from(r.output.data as Float32Array)).toEqual(expectedYuv(img, 24, 8));
    } finally {
      await bpu.close();
    }
  });

  it('SEGSTREAM_BPU_NV12_FEED chooses the feed when the option is not given, and is checked', async () => {
    expect(resolveNv12Feed(undefined, {})).toBe('separate');
    expect(resolveNv12Feed(undefined, { SEGSTREAM_BPU_NV12_FEED: 'packed' })).toBe('packed');
    expect(resolveNv12Feed('separate', { SEGSTREAM_BPU_NV12_FEED: 'packed' })).toBe('separate');
    expect(() => resolveNv12Feed(undefined, { SEGSTREAM_BPU_NV12_FEED: 'planar' })).toThrow(
      'SEGSTREAM_BPU_NV12_FEED: expected one of separate, packed, got "planar"',
    );
    await expect(BpuBackend.load([MODELS], { nv12Feed: 'planar' as never })).rejects.toThrow(
      `BpuBackend.load opts.nv12Feed: expected one of 'separate', 'packed', got "planar"`,
    );
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
          // The runtime reports alignedShape as 4-D even for a 3-D output.
          outputs: [{ name: 'classes', tensorType: 'S16', layout: 'NONE', validShape: [1, 8, 16], alignedShape: [1, 8, 24, 1] }],
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

describe('3-D output with the 4-D aligned shape the runtime reports', () => {
  it('maps (1,H,W) onto an NCHW (1,1,H,Wa) aligned shape with strides given per aligned dimension', async () => {
    const file = writeModel(
      doubleModelFile([
        {
          name: 'flat_nchw',
          compute: { kind: 'bands', classes: 4 },
          inputs: [{ name: 'image', tensorType: 'NV12', layout: 'NCHW', validShape: [1, 3, 16, 32] }],
          outputs: [
            // 4 strides for 3 valid dimensions: one per aligned dimension, as an X5 dump lists them.
            { name: 'classes', tensorType: 'S32', layout: 'NCHW', validShape: [1, 8, 16], alignedShape: [1, 1, 8, 24], stride: [768, 768, 96, 4] },
          ],
        },
      ]),
    );
    const bpu = await BpuBackend.load([file]);
    try {
      expect(bpu.tensorInfo.outputs[0]).toMatchObject({ validShape: [1, 8, 16], alignedShape: [1, 1, 8, 24], stride: [768, 96, 4] });
      expect(bpu.model.output).toMatchObject({ kind: 'classmap', dtype: 'int32', height: 8, width: 16 });
      const img = makeNv12(32, 16, { seed: 5 });
      const r = await bpu.runNv12(img.image);
      const expected = expectedOutput('NHWC', 1, 8, 16, (_c, h, w) => Math.floor((img.sample(0, 2 * w, 2 * h) * 4) / 256));
      expect(Array.from(r.output.data as Int32Array)).toEqual(expected);
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
