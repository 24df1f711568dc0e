/** Which backends take a frame's model-size buffer (FrameContext.modelInput) as is: NV12 models of exactly that size. */
import { afterEach, describe, expect, it } from 'vitest';
import { BpuBackend } from '../../../../server/stages/infer/bpu-backend.ts';
import { feedsModelInput, type Backend } from '../../../../server/stages/infer/backend.ts';
import { packedNv12 } from '../../../../server/stages/frame-context.ts';
import { bpuTestDouble } from '../../../../server/stages/infer/bpu/native.ts';
import { fixture } from './helpers.ts';

let bpu: BpuBackend | null = null;
afterEach(async () => {
  await bpu?.close();
  bpu = null;
});

function nv12(width: number, height: number, fill: number) {
  return packedNv12(new Uint8Array((width * height * 3) / 2).fill(fill), width, height);
}

describe('feedsModelInput', () => {
  it('a 512x512 NV12 BPU model takes a 512x512 model buffer, and the double receives exactly its bytes', async () => {
    bpu = await BpuBackend.load([fixture('stream-demo.json')], { modelName: 'stream_classmap' });
    const image = nv12(512, 512, 0);
    for (let i = 0; i < image.data.length; i++) image.data[i] = (i * 7) & 0xff;
    const fed = feedsModelInput(bpu, image);
    expect(fed).toBe(image);
    await bpu.runNv12(fed!);
    const got = bpuTestDouble()!.lastInput()!;
    expect(got.planes[0]).toEqual(image.data.subarray(0, 512 * 512));
    expect(got.planes[1]).toEqual(image.data.subarray(512 * 512));
  });

  it('no model buffer, or one of another size: none (the preview is resized as before)', async () => {
    bpu = await BpuBackend.load([fixture('stream-demo.json')], { modelName: 'stream_classmap' });
    expect(feedsModelInput(bpu, undefined)).toBeNull();
    expect(feedsModelInput(bpu, nv12(640, 480, 1))).toBeNull();
  });

  it('a tensor-input model (ONNX) never takes it: its preprocessing resizes the preview', () => {
    const onnxLike = { kind: 'onnx', model: { input: { kind: 'tensor', width: 512, height: 512 } }, accepts: ['tensor'] } as unknown as Backend;
    expect(feedsModelInput(onnxLike, nv12(512, 512, 1))).toBeNull();
  });
});
