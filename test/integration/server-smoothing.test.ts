/**
 * Server-side temporal smoothing on the real server (real GStreamer, ONNX Runtime, WebSocket): the control is
 * accepted with the token, reported in hello and in every frame header, and each class map sent is the per-pixel
 * majority of the last three class maps post-processing produced, each of which is checked against a direct
 * ONNX Runtime run on the frame the server used.
 */
import ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { SegStreamApp } from '../../server/app/app.ts';
import { loadConfigFile } from '../../server/app/config.ts';
import * as kernels from '../../server/kernels/index.ts';
import { decodeFrameMessage, type FrameHeader, type HelloMessage } from '../../server/protocol/index.ts';
import type { FrameContext, Nv12Image } from '../../server/stages/frame-context.ts';
import { decodeClassMap } from '../../server/stages/render/class-map-codec.ts';
import { tempDir } from '../helpers/media.ts';
import { agreement, upsampleArgmaxReference } from '../helpers/reference.ts';
import { testConfig } from '../helpers/server.ts';

const TOKEN = 'smoothing-test-token-0123456789';
let app: SegStreamApp;
/** Every frame post-processing saw, in order. */
const inferred: { id: number; image: Nv12Image; color: FrameContext['color'] }[] = [];

beforeAll(async () => {
  const config = await loadConfigFile(testConfig(tempDir('smooth'), { stream: { postprocess: 'exact', smoothing: 3 } }));
  config.server.port = 0;
  config.server.controlToken = TOKEN;
  app = new SegStreamApp({ config, log: () => {} });
  app.onFrameInferred = (ctx) => inferred.push({ id: ctx.id, image: { ...ctx.image, data: ctx.image.data.slice() }, color: ctx.color });
  await app.start();
});

afterAll(async () => {
  await app?.stop();
});

interface Received {
  texts: Record<string, unknown>[];
  frames: { header: FrameHeader; classMap: Uint8Array }[];
}

function watch(ws: WebSocket): Received {
  const r: Received = { texts: [], frames: [] };
  ws.on('message', (data, isBinary) => {
    if (!isBinary) return void r.texts.push(JSON.parse(data.toString()));
    const f = decodeFrameMessage(new Uint8Array(data as Buffer));
    r.frames.push({ header: f.header, classMap: f.classMap.slice() });
  });
  return r;
}

async function until(cond: () => boolean, what: string, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('server-side smoothing', () => {
  it('sends the majority of the last three class maps, each checked against ONNX Runtime', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${app.port}/ws`);
    const got = watch(ws);
    await until(() => got.frames.length >= 12, '12 frames');
    ws.close();
    const hello = got.texts.find((t) => t.type === 'hello') as unknown as HelloMessage;
    expect(hello.smoothing).toBe(3);

    const model = app.model!;
    const session = await ort.InferenceSession.create(model.path);
    const rawMaps = new Map<number, Uint8Array | Uint16Array>();
    const raw = async (i: number): Promise<Uint8Array | Uint16Array> => {
      const f = inferred[i]!;
      const cached = rawMaps.get(f.id);
      if (cached) return cached;
      const { mean, std, rescale } = model.preprocess;
      const input = kernels.nv12ToTensor(f.image, { width: 64, height: 64, mean, std, rescale, layout: 'NCHW', color: f.color });
      const out = await session.run({ [model.input.name]: new ort.Tensor('float32', input, [1, 3, 64, 64]) });
      const logits = out[model.output.name]!;
      const [, classes, lh, lw] = logits.dims as number[];
      const map = upsampleArgmaxReference(logits.data as Float32Array, classes!, lh!, lw!, 240, 320);
      rawMaps.set(f.id, map);
      return map;
    };
    let checked = 0;
    let differs = 0;
    for (const f of got.frames) {
      expect(f.header.smoothing).toBe(3);
      const at = inferred.findIndex((x) => x.id === f.header.id);
      expect(at, `frame ${f.header.id} was inferred`).toBeGreaterThanOrEqual(0);
      if (at < 2) continue;
      const [a, b, c] = [await raw(at - 2), await raw(at - 1), await raw(at)];
      // Majority of three, ties to the newest (written out here, independently of the shared smoother).
      const vote = Uint16Array.from(c, (newest, i) => (newest === b[i] || newest === a[i] ? newest : b[i] === a[i] ? b[i]! : newest));
      const sent = decodeClassMap(f.classMap, 320, 240, f.header.classMap.bytesPerPixel);
      expect(agreement(sent.data, vote)).toBeGreaterThanOrEqual(0.999);
      if (agreement(vote, c) < 1) differs++;
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(8);
    // The moving pattern makes the vote differ from the newest map somewhere: smoothing really ran.
    expect(differs).toBeGreaterThan(0);
    await session.release();
  });

  it('is switched with the set-smoothing control (token) and reported in hello and in frame headers', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${app.port}/ws`);
    const got = watch(ws);
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify({ type: 'control', token: TOKEN, action: 'set-smoothing', value: 5 }));
    await until(() => got.texts.some((t) => t.type === 'control-result'), 'the control result');
    expect(got.texts.find((t) => t.type === 'control-result')).toEqual({
      type: 'control-result', action: 'set-smoothing', ok: true, message: 'server smoothing is now the majority of 5 frames',
    });
    await until(() => got.texts.filter((t) => t.type === 'hello').length >= 2, 'a new hello');
    expect(got.texts.filter((t) => t.type === 'hello').at(-1)).toMatchObject({ smoothing: 5 });
    await until(() => got.frames.some((f) => f.header.smoothing === 5), 'a frame smoothed over 5');
    ws.send(JSON.stringify({ type: 'control', token: TOKEN, action: 'set-smoothing', value: 0 }));
    await until(() => got.frames.some((f, i) => i > 0 && f.header.smoothing === 0), 'an unsmoothed frame');
    ws.send(JSON.stringify({ type: 'control', token: TOKEN, action: 'set-smoothing', value: 12 }));
    await until(() => got.texts.filter((t) => t.type === 'control-result').length >= 3, 'the refusal');
    expect(got.texts.filter((t) => t.type === 'control-result').at(-1)).toMatchObject({ ok: false, message: 'set-smoothing: expected a window of 0 (off) to 9 frames' });
    ws.close();
  });
});
