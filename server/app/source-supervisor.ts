/**
 * Keeps the configured source running: builds its pipeline, and when it errors, ends or goes silent (the
 * watchdog), rebuilds it with capped exponential backoff. A camera whose device node is missing is polled with a
 * stat instead of building pipelines. Emits frames, the negotiated caps, and when the source goes live or is lost.
 */
import { EventEmitter } from 'node:events';
import { buildLaunch } from '../../pipelines/index.ts';
import type { FrameContext } from '../stages/frame-context.ts';
import { describeColor, parseColorOverride } from '../stages/source/colorimetry.ts';
import { SourceError, type SourceCaps } from '../stages/source/gst-source.ts';
import { ThreadedSource } from '../stages/source/source-thread.ts';
import { cameraDevice, describeInput, deviceProblem } from '../stages/source/source-spec.ts';
import type { Config } from './config.ts';
import { lookup } from '../util/checked-access.ts';

/** How often a missing camera device node is looked for again (a stat, no pipeline). */
const DEVICE_POLL_MS = 500;
const FIRST_BACKOFF_MS = 500;

export interface SourceSupervisorEvents {
  frame: [FrameContext];
  caps: [SourceCaps];
  /** The first frame after a start or a loss. */
  live: [];
  /** The source stopped delivering; the message names the source and the reason (no credentials). */
  lost: [string];
}

export class SourceSupervisor extends EventEmitter<SourceSupervisorEvents> {
  private source: ThreadedSource | null = null;
  private restartTimer: NodeJS.Timeout | null = null;
  private watchdog: NodeJS.Timeout | null = null;
  private backoffMs = FIRST_BACKOFF_MS;
  private lastFrameAt = 0;
  private live = false;
  private stopped = false;
  private lostReason = '';
  /** Pipeline rebuilds after a loss. */
  restarts = 0;

  constructor(
    private readonly config: Config,
    private sourceName: string,
    /** Secrets are masked by the app's logger; viewers' messages are masked by the app's status board. */
    private readonly log: (line: string) => void,
  ) {
    super();
  }

  get name(): string {
    return this.sourceName;
  }

  get caps(): SourceCaps | null {
    return this.source?.caps ?? null;
  }

  get colorDescription(): string {
    return this.source?.colorModel ? describeColor(this.source.colorModel) : '';
  }

  start(): void {
    this.watchdog = setInterval(() => this.checkSilence(), Math.min(1000, this.config.watchdog.noFrameMs / 2));
    this.watchdog.unref();
    this.startSource();
  }

  /** Stops the current source and starts the named one (a configured name). */
  switchTo(name: string): void {
    void this.source?.stop();
    this.source = null;
    this.clearRestart();
    this.backoffMs = FIRST_BACKOFF_MS;
    this.sourceName = name;
    this.live = false;
    this.startSource();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.watchdog) clearInterval(this.watchdog);
    this.clearRestart();
    await this.source?.stop();
  }

  private startSource(): void {
    const entry = lookup(this.config.sources, this.sourceName, 'configured sources');
    const device = cameraDevice(entry.spec);
    const unusable = device ? deviceProblem(device) : null;
    if (unusable) return this.waitForDevice(unusable);
    const launch = buildLaunch(this.sourceName, entry.spec);
    const override = entry.color ? parseColorOverride(entry.color) : null;
    const source = new ThreadedSource({
      name: this.sourceName,
      launch,
      loop: entry.loop,
      ...(override ? { colorOverride: override } : {}),
      ...(entry.spec.kind === 'file' ? { inputPath: entry.spec.path } : {}),
    });
    source.on('caps', (caps) => {
      this.log(`source: ${this.sourceName} (${entry.spec.kind}) caps ${caps.text}; colour ${describeColor(source.colorModel!)}`);
      this.emit('caps', caps);
    });
    source.on('frame', (ctx) => this.onFrame(source, ctx));
    source.on('error', (err) => this.onLost(source, err.message, err instanceof SourceError ? err.detail : ''));
    source.on('eos', () => this.onLost(source, 'end of stream'));
    // The silence watchdog counts from when the source thread has the pipeline playing.
    source.on('started', () => {
      if (source === this.source) this.lastFrameAt = performance.now();
    });
    this.source = source;
    this.lastFrameAt = performance.now();
    this.log(`source: ${this.sourceName}: ${launch}`);
    source.start();
  }

  private onFrame(source: ThreadedSource, ctx: FrameContext): void {
    if (source !== this.source || this.stopped) return;
    this.lastFrameAt = performance.now();
    this.backoffMs = FIRST_BACKOFF_MS;
    if (!this.live) {
      this.live = true;
      this.lostReason = '';
      this.emit('live');
    }
    this.emit('frame', ctx);
  }

  private checkSilence(): void {
    if (this.stopped || !this.source?.isRunning) return;
    const silent = performance.now() - this.lastFrameAt;
    if (silent > this.config.watchdog.noFrameMs) this.onLost(this.source, `no frame for ${Math.round(silent)} ms`);
  }

  /** `reason` is short (viewers see it); `detail` is GStreamer's debug text, for the log only. */
  private onLost(source: ThreadedSource, reason: string, detail = ''): void {
    if (source !== this.source || this.stopped) return;
    void source.stop();
    this.source = null;
    const delay = Math.min(this.backoffMs, this.config.watchdog.maxBackoffMs);
    this.backoffMs = Math.min(this.backoffMs * 2, this.config.watchdog.maxBackoffMs);
    this.markLost(reason);
    this.log(`source ${this.sourceName} lost (${reason}${detail ? ` [${detail}]` : ''}); restarting in ${delay} ms`);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      if (this.stopped) return;
      this.restarts++;
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
    if (this.lostReason !== problem) this.log(`source ${this.sourceName}: ${problem}; checking again every ${DEVICE_POLL_MS} ms`);
    this.markLost(problem);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      if (!this.stopped) this.startSource();
    }, DEVICE_POLL_MS);
  }

  private markLost(reason: string): void {
    this.live = false;
    if (reason === this.lostReason) return;
    this.lostReason = reason;
    const entry = lookup(this.config.sources, this.sourceName, 'configured sources');
    this.emit('lost', `source ${this.sourceName} (${describeInput(entry.spec)}) lost: ${reason}`);
  }

  private clearRestart(): void {
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
  }
}
