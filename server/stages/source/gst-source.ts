import { once } from 'node:events';
import { closeSync, constants as fsConstants, openSync, readSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { APPSINK_NAME, INPUT_PROBE_SINK_NAME, MODEL_APPSINK_NAME, letterboxRect, type InputPicture, type PictureRect } from '../../../pipelines/index.ts';
import type { ColorModel, FrameContext, Nv12Image } from '../frame-context.ts';
import { colorModelFromCaps } from './colorimetry.ts';
import { ModelBufferHolder } from './model-input-pairing.ts';
import { SourceState } from './source-state.ts';

const require = createRequire(import.meta.url);

/** Minimal typing of the parts of gstreamer-superficial segstream uses. */
interface GstAppSink {
  /** `pts`: the buffer's timestamp in ns, passed only by a binding patched to (see bufferStampNs). */
  pull(cb: (buf: Buffer | null | undefined, caps?: Record<string, unknown>, pts?: number | null) => void): void;
}
/** An element found by name; its GObject properties read and write as fields. */
type GstElement = Record<string, unknown>;
interface GstPipeline {
  play(): void;
  stop(): void;
  pause(): void;
  findChild(name: string): (GstAppSink & GstElement) | null;
  pollBus(cb: (msg: Record<string, unknown>) => void): void;
  seek(position: number, flags: number): boolean;
}
interface GstModule {
  Pipeline: new (launch: string) => GstPipeline;
}

let gstModule: GstModule | null = null;
function gst(): GstModule {
  gstModule ??= require('gstreamer-superficial') as GstModule;
  return gstModule;
}

/** What the pipeline negotiated, as reported to the log and the viewer. */
export interface SourceCaps {
  width: number;
  height: number;
  format: string;
  framerate: string;
  /** The colorimetry string from the caps, or '' when the caps carry none. */
  colorimetry: string;
  /** The caps as one readable string. */
  text: string;
  /**
   * The source's own picture before it was scaled to the output size, and where it sits in the output frame
   * (black bars around it when its shape differs). Known for pipelines with the input probe (files, RTSP), once
   * the first buffer has passed it; absent otherwise.
   */
  input?: InputPicture & { rect: PictureRect };
}

export interface GstSourceOptions {
  name: string;
  launch: string;
  /** Seek back to the start on end-of-stream instead of ending (files). */
  loop?: boolean;
  /** Colour model from config; overrides what the caps say. */
  colorOverride?: Omit<ColorModel, 'origin'>;
  /**
   * The file the pipeline's filesrc reads, when there is one. If it is a named pipe (FIFO), the source holds it
   * open itself and unblocks the pipeline's read on stop: see `FifoGuard`.
   */
  inputPath?: string;
  /**
   * Called after each frame is emitted with the function that asks GStreamer for the next one. Without it the
   * next pull starts at once; with it the caller decides when (the source thread waits until the main thread has
   * taken the frame, so frames never queue between threads: the appsink keeps only the newest).
   */
  gate?: (pullNext: () => void) => void;
}

/**
 * A source failure. `message` is short and safe to show viewers (which element, what GStreamer said);
 * `detail` is GStreamer's debug text (source file and line, element path) for the log only.
 */
export class SourceError extends Error {
  constructor(
    message: string,
    readonly detail: string = '',
  ) {
    super(message);
    this.name = 'SourceError';
  }
}

export interface GstSourceEvents {
  frame: [FrameContext];
  caps: [SourceCaps];
  /** The pipeline reported an error; the source has stopped. */
  error: [Error];
  /** The stream ended (and was not looped); the source has stopped. */
  eos: [];
}

/**
 * Runs one GStreamer pipeline that ends in the segstream appsink, and emits each NV12 frame as a FrameContext
 * stamped on arrival (buffers from the binding carry no timestamps). The appsink keeps only the newest buffer,
 * so a slow consumer never makes GStreamer queue.
 */
export class GstSource extends SourceState<GstSourceEvents> {
  private pipeline: GstPipeline | null = null;
  private nextId = 1;
  private inputPicture: InputPicture | null = null;
  private inputProbed = false;
  private fifo: FifoGuard | null = null;
  /** Buffers of the model-size branch, when the pipeline has one (MODEL_APPSINK_NAME). */
  private modelBuffers: ModelBufferHolder | null = null;

  constructor(readonly options: GstSourceOptions) {
    super();
  }

  start(): void {
    if (this.running) return;
    let pipeline: GstPipeline;
    try {
      pipeline = new (gst().Pipeline)(this.options.launch);
    } catch (err) {
      throw new SourceError(`source "${this.options.name}": GStreamer could not build the pipeline: ${(err as Error).message}`, `launch: ${this.options.launch}`);
    }
    const sink = pipeline.findChild(APPSINK_NAME);
    if (!sink) throw new SourceError(`source "${this.options.name}": the pipeline has no appsink named ${APPSINK_NAME}`);
    this.fifo = FifoGuard.open(this.options.inputPath);
    this.pipeline = pipeline;
    this.running = true;
    pipeline.pollBus((msg) => this.onBus(pipeline, msg));
    pipeline.play();
    this.pullModelBranch(pipeline);
    const onData = (buf: Buffer | null | undefined, caps?: Record<string, unknown>, pts?: number | null): void => {
      if (!this.running || this.pipeline !== pipeline) return;
      if (!buf) {
        // End of stream (the bus reports it). A looping source seeks back to the start; the appsink then
        // delivers again, so keep asking at a gentle pace. The watchdog catches a source that never recovers.
        if (this.options.loop) setTimeout(() => this.running && this.pipeline === pipeline && sink.pull(onData), 20);
        return;
      }
      // The probe first: when its buffer has passed already, the first caps event carries the input (otherwise a
      // second caps event follows with it).
      if (!this.inputProbed) this.readInputProbe(pipeline);
      if (caps && !this.capsInfo) this.onCaps(caps);
      const ctx = this.toFrame(buf, bufferStampNs(pts));
      if (ctx) this.emit('frame', ctx);
      const pullNext = (): void => {
        if (this.running && this.pipeline === pipeline) sink.pull(onData);
      };
      if (ctx && this.options.gate) this.options.gate(pullNext);
      else pullNext();
    };
    sink.pull(onData);
  }

  /**
   * Keeps pulling the model-size branch, when the pipeline has one: its appsink drops stale buffers itself, and the
   * newest ones wait here to be paired with a preview frame by timestamp (bufferStampNs).
   */
  private pullModelBranch(pipeline: GstPipeline): void {
    const sink = pipeline.findChild(MODEL_APPSINK_NAME);
    if (!sink) return;
    const holder = new ModelBufferHolder();
    this.modelBuffers = holder;
    const onData = (buf: Buffer | null | undefined, caps?: Record<string, unknown>, pts?: number | null): void => {
      if (!this.running || this.pipeline !== pipeline || !buf) return;
      const width = Number(caps?.width);
      const height = Number(caps?.height);
      const image = width > 0 && height > 0 ? nv12Layout(buf, width, height) : null;
      if (!image) {
        void this.stop();
        this.emit('error', new SourceError(`source "${this.options.name}": model-branch buffer of ${buf.length} bytes does not fit NV12 ${width}x${height}`));
        return;
      }
      holder.add({ timestampNs: bufferStampNs(pts), image });
      sink.pull(onData);
    };
    sink.pull(onData);
  }

  /**
   * Stops the pipeline (GStreamer state NULL), which also releases a pending pull. Idempotent. The source counts
   * as stopped at once (no more events); the promise resolves when GStreamer has let go of the pipeline.
   */
  stop(): Promise<void> {
    if (!this.pipeline) return Promise.resolve();
    this.running = false;
    const pipeline = this.pipeline;
    this.pipeline = null;
    const fifo = this.fifo;
    this.fifo = null;
    this.modelBuffers = null;
    const halt = (): void => {
      try {
        pipeline.stop();
      } catch {
        // Stopping a pipeline that failed to start can throw; it is stopped either way.
      }
    };
    if (!fifo) {
      halt();
      return Promise.resolve();
    }
    return fifo.whileUnblocking(halt);
  }

  private onBus(pipeline: GstPipeline, msg: Record<string, unknown>): void {
    if (this.pipeline !== pipeline) return;
    if (msg.type === 'error') {
      // Viewers get the element and GStreamer's message; the debug text (C file and line, element path) is for the log.
      const detail = typeof msg.debug === 'string' ? msg.debug : '';
      const element = typeof msg._src_element_name === 'string' ? ` from ${msg._src_element_name}` : '';
      void this.stop();
      this.emit('error', new SourceError(`source "${this.options.name}": GStreamer error${element}: ${String(msg.message ?? 'unknown')}`, detail));
    } else if (msg.type === 'eos') {
      if (this.options.loop) {
        // Flush-seek to the start (GST_SEEK_FLAG_FLUSH = 1); the appsink keeps delivering.
        if (pipeline.seek(0, 1)) return;
      }
      void this.stop();
      this.emit('eos');
    }
  }

  /**
   * Reads the input probe's last sample (when the pipeline has the probe branch and it has seen a buffer), then
   * lets the sink drop the sample it keeps, so the branch holds no frame.
   * Called on main-branch frames until it has an answer.
   */
  private readInputProbe(pipeline: GstPipeline): void {
    const probe = pipeline.findChild(INPUT_PROBE_SINK_NAME);
    if (!probe) {
      this.inputProbed = true;
      return;
    }
    const sample = probe['last-sample'] as { caps?: Record<string, unknown> } | undefined;
    const caps = sample?.caps;
    const width = Number(caps?.width);
    const height = Number(caps?.height);
    if (!caps || !(width > 0 && height > 0)) return;
    this.inputProbed = true;
    probe['enable-last-sample'] = false;
    const par = caps['pixel-aspect-ratio'];
    this.inputPicture = { width, height, pixelAspectRatio: typeof par === 'string' ? par : '1/1' };
    if (this.capsInfo) this.publishCaps(this.capsInfo);
  }

  /** Emits the caps, with the input picture and its place in the frame when the probe has reported it. */
  private publishCaps(caps: SourceCaps): void {
    const input = this.inputPicture;
    this.capsInfo = input ? { ...caps, input: { ...input, rect: letterboxRect(input, caps) } } : caps;
    this.emit('caps', this.capsInfo);
  }

  private onCaps(caps: Record<string, unknown>): void {
    const width = Number(caps.width);
    const height = Number(caps.height);
    const colorimetry = typeof caps.colorimetry === 'string' ? caps.colorimetry : '';
    const text = Object.entries(caps)
      .filter(([k]) => k !== 'name')
      .map(([k, v]) => `${k}=${String(v)}`)
      .join(',');
    this.color = this.options.colorOverride
      ? { ...this.options.colorOverride, origin: 'config' }
      : colorModelFromCaps(colorimetry || undefined, height);
    this.publishCaps({
      width,
      height,
      format: String(caps.format ?? ''),
      framerate: String(caps.framerate ?? ''),
      colorimetry,
      text: `${String(caps.name ?? '')},${text}`,
    });
  }

  private toFrame(buf: Buffer, stampNs: number): FrameContext | null {
    const caps = this.capsInfo;
    const color = this.color;
    if (!caps || !color) return null;
    const image = nv12Layout(buf, caps.width, caps.height);
    if (!image) {
      void this.stop();
      this.emit('error', new SourceError(`source "${this.options.name}": buffer of ${buf.length} bytes does not fit NV12 ${caps.width}x${caps.height}`));
      return null;
    }
    this.framesIn++;
    const modelInput = this.modelBuffers?.take(stampNs, frameIntervalNs(caps.framerate))?.image;
    return {
      id: this.nextId++,
      captureTime: Date.now(),
      arrivedAt: performance.now(),
      image,
      color,
      ...(modelInput ? { modelInput } : {}),
      timings: {},
    };
  }
}

/**
 * A named pipe read by the pipeline's filesrc. filesrc's read() on a pipe cannot be interrupted, and the binding
 * changes state on the main thread, so without help:
 *  - opening the pipe blocks the event loop until some process opens it for writing, and
 *  - stopping a pipeline whose writer has paused blocks the event loop until the writer writes again (forever if
 *    it never does): the server would freeze exactly when the watchdog tries to recover.
 * The guard holds the pipe open read-write (non-blocking; on Linux this never blocks and counts as a writer), so
 * filesrc's open returns at once; and while the pipeline is being stopped, a helper thread writes a block every few
 * milliseconds so the blocked read returns and filesrc sees the flush. Afterwards the pipe is drained (those
 * bytes and any partial frame) so the next pipeline starts on the writer's next whole write.
 */
class FifoGuard {
  private constructor(
    readonly path: string,
    private readonly fd: number,
  ) {}

  /** A guard when `path` is a named pipe; null for anything else (a missing file is filesrc's error to report). */
  static open(path: string | undefined): FifoGuard | null {
    if (!path) return null;
    try {
      if (!statSync(path).isFIFO()) return null;
      return new FifoGuard(path, openSync(path, fsConstants.O_RDWR | fsConstants.O_NONBLOCK));
    } catch {
      return null;
    }
  }

  /** Runs `halt` (which may block in GStreamer) while a helper thread keeps the pipe's reader from blocking. */
  async whileUnblocking(halt: () => void): Promise<void> {
    const done = new Int32Array(new SharedArrayBuffer(4));
    const nudger = new Worker(NUDGER_SOURCE, { eval: true, workerData: { fd: this.fd, done } });
    try {
      // The helper must be running before this thread blocks inside GStreamer.
      await once(nudger, 'online');
      halt();
    } finally {
      Atomics.store(done, 0, 1);
      Atomics.notify(done, 0);
      await once(nudger, 'exit').catch(() => {});
      this.drainAndClose();
    }
  }

  private drainAndClose(): void {
    const scratch = Buffer.alloc(64 * 1024);
    try {
      // Bounded: a writer that never pauses must not keep this thread here.
      for (let i = 0; i < 16 && readSync(this.fd, scratch, 0, scratch.length, null) > 0; i++);
    } catch {
      // EAGAIN: the pipe is empty.
    }
    closeSync(this.fd);
  }
}

const NUDGER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { writeSync } = require('node:fs');
// filesrc reads whole 4096-byte blocks even from a pipe: a smaller nudge would leave it waiting for more.
const block = Buffer.alloc(4096);
while (Atomics.load(workerData.done, 0) === 0) {
  try { writeSync(workerData.fd, block); } catch {}
  Atomics.wait(workerData.done, 0, 0, 5);
}
`;

/**
 * The timestamp a buffer is paired by: its PTS when the binding passes it (both branches of one capture carry the
 * same PTS), else its arrival on this thread's monotonic clock. gstreamer-superficial 1.7.4 passes no PTS; with
 * arrival stamps a frame can be paired with the previous capture's model buffer (never an older one).
 */
function bufferStampNs(pts: number | null | undefined): number {
  return typeof pts === 'number' && Number.isFinite(pts) ? pts : Math.round(performance.now() * 1e6);
}

/** One frame interval from a caps framerate ("30/1"); 1/30 s when the caps give none (live cameras, variable rate). */
export function frameIntervalNs(framerate: string): number {
  const m = /^(\d+)\/(\d+)$/.exec(framerate);
  const num = Number(m?.[1]);
  const den = Number(m?.[2]);
  return num > 0 && den > 0 ? (1e9 * den) / num : 1e9 / 30;
}

/**
 * Works out the plane layout of an NV12 buffer: packed, or with GStreamer's default row alignment (rows padded
 * to a multiple of 4 bytes) for widths that need it.
 */
export function nv12Layout(data: Uint8Array, width: number, height: number): Nv12Image | null {
  for (const align of [1, 4, 8, 16, 32, 64]) {
    const stride = Math.ceil(width / align) * align;
    const rows = height + height / 2;
    if (data.length === stride * rows) {
      return { data, width, height, strideY: stride, strideUV: stride, offsetUV: stride * height };
    }
  }
  return null;
}
