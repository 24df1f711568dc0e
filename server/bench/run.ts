/**
 * `segstream bench`: the whole chain (source -> preprocess -> infer -> postprocess -> overlay -> encode -> send)
 * headless in this process, and the same model on a fixed input alone (model-only), interleaved in rounds
 * (rounds.ts): [pipeline | model-only], [model-only | pipeline], ... Each pipeline segment is a fresh server
 * (started, warmed up, measured, stopped), so nothing of the pipeline runs while the model is timed alone; the
 * model-only side runs in a child process that keeps the model loaded (model-only.ts). A drifting machine slows
 * both sides of a round alike, so the pipeline's overhead is a per-round ratio with a confidence interval.
 */
import path from 'node:path';
import { WebSocket } from 'ws';
import type { Page } from 'playwright-core';
import { SegStreamApp } from '../app/app.ts';
import type { ModelInfo } from '../model/model-info.ts';
import type { PostprocessMode } from '../protocol/index.ts';
import { validateConfig, type Config } from '../app/config.ts';
import { resolveModelRef } from '../app/model-ref.ts';
import type { FrameContext } from '../stages/frame-context.ts';
import * as kernels from '../kernels/index.ts';
import { summarize, type Summary } from '../util/stats.ts';
import { machineFacts, type MachineFacts } from './machine.ts';
import { BrowserCpuMeter, chromiumPath, HEADLESS_CHROMIUM_ARGS, launchedChromiumPid, recordViewerCost, type ViewerCostBreakdown } from './browser-cost.ts';
import { ModelOnlyProcess, type ModelOnlySegment } from './model-only.ts';
import { interleaveSchedule, interleavedRatios, planRounds, summarizeRound, type BenchRound, type InterleavedRatios, type PipelineSegmentFigures, type RoundPlan } from './rounds.ts';
import { subtractCounters, summarizeRss, summarizeSegments, type DropCounters, type FrameRecord, type RssSummary, type RunSummary } from './summary.ts';
import { at } from '../util/checked-access.ts';

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
  /** ONNX Runtime's CPU memory arena (config inference.memoryArena); off also caps glibc's malloc arenas. */
  memoryArena: boolean;
  postprocess: PostprocessMode;
  overlay: boolean;
  jpegQuality: number;
  /** Measured frames in all, split over the rounds (after each round's warm-up); ignored when durationS is set. */
  frames: number;
  /** Seconds measured in all, split over the rounds. */
  durationS: number;
  /** Frames excluded at the start of each pipeline segment. */
  warmup: number;
  /** Model-only runs in all, split over the rounds. */
  modelOnlyRuns: number;
  /** [pipeline | model-only] rounds; undefined = 5, or fewer when the totals are small (rounds.ts planRounds). */
  rounds?: number;
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
  /** All pipeline segments pooled (each without its warm-up). */
  pipeline: RunSummary;
  /** All model-only segments pooled; rssMiB is the model-only process's resident memory (the model alone). */
  modelOnly: { runs: number; ms: Summary; fps: number; cpuSecondsPerRun: number; rssMiB: number };
  /** End-to-end fps / model-only fps, both pooled over the rounds. */
  endToEndVsModelOnly: number;
  /** The rounds and their per-round ratios, with 95% intervals of the means. */
  interleaved: InterleavedRatios & {
    rounds: BenchRound[];
    /** Whether the count of rounds was chosen by the bench (no --rounds). */
    automatic: boolean;
    /** Untimed model-only runs at the start of each model-only segment. */
    modelOnlyWarmupRuns: number;
  };
  cpu: {
    /** CPU seconds / wall seconds of this process during the measured windows (1.0 = one core busy). */
    serverCores: number;
    browserCores: number | null;
    /** Chromium CPU (all its processes, /proc) per frame the viewer drew in the measured windows, ms. */
    browserMsPerDrawnFrame: number | null;
    /** The same by Chromium process type (renderer, gpu-process, browser, utility...). */
    browserMsPerDrawnFrameByType: Record<string, number> | null;
    /** Share of the server's CPU spent outside the model (estimated from model-only CPU per run). */
    nonModelShare: number;
  };
  memory: {
    rssStartMiB: number;
    rssPeakMiB: number;
    rssEndMiB: number;
    heapEndMiB: number;
    /** The server's resident memory over the measured windows (after warm-up), as bench/footprint.ts reads it. */
    rss: RssSummary | null;
    memoryArena: boolean;
  };
  frameAge: (Summary & { client: string }) | null;
  /**
   * Where the viewer's CPU goes (DevTools trace and JavaScript profile), recorded after the last round's measured
   * window so tracing does not weigh on the figures.
   */
  browserBreakdown: ViewerCostBreakdown | null;
  /** frame age p99 / model-only p50, both pooled. */
  frameAgeP99VsModel: number | null;
  send: Summary | null;
  peers: { name: string; frames: number; fps: number; ms: Summary }[];
  /** End-to-end fps / transformers.js fps (when peers ran). */
  endToEndVsTransformersJs: number | null;
  /** Per-frame samples of the measured windows, for the report's charts. */
  series: {
    /**
     * When each measured frame finished, seconds of pipeline measurement: the rounds' measured windows laid end
     * to end (model-only segments, restarts and warm-ups cut out).
     */
    frameDoneS: number[];
    /** Where each round's window starts on that axis. */
    roundStartS: number[];
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
  const first = model.replace(/,.*$/s, ''); // the first of a comma-separated file list
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
  memoryArena: true,
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

/** Untimed runs when the model-only process has loaded the model, and at the start of each model-only segment. */
const MODEL_ONLY_LOAD_WARMUP = 3;
const MODEL_ONLY_SEGMENT_WARMUP = 1;

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
    inference: { threads: o.threads, memoryArena: o.memoryArena },
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
const RSS_EVERY_MS = 250;

/** What the run keeps across pipeline segments: the viewer (Chromium, when asked for) and where to log. */
interface Viewer {
  page: Page | null;
  meter: BrowserCpuMeter | null;
  /** Set by the round that records the viewer's breakdown. */
  breakdown: ViewerCostBreakdown | null;
}

/** Drawn frames the breakdown is recorded over (or fewer when the rounds are shorter). */
const BREAKDOWN_FRAMES = 30;

interface PipelineSegment extends PipelineSegmentFigures {
  browserCpuS: number | null;
  browserCpuByTypeS: Record<string, number> | null;
  inferredInWindow: number;
  sends: number[];
  rssStart: number;
  rssEnd: number;
  heapEnd: number;
  caps: string;
  model: ModelInfo;
  /** The newest measured frames, for the peers. */
  kept: FrameContext[];
  /** performance.now() when the measured window started. */
  wallStart: number;
}

/**
 * One pipeline segment: a fresh server on the bench config, the viewer attached, `warmup` frames let through,
 * then `frames` measured frames (or `seconds`), then everything stopped again.
 */
async function pipelineSegment(o: BenchOptions, config: Config, viewer: Viewer, round: number, target: { frames: number; seconds: number }, recordBreakdown = false): Promise<PipelineSegment> {
  const staticDir = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../dist/client');
  const app = new SegStreamApp({ config, log: (l) => o.log(`  server[${round + 1}]: ${l}`), staticDir });
  const records: FrameRecord[] = [];
  const kept: FrameContext[] = [];
  const sends: number[] = [];
  const ages: number[] = [];
  const rss: number[] = [];
  let measuring = false;
  let finished = false;
  let warmupDone: (() => void) | null = null;
  let measuredDone: (() => void) | null = null;
  const total = target.seconds > 0 ? Infinity : o.warmup + target.frames;
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
    if (records.length >= total) measuredDone?.();
  };
  app.onFrameSent = (ms) => {
    if (measuring) sends.push(ms);
  };
  let acknowledged = 0;
  let acknowledgedWaiter: { count: number; done: () => void } | null = null;
  app.onFrameAge = (ms) => {
    if (measuring) ages.push(ms);
    acknowledged++;
    if (acknowledgedWaiter && acknowledged >= acknowledgedWaiter.count) acknowledgedWaiter.done();
  };
  let rssTimer: NodeJS.Timeout | null = null;
  let ws: WebSocket | null = null;
  const stop = async () => {
    finished = true;
    measuring = false;
    if (rssTimer) clearInterval(rssTimer);
    ws?.close();
    // The viewer leaves before the server stops, so it does not spin reconnecting through the model-only segment.
    if (viewer.page) await viewer.page.goto('about:blank').catch(() => undefined);
    await app.stop();
  };
  try {
    const url = await app.start();
    if (viewer.page) {
      await viewer.page.goto(url);
    } else {
      // A headless viewer: acknowledges each frame on receipt, so frame age covers capture -> delivered.
      ws = new WebSocket(`${url.replace('http', 'ws')}ws`);
      const socket = ws;
      socket.on('message', (data, isBinary) => {
        if (!isBinary) return;
        const buf = data as Buffer;
        const headerLength = buf.readUInt32LE(0);
        const header = JSON.parse(buf.subarray(4, 4 + headerLength).toString()) as { id: number };
        socket.send(JSON.stringify({ type: 'drawn', id: header.id }));
      });
    }
    // Count from here: frames rendered while the viewer was being attached are not part of the run.
    records.length = 0;
    kept.length = 0;

    const timeoutMs = 600_000 + (target.seconds + target.frames) * 5000;
    if (o.warmup > 0) await untilOrDown(app, new Promise<void>((r) => (warmupDone = records.length >= o.warmup ? (r(), null) : r)), `warm-up of round ${round + 1}`, timeoutMs);
    const counterStart = counters(app);
    const cpuStart = process.cpuUsage();
    viewer.meter?.start();
    const wallStart = performance.now();
    const rssStart = process.memoryUsage.rss();
    rss.push(rssStart);
    rssTimer = setInterval(() => rss.push(process.memoryUsage.rss()), RSS_EVERY_MS);
    measuring = true;
    if (target.seconds > 0) {
      await new Promise((r) => setTimeout(r, target.seconds * 1000));
    } else {
      await untilOrDown(app, new Promise<void>((r) => (measuredDone = records.length >= total ? (r(), null) : r)), `the measured frames of round ${round + 1}`, timeoutMs);
    }
    measuring = false;
    finished = true;
    clearInterval(rssTimer);
    rssTimer = null;
    const wallS = (performance.now() - wallStart) / 1000;
    const cpu = process.cpuUsage(cpuStart);
    const browserCpu = viewer.meter?.stop() ?? null;
    const drops = subtractCounters(counters(app), counterStart);
    const rssEnd = process.memoryUsage.rss();
    rss.push(rssEnd);
    const heapEnd = process.memoryUsage().heapUsed;
    const caps = app.sourceCaps?.text ?? '';
    const status = app.currentStatus;
    const model = app.model!;
    if (recordBreakdown && viewer.page) {
      // Outside the measured window: the server keeps running while the viewer is traced for a few frames.
      const frames = Math.max(5, Math.min(BREAKDOWN_FRAMES, records.length - o.warmup));
      const recording = await recordViewerCost(viewer.page);
      const from = acknowledged;
      await untilOrDown(app, new Promise<void>((r) => (acknowledgedWaiter = { count: from + frames, done: r })), `the traced frames of round ${round + 1}`, timeoutMs);
      viewer.breakdown = await recording.stop(acknowledged - from);
    }
    await stop();
    o.log(`bench: round ${round + 1}: pipeline ${records.length - o.warmup} frames in ${wallS.toFixed(1)} s (status ${status.state})`);
    return {
      records: [...records],
      drops,
      ages,
      wallS,
      cpuS: (cpu.user + cpu.system) / 1e6,
      rss,
      browserCpuS: browserCpu?.totalS ?? null,
      browserCpuByTypeS: browserCpu?.byTypeS ?? null,
      inferredInWindow: records.filter((r) => r.doneAt >= wallStart).length,
      sends,
      rssStart,
      rssEnd,
      heapEnd,
      caps,
      model,
      kept,
      wallStart,
    };
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
}

/**
 * Waits for `p`; a source or backend that stays down (a camera that is not there, a model that keeps failing)
 * ends the run with its status message instead of waiting out the timeout.
 */
async function untilOrDown(app: SegStreamApp, p: Promise<void>, what: string, timeoutMs: number): Promise<void> {
  const downForMs = 20_000;
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
}

export async function runBench(o: BenchOptions): Promise<BenchResult> {
  const plan: RoundPlan = planRounds(o);
  const config = benchConfig(o);
  const viewer: Viewer = { page: null, meter: null, breakdown: null };
  let browserClose: (() => Promise<void>) | null = null;
  let modelOnly: ModelOnlyProcess | null = null;
  const teardown = async () => {
    await modelOnly?.close();
    modelOnly = null;
    await browserClose?.();
    browserClose = null;
  };
  try {
    const described = o.model === 'demo' ? `demo ${o.demoVariant} ${o.demoSize}` : o.model;
    o.log(`bench: ${o.source} ${o.width}x${o.height} -> ${described}; ${plan.rounds} round${plan.rounds === 1 ? '' : 's'} of [pipeline | model-only], order alternating`);
    const ref = await resolveModelRef(config, config.defaultModel);
    const started = await ModelOnlyProcess.start(ref, { threads: o.threads, memoryArena: o.memoryArena, warmupRuns: MODEL_ONLY_LOAD_WARMUP });
    modelOnly = started.process;

    if (o.browser) {
      const { chromium } = await import('playwright-core');
      const browser = await chromium.launch({
        executablePath: chromiumPath(),
        args: [...HEADLESS_CHROMIUM_ARGS],
      });
      // playwright-core's Browser does not expose its process: find the Chromium we just started among our children.
      const pid = launchedChromiumPid();
      viewer.meter = pid === null ? null : new BrowserCpuMeter(pid);
      if (pid === null) o.log('bench: cannot find the Chromium process: its CPU is not reported');
      viewer.page = await browser.newPage();
      browserClose = () => browser.close();
    }

    const pipelines: PipelineSegment[] = [];
    const models: ModelOnlySegment[] = [];
    for (const segment of interleaveSchedule(plan.rounds)) {
      const r = segment.round;
      if (segment.kind === 'pipeline') {
        pipelines[r] = await pipelineSegment(o, config, viewer, r, { frames: at(plan.framesPerRound, r, 'frames per round'), seconds: plan.secondsPerRound }, r === plan.rounds - 1);
      } else {
        const m = await modelOnly.segment(at(plan.runsPerRound, r, 'model-only runs per round'), MODEL_ONLY_SEGMENT_WARMUP);
        models[r] = m;
        o.log(`bench: round ${r + 1}: model-only ${m.ms.length} runs in ${m.wallS.toFixed(1)} s`);
      }
    }
    await modelOnly.close();
    modelOnly = null;

    const rounds = pipelines.map((p, r) => summarizeRound(r, p, at(models, r, 'model-only segments'), o.warmup));
    const ratios = interleavedRatios(rounds);
    const pipeline = summarizeSegments(pipelines, o.warmup);
    const allMs = models.flatMap((m) => m.ms);
    const modelMs = summarize(allMs);
    const modelFps = allMs.length / models.reduce((a, m) => a + m.wallS, 0);
    const cpuSecondsPerRun = models.reduce((a, m) => a + m.cpuS, 0) / allMs.length;
    const wallS = pipelines.reduce((a, p) => a + p.wallS, 0);
    const serverCpuS = pipelines.reduce((a, p) => a + p.cpuS, 0);
    const browserCpuS = viewer.meter ? pipelines.reduce((a, p) => a + (p.browserCpuS ?? 0), 0) : null;
    const browserByTypeS: Record<string, number> = {};
    for (const p of pipelines) for (const [type, cpuS] of Object.entries(p.browserCpuByTypeS ?? {})) browserByTypeS[type] = (browserByTypeS[type] ?? 0) + cpuS;
    const inferredInWindow = pipelines.reduce((a, p) => a + p.inferredInWindow, 0);
    const ages = pipelines.flatMap((p) => p.ages);
    const sends = pipelines.flatMap((p) => p.sends);
    const frameAge = ages.length > 0 ? summarize(ages) : null;
    const rssReadings = pipelines.flatMap((p) => p.rss);
    const first = at(pipelines, 0, 'pipeline segments');
    const last = at(pipelines, pipelines.length - 1, 'pipeline segments');
    const model = last.model;
    o.log(`bench: pipeline ${pipeline.fps.toFixed(2)} fps, model-only ${modelFps.toFixed(2)} fps, pooled over ${plan.rounds} rounds`);

    const peers: BenchResult['peers'] = [];
    const kept = last.kept;
    if (o.peers > 0 && kept.length > 0 && o.backend === 'onnx') {
      const frames = kept.map((ctx) => ({ rgb: kernels.nv12ToRgb(ctx.image, { color: ctx.color }), width: ctx.image.width, height: ctx.image.height }));
      const dir = path.dirname(model.path);
      const files = { modelPath: model.path, configPath: path.join(dir, 'config.json'), preprocessorPath: path.join(dir, 'preprocessor_config.json') };
      o.log(`bench: peers on ${frames.length} frames: hand-written onnxruntime-node loop`);
      const { runOrtLoop } = await import('../../bench/peers/ort-loop.ts');
      const loop = await runOrtLoop(
        { modelPath: model.path, inputName: model.input.name, outputName: model.output.name, size: model.input.width, mean: model.preprocess.mean, std: model.preprocess.std },
        frames,
        { threads: o.threads, warmup: 2 },
      );
      peers.push({ name: loop.name, frames: loop.frames, fps: loop.fps, ms: summarize(loop.msPerFrame) });
      o.log('bench: peers: transformers.js image-segmentation pipeline');
      const { runTransformersJs } = await import('../../bench/peers/transformers-js.ts');
      const tf = await runTransformersJs(files, frames, { workDir: path.join(o.cacheDir, 'peer-models'), threads: o.threads, warmup: 2 });
      peers.push({ name: tf.name, frames: tf.frames, fps: tf.fps, ms: summarize(tf.msPerFrame) });
    }
    await teardown();
    const tfPeer = peers.find((p) => p.name.startsWith('transformers.js'));
    const peak = Math.max(...pipelines.map((p) => Math.max(p.rssStart, p.rssEnd, ...p.rss)));

    // The measured windows laid end to end: each round's frames offset by the windows before it.
    const roundStartS: number[] = [];
    const frameDoneS: number[] = [];
    let offsetS = 0;
    for (const p of pipelines) {
      roundStartS.push(Math.round(offsetS * 1000) / 1000);
      const done = p.records.map((r) => r.doneAt).sort((a, b) => a - b).slice(o.warmup);
      for (const t of done) frameDoneS.push(Math.round((offsetS + (t - p.wallStart) / 1000) * 1000) / 1000);
      offsetS += p.wallS;
    }

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
      source: { caps: last.caps },
      pipeline,
      modelOnly: { runs: allMs.length, ms: modelMs, fps: modelFps, cpuSecondsPerRun, rssMiB: Math.max(started.rssMiB, ...models.map((m) => m.rssMiB)) },
      endToEndVsModelOnly: pipeline.fps / modelFps,
      interleaved: { ...ratios, rounds, automatic: plan.automatic, modelOnlyWarmupRuns: MODEL_ONLY_SEGMENT_WARMUP },
      cpu: {
        serverCores: serverCpuS / wallS,
        browserCores: browserCpuS === null ? null : browserCpuS / wallS,
        browserMsPerDrawnFrame: browserCpuS === null || ages.length === 0 ? null : (browserCpuS * 1000) / ages.length,
        browserMsPerDrawnFrameByType:
          browserCpuS === null || ages.length === 0 ? null : Object.fromEntries(Object.entries(browserByTypeS).map(([type, cpuS]) => [type, (cpuS * 1000) / ages.length])),
        nonModelShare: serverCpuS > 0 ? Math.max(0, 1 - (cpuSecondsPerRun * inferredInWindow) / serverCpuS) : NaN,
      },
      memory: {
        rssStartMiB: first.rssStart / MiB,
        rssPeakMiB: peak / MiB,
        rssEndMiB: last.rssEnd / MiB,
        heapEndMiB: last.heapEnd / MiB,
        rss: summarizeRss(rssReadings),
        memoryArena: o.memoryArena,
      },
      frameAge: frameAge ? { ...frameAge, client: o.browser ? 'chromium viewer (drawn)' : 'headless WebSocket client (received)' } : null,
      browserBreakdown: viewer.breakdown,
      frameAgeP99VsModel: frameAge ? frameAge.p99 / modelMs.p50 : null,
      send: sends.length ? summarize(sends) : null,
      peers,
      endToEndVsTransformersJs: tfPeer ? pipeline.fps / tfPeer.fps : null,
      series: { frameDoneS, roundStartS, frameAgeMs: ages.map((a) => Math.round(a * 100) / 100) },
    };
  } catch (error) {
    await teardown().catch(() => undefined);
    throw error;
  }
}
