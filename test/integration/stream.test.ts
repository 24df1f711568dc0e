/**
 * End to end in one process: real GStreamer test source -> inference worker with real ONNX Runtime (tiny
 * generated model) -> render -> WebSocket client. Every class map the client receives is checked against a
 * direct ONNX Runtime run on the very NV12 frame the server used.
 */
import ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { SegStreamApp } from '../../server/app/app.ts';
import { loadConfigFile } from '../../server/app/config.ts';
import type { FrameContext, Nv12Image } from '../../server/stages/frame-context.ts';
import * as kernels from '../../server/kernels/index.ts';
import { decodeClassMap } from '../../server/stages/render/class-map-codec.ts';
import { decodeFrameMessage, type FrameHeader, type HelloMessage } from '../../server/protocol/index.ts';
import { testConfig } from '../helpers/server.ts';
import { tempDir } from '../helpers/media.ts';
import { agreement, upsampleArgmaxReference } from '../helpers/reference.ts';

let app: SegStreamApp;
const served = new Map<number, { image: Nv12Image; color: FrameContext['color'] }>();

beforeAll(async () => {
  const config = await loadConfigFile(testConfig(tempDir('int'), { stream: { postprocess: 'exact' } }));
  config.server.port = 0;
  app = new SegStreamApp({ config, log: () => {} });
  app.onFrameRendered = (ctx) => {
    served.set(ctx.id, { image: { ...ctx.image, data: ctx.image.data.slice() }, color: ctx.color });
  };
  await app.start();
});

afterAll(async () => {
  await app?.stop();
});

describe('live stream end to end', () => {
  it('streams >= 30 frames whose class maps match a direct ONNX Runtime run on the same NV12 frame', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${app.port}/ws`);
    let hello: HelloMessage | null = null;
    const frames: { header: FrameHeader; jpeg: Uint8Array; classMap: Uint8Array }[] = [];
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${frames.length} frames in 60 s`)), 60_000);
      ws.on('message', (data, isBinary) => {
        if (!isBinary) {
          const m = JSON.parse(data.toString());
          if (m.type === 'hello') hello = m;
          return;
        }
        const f = decodeFrameMessage(new Uint8Array(data as Buffer));
        frames.push({ header: f.header, jpeg: f.jpeg.slice(), classMap: f.classMap.slice() });
        ws.send(JSON.stringify({ type: 'drawn', id: f.header.id }));
        if (frames.length >= 32) {
          clearTimeout(timer);
          resolve();
        }
      });
      ws.on('error', reject);
    });
    ws.close();

    expect(hello).not.toBeNull();
    const h = hello as unknown as HelloMessage;
    expect(h.model).toMatchObject({ untrainedDemo: true, classes: 8, inputSize: [64, 64] });
    expect(h.source).toMatchObject({ name: 'test', kind: 'test', width: 320, height: 240 });
    expect(h.palette).toHaveLength(8);

    const model = app.model!;
    const session = await ort.InferenceSession.create(model.path);
    const ids = new Set<number>();
    for (const f of frames) {
      const { header } = f;
      ids.add(header.id);
      expect(header).toMatchObject({ width: 320, height: 240, overlaid: false });
      expect([...f.jpeg.subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff]); // a JPEG
      for (const stage of ['capture', 'preprocess', 'infer', 'postprocess', 'encode'] as const) {
        expect(header.stages[stage], stage).toBeGreaterThanOrEqual(0);
      }
      const map = decodeClassMap(f.classMap, header.classMap.width, header.classMap.height, header.classMap.bytesPerPixel);
      expect([map.width, map.height]).toEqual([320, 240]);
      // The header's class shares are the class map's own histogram.
      const counts = new Map<number, number>();
      for (const c of map.data) counts.set(c, (counts.get(c) ?? 0) + 1);
      expect(new Map(header.classes)).toEqual(counts);

      const frame = served.get(header.id)!;
      expect(frame, `frame ${header.id} seen by the server`).toBeDefined();
      const { mean, std, rescale } = model.preprocess;
      const input = kernels.nv12ToTensor(frame.image, { width: 64, height: 64, mean, std, rescale, layout: 'NCHW', color: frame.color });
      const out = await session.run({ [model.input.name]: new ort.Tensor('float32', input, [1, 3, 64, 64]) });
      const logits = out[model.output.name]!;
      const [, classes, lh, lw] = logits.dims as number[];
      const expected = upsampleArgmaxReference(logits.data as Float32Array, classes!, lh!, lw!, 240, 320);
      expect(agreement(map.data, expected)).toBeGreaterThanOrEqual(0.999);
    }
    expect(ids.size).toBe(frames.length);
    // The moving pattern makes the frames differ.
    expect(new Set(frames.map((f) => f.jpeg.length)).size).toBeGreaterThan(1);
    await session.release();
  });
});
