/**
 * Every kind of the model matrix end to end: real GStreamer test source -> inference worker with real ONNX
 * Runtime -> render -> WebSocket client. Each class map received is checked against a direct ONNX Runtime run on
 * the very NV12 frame the server used, converted to the model's input type here with plain TypeScript (not the
 * kernels' conversions), and post-processed with the test's own reference (bilinear upsample + argmax, or
 * nearest resize of a class map). Then `segstream verify` compares the kind with its float32 reference (same
 * weights). One line per kind is printed for the closing table.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { SegStreamApp } from '../../server/app/app.ts';
import { validateConfig } from '../../server/app/config.ts';
import * as kernels from '../../server/kernels/index.ts';
import type { ModelInfo } from '../../server/model/model-info.ts';
import { modelSummary } from '../../server/model/model-notes.ts';
import { halfToNumber, numberToHalf } from '../../server/model/onnx/tensor-values.ts';
import { decodeFrameMessage, type FrameHeader } from '../../server/protocol/index.ts';
import type { FrameContext, Nv12Image } from '../../server/stages/frame-context.ts';
import { decodeClassMap } from '../../server/stages/render/class-map-codec.ts';
import { runVerify } from '../../server/toolkit/commands/verify.ts';
import { agreement, upsampleArgmaxReference } from '../helpers/reference.ts';
import { hiddenClassMapModel } from '../model/hidden-graphs.ts';
import { MATRIX, writeKind, writeReference, type MatrixKind } from '../model/model-matrix.ts';
import { writeImageSet } from '../toolkit/helpers.ts';

const FRAMES = 6;
const W = 320;
const H = 240;
let tmp: string;
let images: string;

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'segstream-matrix-int-'));
  images = path.join(tmp, 'images');
  await writeImageSet(images, [[160, 120], [64, 64], [130, 90]], 17);
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

/** The model's input from a float32 tensor, converted without the kernels (the check must not share them). */
function feed(m: ModelInfo, values: Float32Array): ort.Tensor {
  const i = m.input;
  const shape = i.layout === 'NCHW' ? [1, 3, i.height, i.width] : [1, i.height, i.width, 3];
  if (i.dtype === 'float32') return new ort.Tensor('float32', values, shape);
  if (i.dtype === 'float16') return new ort.Tensor('float16', Uint16Array.from(values, numberToHalf), shape);
  const q = i.quantization;
  const [lo, hi] = i.dtype === 'uint8' ? [0, 255] : [-128, 127];
  const quant = (x: number) => {
    const v = q ? x / q.scales[0]! : x;
    const r = Math.abs(v - Math.trunc(v)) === 0.5 ? 2 * Math.round(v / 2) : Math.round(v);
    return Math.min(hi, Math.max(lo, r + (q?.zeroPoints?.[0] ?? 0)));
  };
  return i.dtype === 'uint8' ? new ort.Tensor('uint8', Uint8Array.from(values, quant), shape) : new ort.Tensor('int8', Int8Array.from(values, quant), shape);
}

/** Nearest (pixel-centre) resize of a class map, written here independently of the kernels. */
function nearest(ids: ArrayLike<number | bigint>, w: number, h: number, outW: number, outH: number): Uint16Array {
  const out = new Uint16Array(outW * outH);
  for (let y = 0; y < outH; y++) {
    const sy = Math.min(h - 1, Math.floor(((2 * y + 1) * h) / (2 * outH)));
    for (let x = 0; x < outW; x++) out[y * outW + x] = Number(ids[sy * w + Math.min(w - 1, Math.floor(((2 * x + 1) * w) / (2 * outW)))]!);
  }
  return out;
}

async function expectedMap(session: ort.InferenceSession, m: ModelInfo, frame: { image: Nv12Image; color: FrameContext['color'] }): Promise<ArrayLike<number>> {
  const raw = m.input.dtype === 'uint8' && !m.input.quantization;
  const p = raw ? { mean: [0, 0, 0] as [number, number, number], std: [1, 1, 1] as [number, number, number], rescale: 1 } : m.preprocess;
  const values = kernels.nv12ToTensor(frame.image, { width: m.input.width, height: m.input.height, mean: p.mean, std: p.std, rescale: p.rescale, layout: m.input.layout, color: frame.color });
  const out = (await session.run({ [m.input.name]: feed(m, values) }))[m.output.name]!;
  const dims = out.dims as number[];
  if (m.output.kind === 'classmap') return nearest(out.data as ArrayLike<number | bigint>, dims[dims.length - 1]!, dims[dims.length - 2]!, W, H);
  const logits = out.type === 'float16' ? Float32Array.from(out.data as Uint16Array, halfToNumber) : (out.data as Float32Array);
  return upsampleArgmaxReference(logits, dims[1]!, dims[2]!, dims[3]!, H, W);
}

async function stream(kind: MatrixKind, file: string): Promise<{ model: ModelInfo; frames: number; worst: number; log: string[] }> {
  const log: string[] = [];
  const config = validateConfig(
    {
      server: { port: 0 },
      sources: { cam: { kind: 'test', width: W, height: H, framerate: 30 } },
      models: { m: { path: file } },
      defaultSource: 'cam',
      defaultModel: 'm',
      stream: { postprocess: 'exact' },
    },
    'test',
    process.cwd(),
  );
  const app = new SegStreamApp({ config, log: (line: string) => log.push(line) });
  const served = new Map<number, { image: Nv12Image; color: FrameContext['color'] }>();
  app.onFrameRendered = (ctx) => served.set(ctx.id, { image: { ...ctx.image, data: ctx.image.data.slice() }, color: ctx.color });
  await app.start();
  try {
    const model = app.model!;
    const ws = new WebSocket(`ws://127.0.0.1:${app.port}/ws`);
    const frames: { header: FrameHeader; classMap: Uint8Array }[] = [];
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${kind.id}: only ${frames.length} frames in 60 s:\n${log.join('\n')}`)), 60_000);
      ws.on('message', (data, isBinary) => {
        // Frames already on the wire when the socket closes are not counted.
        if (!isBinary || frames.length >= FRAMES) return;
        const f = decodeFrameMessage(new Uint8Array(data as Buffer));
        frames.push({ header: f.header, classMap: f.classMap.slice() });
        ws.send(JSON.stringify({ type: 'drawn', id: f.header.id }));
        if (frames.length >= FRAMES) {
          clearTimeout(timer);
          resolve();
        }
      });
      ws.on('error', reject);
    });
    ws.close();
    const session = await ort.InferenceSession.create(model.path, { intraOpNumThreads: 1 });
    let worst = 1;
    for (const f of frames) {
      const map = decodeClassMap(f.classMap, f.header.classMap.width, f.header.classMap.height, f.header.classMap.bytesPerPixel);
      expect([map.width, map.height]).toEqual([W, H]);
      const frame = served.get(f.header.id)!;
      expect(frame, `frame ${f.header.id} seen by the server`).toBeDefined();
      const a = agreement(map.data, await expectedMap(session, model, frame));
      worst = Math.min(worst, a);
    }
    await session.release();
    return { model, frames: frames.length, worst, log };
  } finally {
    await app.stop();
  }
}

describe('a class map whose size and class count the graph hides', () => {
  it('streams: size from the warm-up inference, classes counted from the ids seen, and the log says both', async () => {
    const dir = path.join(tmp, 'hidden');
    await fs.mkdir(dir, { recursive: true });
    const file = path.join(dir, 'model.onnx');
    await fs.writeFile(file, hiddenClassMapModel(5));
    await fs.writeFile(path.join(dir, 'preprocessor_config.json'), JSON.stringify({ size: { height: 64, width: 96 } }));
    const kind: MatrixKind = { id: 'hidden', title: 'hidden', options: {}, config: false, input: {}, output: { kind: 'classmap' } };
    const s = await stream(kind, file);
    expect(s.model.output).toMatchObject({ kind: 'classmap', classes: 0, height: 16, width: 24 });
    expect(s.frames).toBe(FRAMES);
    expect(s.worst).toBe(1);
    const log = s.log.join('\n');
    expect(log).toContain('output size from a warm-up inference at 64x96 (the graph did not tell): [1, 16, 24]');
    expect(log).toContain('classes are counted from the ids seen, with generic names');
    expect(log).toContain('16x24 is resized nearest-neighbour to the frame size (upscaled when the frame is larger)');
    console.log(`MATRIX | hidden-classmap | ${modelSummary(s.model)} | ${s.frames} frames, worst agreement with direct ORT ${s.worst.toFixed(4)} | verify n/a (no float reference)`);
  });
});

describe('model matrix end to end: stream and verify', () => {
  for (const kind of MATRIX) {
    it(`${kind.id}: streams class maps equal to a direct ONNX Runtime run, and runs in verify`, async () => {
      const file = await writeKind(path.join(tmp, kind.id), kind);
      const s = await stream(kind, file);
      expect(s.model.output).toMatchObject(kind.output);
      expect(s.frames).toBe(FRAMES);
      // Class maps computed in the model are only resized: identical. Logits: exact mode vs the reference
      // upsample; a few boundary pixels may differ by float rounding order.
      expect(s.worst).toBeGreaterThanOrEqual(kind.output.kind === 'classmap' ? 1 : 0.999);
      if (kind.output.kind === 'classmap') {
        expect(s.log.join('\n')).toContain('class map computed in the model (argmax skipped)');
      }

      const reference = await writeReference(path.join(tmp, `${kind.id}-reference`), kind);
      const report = await runVerify({ reference, deployed: file, images, out: path.join(tmp, `${kind.id}-verify`), quiet: true, noHtml: true, threads: 1 });
      const cosine = report.overall.logits?.cosine ?? null;
      const agree = report.overall.classMap.agreement;
      // Float-equivalent kinds agree with their reference to float rounding; quantised ones within their error.
      const quantised = ['qdq-int8', 'dynamic-int8', 'int8-input', 'float16'].includes(kind.id);
      if (cosine !== null) expect(cosine).toBeGreaterThan(quantised ? 0.9 : 0.99999);
      // A class map taken at 1/4 and resized nearest differs from the reference's exact (bilinear upsample, then
      // argmax) class map along boundaries: the known cost of low-res argmax (about 90% on the B0 export).
      const lowRes = kind.id === 'classmap-uint8-quarter';
      expect(agree).toBeGreaterThan(lowRes ? 0.85 : quantised ? 0.9 : 0.97);
      console.log(
        `MATRIX | ${kind.id} | ${modelSummary(s.model)} | ${s.frames} frames, worst agreement with direct ORT ${s.worst.toFixed(4)} | ` +
          `verify cosine ${cosine === null ? 'n/a' : cosine.toFixed(6)}, class-map agreement ${agree.toFixed(4)}`,
      );
    });
  }
});
