/**
 * `segstream bench`: the whole chain (source -> preprocess -> infer -> postprocess -> overlay -> encode -> send)
 * headless in this process, then, in the same run, the same backend on a fixed tensor (model-only), so the
 * pipeline's overhead is a measured ratio.
 */
import path from 'node:path';
import { WebSocket } from 'ws';
import { SegStreamApp } from '../app/app.ts';
import type { Backend, InferenceResult } from '../stages/infer/backend.ts';
import type { ModelInfo, Tensor } from '../model/model-info.ts';
import { loadBackend } from '../stages/infer/load-backend.ts';
import type { PostprocessMode } from '../protocol/index.ts';
import type { ModelRef } from '../stages/infer/worker-protocol.ts';
import { validateConfig, type Config } from '../app/config.ts';
import { packedNv12, type FrameContext, type Nv12Image } from '../stages/frame-context.ts';
import * as kernels from '../kernels/index.ts';
import { summarize, type Summary } from '../util/stats.ts';
import { childPidsNamed, machineFacts, processTreeCpuSeconds, type MachineFacts } from './machine.ts';
import { subtractCounters, summarizeRun, type DropCounters, type FrameRecord, type RunSummary } from './summary.ts';

export interface BenchOptions {
  source: 'test' | 'file' | 'usb' | 'x5-mipi' | 'rtsp';
  /** The video/image file (source `file`). */
  file?: string;
  /** The V4L2 device node (sources `usb`, `x5-mipi`). */
  device?: string;
  /** The stream URL (source `rtsp`). */
  url?: string;
  width: number;
  height: number;
  /** Source frame rate (test source; paced like a camera). 0 = as fast as frames are taken. */
  sourceFps: number;
  /** `demo` (generated SegFormer-B0-shaped model), an .onnx path, or BPU .bin path(s) joined by commas. */
  model: string;
  backend: 'onnx' | 'bpu';
  demoVariant: 'b0' | 'tiny';
  demoSize: number;
  threads: number;
  postprocess: PostprocessMode;
  overlay: boolean;
  jpegQuality: number;
  /** Measured frames (after warm-up); ignored when durationS is set. */
  frames: number;
  durationS: number;
  warmup: number;
  modelOnlyRuns: number;
  /** Attach headless Chromium running the viewer (glass-to-glass frame age). */
  browser: boolean;
  /** Frames to run through the peers (transformers.js, a hand-written ORT loop); 0 = skip them. */
  peers: number;
  cacheDir: string;
  log: (line: string) => void;
}

export interface BenchResult {
  startedAt: string;
  options: Omit<BenchOptions, 'log'>;
  machine: MachineFacts;
  /** `name` is the model as the user named it: `demo`, or the path given to --model. */
  model: { name: string; path: string; input: string; backend: 'onnx' | 'bpu'; runtime: string; untrainedDemo: boolean };
  source: { caps: string };
  pipeline: RunSummary;
  modelOnly: { runs: number; ms: Summary; fps: number; cpuSecondsPerRun: number };
  /** End-to-end fps / model-only fps. */
  endToEndVsModelOnly: number;
  cpu: {
    /** CPU seconds / wall seconds of this process during the measured window (1.0 = one core busy). */
    serverCores: number;
    browserCores: number | null;
    /** Share of the server's CPU spent outside the model (estimated from model-only CPU per run). */
    nonModelShare: number;
  };
  memory: { rssStartMiB: number; rssPeakMiB: number; rssEndMiB: number; heapEndMiB: number };
  frameAge: (Summary & { client: string }) | null;
  /** frame age p99 / model-only p50. */
  frameAgeP99VsModel: number | null;
  send: Summary | null;
  peers: { name: string; frames: number; fps: number; ms: Summary }[];
  /** End-to-end fps / transformers.js fps (when peers ran). */
  endToEndVsTransformersJs: number | null;
  /** Per-frame samples of the measured window, for the report's charts. */
  series: {
    /** When each measured frame finished, seconds from the start of measurement. */
    frameDoneS: number[];
    /** Each acknowledged frame's age (capture -> received or drawn), ms. */
    frameAgeMs: number[];
  };
}

/**
 * The config name the run's model gets (it shows in the server's log lines): `demo`, or the file name without
 * its extension, or the folder's name for the generic `model.onnx` of Hugging Face exports.
 */
export function benchModelName(model: string): string {
  if (model === 'demo') return 'demo';
  const first = model.split(',')[0]!;
  let stem = path.basename(first).replace(/\.(onnx|bin|json)$/i, '');
  if (/^model(_quantized|_fp16|_int8)?$/i.test(stem)) {
    let dir = path.dirname(path.resolve(first));
    if (path.basename(dir) === 'onnx') dir = path.dirname(dir); // hub layout: <repo>/onnx/model.onnx
    stem = path.basename(dir) || stem;
  }
  const base = stem.replace(/[^A-Za-z0-9_.-]/g, '_');
  const name = /^[A-Za-z0-9]/.test(base) ? base : `m${base}`;
  return name.slice(0, 64) || 'model';
}

export const DEFAULT_BENCH: Omit<BenchOptions, 'log' | 'cacheDir'> = {
  source: 'test',
  width: 1280,
  height: 720,
  sourceFps: 30,
  model: 'demo',
  backend: 'onnx',
  demoVariant: 'b0',
  demoSize: 512,
  threads: 0,
  postprocess: 'boundary',
  overlay: true,
  jpegQuality: 80,
  frames: 60,
  durationS: 0,
  warmup: 5,
  modelOnlyRuns: 30,
  browser: false,
  peers: 0,
};

/** The raw source entry for the run (validated with the rest of the config, so cameras get the usual checks). */
function benchSource(o: BenchOptions): Record<string, unknown> {
  const size = { width: o.width, height: o.height };
  switch (o.source) {
    case 'file':
      return { kind: 'file', path: path.resolve(o.file ?? ''), ...size, realtime: o.sourceFps > 0 };
    case 'usb':
      return { kind: 'usb', device: o.device, ...size, ...(o.sourceFps > 0 ? { framerate: o.sourceFps } : {}) };
    case 'x5-mipi':
      return { kind: 'x5-mipi', device: o.device, ...size };
    case 'rtsp':
      return { kind: 'rtsp', url: o.url, ...size };
    default:
      return { kind: 'test', ...size, framerate: o.sourceFps > 0 ? o.sourceFps : 30, live: o.sourceFps > 0, pattern: 'smpte' };
  }
}

function benchConfig(o: BenchOptions): Config {
  const raw = {
    cacheDir: o.cacheDir,
    server: { port: 0, host: '127.0.0.1', maxClients: 4, clientStallMs: 60_000 },
    stream: { jpegQuality: o.jpegQuality, postprocess: o.postprocess, overlay: o.overlay ? 'server' : 'client' },
    inference: { threads: o.threads },
    sources: {
      bench: benchSource(o),
    },
    models: {
      [benchModelName(o.model)]:
        o.model === 'demo'
          ? { demo: { variant: o.demoVariant, size: o.demoSize, classes: 150 } }
          : { backend: o.backend, files: o.model.split(',').map((f) => path.resolve(f)) },
    },
    defaultSource: 'bench',
    defaultModel: benchModelName(o.model),
  };
  return validateConfig(raw, 'bench options', process.cwd());
}

/** The model reference the bench config resolves to (the demo model is generated into the cache first). */
function modelRefOf(config: Config, generatedPath: string): ModelRef {
  const name = config.defaultModel;
  const entry = config.models[name]!;
  return { backend: entry.backend, files: entry.demo ? [generatedPath] : entry.files, name };
}

/** A fixed, deterministic input of the model's own kind: a float tensor, or an NV12 image for NV12 models. */
function fixedInputFor(info: ModelInfo): { tensor: Tensor } | { nv12: Nv12Image } {
  const { width, height, layout, kind } = info.input;
  let seed = 1;
  const next = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  if (kind === 'nv12') {
    const data = new Uint8Array((width * height * 3) / 2);
    for (let i = 0; i < data.length; i++) data[i] = Math.floor(next() * 256);
    return { nv12: packedNv12(data, width, height) };
  }
  const data = new Float32Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = next() * 4 - 2;
  return { tensor: { dtype: 'float32', shape: layout === 'NCHW' ? [1, 3, height, width] : [1, height, width, 3], data } };
}

async function runNv12(backend: Backend, image: Nv12Image): Promise<InferenceResult> {
  const b = backend as Backend & { runNv12?: (i: Nv12Image) => Promise<InferenceResult> };
  if (!b.runNv12) throw new Error(`bench: ${backend.kind} backend cannot take NV12 input`);
  return b.runNv12(image);
}

function counters(app: SegStreamApp): DropCounters {
  return {
    captured: app.counters.framesIn,
    inferenceBusy: app.inferenceStage?.dropped ?? 0,
    renderBusy: app.counters.renderDropped,
    slowClient: (app.clients?.snapshot() ?? []).reduce((a, c) => a + c.dropped, 0),
    errors: app.counters.backendErrors,
  };
}

const MiB = 2 ** 20;

export async function runBench(o: BenchOptions): Promise<BenchResult> {
  const config = benchConfig(o);
  const app = new SegStreamApp({ config, log: (l) => o.log(`  server: ${l}`), staticDir: path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../dist/client') });
  const records: FrameRecord[] = [];
  const kept: FrameContext[] = [];
  const sends: number[] = [];
  let measuring = false;
  let warmupDone: (() => void) | null = null;
  let measuredDone: (() => void) | null = null;
  const target = o.durationS > 0 ? Infinity : o.warmup + o.frames;
  let finished = false;
  app.onFrameRendered = (ctx) => {
    if (finished) return;
    const now = performance.now();
    records.push({ id: ctx.id, doneAt: now, totalMs: now - ctx.arrivedAt, timings: { ...ctx.timings } });
    // Keep the newest frames for the peers (their NV12 buffers are already this process's own copies).
    if (o.peers > 0 && measuring) {
      kept.push(ctx);
      if (kept.length > o.peers) kept.shift();
    }
    if (records.length === o.warmup) warmupDone?.();
    if (records.length >= target) measuredDone?.();
  };
  const rssSamples: number[] = [];
  const rssTimer = setInterval(() => rssSamples.push(process.memoryUsage().rss), 250);

  let browserClose: (() => Promise<void>) | null = null;
  let browserPid: number | null = null;
  let ws: WebSocket | null = null;
  // On any failure (a source that never delivers, Chromium that does not start) stop everything started, so the
  // process can exit with the error instead of hanging on the server and the pipeline.
  const teardown = async () => {
    finished = true;
    ws?.close();
    await browserClose?.();
    browserClose = null;
    await app.stop();
    clearInterval(rssTimer);
  };
  try {
    o.log(`bench: starting ${o.source} ${o.width}x${o.height} -> ${o.model === 'demo' ? `demo ${o.demoVariant} ${o.demoSize}` : o.model}`);
    const url = await app.start();
    const model = app.model!;

    if (o.browser) {
      const { chromium } = await import('playwright-core');
      const browser = await chromium.launch({
        executablePath: '/usr/bin/chromium',
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
      });
      // playwright-core's Browser does not expose its process: find the Chromium we just started among our children.
      browserPid = childPidsNamed(process.pid, /chrom/i)[0] ?? null;
      const page = await browser.newPage();
      await page.goto(url);
      browserClose = () => browser.close();
    } else {
      // A headless viewer: acknowledges each frame on receipt, so frame age covers capture -> delivered.
      ws = new WebSocket(`${url.replace('http', 'ws')}ws`);
      ws.on('message', (data, isBinary) => {
        if (!isBinary) return;
        const buf = data as Buffer;
        const headerLength = buf.readUInt32LE(0);
        const header = JSON.parse(buf.subarray(4, 4 + headerLength).toString()) as { id: number };
        ws!.send(JSON.stringify({ type: 'drawn', id: header.id }));
      });
    }
    // Every send time and frame age of the measured window (the hub's per-client window holds only the latest 600).
    const ages: number[] = [];
    app.onFrameSent = (ms) => {
      if (measuring) sends.push(ms);
    };
    app.onFrameAge = (ms) => {
      if (measuring) ages.push(ms);
    };

    // Count from here: frames rendered while the viewer was being attached are not part of the run.
    records.length = 0;
    kept.length = 0;

    const timeoutMs = 600_000 + (o.durationS + o.frames) * 5000;
    // A source or backend that stays down (a camera that is not there, a model that keeps failing) ends the run
    // with its status message instead of waiting out the timeout.
    const downForMs = 20_000;
    const withTimeout = async (p: Promise<void>, what: string): Promise<void> => {
      let timer: NodeJS.Timeout | undefined;
      let poll: NodeJS.Timeout | undefined;
      const failure = new Promise<void>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`bench: ${what} did not happen within ${timeoutMs / 1000} s (status: ${app.currentStatus.message})`)), timeoutMs);
        poll = setInterval(() => {
          const s = app.currentStatus;
          if ((s.state === 'source-lost' || s.state === 'backend-error') && Date.now() - s.since > downForMs) {
            reject(new Error(`bench: ${what} did not happen: ${s.state} for ${downForMs / 1000} s: ${s.message}`));
          }
        }, 500);
      });
      try {
        await Promise.race([p, failure]);
      } finally {
        clearTimeout(timer);
        clearInterval(poll);
      }
    };

    if (o.warmup > 0) await withTimeout(new Promise<void>((r) => (warmupDone = records.length >= o.warmup ? (r(), null) : r)), 'warm-up');
    const counterStart = counters(app);
    const cpuStart = process.cpuUsage();
    const browserCpuStart = browserPid ? processTreeCpuSeconds(browserPid) : NaN;
    const wallStart = performance.now();
    const rssStart = process.memoryUsage().rss;
    rssSamples.length = 0;
    measuring = true;
    o.log(`bench: warm-up done (${o.warmup} frames); measuring ${o.durationS > 0 ? `${o.durationS} s` : `${o.frames} frames`}`);
    if (o.durationS > 0) {
      await new Promise((r) => setTimeout(r, o.durationS * 1000));
    } else {
      await withTimeout(new Promise<void>((r) => (measuredDone = records.length >= target ? (r(), null) : r)), 'the measured frames');
    }
    measuring = false;
    finished = true;
    const wallS = (performance.now() - wallStart) / 1000;
    const cpu = process.cpuUsage(cpuStart);
    const browserCpu = browserPid ? processTreeCpuSeconds(browserPid) - browserCpuStart : NaN;
    const counterEnd = counters(app);
    const inferredInWindow = records.filter((r) => r.doneAt >= wallStart).length;
    const frameAge = ages.length > 0 ? summarize(ages) : null;
    const rssEnd = process.memoryUsage().rss;
    const heapEnd = process.memoryUsage().heapUsed;
    const caps = app.sourceCaps?.text ?? '';
    const status = app.currentStatus;
    await teardown();
    const pipeline = summarizeRun(records, o.warmup, subtractCounters(counterEnd, counterStart));
    o.log(`bench: pipeline ${pipeline.fps.toFixed(2)} fps over ${pipeline.seconds.toFixed(1)} s (status ${status.state})`);

    // Model-only: the same model and thread count, a fixed input, nothing else running.
    o.log(`bench: model-only, ${o.modelOnlyRuns} runs`);
    // The same loader the inference worker uses, so model-only runs exactly the stream's backend.
    const backend = await loadBackend(modelRefOf(config, model.path), { threads: o.threads });
    const info = backend.model;
    const fixedInput = fixedInputFor(info);
    const runOnce = () => ('nv12' in fixedInput ? runNv12(backend, fixedInput.nv12) : backend.run(fixedInput.tensor));
    for (let i = 0; i < 3; i++) await runOnce();
    const times: number[] = [];
    const modelCpuStart = process.cpuUsage();
    const modelWallStart = performance.now();
    for (let i = 0; i < o.modelOnlyRuns; i++) times.push((await runOnce()).inferMs);
    const modelWall = (performance.now() - modelWallStart) / 1000;
    const modelCpu = process.cpuUsage(modelCpuStart);
    await backend.close();
    const modelMs = summarize(times);
    const modelFps = o.modelOnlyRuns / modelWall;
    const cpuSecondsPerRun = (modelCpu.user + modelCpu.system) / 1e6 / o.modelOnlyRuns;
    const serverCpuS = (cpu.user + cpu.system) / 1e6;

    const peers: BenchResult['peers'] = [];
    if (o.peers > 0 && kept.length > 0 && o.backend === 'onnx') {
      const frames = kept.map((ctx) => ({ rgb: kernels.nv12ToRgb(ctx.image, { color: ctx.color }), width: ctx.image.width, height: ctx.image.height }));
      const dir = path.dirname(model.path);
      const files = { modelPath: model.path, configPath: path.join(dir, 'config.json'), preprocessorPath: path.join(dir, 'preprocessor_config.json') };
      o.log(`bench: peers on ${frames.length} frames: hand-written onnxruntime-node loop`);
      const { runOrtLoop } = await import('../../bench/peers/ort-loop.ts');
      const loop = await runOrtLoop(
        { modelPath: model.path, inputName: info.input.name, outputName: info.output.name, size: info.input.width, mean: info.preprocess.mean, std: info.preprocess.std },
        frames,
        { threads: o.threads, warmup: 2 },
      );
      peers.push({ name: loop.name, frames: loop.frames, fps: loop.fps, ms: summarize(loop.msPerFrame) });
      o.log('bench: peers: transformers.js image-segmentation pipeline');
      const { runTransformersJs } = await import('../../bench/peers/transformers-js.ts');
      const tf = await runTransformersJs(files, frames, { workDir: path.join(o.cacheDir, 'peer-models'), threads: o.threads, warmup: 2 });
      peers.push({ name: tf.name, frames: tf.frames, fps: tf.fps, ms: summarize(tf.msPerFrame) });
    }
    const tfPeer = peers.find((p) => p.name.startsWith('transformers.js'));
    const peak = Math.max(rssStart, rssEnd, ...rssSamples);

    return {
      startedAt: new Date().toISOString(),
      options: Object.fromEntries(Object.entries(o).filter(([k]) => k !== 'log')) as Omit<BenchOptions, 'log'>,
      machine: machineFacts(),
      model: {
        name: o.model,
        path: model.path,
        input: `${model.input.name} ${model.input.kind} ${model.input.width}x${model.input.height}`,
        backend: o.backend,
        runtime: String(model.details.runtime ?? (o.backend === 'onnx' ? `onnxruntime-node ${machineFacts().onnxruntime} (CPU)` : 'hb_dnn')),
        untrainedDemo: model.untrainedDemo,
      },
      source: { caps },
      pipeline,
      modelOnly: { runs: o.modelOnlyRuns, ms: modelMs, fps: modelFps, cpuSecondsPerRun },
      endToEndVsModelOnly: pipeline.fps / modelFps,
      cpu: {
        serverCores: serverCpuS / wallS,
        browserCores: Number.isNaN(browserCpu) ? null : browserCpu / wallS,
        nonModelShare: serverCpuS > 0 ? Math.max(0, 1 - (cpuSecondsPerRun * inferredInWindow) / serverCpuS) : NaN,
      },
      memory: { rssStartMiB: rssStart / MiB, rssPeakMiB: peak / MiB, rssEndMiB: rssEnd / MiB, heapEndMiB: heapEnd / MiB },
      frameAge: frameAge ? { ...frameAge, client: o.browser ? 'chromium viewer (drawn)' : 'headless WebSocket client (received)' } : null,
      frameAgeP99VsModel: frameAge ? frameAge.p99 / modelMs.p50 : null,
      send: sends.length ? summarize(sends) : null,
      peers,
      endToEndVsTransformersJs: tfPeer ? pipeline.fps / tfPeer.fps : null,
      series: {
        frameDoneS: records
          .slice()
          .sort((a, b) => a.doneAt - b.doneAt)
          .slice(o.warmup)
          .map((r) => Math.round(r.doneAt - wallStart) / 1000),
        frameAgeMs: ages.map((a) => Math.round(a * 100) / 100),
      },
    };
  } catch (error) {
    await teardown().catch(() => undefined);
    throw error;
  }
}
