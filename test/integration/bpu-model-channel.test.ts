/**
 * The second scaler channel as the model input (issue 13 item 5), off the board: the same two-appsink shape as
 * x5MipiDualLaunch, made from one videotestsrc and a tee (a 1280x720 NV12 preview branch into APPSINK_NAME, a
 * 512x512 NV12 branch into MODEL_APPSINK_NAME), streamed through the BPU backend on the hb_dnn test double.
 * The model branch is turned by 180 degrees so its picture cannot be mistaken for a CPU resize of the preview;
 * the double's class is a known function of its input (floor(Y * 8 / 256) at 1/4 of 512x512), so each class map
 * says which of the two the model ran on. The reference for the model branch comes from gst-launch-1.0 itself.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import { APPSINK_NAME, MODEL_APPSINK_NAME } from '../../pipelines/index.ts';
import { SegStreamApp } from '../../server/app/app.ts';
import { validateConfig } from '../../server/app/config.ts';
import { bpuTestDouble } from '../../server/stages/infer/bpu/native.ts';
import { packedNv12, type Nv12Image } from '../../server/stages/frame-context.ts';
import * as kernels from '../../server/kernels/index.ts';
import { decodeClassMap } from '../../server/stages/render/class-map-codec.ts';
import { decodeFrameMessage } from '../../server/protocol/index.ts';
import { agreement } from '../helpers/reference.ts';

const CAMERA = 'videotestsrc pattern=smpte75 is-live=true ! video/x-raw,format=I420,framerate=15/1,width=1920,height=1080';
const MODEL_BRANCH = 'videoflip method=rotate-180 ! videoconvert ! videoscale ! video/x-raw,format=NV12,width=512,height=512';
const TEE_LAUNCH =
  `${CAMERA} ! tee name=camera  ` +
  `camera. ! queue ! videoconvert ! videoscale ! video/x-raw,format=NV12,width=1280,height=720 ! appsink name=${APPSINK_NAME} sync=false max-buffers=1 drop=true  ` +
  `camera. ! queue ! ${MODEL_BRANCH} ! appsink name=${MODEL_APPSINK_NAME} sync=false max-buffers=1 drop=true`;

// The source named "vse" stands in for an x5-mipi source with a modelChannel (no X5 camera here).
vi.mock('../../pipelines/index.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../pipelines/index.ts')>();
  return { ...real, buildLaunch: (name: string, spec: Parameters<typeof real.buildLaunch>[1]) => (name === 'vse' ? TEE_LAUNCH : real.buildLaunch(name, spec)) };
});

const DOUBLE_MODEL = path.resolve(import.meta.dirname, '../fixtures/bpu/stream-demo.json');
const dir = mkdtempSync(path.join(tmpdir(), 'segstream-vse-'));
let app: SegStreamApp | null = null;
afterEach(async () => {
  await app?.stop();
  app = null;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** One buffer of the model branch, as GStreamer's own command-line tool makes it (smpte75 bars are the same in every buffer; smpte's corner is noise). */
function modelBranchReference(): Nv12Image {
  const file = path.join(dir, 'model-branch.nv12');
  execFileSync('gst-launch-1.0', ['-q', ...`${CAMERA.replace('is-live=true', 'num-buffers=1')} ! ${MODEL_BRANCH} ! filesink location=${file}`.split(' ')]);
  const data = new Uint8Array(readFileSync(file));
  expect(data.length).toBe(512 * 768);
  return packedNv12(data, 512, 512);
}

/** The double's model on an NV12 image: class at 128x128, then nearest to the frame size. */
function predicted(image: Nv12Image): Uint8Array | Uint16Array {
  const small = image.width === 512 && image.height === 512 ? image : kernels.resizeNv12(image, 512, 512);
  const grid = new Uint8Array(128 * 128);
  for (let y = 0; y < 128; y++) for (let x = 0; x < 128; x++) grid[y * 128 + x] = Math.floor((small.data[4 * y * small.strideY + 4 * x]! * 8) / 256);
  return kernels.resizeClassMap({ data: grid, width: 128, height: 128 }, 1280, 720).data;
}

describe('x5-mipi model channel, as a videotestsrc tee, through --backend bpu on the hb_dnn double', () => {
  it('the model runs on the model branch (no CPU resize, preprocess 0) while viewers get 1280x720', async () => {
    const config = validateConfig(
      {
        server: { port: 0 },
        stream: { postprocess: 'boundary' },
        sources: { vse: { kind: 'test', width: 1280, height: 720 } },
        models: { x5: { backend: 'bpu', files: [DOUBLE_MODEL], modelName: 'stream_classmap' } },
        defaultSource: 'vse',
        defaultModel: 'x5',
      },
      'test',
      process.cwd(),
    );
    const preprocessMs = new Map<number, number>();
    const served = new Map<number, Nv12Image>();
    app = new SegStreamApp({ config, log: () => {} });
    app.onFrameRendered = (ctx) => {
      preprocessMs.set(ctx.id, ctx.timings.preprocess ?? NaN);
      served.set(ctx.id, { ...ctx.image, data: ctx.image.data.slice() });
    };
    await app.start();
    const ws = new WebSocket(`ws://127.0.0.1:${app.port}/ws`);
    const frames: { id: number; width: number; height: number; map: Uint8Array | Uint16Array }[] = [];
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${frames.length} frames`)), 60_000);
      ws.on('message', (data, isBinary) => {
        if (!isBinary) return;
        const f = decodeFrameMessage(new Uint8Array(data as Buffer));
        const cm = f.header.classMap;
        frames.push({ id: f.header.id, width: f.header.width, height: f.header.height, map: decodeClassMap(f.classMap, cm.width, cm.height, cm.bytesPerPixel).data });
        if (frames.length === 8) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    ws.close();

    const reference = modelBranchReference();
    const fromModelBranch = predicted(reference);
    let onModelBranch = 0;
    for (const f of frames) {
      expect([f.width, f.height]).toEqual([1280, 720]);
      const fromPreview = predicted(served.get(f.id)!);
      // The two inputs give clearly different class maps (the model branch is upside down; 62% agree by chance).
      expect(agreement(fromModelBranch, fromPreview)).toBeLessThan(0.8);
      if (preprocessMs.get(f.id) === 0) {
        onModelBranch++;
        expect(agreement(f.map, fromModelBranch)).toBe(1);
      } else {
        // A frame that found no model buffer within one frame interval: the preview resized, as before.
        expect(agreement(f.map, fromPreview)).toBe(1);
      }
    }
    expect(onModelBranch).toBeGreaterThanOrEqual(frames.length / 2);
    // What the runtime received last is one of the two inputs, byte for byte (Y plane).
    const last = bpuTestDouble()!.lastInput()!;
    expect(last.validShape).toEqual([1, 3, 512, 512]);
    const lastServed = served.get(frames.at(-1)!.id)!;
    const resizedPreviewY = kernels.resizeNv12(lastServed, 512, 512).data.subarray(0, 512 * 512);
    expect([reference.data.subarray(0, 512 * 512), resizedPreviewY]).toContainEqual(last.planes[0]);
  });
});
