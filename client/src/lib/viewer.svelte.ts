/**
 * The viewer's state and wiring: link -> frame pipeline -> drawing hook, plus everything the panels show.
 * Per-frame numbers are kept in plain fields and published to the reactive state a few times a second, so a
 * 30 fps stream does not re-render the page 30 times a second.
 */
import { PROTOCOL_VERSION, type ControlAction, type FrameHeader, type HelloMessage, type StatsMessage, type StatusMessage, type StageTimings } from '$protocol';
import { StreamConnection, type LinkState } from './connection.ts';
import { FramePipeline, type DecodedFrame } from './frame-pipeline.ts';
import { ShareAverager, type LegendEntry } from './legend.ts';
import { History, RateMeter, RecentMean, type HistorySample } from './stats.ts';
import type { ViewMode, ViewerOptions } from './options.ts';
import type { ClassColours } from './render/compositor.ts';
import { showsClassMap } from './render/layout.ts';

/** No frame for this long on an open link: show "stream stalled". */
export const STALL_AFTER_MS = 3000;

/**
 * The legend is republished at most this often: each change re-sorts, re-measures and animates its rows (with
 * 150 classes that is most of what the page costs; docs/performance.md "Viewer cost").
 */
export const LEGEND_EVERY_MS = 1000;
/** The HUD's numbers are rebuilt this often, the chart sampled this often. */
export const HUD_EVERY_MS = 500;
export const CHART_EVERY_MS = 1000;

/** Whether two legends look the same: same rows in the same order, shares equal at the 0.1% shown. */
function sameLegend(a: readonly LegendEntry[], b: readonly LegendEntry[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (a[i]!.id !== b[i]!.id || Math.round(a[i]!.share * 1000) !== Math.round(b[i]!.share * 1000)) return false;
  }
  return true;
}

const STAGE_ORDER = ['capture', 'preprocess', 'infer', 'postprocess', 'overlay', 'encode', 'send'] as const;

export interface HudSnapshot {
  fpsReceived: number;
  fpsDrawn: number;
  /** Server-side rates from `stats`. */
  serverFps: StatsMessage['fps'] | null;
  modelMs: number | null;
  stages: { name: string; ms: number }[];
  frameAge: StatsMessage['frameAge'];
  /** Frames dropped, by where: on the server (model busy, render busy), on this viewer's link, in this viewer. */
  dropped: FrameHeader['dropped'] & { slowLink: number; viewer: number };
  decodeMs: number | null;
  drawMs: number | null;
  /** Smoothing windows in frames: viewer-side (this page) and server-side (header.smoothing). */
  smoothing: { viewer: number; server: number };
  frameSize: [number, number] | null;
  classMapSize: [number, number] | null;
  overlaid: boolean;
  renderer: string;
}

/** The server settings a token holder can change, as last confirmed by the server. */
export interface ServerSettings {
  source: string;
  model: string;
  postprocess: string;
  jpegQuality: number;
  smoothing: number;
}

export interface ControlFeedback {
  action: string;
  ok: boolean;
  message: string;
  pending: boolean;
}

export interface Diagnostics {
  framesReceived: number;
  framesDrawn: number;
  lastDrawnId: number;
  lastHeader: FrameHeader | null;
  hello: HelloMessage | null;
  lastClasses: [number, number][];
  sessions: number;
  renderer: string;
  viewerDropped: number;
  decodeFailures: number;
}

function emptyHud(): HudSnapshot {
  return {
    fpsReceived: 0, fpsDrawn: 0, serverFps: null, modelMs: null, stages: [], frameAge: null,
    dropped: { inferenceBusy: 0, renderBusy: 0, slowLink: 0, viewer: 0 }, decodeMs: null, drawMs: null,
    smoothing: { viewer: 0, server: 0 }, frameSize: null, classMapSize: null, overlaid: false, renderer: '',
  };
}

export class Viewer {
  // Replaced wholesale, never mutated: raw state avoids proxying every palette entry.
  hello = $state.raw<HelloMessage | null>(null);
  status = $state.raw<StatusMessage | null>(null);
  link = $state<LinkState>({ phase: 'stopped', attempt: 0, nextAttemptAt: null, lastClose: null, sessions: 0 });
  legend = $state.raw<LegendEntry[]>([]);
  hud = $state.raw<HudSnapshot>(emptyHud());
  history = $state.raw<HistorySample[]>([]);
  /** Wall-clock now, ticking a few times a second (drives countdowns). */
  now = $state(Date.now());
  /** Milliseconds since the last frame when the link is open and frames stopped; null while frames flow. */
  stalledFor = $state<number | null>(null);
  mode = $state<ViewMode>('overlay');
  opacity = $state(0.55);
  smoothing = $state(0);
  hidden = $state<number[]>([]);
  pinned = $state<number | null>(null);
  hovered = $state<number | null>(null);
  token = $state('');
  control = $state<ControlFeedback | null>(null);
  settings = $state<ServerSettings | null>(null);
  /** Bumped when the server refuses a change, so inputs re-render with the confirmed settings. */
  settingsRevision = $state(0);
  notices = $state<string[]>([]);
  hasFrame = $state(false);
  /** Keep showing the current frame (to study it or save it) while the stream goes on underneath. */
  frozen = $state(false);

  /** The newest drawn frame (its bitmap is closed when the next one replaces it). */
  lastFrame: DecodedFrame | null = null;
  /** Set by the canvas component: draws a frame, returns the compositor's name. */
  drawHook: ((frame: DecodedFrame) => void) | null = null;
  rendererName = '';
  readonly diagnostics: Diagnostics = {
    framesReceived: 0, framesDrawn: 0, lastDrawnId: -1, lastHeader: null, hello: null, lastClasses: [], sessions: 0,
    renderer: '', viewerDropped: 0, decodeFailures: 0,
  };

  private readonly connection: StreamConnection;
  private readonly pipeline: FramePipeline;
  private readonly shares = new ShareAverager();
  private readonly received = new RateMeter();
  private readonly drawn = new RateMeter();
  private readonly chart = new History(60);
  // Plain bookkeeping, read only when the HUD is rebuilt: not reactive state.
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  private readonly stageMeans = new Map<string, RecentMean>();
  private readonly decodeMean = new RecentMean();
  private readonly drawMean = new RecentMean();
  private latestLegend: LegendEntry[] = [];
  private legendPublishedAt = -Infinity;
  private latestStats: StatsMessage | null = null;
  private lastFrameAt = 0;
  private lastDrawnAt = -Infinity;
  private hudPublishedAt = -Infinity;
  private chartSampledAt = -Infinity;
  private pendingControl: ControlAction | null = null;
  private timers: ReturnType<typeof setInterval>[] = [];

  constructor(options: ViewerOptions) {
    this.mode = options.mode;
    this.opacity = options.opacity;
    this.smoothing = options.smoothing;
    this.token = options.token;
    this.notices = [...options.warnings];
    this.pipeline = new FramePipeline({
      onFrame: (frame) => this.handleFrame(frame),
      onError: (message) => this.notice(message),
      needsClassMap: (header) => showsClassMap(this.mode, header.overlaid),
    });
    this.pipeline.setSmoothing(options.smoothing);
    this.connection = new StreamConnection(options.wsUrl, {
      onText: (message) => {
        if (message.type === 'hello') this.handleHello(message);
        else if (message.type === 'status') this.status = message;
        else if (message.type === 'stats') this.latestStats = message;
        else if (message.type === 'error') this.notice(`server: ${message.message}`);
        else if (message.type === 'control-result') this.handleControlResult(message.action, message.ok, message.message);
      },
      onBinary: (data) => {
        this.diagnostics.framesReceived++;
        this.received.note(performance.now());
        this.lastFrameAt = performance.now();
        this.pipeline.push(data, performance.now());
      },
      onState: (state) => {
        if (state.phase === 'open') {
          this.lastFrameAt = performance.now();
          this.pipeline.reset();
        }
        this.link = state;
        this.diagnostics.sessions = state.sessions;
      },
      onProtocolError: (message) => this.notice(message),
    });
  }

  start(): void {
    this.connection.start();
    this.timers.push(setInterval(() => this.tick(), 250));
  }

  stop(): void {
    this.connection.stop();
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    this.lastFrame?.image.close();
    this.lastFrame = null;
  }

  reconnectNow(): void {
    this.connection.reconnectNow();
  }

  setSmoothing(window: number): void {
    this.smoothing = window;
    this.pipeline.setSmoothing(window);
  }

  toggleHidden(id: number): void {
    this.hidden = this.hidden.includes(id) ? this.hidden.filter((x) => x !== id) : [...this.hidden, id];
  }

  togglePinned(id: number): void {
    this.pinned = this.pinned === id ? null : id;
  }

  /** Colours for the compositor: a highlighted class alone, else all but the hidden ones. */
  colours(): ClassColours {
    const palette = this.hello?.palette ?? [];
    const highlight = this.pinned ?? this.hovered;
    // A lookup table built per call, not reactive state.
    // eslint-disable-next-line svelte/prefer-svelte-reactivity
    const hidden = new Set(this.hidden);
    return { palette, visible: highlight !== null ? (id) => id === highlight : (id) => !hidden.has(id) };
  }

  className(id: number): string {
    return this.hello?.classNames[id] ?? `class ${id}`;
  }

  sendControl(action: ControlAction): void {
    const sent = this.connection.send({ type: 'control', token: this.token, ...action });
    this.pendingControl = sent ? action : null;
    this.control = sent
      ? { action: action.action, ok: false, message: 'waiting for the server…', pending: true }
      : { action: action.action, ok: false, message: 'not connected: the change was not sent', pending: false };
    if (!sent) this.settingsRevision++;
  }

  private handleControlResult(action: string, ok: boolean, message: string): void {
    this.control = { action, ok, message, pending: false };
    const pending = this.pendingControl;
    this.pendingControl = null;
    if (ok && pending !== null && pending.action === action && this.settings !== null) {
      const s = this.settings;
      if (pending.action === 'set-source') s.source = pending.value;
      else if (pending.action === 'set-model') s.model = pending.value;
      else if (pending.action === 'set-postprocess') s.postprocess = pending.value;
      else if (pending.action === 'set-jpeg-quality') s.jpegQuality = pending.value;
      else if (pending.action === 'set-smoothing') s.smoothing = pending.value;
    }
    if (!ok) this.settingsRevision++;
  }

  private handleHello(hello: HelloMessage): void {
    if (hello.protocol !== PROTOCOL_VERSION) this.protocolMismatch(hello.protocol);
    this.hello = hello;
    this.diagnostics.hello = hello;
    this.settings = {
      source: hello.source.name,
      model: hello.model.name,
      postprocess: hello.postprocess,
      jpegQuality: hello.jpegQuality,
      smoothing: hello.smoothing,
    };
    this.settingsRevision++;
    this.connection.markHealthy();
    this.shares.reset();
    this.pipeline.reset();
    this.latestLegend = [];
    this.legend = [];
    this.legendPublishedAt = -Infinity;
  }

  private handleFrame(frame: DecodedFrame): void {
    if (this.frozen && this.lastFrame !== null) {
      // Not drawn, so not acknowledged: the server's frame age stays a measure of what is on screen.
      frame.image.close();
      return;
    }
    const previous = this.lastFrame;
    this.lastFrame = frame;
    const start = performance.now();
    this.drawHook?.(frame);
    const end = performance.now();
    previous?.image.close();
    this.connection.send({ type: 'drawn', id: frame.header.id });

    this.drawn.note(end);
    this.lastDrawnAt = end;
    this.decodeMean.add(frame.decodedAt - frame.receivedAt);
    this.drawMean.add(end - start);
    for (const [stage, ms] of Object.entries(frame.header.stages as StageTimings)) {
      if (typeof ms !== 'number') continue;
      let mean = this.stageMeans.get(stage);
      if (!mean) this.stageMeans.set(stage, (mean = new RecentMean()));
      mean.add(ms);
    }
    this.latestLegend = this.shares.update(frame.classes, end);
    if (this.settings !== null && this.settings.smoothing !== frame.header.smoothing && this.pendingControl === null) this.settings.smoothing = frame.header.smoothing;
    const d = this.diagnostics;
    d.framesDrawn++;
    d.lastDrawnId = frame.header.id;
    d.lastHeader = frame.header;
    d.lastClasses = frame.classes;
    d.renderer = this.rendererName;
    d.viewerDropped = this.pipeline.dropped;
    d.decodeFailures = this.pipeline.failed;
    if (!this.hasFrame) {
      this.hasFrame = true;
      this.publish();
    }
    // In the same task as the canvas draw, so the DOM changes reach the screen in the frame's own compositor frame
    // rather than one of their own (software compositing redraws the whole page per compositor frame).
    this.refreshIfDue(end);
  }

  /** The HUD (and legend) and the chart, each when its interval is up; a tenth of slack for timer and frame jitter. */
  private refreshIfDue(now: number): void {
    if (now - this.hudPublishedAt >= HUD_EVERY_MS * 0.9) this.publish();
    if (now - this.chartSampledAt >= CHART_EVERY_MS * 0.9) this.sample();
  }

  private tick(): void {
    this.now = Date.now();
    const now = performance.now();
    // While frames flow, handleFrame refreshes the page with each drawn frame; the timer covers slow or stopped streams.
    if (now - this.lastDrawnAt >= HUD_EVERY_MS) this.refreshIfDue(now);
    const silentFor = now - this.lastFrameAt;
    this.stalledFor = this.link.phase === 'open' && silentFor > STALL_AFTER_MS ? silentFor : null;
  }

  /** Copies the per-frame numbers into the reactive state. */
  private publish(): void {
    const now = performance.now();
    this.hudPublishedAt = now;
    const header = this.lastFrame?.header ?? null;
    const stats = this.latestStats;
    const infer = this.stageMeans.get('infer')?.mean() ?? null;
    const stages = STAGE_ORDER.flatMap((name) => {
      const ms = this.stageMeans.get(name)?.mean();
      return ms === null || ms === undefined ? [] : [{ name, ms }];
    });
    // A tenth of slack: publish runs about every HUD_EVERY_MS, and 999 ms must not wait for the next one.
    // Only a legend that changed counts against the interval: an unchanged (e.g. still empty) one published just
    // before the first frame must not hold that frame's legend back for a second.
    if (now - this.legendPublishedAt >= LEGEND_EVERY_MS * 0.9 && !sameLegend(this.legend, this.latestLegend)) {
      this.legendPublishedAt = now;
      this.legend = this.latestLegend;
    }
    this.hud = {
      fpsReceived: this.received.rate(now),
      fpsDrawn: this.drawn.rate(now),
      serverFps: stats?.fps ?? null,
      modelMs: stats?.modelMs ?? infer,
      stages,
      frameAge: stats?.frameAge ?? null,
      dropped: { ...(header?.dropped ?? { inferenceBusy: 0, renderBusy: 0 }), slowLink: stats?.slowLink ?? 0, viewer: this.pipeline.dropped },
      decodeMs: this.decodeMean.mean(),
      drawMs: this.drawMean.mean(),
      smoothing: { viewer: this.lastFrame?.smoothing ?? 0, server: header?.smoothing ?? 0 },
      frameSize: header ? [header.width, header.height] : null,
      classMapSize: header ? [header.classMap.width, header.classMap.height] : null,
      overlaid: header?.overlaid ?? false,
      renderer: this.rendererName,
    };
  }

  private sample(): void {
    const now = performance.now();
    this.chartSampledAt = now;
    this.chart.push({ time: Date.now(), fpsReceived: this.received.rate(now), fpsDrawn: this.drawn.rate(now), modelMs: this.hud.modelMs });
    this.history = [...this.chart.values()];
  }

  /**
   * The server was updated under a running kiosk: reload once to fetch the matching viewer. A second mismatch
   * within a minute only warns, so a stale cache cannot cause a reload loop.
   */
  private protocolMismatch(serverProtocol: number): void {
    const key = 'segstream.protocolReloadAt';
    const last = Number(sessionStorage.getItem(key) ?? 0);
    const text = `server speaks protocol ${serverProtocol}, this viewer ${PROTOCOL_VERSION}`;
    if (Date.now() - last < 60_000) {
      this.notice(`${text}; reload the page after updating`);
      return;
    }
    sessionStorage.setItem(key, String(Date.now()));
    this.notice(`${text}: reloading to get the matching viewer`);
    setTimeout(() => location.reload(), 2000);
  }

  private notice(message: string): void {
    // Keep the last few only: a kiosk may run for days.
    this.notices = [...this.notices.slice(-4), message];
  }
}
