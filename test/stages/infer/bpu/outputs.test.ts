/**
 * Output reading: valid region through strides (aligned padding skipped), NHWC and NCHW, dequantisation (SCALE
 * per-axis with zero points, SCALE per-tensor, SHIFT, NONE, F16) or raw integers with the quantisation handed on;
 * plus tensor inputs (F32/S8/U8 featuremaps, RGB/BGR/YUV444) written into the aligned input layout.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { BpuBackend } from '../../../../server/stages/infer/bpu-backend.ts';
import type { Tensor } from '../../../../server/model/model-info.ts';
import { affine, dequant, expectNothingAlive, expectedOutput, fixture, storeInt, type Layout } from './helpers.ts';
import { at } from '../../../../server/util/checked-access.ts';

const MODELS = fixture('quantized-outputs.json');

afterEach(() => expectNothingAlive());

/** A deterministic input tensor; `value` gives the element at (c, h, w). */
function inputTensor(
  dtype: 'float32' | 'int8' | 'uint8',
  layout: Layout,
  C: number,
  H: number,
  W: number,
  value: (c: number, h: number, w: number) => number,
): Tensor {
  const values = expectedOutput(layout, C, H, W, value);
  const data = dtype === 'float32' ? Float32Array.from(values) : dtype === 'int8' ? Int8Array.from(values) : Uint8Array.from(values);
  return { dtype, shape: layout === 'NCHW' ? [1, C, H, W] : [1, H, W, C], data };
}

async function withModel<T>(name: string, opts: { rawIntOutput?: boolean }, fn: (b: BpuBackend) => Promise<T>): Promise<T> {
  const bpu = await BpuBackend.load([MODELS], { modelName: name, ...opts });
  try {
    return await fn(bpu);
  } finally {
    await bpu.close();
  }
}

describe('S32 NHWC per-channel SCALE with zero points, C padded 5 -> 8', () => {
  const scales = [0.5, 0.25, 0.125, 2, 1];
  const zeros = [0, 1, -2, 3, 0];
  const f = { gain: 4, channelStep: 10, offset: -7 };
  // Float32 features in eighths, positive and negative.
  const feature = (c: number, h: number, w: number) => ((c * 37 + h * 11 + w * 5) % 41) / 8 - 2.5;
  const input = inputTensor('float32', 'NCHW', 3, 4, 6, feature);
  const raw = (c: number, h: number, w: number) => storeInt(affine(feature(c % 3, h, w), c, f), 32, true);

  it('describes the tensors: names, shapes, layout, type, quantisation, byte sizes and strides', async () => {
    await withModel('s32_nhwc_per_channel', {}, async (bpu) => {
      expect(bpu.tensorInfo.inputs).toEqual([
        {
          name: 'features',
          tensorType: 'F32',
          tensorTypeCode: 13,
          layout: 'NCHW',
          validShape: [1, 3, 4, 6],
          alignedShape: [1, 3, 4, 6],
          quantization: { type: 'NONE', scales: [], zeroPoints: [], shifts: [], axis: null },
          alignedByteSize: 288,
          stride: [288, 96, 24, 4],
          declaredStride: [288, 96, 24, 4],
          elementBytes: 4,
        },
      ]);
      expect(bpu.tensorInfo.outputs[0]).toEqual({
        name: 'logits',
        tensorType: 'S32',
        tensorTypeCode: 14,
        layout: 'NHWC',
        validShape: [1, 4, 6, 5],
        alignedShape: [1, 4, 6, 8],
        quantization: { type: 'SCALE', scales, zeroPoints: zeros, shifts: [], axis: 3 },
        alignedByteSize: 4 * 6 * 8 * 4,
        stride: [768, 192, 32, 4],
        declaredStride: [768, 192, 32, 4],
        elementBytes: 4,
      });
      expect(bpu.model.input).toMatchObject({ kind: 'tensor', dtype: 'float32', layout: 'NCHW', channels: 3, height: 4, width: 6 });
      expect(bpu.model.output).toMatchObject({ kind: 'logits', dtype: 'float32', layout: 'NHWC', classes: 5, height: 4, width: 6 });
      expect(bpu.model.format).toBe('bpu-bin');
      expect(bpu.model.details.outputQuantization).toBe('SCALE per-axis 3');
    });
  });

  it('dequantises each channel with its own scale and zero point', async () => {
    await withModel('s32_nhwc_per_channel', {}, async (bpu) => {
      const r = await bpu.run(input);
      expect(r.output).toMatchObject({ dtype: 'float32', shape: [1, 4, 6, 5] });
      expect(Array.from(r.output.data as Float32Array)).toEqual(
        expectedOutput('NHWC', 5, 4, 6, (c, h, w) => dequant(raw(c, h, w), at(scales, c, 'scales'), at(zeros, c, 'zeros'))),
      );
    });
  });

  it('hands the raw int32 logits over with per-channel scales and zero points when rawIntOutput is set', async () => {
    await withModel('s32_nhwc_per_channel', { rawIntOutput: true }, async (bpu) => {
      expect(bpu.model.output.dtype).toBe('int32');
      expect(bpu.model.output.quantization).toEqual({
        scales: Float32Array.from(scales),
        zeroPoints: Int32Array.from(zeros),
        axis: 3,
      });
      const r = await bpu.run(input);
      expect(r.output.data).toBeInstanceOf(Int32Array);
      expect(Array.from(r.output.data as Int32Array)).toEqual(expectedOutput('NHWC', 5, 4, 6, raw));
    });
  });
});

describe('S8 NHWC per-channel SCALE, C padded 5 -> 16, from an S8 input with C padded 3 -> 4', () => {
  const scales = [0.0625, 0.125, 0.25, 0.5, 1];
  const zeros = [-1, 0, 2, 0, 5];
  const feature = (c: number, h: number, w: number) => ((c * 53 + h * 29 + w * 17) % 200) - 100;
  const input = inputTensor('int8', 'NHWC', 3, 4, 6, feature);
  const raw = (c: number, h: number, w: number) => storeInt(affine(feature(c % 3, h, w), c, { channelStep: 20 }), 8, true);

  it('writes the int8 input through the padded input stride and dequantises the padded int8 output', async () => {
    await withModel('s8_nhwc_per_channel', {}, async (bpu) => {
      expect(bpu.model.input).toMatchObject({ dtype: 'int8', layout: 'NHWC', channels: 3 });
      expect(bpu.tensorInfo.inputs[0]).toMatchObject({ alignedShape: [1, 4, 6, 4], stride: [96, 24, 4, 1] });
      const r = await bpu.run(input);
      const expected = expectedOutput('NHWC', 5, 4, 6, (c, h, w) => dequant(raw(c, h, w), at(scales, c, 'scales'), at(zeros, c, 'zeros')));
      expect(Array.from(r.output.data as Float32Array)).toEqual(expected);
      // The pattern saturates some values at the int8 limits: both ends are covered.
      const raws = expectedOutput('NHWC', 5, 4, 6, raw);
      expect(raws).toContain(127);
      expect(raws).toContain(-100);
    });
  });

  it('hands the raw int8 logits over with their quantisation', async () => {
    await withModel('s8_nhwc_per_channel', { rawIntOutput: true }, async (bpu) => {
      expect(bpu.model.output).toMatchObject({ dtype: 'int8', kind: 'logits' });
      expect(bpu.model.output.quantization).toEqual({ scales: Float32Array.from(scales), zeroPoints: Int32Array.from(zeros), axis: 3 });
      const r = await bpu.run(input);
      expect(r.output.data).toBeInstanceOf(Int8Array);
      expect(Array.from(r.output.data as Int8Array)).toEqual(expectedOutput('NHWC', 5, 4, 6, raw));
    });
  });
});

describe('S16 NCHW with SHIFT, W padded 4 -> 8, from a U8 featuremap', () => {
  const feature = (c: number, h: number, w: number) => (c * 90 + h * 40 + w * 13) % 256;
  const input = inputTensor('uint8', 'NCHW', 2, 4, 4, feature);
  const raw = (c: number, h: number, w: number) => storeInt(affine(feature(c % 2, h, w), c, { gain: 3, channelStep: -50, offset: 5 }), 16, true);

  it('divides by 2^shift', async () => {
    await withModel('s16_nchw_shift', {}, async (bpu) => {
      expect(at(bpu.tensorInfo.outputs, 0, 'bpu.tensorInfo.outputs').quantization).toEqual({ type: 'SHIFT', scales: [], zeroPoints: [], shifts: [3], axis: null });
      const r = await bpu.run(input);
      expect(Array.from(r.output.data as Float32Array)).toEqual(expectedOutput('NCHW', 3, 4, 4, (c, h, w) => raw(c, h, w) / 8));
    });
  });

  it('expresses the shift as a per-tensor scale of 2^-shift for raw output', async () => {
    await withModel('s16_nchw_shift', { rawIntOutput: true }, async (bpu) => {
      expect(bpu.model.output.quantization).toEqual({ scales: Float32Array.from([0.125]) });
      const r = await bpu.run(input);
      expect(r.output.data).toBeInstanceOf(Int16Array);
      expect(Array.from(r.output.data as Int16Array)).toEqual(expectedOutput('NCHW', 3, 4, 4, raw));
    });
  });
});

describe('float outputs and image-type tensor inputs', () => {
  it('reads an F32 NCHW output with C and W padding from an RGB NHWC input', async () => {
    const pixel = (c: number, h: number, w: number) => (c * 80 + h * 30 + w * 9 + 1) % 256;
    await withModel('f32_nchw_padded', { rawIntOutput: true }, async (bpu) => {
      expect(bpu.model.input).toMatchObject({ kind: 'tensor', dtype: 'uint8', layout: 'NHWC', channels: 3 });
      expect(bpu.model.preprocess.channelOrder).toBe('rgb');
      // rawIntOutput does not apply to float outputs.
      expect(bpu.model.output).toMatchObject({ dtype: 'float32', layout: 'NCHW', classes: 3 });
      const r = await bpu.run(inputTensor('uint8', 'NHWC', 3, 4, 6, pixel));
      expect(Array.from(r.output.data as Float32Array)).toEqual(
        expectedOutput('NCHW', 3, 4, 6, (c, h, w) => Math.fround(affine(pixel(c, h, w), c, { gain: 0.5, channelStep: 0.25 }))),
      );
    });
  });

  it('dequantises a U8 per-tensor SCALE output with a zero point from a BGR NCHW input', async () => {
    const pixel = (c: number, h: number, w: number) => (c * 70 + h * 50 + w * 21) % 256;
    const raw = (c: number, h: number, w: number) => storeInt(affine(pixel(c, h, w), c, { gain: 0.5, channelStep: 7 }), 8, false);
    await withModel('u8_bgr_per_tensor', {}, async (bpu) => {
      expect(bpu.model.preprocess.channelOrder).toBe('bgr');
      const r = await bpu.run(inputTensor('uint8', 'NCHW', 3, 4, 6, pixel));
      expect(Array.from(r.output.data as Float32Array)).toEqual(expectedOutput('NCHW', 3, 4, 6, (c, h, w) => dequant(raw(c, h, w), 0.1, 10)));
    });
    await withModel('u8_bgr_per_tensor', { rawIntOutput: true }, async (bpu) => {
      expect(bpu.model.output.quantization).toEqual({ scales: Float32Array.from([0.1]), zeroPoints: Int32Array.from([10]) });
      const r = await bpu.run(inputTensor('uint8', 'NCHW', 3, 4, 6, pixel));
      expect(Array.from(r.output.data as Uint8Array)).toEqual(expectedOutput('NCHW', 3, 4, 6, raw));
    });
  });

  it('converts an F16 NHWC output (C padded 2 -> 4) from a YUV444 input', async () => {
    const pixel = (c: number, h: number, w: number) => (c * 60 + h * 45 + w * 31) % 256;
    await withModel('yuv444_f16', {}, async (bpu) => {
      const r = await bpu.run(inputTensor('uint8', 'NHWC', 3, 4, 6, pixel));
      expect(Array.from(r.output.data as Float32Array)).toEqual(
        expectedOutput('NHWC', 2, 4, 6, (c, h, w) => affine(pixel(c, h, w), c, { gain: 0.5, channelStep: 1 })),
      );
    });
  });
});

describe('model choice and tensor argument checks', () => {
  it('loads the first model by default and any other by name', async () => {
    await withModel('u8_bgr_per_tensor', {}, async (bpu) => expect(bpu.model.name).toBe('u8_bgr_per_tensor'));
    const first = await BpuBackend.load([MODELS]);
    try {
      expect(first.model.name).toBe('s32_nhwc_per_channel');
      expect(first.model.details.packedModels).toBe(
        's32_nhwc_per_channel, s8_nhwc_per_channel, s16_nchw_shift, f32_nchw_padded, u8_bgr_per_tensor, yuv444_f16',
      );
    } finally {
      await first.close();
    }
  });

  it('names the models a file holds when the requested one is missing', async () => {
    await expect(BpuBackend.load([MODELS], { modelName: 'segformer' })).rejects.toMatchObject({
      reason: 'model-not-found',
      message: expect.stringMatching(/no model named 'segformer' in '.*quantized-outputs\.json'; it contains 's32_nhwc_per_channel', 's8_nhwc_per_channel'/),
    });
  });

  it('rejects tensors of the wrong dtype, shape, array type or length, and NV12 for a tensor model', async () => {
    await withModel('s32_nhwc_per_channel', {}, async (bpu) => {
      const good = inputTensor('float32', 'NCHW', 3, 4, 6, () => 0);
      await expect(bpu.run({ ...good, dtype: 'uint8' })).rejects.toThrow(/run\(input\)\.dtype for model 's32_nhwc_per_channel' .*expected 'float32', got "uint8"/);
      await expect(bpu.run({ ...good, shape: [1, 4, 6, 3] })).rejects.toThrow(/run\(input\)\.shape .*expected the model's input shape \(1,3,4,6\), got an array of length 4/);
      await expect(bpu.run({ ...good, data: new Float32Array(71) })).rejects.toThrow(/run\(input\)\.data .*expected a Float32Array of length 72, got a Float32Array of length 71/);
      await expect(bpu.run({ ...good, data: new Int32Array(72) })).rejects.toThrow(/expected a Float32Array of length 72, got an Int32Array of length 72/);
      await expect(bpu.runNv12({ data: new Uint8Array(36), width: 6, height: 4, strideY: 6, strideUV: 6, offsetUV: 24 })).rejects.toThrow(
        /takes a F32 NCHW tensor input, not NV12: call run\(tensor\)/,
      );
    });
  });
});
