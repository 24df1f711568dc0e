/**
 * The stream end to end with the BPU backend in it: GStreamer -> inference worker -> BpuBackend (native addon
 * over the hb_dnn test double, no board) -> post-processing -> WebSocket. The double's model makes the class a
 * known function of the NV12 input (floor(Y * 8 / 256) at 1/4 of 512x512), so every received class map is predicted.
 */
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { SegStreamApp } from '../../server/app/app.ts';
import { validateConfig } from '../../server/app/config.ts';
import type { Nv12Image } from '../../server/stages/frame-context.ts';
import * as kernels from '../../server/kernels/index.ts';
import { decodeClassMap } from '../../server/stages/render/class-map-codec.ts';
import { decodeFrameMessage, type HelloMessage } from '../../server/protocol/index.ts';
import { agreement } from '../helpers/reference.ts';

const DOUBLE_MODEL = path.resolve(import.meta.dirname, '../fixtures/bpu/stream-demo.json');
let app: SegStreamApp | null = null;
afterEach(async () => {
  await app?.stop();
  app = null;
});

/** The double's model, computed here from the frame the server used: class at 128x128, then nearest to the frame size. */
function predicted(image: Nv12Image, width: number, height: number): Uint8Array | Uint16Array {
  const small = kernels.resizeNv12(image, 512, 512);
  const grid = new Uint8Array(128 * 128);
  for (let y = 0; y < 128; y++) for (let x = 0; x < 128; x++) grid[y * 128 + x] = Math.floor((small.data[4 * y * small.strideY + 4 * x]! * 8) / 256);
  return kernels.resizeClassMap({ data: grid, width: 128, height: 128 }, width, height).data;
}

async function stream(packModel: string, n: number) {
  const config = validateConfig(
    {
      server: { port: 0 },
      stream: { postprocess: 'boundary' },
      sources: { cam: { kind: 'test', width: 320, height: 240, framerate: 15, pattern: 'smpte' } },
      models: { x5: { backend: 'bpu', files: [DOUBLE_MODEL], modelName: packModel } },
      defaultSource: 'cam',
      defaultModel: 'x5',
    },
    'test',
    process.cwd(),
  );
  const served = new Map<number, Nv12Image>();
  const logs: string[] = [];
  app = new SegStreamApp({ config, log: (l) => logs.push(l) });
  app.onFrameRendered = (ctx) => served.set(ctx.id, { ...ctx.image, data: ctx.image.data.slice() });
  await app.start();
  const ws = new WebSocket(`ws://127.0.0.1:${app.port}/ws`);
  let hello: HelloMessage | null = null;
  const frames: { id: number; map: Uint8Array | Uint16Array }[] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${frames.length} frames`)), 60_000);
    ws.on('message', (data, isBinary) => {
      if (!isBinary) {
        const m = JSON.parse(data.toString());
        if (m.type === 'hello') hello = m;
        return;
      }
      const f = decodeFrameMessage(new Uint8Array(data as Buffer));
      frames.push({ id: f.header.id, map: decodeClassMap(f.classMap, f.header.classMap.width, f.header.classMap.height, f.header.classMap.bytesPerPixel).data });
      if (frames.length === n) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  ws.close();
  return { frames, served, hello: hello as unknown as HelloMessage, logs };
}

describe('--backend bpu on the hb_dnn test double', () => {
  it('a class-map model (argmax in the model): every class map is the predicted pattern', async () => {
    const { frames, served, hello, logs } = await stream('stream_classmap', 5);
    expect(hello.model).toMatchObject({ backend: 'bpu', inputSize: [512, 512], outputSize: [128, 128] });
    expect(hello.model.inputKind).toMatch(/^nv12/);
    expect(logs.join('\n')).toMatch(/BPU TEST DOUBLE \(no board\)/);
    for (const f of frames) {
      const expected = predicted(served.get(f.id)!, 320, 240);
      expect(agreement(f.map, expected)).toBe(1);
    }
    // The smpte bars give several distinct luma bands, hence several classes.
    expect(new Set(frames[0]!.map).size).toBeGreaterThan(2);
  });

  it('an S32 per-channel logits model (padded C): argmax of the dequantised logits gives the same pattern', async () => {
    const { frames, served } = await stream('stream_logits', 5);
    for (const f of frames) {
      const expected = predicted(served.get(f.id)!, 320, 240);
      // Boundary-exact upsampling of the logits moves class edges by up to a pixel vs nearest upsampling.
      expect(agreement(f.map, expected)).toBeGreaterThan(0.97);
    }
  });
});
