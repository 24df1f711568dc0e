/**
 * The stream end to end with the BPU backend in it: GStreamer -> inference worker -> BpuBackend (native addon
 * over the hb_dnn test double, no board) -> post-processing -> WebSocket. The double's model makes the class a
 * known function of the NV12 input (floor(Y * 8 / 256) at 1/4 of 512x512), so every received class map is predicted.
 * The preview is not the model input: frames stay at the source size, the model gets them resized to 512x512.
 */
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { SegStreamApp } from '../../server/app/app.ts';
import { bpuTestDouble } from '../../server/stages/infer/bpu/native.ts';
import { parseCommandArgs } from '../../server/cli/args.ts';
import { configFromArgs, STREAM_OPTIONS } from '../../server/cli/serve.ts';
import { validateConfig, type Config } from '../../server/app/config.ts';
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

function demoConfig(packModel: string): Config {
  return validateConfig(
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
}

async function stream(config: Config, n: number, names: { sourceName?: string; modelName?: string } = {}) {
  const served = new Map<number, Nv12Image>();
  const logs: string[] = [];
  app = new SegStreamApp({ config, ...names, log: (l) => logs.push(l) });
  app.onFrameRendered = (ctx) => served.set(ctx.id, { ...ctx.image, data: ctx.image.data.slice() });
  await app.start();
  const ws = new WebSocket(`ws://127.0.0.1:${app.port}/ws`);
  let hello: HelloMessage | null = null;
  const frames: { id: number; width: number; height: number; mapWidth: number; mapHeight: number; map: Uint8Array | Uint16Array }[] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${frames.length} frames`)), 60_000);
    ws.on('message', (data, isBinary) => {
      if (!isBinary) {
        const m = JSON.parse(data.toString());
        if (m.type === 'hello') hello = m;
        return;
      }
      const f = decodeFrameMessage(new Uint8Array(data as Buffer));
      const cm = f.header.classMap;
      frames.push({
        id: f.header.id,
        width: f.header.width,
        height: f.header.height,
        mapWidth: cm.width,
        mapHeight: cm.height,
        map: decodeClassMap(f.classMap, cm.width, cm.height, cm.bytesPerPixel).data,
      });
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
    const { frames, served, hello, logs } = await stream(demoConfig('stream_classmap'), 5);
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
    const { frames, served } = await stream(demoConfig('stream_logits'), 5);
    for (const f of frames) {
      const expected = predicted(served.get(f.id)!, 320, 240);
      // Boundary-exact upsampling of the logits moves class edges by up to a pixel vs nearest upsampling.
      expect(agreement(f.map, expected)).toBeGreaterThan(0.97);
    }
  });

  it('serve --backend bpu --size 1280x720 with a 512x512 NV12 model: viewers get 1280x720, the model its 512x512 input', async () => {
    const { values } = parseCommandArgs('serve', ['--backend', 'bpu', '--model', DOUBLE_MODEL, '--size', '1280x720', '--port', '0'], STREAM_OPTIONS);
    const { config, sourceName, modelName } = await configFromArgs(values);
    const { frames, served, hello } = await stream(config, 4, { ...(sourceName ? { sourceName } : {}), ...(modelName ? { modelName } : {}) });
    expect(hello.model).toMatchObject({ backend: 'bpu', inputSize: [512, 512], outputSize: [128, 128] });
    expect(hello.source).toMatchObject({ width: 1280, height: 720 });
    for (const f of frames) {
      expect([f.width, f.height, f.mapWidth, f.mapHeight]).toEqual([1280, 720, 1280, 720]);
      const image = served.get(f.id)!;
      expect([image.width, image.height]).toEqual([1280, 720]);
      expect(agreement(f.map, predicted(image, 1280, 720))).toBe(1);
    }
    expect(new Set(frames[0]!.map).size).toBeGreaterThan(2);
    // The runtime received the resized frame the way compiled X5 models take it: NV12_SEPARATE at 512x512.
    expect(bpuTestDouble()!.lastInput()).toMatchObject({ tensorType: 2, validShape: [1, 3, 512, 512], alignedShape: [1, 3, 512, 512] });
  });
});
