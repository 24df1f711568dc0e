/**
 * The stream demo fixture (test/fixtures/bpu/stream-demo.json): what `--backend bpu` runs off-board. A 512x512
 * NV12 frame goes in; the class at 1/4 resolution is floor(Y * 8 / 256), either as a class map (argmax folded
 * into the model) or as S32 NHWC logits (C padded 8 -> 16) whose argmax is that class.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { BpuBackend } from '../../../../server/stages/infer/bpu-backend.ts';
import { expectNothingAlive, expectedOutput, fixture } from './helpers.ts';
import type { Nv12Image } from '../../../../server/stages/frame-context.ts';
import { at } from '../../../../server/util/checked-access.ts';

const DEMO = fixture('stream-demo.json');

afterEach(() => expectNothingAlive());

/** A frame whose luma is a diagonal ramp, with 64 bytes of row padding (as camera buffers often have). */
function rampFrame(): { image: Nv12Image; luma: (x: number, y: number) => number } {
  const size = 512;
  const stride = 576;
  const luma = (x: number, y: number) => ((x + 2 * y) >> 2) & 0xff;
  const data = new Uint8Array(stride * size * 1.5).fill(128);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) data[y * stride + x] = luma(x, y);
  return { image: { data, width: size, height: size, strideY: stride, strideUV: stride, offsetUV: stride * size }, luma };
}

const expectedClasses = (luma: (x: number, y: number) => number) =>
  expectedOutput('NHWC', 1, 128, 128, (_c, h, w) => Math.floor((luma(4 * w, 4 * h) * 8) / 256));

describe('stream demo models', () => {
  it('the default model is a 512x512 NV12 -> 128x128 class map of floor(Y*8/256)', async () => {
    const bpu = await BpuBackend.load([DEMO], { rawIntOutput: true });
    try {
      expect(bpu.model.name).toBe('stream_classmap');
      expect(bpu.model.input).toMatchObject({ kind: 'nv12', width: 512, height: 512 });
      expect(bpu.model.output).toMatchObject({ kind: 'classmap', dtype: 'int32', width: 128, height: 128 });
      expect(bpu.model.untrainedDemo).toBe(true);
      const { image, luma } = rampFrame();
      const r = await bpu.runNv12(image);
      const classes = Array.from(r.output.data as Int32Array);
      expect(classes).toEqual(expectedClasses(luma));
      expect(new Set(classes)).toEqual(new Set([0, 1, 2, 3, 4, 5, 6, 7]));
    } finally {
      await bpu.close();
    }
  });

  it('the logits model has the same argmax, raw (with scales) or dequantised', async () => {
    const { image, luma } = rampFrame();
    const want = expectedClasses(luma);
    for (const rawIntOutput of [true, false]) {
      const bpu = await BpuBackend.load([DEMO], { modelName: 'stream_logits', rawIntOutput });
      try {
        expect(bpu.model.output).toMatchObject({ kind: 'logits', classes: 8, layout: 'NHWC', dtype: rawIntOutput ? 'int32' : 'float32' });
        if (rawIntOutput) expect(bpu.model.output.quantization).toEqual({ scales: new Float32Array(8).fill(0.125), axis: 3 });
        const data = (await bpu.runNv12(image)).output.data as Int32Array | Float32Array;
        const argmax: number[] = [];
        for (let p = 0; p < 128 * 128; p++) {
          let best = 0;
          for (let c = 1; c < 8; c++) if (at(data, p * 8 + c, 'data') > at(data, p * 8 + best, 'data')) best = c;
          argmax.push(best);
        }
        expect(argmax).toEqual(want);
        // The winning logit is `high` (64 raw, 8.0 dequantised), one class away 8 raw less.
        expect(data[0]).toBe(rawIntOutput ? 64 : 8);
      } finally {
        await bpu.close();
      }
    }
  });
});
