/**
 * The running server: one source, one inference stage, the render stage and the viewer hub, wired in the order
 * data flows. Also the source watchdog (no frames, error, end of stream -> rebuild with capped backoff) and the
 * token-guarded controls, which only ever pick names from the config.
 */
import { accessSync, constants as fsConstants } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildLaunch, type SourceSpec } from '../pipelines/index.ts';
import type { ModelInfo } from './backends/backend.ts';
import { POSTPROCESS_MODES, type ModelRef, type PostprocessMode } from './backends/worker-protocol.ts';
import type { Config } from './config.ts';
import { STAGES, type FrameContext } from './frame.ts';
import { ensureDemoModel } from './model/demo-model.ts';
import { classesPresent } from './render/class-map-codec.ts';
import { makePalette, paletteTriples } from './render/palette.ts';
import { describeColor, parseColorOverride } from './sources/colorimetry.ts';
import { GstSource, type SourceCaps } from './sources/gst-source.ts';
import { InferenceStage } from './stages/inference.ts';
import { renderFrame } from './stages/render.ts';
import { ClientHub } from './stream/client-hub.ts';
import { createHttpServer } from './stream/http-server.ts';
import { Histogram, renderMetrics, type Sampled } from './stream/metrics.ts';
import { PROTOCOL_VERSION, type ControlAction, type HelloMessage, type StatusMessage, type StreamState } from './stream/protocol.ts';
import { RateMeter } from './util/stats.ts';

export const DEFAULT_STATIC_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../dist/client');

/** How often a missing camera device node is looked for again (a stat, no pipeline). */
const DEVICE_POLL_MS = 500;

export interface AppOptions {
  config: Config;
  sourceName?: string;
  modelName?: string;
  staticDir?: string;
  log?: (line: string) => void;
  /** Test hooks for the inference worker (never reachable from clients). */
  faults?: { throwOnFrame?: number; exitOnFrame?: number };
}

export interface AppStatus {
  state: StreamState;
  since: number;
  message: string;
}

export class SegStreamApp {
  readonly config: Config;
  private readonly log: (line: string) => void;
  private sourceName: string;
  private modelName: string;
  private source: GstSource | null = null;
  private inference: InferenceStage | null = null;
  private hub: ClientHub | null = null;
  private server: http.Server | null = null;
  private palette: Uint8Array = new Uint8Array(3);
  private status: AppStatus = { state: 'starting', since: Date.now(), message: 'starting' };
  private readonly captureTimes = new Map<number, number>();
  private watchdog: NodeJS.Timeout | null = null;
  private sourceRestartTimer: NodeJS.Timeout | null = null;
  private sourceBackoffMs = 500;
  private lastFrameAt = 0;
  private jpegQuality: number;
  private rendering = 0;
  private stopped = false;
  readonly counters = { framesIn: 0, framesSent: 0, sourceRestarts: 0, backendErrors: 0, renderDropped: 0, sourceDropped: 0 };
  readonly rates = { source: new RateMeter(), inference: new RateMeter(), sent: new RateMeter() };
  lastModelMs = 0;
  readonly stageHistogram = new Histogram('segstream_stage_milliseconds', 'Time per frame in each pipeline stage', [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000]);
  /** Called with each rendered frame (bench and tests observe the stream without a socket). */
  onFrameRendered: ((ctx: FrameContext) => void) | null = null;
  /** Called with the time each frame took to reach a viewer's socket. */
  onFrameSent: ((ms: number) => void) | null = null;
  /** Called with each frame age a viewer reports (capture -> drawn). */
  onFrameAge: ((ms: number) => void) | null = null;

  constructor(private readonly options: AppOptions) {
    this.config = options.config;
    this.log = options.log ?? ((line) => console.log(line));
    this.sourceName = options.sourceName ?? options.config.defaultSource;
    this.modelName = options.modelName ?? options.config.defaultModel;
    this.jpegQuality = options.config.stream.jpegQuality;
    if (!Object.hasOwn(this.config.sources, this.sourceName)) {
      throw new Error(`--source: no source named "${this.sourceName}"; configured: ${Object.keys(this.config.sources).join(', ')}`);
    }
    if (!Object.hasOwn(this.config.models, this.modelName)) {
      throw new Error(`--model: no model named "${this.modelName}"; configured: ${Object.keys(this.config.models).join(', ')}`);
    }
  }

  get model(): ModelInfo | null {
    return this.inference?.model ?? null;
  }

  get sourceCaps(): SourceCaps | null {
    return this.source?.caps ?? null;
  }

  get currentStatus(): AppStatus {
    return this.status;
  }

  get clients(): ClientHub | null {
    return this.hub;
  }

  get inferenceStage(): InferenceStage | null {
    return this.inference;
  }

  /**
   * Loads the model, starts the source and the HTTP/WebSocket server. Resolves with the URL. On failure everything
   * already started is stopped again before the error is thrown: a half-started server (inference worker, source
   * pipeline) would otherwise keep the process alive without serving anything.
   */
  async start(): Promise<string> {
    try {
      return await this.startAll();
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  private async startAll(): Promise<string> {
    await this.startInference(this.modelName);
    this.startSource();
    const cfg = this.config.server;
    this.hub = new ClientHub({
      maxClients: cfg.maxClients,
      controlToken: cfg.controlToken,
      allowedOrigins: cfg.allowedOrigins,
      clientStallMs: cfg.clientStallMs,
      maxMessageBytes: cfg.maxClientMessageBytes,
      hello: () => this.hello(),
      status: () => this.statusMessage(),
      onControl: (action) => this.control(action),
      captureTimeOf: (id) => this.captureTimes.get(id),
      streamRates: () => ({
        fps: { source: this.rates.source.rate(), inference: this.rates.inference.rate(), sent: this.rates.sent.rate() },
        modelMs: this.lastModelMs,
      }),
      onSent: (ms) => {
        this.stageHistogram.observe(ms, { stage: 'send' });
        this.onFrameSent?.(ms);
      },
      onFrameAge: (ms) => this.onFrameAge?.(ms),
      log: this.log,
    });
    const server = createHttpServer(this.options.staticDir ?? DEFAULT_STATIC_DIR, {
      '/healthz': (_req, res) => {
        const ok = this.status.state === 'live';
        res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ...this.status, clients: this.hub?.clientCount ?? 0 }));
      },
      '/metrics': (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
        res.end(this.metricsText());
      },
    });
    this.hub.attach(server);
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) => reject(new Error(`cannot listen on ${cfg.host}:${cfg.port} (server.host/server.port, --host/--port): ${err.message}`)));
      server.listen(cfg.port, cfg.host, () => resolve());
    });
    const addr = server.address() as AddressInfo;
    const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
    if (!['127.0.0.1', '::1', 'localhost'].includes(cfg.host)) {
      this.log(`WARNING: listening on ${cfg.host}: anyone who can reach this address can watch the stream` + (cfg.controlToken ? ' (controls need the token)' : ''));
    }
    this.watchdog = setInterval(() => this.checkSource(), Math.min(1000, this.config.watchdog.noFrameMs / 2));
    this.watchdog.unref();
    return `http://${host}:${addr.port}/`;
  }

  get port(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? 0;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.watchdog) clearInterval(this.watchdog);
    if (this.sourceRestartTimer) clearTimeout(this.sourceRestartTimer);
    const sourceStopped = this.source?.stop();
    this.hub?.close();
    await this.inference?.close();
    await sourceStopped;
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server?.closeAllConnections?.();
  }

  private async resolveModel(name: string): Promise<ModelRef> {
    const entry = this.config.models[name]!;
    if (entry.demo) {
      const files = await ensureDemoModel(path.join(this.config.cacheDir, 'demo-models'), { size: entry.demo.size, classes: entry.demo.classes, variant: entry.demo.variant });
      return { backend: 'onnx', files: [files.modelPath], configPath: files.configPath, preprocessorPath: files.preprocessorPath, name };
    }
    return {
      backend: entry.backend,
      files: entry.files,
      ...(entry.config ? { configPath: entry.config } : {}),
      ...(entry.preprocessor ? { preprocessorPath: entry.preprocessor } : {}),
      ...(entry.modelName ? { packModel: entry.modelName } : {}),
      name,
    };
  }

  private async startInference(name: string): Promise<ModelInfo> {
    const ref = await this.resolveModel(name);
    const stage = new InferenceStage({
      model: ref,
      threads: this.config.inference.threads,
      postprocess: this.inference?.postprocess ?? this.config.stream.postprocess,
      maxMapWidth: this.config.stream.maxMapWidth,
      ...(this.options.faults ? { faults: this.options.faults } : {}),
    });
    const model = await stage.start();
    stage.on('result', (ctx) => this.onInferred(ctx));
    stage.on('frame-error', (ctx, err) => {
      this.counters.backendErrors++;
      this.log(`frame ${ctx.id}: inference failed: ${err.message}`);
    });
    stage.on('worker-lost', (err) => {
      this.setStatus('backend-error', `inference worker restarted: ${err.message}`);
    });
    stage.on('ready', () => {
      if (this.status.state === 'backend-error') this.setStatus('live', 'inference worker back');
    });
    stage.on('load-error', (err) => this.setStatus('backend-error', `model failed to load: ${err.message}`));
    const old = this.inference;
    this.inference = stage;
    await old?.close();
    // A class-map model may not say how many classes it has: colour every id its map can hold.
    this.palette = makePalette(model.output.classes > 0 ? model.output.classes : model.output.dtype === 'uint8' || model.output.dtype === 'int8' ? 256 : 1024);
    this.modelName = name;
    this.log(
      `model: ${model.name} (${model.path}) backend ${ref.backend}, input ${model.input.name} ${model.input.kind} ${model.input.width}x${model.input.height} ${model.input.layout}, ` +
        `output ${model.output.name} ${model.output.classes} classes at ${model.output.width}x${model.output.height}` +
        (model.details.hbDnnRuntime === 'test-double'
          ? ' -- BPU TEST DOUBLE (no board): outputs are a synthetic function of the input and timings are not the BPU\'s'
          : model.untrainedDemo
            ? ' -- UNTRAINED DEMO MODEL: masks are meaningless, speed is real'
            : ''),
    );
    this.log(`post-processing: ${stage.postprocess}${stage.postprocess === 'boundary' ? ' (boundary-exact argmax of the bilinearly upsampled logits)' : ''}`);
    return model;
  }

  private startSource(): void {
    const entry = this.config.sources[this.sourceName]!;
    const device = cameraDevice(entry.spec);
    const unusable = device ? deviceProblem(device) : null;
    if (unusable) return this.waitForDevice(unusable);
    const launch = buildLaunch(this.sourceName, entry.spec);
    const override = entry.color ? parseColorOverride(entry.color) : null;
    const source = new GstSource({
      name: this.sourceName,
      launch,
      loop: entry.loop,
      ...(override ? { colorOverride: override } : {}),
      ...(entry.spec.kind === 'file' ? { inputPath: entry.spec.path } : {}),
    });
    source.on('caps', (caps) => {
      this.log(`source: ${this.sourceName} (${entry.spec.kind}) caps ${caps.text}; colour ${describeColor(source.colorModel!)}`);
      this.hub?.broadcastText(this.hello());
    });
    source.on('frame', (ctx) => this.onFrame(source, ctx));
    source.on('error', (err) => this.onSourceLost(source, err.message));
    source.on('eos', () => this.onSourceLost(source, 'end of stream'));
    this.source = source;
    this.lastFrameAt = performance.now();
    this.log(`source: ${this.sourceName}: ${launch}`);
    try {
      source.start();
    } catch (err) {
      this.onSourceLost(source, (err as Error).message);
    }
  }

  private onFrame(source: GstSource, ctx: FrameContext): void {
    if (source !== this.source || this.stopped) return;
    this.lastFrameAt = performance.now();
    this.counters.framesIn++;
    this.rates.source.mark();
    this.sourceBackoffMs = 500;
    if (this.status.state === 'starting' || this.status.state === 'source-lost') this.setStatus('live', `source ${this.sourceName} live`);
    this.captureTimes.set(ctx.id, ctx.captureTime);
    if (this.captureTimes.size > 512) this.captureTimes.delete(this.captureTimes.keys().next().value!);
    if (!this.inference?.submit(ctx)) this.counters.sourceDropped++;
  }

  private onInferred(ctx: FrameContext): void {
    this.rates.inference.mark();
    this.lastModelMs = ctx.timings.infer ?? 0;
    // Rendering runs on the thread pool beside the next inference; if two are already rendering, this one is
    // dropped rather than queued, so a slow encoder cannot build latency.
    if (this.rendering >= 2) {
      this.counters.renderDropped++;
      return;
    }
    this.rendering++;
    const stream = this.config.stream;
    renderFrame(ctx, { overlay: stream.overlay === 'server', opacity: stream.opacity, palette: this.palette, jpegQuality: this.jpegQuality })
      .then((rendered) => {
        if (this.stopped) return;
        const map = ctx.classMap!;
        this.hub?.broadcast({
          header: {
            type: 'frame',
            id: ctx.id,
            captureTime: ctx.captureTime,
            width: ctx.image.width,
            height: ctx.image.height,
            overlaid: stream.overlay === 'server',
            classMap: { width: map.width, height: map.height, bytesPerPixel: rendered.bytesPerPixel, encoding: 'deflate-raw' },
            stages: { ...ctx.timings },
            classes: classesPresent(ctx.histogram ?? new Uint32Array(0)),
            smoothing: 0,
          },
          dropped: { source: this.counters.sourceDropped, inference: this.counters.renderDropped },
          jpeg: rendered.jpeg,
          classMap: rendered.classMap,
        });
        this.counters.framesSent++;
        this.rates.sent.mark();
        for (const stage of STAGES) {
          const ms = ctx.timings[stage];
          if (ms !== undefined) this.stageHistogram.observe(ms, { stage });
        }
        this.onFrameRendered?.(ctx);
      })
      .catch((err: Error) => {
        this.counters.backendErrors++;
        this.log(`frame ${ctx.id}: render failed: ${err.message}`);
      })
      .finally(() => {
        this.rendering--;
      });
  }

  /** Prometheus exposition of the stream's counters, rates and stage latencies. */
  metricsText(): string {
    const c = this.counters;
    const inf = this.inference;
    const sampled: Sampled[] = [
      { name: 'segstream_frames_captured_total', help: 'Frames delivered by the source', type: 'counter', read: () => c.framesIn },
      { name: 'segstream_frames_inferred_total', help: 'Frames that completed inference', type: 'counter', read: () => inf?.completed ?? 0 },
      { name: 'segstream_frames_sent_total', help: 'Frames rendered and offered to viewers', type: 'counter', read: () => c.framesSent },
      {
        name: 'segstream_frames_dropped_total',
        help: 'Frames dropped, by where',
        type: 'counter',
        read: () => [
          { labels: { where: 'inference-busy' }, value: inf?.dropped ?? 0 },
          { labels: { where: 'render-busy' }, value: c.renderDropped },
          { labels: { where: 'slow-client' }, value: this.hub?.framesDroppedTotal ?? 0 },
        ],
      },
      { name: 'segstream_client_disconnects_total', help: 'Viewers disconnected because their socket stopped draining', type: 'counter', read: () => [{ labels: { reason: 'stalled' }, value: this.hub?.stallDisconnects ?? 0 }] },
      { name: 'segstream_clients_refused_total', help: 'WebSocket connections refused (origin not allowed, or server full)', type: 'counter', read: () => this.hub?.rejectedConnections ?? 0 },
      { name: 'segstream_source_restarts_total', help: 'Source pipeline rebuilds by the watchdog', type: 'counter', read: () => c.sourceRestarts },
      { name: 'segstream_backend_errors_total', help: 'Frames that failed in inference or rendering', type: 'counter', read: () => c.backendErrors },
      { name: 'segstream_worker_restarts_total', help: 'Inference worker restarts', type: 'counter', read: () => inf?.workerRestarts ?? 0 },
      { name: 'segstream_clients', help: 'Connected viewers', type: 'gauge', read: () => this.hub?.clientCount ?? 0 },
      {
        name: 'segstream_fps',
        help: 'Frames per second over the last 2 s',
        type: 'gauge',
        read: () => [
          { labels: { stage: 'source' }, value: this.rates.source.rate() },
          { labels: { stage: 'inference' }, value: this.rates.inference.rate() },
          { labels: { stage: 'sent' }, value: this.rates.sent.rate() },
        ],
      },
      { name: 'segstream_model_latency_milliseconds', help: 'Last inference time', type: 'gauge', read: () => this.lastModelMs },
      {
        name: 'segstream_up',
        help: '1 when the stream is live',
        type: 'gauge',
        read: () => [{ labels: { state: this.status.state }, value: this.status.state === 'live' ? 1 : 0 }],
      },
    ];
    return renderMetrics(sampled, [this.stageHistogram]);
  }

  private checkSource(): void {
    if (this.stopped || !this.source?.isRunning) return;
    const silent = performance.now() - this.lastFrameAt;
    if (silent > this.config.watchdog.noFrameMs) {
      this.onSourceLost(this.source, `no frame for ${Math.round(silent)} ms`);
    }
  }

  private onSourceLost(source: GstSource, reason: string): void {
    if (source !== this.source || this.stopped) return;
    void source.stop();
    this.source = null;
    const delay = Math.min(this.sourceBackoffMs, this.config.watchdog.maxBackoffMs);
    this.sourceBackoffMs = Math.min(this.sourceBackoffMs * 2, this.config.watchdog.maxBackoffMs);
    this.setSourceLost(withoutCredentials(reason));
    this.log(`source ${this.sourceName} lost (${reason}); restarting in ${delay} ms`);
    this.sourceRestartTimer = setTimeout(() => {
      this.sourceRestartTimer = null;
      if (this.stopped) return;
      this.counters.sourceRestarts++;
      this.startSource();
    }, delay);
  }

  /**
   * The camera's device node is missing or unusable. No pipeline is built: the GStreamer binding drops the error
   * of a pipeline that fails to open its device (only the watchdog would notice, without saying why), and a
   * `stat` is cheaper than building and tearing down a pipeline every time. The node is looked at again shortly,
   * so the stream resumes as soon as the camera is back, whatever the backoff has grown to.
   */
  private waitForDevice(problem: string): void {
    this.source = null;
    if (this.status.state !== 'source-lost' || !this.status.message.endsWith(problem)) {
      this.log(`source ${this.sourceName}: ${problem}; checking again every ${DEVICE_POLL_MS} ms`);
    }
    this.setSourceLost(problem);
    this.sourceRestartTimer = setTimeout(() => {
      this.sourceRestartTimer = null;
      if (!this.stopped) this.startSource();
    }, DEVICE_POLL_MS);
  }

  /** "source-lost" with the newest reason; `since` stays when the source was already lost. */
  private setSourceLost(reason: string): void {
    const entry = this.config.sources[this.sourceName]!;
    const message = `source ${this.sourceName} (${describeInput(entry.spec)}) lost: ${reason}`;
    if (this.status.state === 'source-lost' && this.status.message === message) return;
    this.setStatus('source-lost', message, this.status.state === 'source-lost' ? this.status.since : Date.now());
  }

  private setStatus(state: StreamState, message: string, since = Date.now()): void {
    this.status = { state, since, message };
    this.hub?.broadcastText(this.statusMessage());
  }

  private statusMessage(): StatusMessage {
    return { type: 'status', ...this.status };
  }

  private hello(): HelloMessage {
    const model = this.inference?.model;
    const caps = this.source?.caps;
    const entry = this.config.sources[this.sourceName]!;
    return {
      type: 'hello',
      protocol: PROTOCOL_VERSION,
      server: 'segstream',
      model: {
        name: model?.name ?? this.modelName,
        backend: this.config.models[this.modelName]?.backend ?? 'onnx',
        inputName: model?.input.name ?? '',
        inputSize: [model?.input.width ?? 0, model?.input.height ?? 0],
        inputKind: model ? `${model.input.kind} ${model.input.dtype} ${model.input.layout}` : '',
        outputSize: [model?.output.width ?? 0, model?.output.height ?? 0],
        classes: model?.output.classes ?? 0,
        untrainedDemo: model?.untrainedDemo ?? false,
      },
      source: {
        name: this.sourceName,
        kind: entry.spec.kind,
        width: caps?.width ?? entry.spec.width,
        height: caps?.height ?? entry.spec.height,
        framerate: caps?.framerate ?? '',
        colorimetry: this.source?.colorModel ? describeColor(this.source.colorModel) : '',
        caps: caps?.text ?? '',
      },
      classNames: model?.classNames ?? [],
      palette: paletteTriples(this.palette),
      postprocess: this.inference?.postprocess ?? this.config.stream.postprocess,
      postprocessModes: [...POSTPROCESS_MODES],
      jpegQuality: this.jpegQuality,
      sources: Object.keys(this.config.sources),
      models: Object.keys(this.config.models),
      controlsAvailable: this.config.server.controlToken !== null,
    };
  }

  /** Control actions: only names and values from fixed lists; never paths, devices or pipeline text. */
  private async control(action: ControlAction): Promise<string> {
    switch (action.action) {
      case 'set-source': {
        // Own keys only: "constructor" or "__proto__" must not pass for a configured name.
        if (typeof action.value !== 'string' || !Object.hasOwn(this.config.sources, action.value)) {
          throw new Error(`set-source: unknown source ${JSON.stringify(action.value)}; configured: ${Object.keys(this.config.sources).join(', ')}`);
        }
        void this.source?.stop();
        this.source = null;
        if (this.sourceRestartTimer) clearTimeout(this.sourceRestartTimer);
        this.sourceRestartTimer = null;
        this.sourceBackoffMs = 500;
        this.sourceName = action.value;
        this.setStatus('starting', `switching to source ${action.value}`);
        this.startSource();
        this.hub?.broadcastText(this.hello());
        return `source is now ${action.value}`;
      }
      case 'set-model': {
        if (typeof action.value !== 'string' || !Object.hasOwn(this.config.models, action.value)) {
          throw new Error(`set-model: unknown model ${JSON.stringify(action.value)}; configured: ${Object.keys(this.config.models).join(', ')}`);
        }
        await this.startInference(action.value);
        this.hub?.broadcastText(this.hello());
        return `model is now ${action.value}`;
      }
      case 'set-postprocess': {
        if (!POSTPROCESS_MODES.includes(action.value as PostprocessMode)) {
          throw new Error(`set-postprocess: expected one of ${POSTPROCESS_MODES.join(', ')}, got ${JSON.stringify(action.value)}`);
        }
        this.inference?.setPostprocess(action.value as PostprocessMode);
        this.hub?.broadcastText(this.hello());
        return `post-processing is now ${action.value}`;
      }
      case 'set-jpeg-quality': {
        const q = action.value;
        if (typeof q !== 'number' || !Number.isInteger(q) || q < 1 || q > 100) {
          throw new Error(`set-jpeg-quality: expected an integer from 1 to 100, got ${JSON.stringify(q)}`);
        }
        this.jpegQuality = q;
        this.hub?.broadcastText(this.hello());
        return `JPEG quality is now ${q}`;
      }
      case 'set-smoothing':
        throw new Error('set-smoothing: temporal smoothing is applied in the viewer; the server has nothing to change');
    }
  }
}

/** The camera device node a source opens, if it is a camera (defaults as in pipelines/usb.ts and x5-mipi.ts). */
function cameraDevice(spec: SourceSpec): string | null {
  if (spec.kind === 'usb') return spec.device ?? '/dev/video0';
  if (spec.kind === 'x5-mipi') return spec.device ?? '/dev/video8';
  return null;
}

/** Why a camera device node cannot be opened, or null when it can. */
function deviceProblem(device: string): string | null {
  try {
    accessSync(device, fsConstants.R_OK | fsConstants.W_OK);
    return null;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return `camera device ${device} not found (unplugged?)`;
    if (code === 'EACCES') return `no permission to open camera device ${device} (is the user in the "video" group?)`;
    return `camera device ${device} cannot be opened: ${code ?? (err as Error).message}`;
  }
}

/** What a source reads, for status messages that every viewer sees (so without URL credentials). */
function describeInput(spec: SourceSpec): string {
  switch (spec.kind) {
    case 'test':
      return 'test pattern';
    case 'file':
      return spec.path;
    case 'usb':
    case 'x5-mipi':
      return cameraDevice(spec)!;
    case 'rtsp':
      return withoutCredentials(spec.url);
  }
}

/** Hides user:password in any URL inside a message. */
function withoutCredentials(text: string): string {
  return text.replace(/(\w+:\/\/)[^/@\s"]*@/g, '$1***@');
}
