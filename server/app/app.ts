/**
 * The running server, wired in the order data flows: source (supervised) -> inference worker (preprocess, infer,
 * postprocess) -> render (overlay, encode) -> stream (one message per frame, each viewer at its own pace).
 * Everything else lives in its own module: the source watchdog (source-supervisor.ts), controls (controls.ts),
 * status and hello messages (status.ts, hello.ts), Prometheus exposition (metrics-exposition.ts).
 */
import type { AddressInfo } from 'node:net';
import type http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { hugePageAdvice, tuneMallocWithoutRuntimeArena } from '../kernels/index.ts';
import type { ModelInfo } from '../model/model-info.ts';
import type { ControlAction, HelloMessage, PostprocessMode } from '../protocol/index.ts';
import { STAGES, type FrameContext } from '../stages/frame-context.ts';
import { InferenceStage } from '../stages/infer/inference-stage.ts';
import type { ModelRef } from '../stages/infer/worker-protocol.ts';
import type { PostprocessSettings } from '../stages/postprocess/postprocess.ts';
import { paletteForModel } from '../stages/render/palette.ts';
import { RenderStage } from '../stages/render/render.ts';
import type { SourceCaps } from '../stages/source/gst-source.ts';
import { ClientHub } from '../stages/stream/client-hub.ts';
import { buildFrameMessage } from '../stages/stream/frame-message.ts';
import { ConnectionGuard, effectiveMaxConnections, openFileLimit } from '../stages/stream/connection-guard.ts';
import { HostPolicy } from '../stages/stream/host-policy.ts';
import { createHttpServer } from '../stages/stream/http-server.ts';
import { releaseSourceThread } from '../stages/source/source-thread.ts';
import { createLogger, type Logger } from '../util/log.ts';
import { Histogram } from '../util/prometheus.ts';
import { SecretMask, urlSecrets } from '../util/redact.ts';
import { RateMeter } from '../util/stats.ts';
import { lookup } from '../util/checked-access.ts';
import { firstLine } from '../util/first-line.ts';
import type { Config } from './config.ts';
import { resolveModelRef } from './model-ref.ts';
import { ControlQueue, type ControlTarget } from './controls.ts';
import { buildHello } from './hello.ts';
import { streamMetricsText, type StreamFigures } from './metrics-exposition.ts';
import { registerCloser } from './process-guard.ts';
import { SourceSupervisor } from './source-supervisor.ts';
import { StatusBoard, type AppStatus } from './status.ts';
import { modelNotes } from '../model/model-notes.ts';

export type { AppStatus } from './status.ts';

export const DEFAULT_STATIC_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/client');

export interface AppOptions {
  config: Config;
  sourceName?: string;
  modelName?: string;
  staticDir?: string;
  log?: (line: string) => void;
  /** Test hooks for the inference worker (never reachable from clients). */
  faults?: { throwOnFrame?: number; exitOnFrame?: number; delayMs?: number };
}

/** Totals since the start, for bench, soak and tests. */
export interface AppCounters {
  framesIn: number;
  framesSent: number;
  sourceRestarts: number;
  backendErrors: number;
  /** A newer frame replaced one waiting for the busy model. */
  inferenceBusyDropped: number;
  /** Inferred, but two frames were already rendering. */
  renderDropped: number;
}

/** How often the output and inference health is looked at. */
const HEALTH_CHECK_MS = 1000;

export class SegStreamApp implements ControlTarget {
  readonly config: Config;
  /** Every log line goes through it: secrets masked, control characters escaped, floods limited. */
  private readonly log: Logger;
  private readonly mask: SecretMask;
  private readonly source: SourceSupervisor;
  private readonly status: StatusBoard;
  private readonly controls = new ControlQueue(this);
  private readonly render: RenderStage;
  private modelName: string;
  private inference: InferenceStage | null = null;
  private hub: ClientHub | null = null;
  private server: http.Server | null = null;
  private palette: Uint8Array = new Uint8Array(3);
  private jpegQuality: number;
  private stopped = false;
  private stopping: Promise<void> | null = null;
  private unregister: (() => void) | null = null;
  private connections: ConnectionGuard | null = null;
  private forbiddenHosts = 0;
  private healthTimer: NodeJS.Timeout | null = null;
  /** performance.now() of the last frame handed to the viewers, or of going live (whichever is later). */
  private lastOutputAt = performance.now();
  /** Frames in a row that failed in inference (0 after any success). */
  private consecutiveFailures = 0;
  /** Why the app itself (not the source or the worker) put the status to backend-error, if it did. */
  private degraded: 'no-output' | 'inference-failing' | null = null;
  private framesIn = 0;
  private framesSent = 0;
  private backendErrors = 0;
  readonly rates = { source: new RateMeter(), inference: new RateMeter(), sent: new RateMeter() };
  lastModelMs = 0;
  readonly stageHistogram = new Histogram('segstream_stage_milliseconds', 'Time per frame in each pipeline stage', [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000]);
  /** Called with each inferred frame before it is rendered (every frame post-processing saw). */
  onFrameInferred: ((ctx: FrameContext) => void) | null = null;
  /** Called with each rendered frame (bench and tests observe the stream without a socket). */
  onFrameRendered: ((ctx: FrameContext) => void) | null = null;
  /** Called with the time each frame took to reach a viewer's socket. */
  onFrameSent: ((ms: number) => void) | null = null;
  /** Called with each frame age a viewer reports (capture -> drawn). */
  onFrameAge: ((ms: number) => void) | null = null;

  constructor(private readonly options: AppOptions) {
    this.config = options.config;
    const rtspUrls = Object.values(options.config.sources).flatMap((s) => (s.spec.kind === 'rtsp' ? [s.spec.url] : []));
    this.mask = new SecretMask([options.config.server.controlToken, ...urlSecrets(rtspUrls)]);
    this.log = createLogger(options.log ?? ((line) => console.log(line)), { mask: this.mask });
    this.status = new StatusBoard((text) => this.mask.apply(text));
    const sourceName = options.sourceName ?? options.config.defaultSource;
    this.modelName = options.modelName ?? options.config.defaultModel;
    this.jpegQuality = options.config.stream.jpegQuality;
    if (!Object.hasOwn(this.config.sources, sourceName)) {
      throw new Error(`--source: no source named "${sourceName}"; configured: ${Object.keys(this.config.sources).join(', ')}`);
    }
    if (!Object.hasOwn(this.config.models, this.modelName)) {
      throw new Error(`--model: no model named "${this.modelName}"; configured: ${Object.keys(this.config.models).join(', ')}`);
    }
    this.source = new SourceSupervisor(this.config, sourceName, this.log);
    this.source.on('frame', (ctx) => this.onFrame(ctx));
    this.source.on('caps', () => this.broadcastHello());
    this.source.on('live', () => {
      const state = this.status.current.state;
      if (state === 'starting' || state === 'source-lost') {
        this.lastOutputAt = performance.now();
        this.status.set('live', `source ${this.source.name} live`);
      }
    });
    this.source.on('lost', (message) => this.status.set('source-lost', message));
    this.status.on('change', () => this.hub?.broadcastText(this.status.message()));
    const stream = this.config.stream;
    this.render = new RenderStage(() => ({ overlay: stream.overlay === 'server', opacity: stream.opacity, palette: this.palette, jpegQuality: this.jpegQuality }));
  }

  get model(): ModelInfo | null {
    return this.inference?.model ?? null;
  }

  get sourceCaps(): SourceCaps | null {
    return this.source.caps;
  }

  get currentStatus(): AppStatus {
    return this.status.current;
  }

  get clients(): ClientHub | null {
    return this.hub;
  }

  get inferenceStage(): InferenceStage | null {
    return this.inference;
  }

  get counters(): AppCounters {
    return {
      framesIn: this.framesIn,
      framesSent: this.framesSent,
      sourceRestarts: this.source.restarts,
      backendErrors: this.backendErrors,
      inferenceBusyDropped: this.inference?.dropped ?? 0,
      renderDropped: this.render.dropped,
    };
  }

  get port(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? 0;
  }

  /**
   * Loads the model, starts the source and the HTTP/WebSocket server. Resolves with the URL. On failure everything
   * already started is stopped again before the error is thrown: a half-started server (inference worker, source
   * pipeline) would otherwise keep the process alive without serving anything.
   */
  async start(): Promise<string> {
    // Registered first: a fatal error or a signal during start-up stops what has started so far.
    this.unregister = registerCloser({
      close: (graceMs) => this.stop(graceMs),
      secrets: () => [this.config.server.controlToken ?? '', ...urlSecrets(Object.values(this.config.sources).flatMap((s) => (s.spec.kind === 'rtsp' ? [s.spec.url] : [])))],
    });
    try {
      return await this.startAll();
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  /**
   * Stops everything. Idempotent (a signal and the CLI may both ask). Bounded: after `graceMs` the pieces still
   * stopping are left to finish on their own (a pipeline whose teardown blocks in GStreamer, a worker stuck in
   * the runtime); the process guard then knows them as stuck threads.
   */
  stop(graceMs = 5000): Promise<void> {
    this.stopping ??= this.stopAll(graceMs);
    return this.stopping;
  }

  private async stopAll(graceMs: number): Promise<void> {
    this.stopped = true;
    if (this.healthTimer) clearInterval(this.healthTimer);
    const server = this.server;
    const serverClosed = new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    // Every open connection goes now (slow-header and keep-alive ones would otherwise hold close() open).
    server?.closeAllConnections?.();
    this.hub?.close();
    // The source thread ends too once no source uses it (the process may exit right after this).
    const sourceStopped = this.source.stop().then(() => releaseSourceThread(Math.max(100, graceMs - 500)));
    const inferenceClosed = this.inference?.close(Math.max(100, graceMs - 500)) ?? Promise.resolve();
    let timer: NodeJS.Timeout | undefined;
    // Not unref'd: whoever awaits stop() must get an answer even if nothing else keeps the event loop alive.
    const late = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs);
    });
    await Promise.race([Promise.allSettled([inferenceClosed, sourceStopped, serverClosed]), late]);
    clearTimeout(timer);
    this.unregister?.();
    this.unregister = null;
  }

  /** Prometheus exposition of the stream's counters, rates and stage latencies. */
  metricsText(): string {
    return streamMetricsText(() => this.figures(), [this.stageHistogram]);
  }

  // ControlTarget: what the control actions change.

  switchSource(name: string): void {
    this.status.set('starting', `switching to source ${name}`);
    this.source.switchTo(name);
    this.broadcastHello();
  }

  async switchModel(name: string): Promise<void> {
    await this.startInference(name);
    this.broadcastHello();
  }

  configurePostprocess(settings: Partial<PostprocessSettings>): void {
    this.inference?.configurePostprocess(settings);
    this.broadcastHello();
  }

  setJpegQuality(quality: number): void {
    this.jpegQuality = quality;
    this.broadcastHello();
  }

  private async startAll(): Promise<string> {
    // Before the inference worker starts its runtime threads (see tuneMallocWithoutRuntimeArena; docs/performance.md).
    if (!this.config.inference.memoryArena) {
      tuneMallocWithoutRuntimeArena();
      const advice = hugePageAdvice();
      if (advice !== null) this.log(advice);
    }
    await this.startInference(this.modelName);
    this.source.start();
    const cfg = this.config.server;
    const hosts = new HostPolicy({ allowedHosts: cfg.allowedHosts, bindHost: cfg.host, allowedOrigins: cfg.allowedOrigins });
    this.hub = new ClientHub({
      maxClients: cfg.maxClients,
      maxClientsPerAddress: cfg.maxClientsPerAddress,
      controlToken: cfg.controlToken,
      allowedOrigins: cfg.allowedOrigins,
      hosts,
      clientStallMs: cfg.clientStallMs,
      maxMessageBytes: cfg.maxClientMessageBytes,
      maxBufferedBytes: cfg.clientBufferBytes,
      hello: () => this.hello(),
      status: () => this.status.message(),
      onControl: (action: ControlAction) => this.controls.run(action),
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
        const status = this.status.current;
        res.writeHead(status.state === 'live' ? 200 : 503, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ...status, clients: this.hub?.clientCount ?? 0 }));
      },
      '/metrics': (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
        res.end(this.metricsText());
      },
    }, { hosts, log: this.log, headersTimeoutMs: cfg.headersTimeoutMs, idleTimeoutMs: cfg.idleTimeoutMs, onForbiddenHost: () => this.forbiddenHosts++ });
    const fdLimit = openFileLimit();
    const limit = effectiveMaxConnections(cfg.maxConnections, fdLimit);
    if (limit.warning) this.log(`WARNING: ${limit.warning}`);
    this.connections = new ConnectionGuard({ maxConnections: limit.max, maxConnectionsPerAddress: cfg.maxConnectionsPerAddress }, this.log);
    this.connections.attach(server);
    this.hub.attach(server);
    this.server = server;
    this.healthTimer = setInterval(() => this.checkHealth(), HEALTH_CHECK_MS);
    this.healthTimer.unref();
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) => reject(new Error(`cannot listen on ${cfg.host}:${cfg.port} (server.host/server.port, --host/--port): ${err.message}`)));
      server.listen(cfg.port, cfg.host, () => resolve());
    });
    // After listen: accept errors (EMFILE when fds run out, ...) are events to log, never an uncaught 'error'.
    server.on('error', (err) => this.log.limited('server-error', `HTTP server: ${err.message}`));
    const addr = server.address() as AddressInfo;
    const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
    if (!['127.0.0.1', '::1', 'localhost'].includes(cfg.host)) {
      this.log(`WARNING: listening on ${cfg.host}: anyone who can reach this address can watch the stream` + (cfg.controlToken ? ' (controls need the token)' : ''));
    }
    this.log(
      `limits: ${limit.max} connections (${cfg.maxConnectionsPerAddress} per address; open-file limit ${fdLimit ?? 'unknown'}), ${cfg.maxClients} viewers (${cfg.maxClientsPerAddress} per address); ` +
        `answering Host: ${hosts.describe()}`,
    );
    return `http://${host}:${addr.port}/`;
  }

  private resolveModel(name: string): Promise<ModelRef> {
    return resolveModelRef(this.config, name, (what) => this.log(`demo model cache repaired: ${what}`));
  }

  private async startInference(name: string): Promise<ModelInfo> {
    const ref = await this.resolveModel(name);
    const postprocess: PostprocessSettings = this.inference?.postprocess ?? { mode: this.config.stream.postprocess, smoothing: this.config.stream.smoothing };
    const stage = new InferenceStage({
      model: ref,
      threads: this.config.inference.threads,
      memoryArena: this.config.inference.memoryArena,
      postprocess,
      maxMapWidth: this.config.stream.maxMapWidth,
      ...(this.options.faults ? { faults: this.options.faults } : {}),
    });
    const model = await stage.start();
    stage.on('result', (ctx) => this.onInferred(ctx));
    stage.on('frame-error', (ctx, err) => this.onInferenceFailed(stage, ctx, err));
    stage.on('worker-lost', (err) => this.status.set('backend-error', `inference worker restarted: ${err.message}`));
    stage.on('ready', () => {
      if (this.status.current.state === 'backend-error') this.status.set('live', 'inference worker back');
    });
    stage.on('load-error', (err) => this.status.set('backend-error', `model failed to load: ${err.message}`));
    const old = this.inference;
    this.inference = stage;
    this.consecutiveFailures = 0;
    await old?.close();
    this.palette = paletteForModel(model.output);
    this.modelName = name;
    this.log(
      `model: ${model.name} (${model.path}) backend ${ref.backend}, input ${model.input.name} ${model.input.kind} ${model.input.width}x${model.input.height} ${model.input.layout}, ` +
        `output ${model.output.name} ${model.output.classes} classes at ${model.output.width}x${model.output.height}` +
        (model.details.hbDnnRuntime === 'test-double'
          ? " -- BPU TEST DOUBLE (no board): outputs are a synthetic function of the input and timings are not the BPU's"
          : model.untrainedDemo
            ? ' -- UNTRAINED DEMO MODEL: masks are meaningless, speed is real'
            : ''),
    );
    for (const note of modelNotes(model)) this.log(note);
    this.log(`post-processing: ${describePostprocess(stage.postprocess)}`);
    return model;
  }

  private onFrame(ctx: FrameContext): void {
    if (this.stopped) return;
    this.framesIn++;
    this.rates.source.mark();
    this.inference?.submit(ctx);
  }

  private onInferenceFailed(stage: InferenceStage, ctx: FrameContext, err: Error): void {
    if (stage !== this.inference) return;
    this.backendErrors++;
    this.consecutiveFailures++;
    this.log.limited('inference-failed', `frame ${ctx.id}: inference failed: ${err.message}`);
    const threshold = this.config.watchdog.inferenceFailures;
    if (this.consecutiveFailures !== threshold) return;
    const model = stage.model;
    const where = model ? `model ${model.name} (${model.path})` : `model ${this.modelName}`;
    const first = firstLine(err.message).slice(0, 160);
    this.log(
      `inference failed on ${threshold} frames in a row with ${where}: ${err.message}. ` +
        `Check the model against this input: segstream model info ${model?.path ?? '<model file>'}, and segstream verify; or switch to another model.`,
    );
    this.degraded = 'inference-failing';
    this.status.set('backend-error', `inference fails on every frame (${threshold} in a row): ${first}. Check the model (the server log has the details).`);
  }

  /** Every second: frames must be reaching the viewers while the source is live. */
  private checkHealth(): void {
    if (this.stopped) return;
    const state = this.status.current.state;
    const silentMs = performance.now() - this.lastOutputAt;
    if (state === 'live' && silentMs > this.config.watchdog.noOutputMs) {
      const fps = this.rates;
      this.degraded = 'no-output';
      const reason =
        `no frame reached the viewers for ${Math.round(silentMs / 1000)} s (source ${fps.source.rate().toFixed(1)} fps, inference ${fps.inference.rate().toFixed(1)} fps` +
        (this.lastModelMs ? `, last inference ${Math.round(this.lastModelMs)} ms` : '') +
        `): the model may be too slow for this machine, or frames fail (see the log)`;
      this.log.limited('no-output', reason);
      this.status.set('backend-error', reason);
    }
  }

  private onOutput(): void {
    this.lastOutputAt = performance.now();
    if (this.degraded && this.status.current.state === 'backend-error') {
      this.status.set('live', this.degraded === 'no-output' ? 'frames reach the viewers again' : 'inference works again');
    }
    this.degraded = null;
  }

  private onInferred(ctx: FrameContext): void {
    if (this.consecutiveFailures >= this.config.watchdog.inferenceFailures) this.log(`inference works again after ${this.consecutiveFailures} failed frames`);
    this.consecutiveFailures = 0;
    this.rates.inference.mark();
    this.lastModelMs = ctx.timings.infer ?? 0;
    this.onFrameInferred?.(ctx);
    this.render
      .submit(ctx)
      .then((rendered) => {
        if (!rendered || this.stopped) return;
        this.hub?.broadcast(buildFrameMessage(ctx, rendered, { inferenceBusy: this.inference?.dropped ?? 0, renderBusy: this.render.dropped }));
        this.framesSent++;
        this.onOutput();
        this.rates.sent.mark();
        for (const stage of STAGES) {
          const ms = ctx.timings[stage];
          if (ms !== undefined) this.stageHistogram.observe(ms, { stage });
        }
        this.onFrameRendered?.(ctx);
      })
      .catch((err: Error) => {
        this.backendErrors++;
        this.log.limited('render-failed', `frame ${ctx.id}: render failed: ${err.message}`);
      });
  }

  private figures(): StreamFigures {
    const inf = this.inference;
    return {
      framesCaptured: this.framesIn,
      framesInferred: inf?.completed ?? 0,
      framesSent: this.framesSent,
      dropped: { inferenceBusy: inf?.dropped ?? 0, renderBusy: this.render.dropped, slowClient: this.hub?.framesDroppedTotal ?? 0 },
      stallDisconnects: this.hub?.stallDisconnects ?? 0,
      refusedConnections: this.hub?.rejectedConnections ?? 0,
      viewersRefused: { ...(this.hub?.refused ?? {}) },
      viewerDisconnects: { ...(this.hub?.disconnects ?? {}) },
      messagesLeftOut: this.hub?.messagesLeftOut ?? 0,
      connections: this.connections?.open ?? 0,
      connectionsRefused: { total: this.connections?.refusedTotal ?? 0, perAddress: this.connections?.refusedPerAddress ?? 0, evicted: this.connections?.evicted ?? 0 },
      forbiddenHosts: this.forbiddenHosts,
      consecutiveInferenceFailures: this.consecutiveFailures,
      sourceRestarts: this.source.restarts,
      backendErrors: this.backendErrors,
      workerRestarts: inf?.workerRestarts ?? 0,
      clients: this.hub?.clientCount ?? 0,
      fps: { source: this.rates.source.rate(), inference: this.rates.inference.rate(), sent: this.rates.sent.rate() },
      modelMs: this.lastModelMs,
      state: this.status.current.state,
    };
  }

  private hello(): HelloMessage {
    const entry = lookup(this.config.sources, this.source.name, 'configured sources');
    const post = this.inference?.postprocess ?? { mode: this.config.stream.postprocess, smoothing: this.config.stream.smoothing };
    return buildHello({
      model: this.inference?.model ?? null,
      modelName: this.modelName,
      backend: this.config.models[this.modelName]?.backend ?? 'onnx',
      source: { name: this.source.name, spec: entry.spec, caps: this.source.caps, colorimetry: this.source.colorDescription },
      palette: this.palette,
      postprocess: post.mode,
      smoothing: post.smoothing,
      jpegQuality: this.jpegQuality,
      sourceNames: Object.keys(this.config.sources),
      modelNames: Object.keys(this.config.models),
      controlsAvailable: this.config.server.controlToken !== null,
    });
  }

  private broadcastHello(): void {
    this.hub?.broadcastText(this.hello());
  }
}

function describePostprocess(p: { mode: PostprocessMode; smoothing: number }): string {
  const mode = p.mode === 'boundary' ? 'boundary (boundary-exact argmax of the bilinearly upsampled logits)' : p.mode;
  return p.smoothing > 1 ? `${mode}; temporal smoothing over ${p.smoothing} frames` : mode;
}
