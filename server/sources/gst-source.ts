import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { APPSINK_NAME } from '../../pipelines/index.ts';
import type { ColorModel, FrameContext, Nv12Image } from '../frame.ts';
import { colorModelFromCaps } from './colorimetry.ts';

const require = createRequire(import.meta.url);

/** Minimal typing of the parts of gstreamer-superficial segstream uses. */
interface GstAppSink {
  pull(cb: (buf: Buffer | null | undefined, caps?: Record<string, unknown>) => void): void;
}
interface GstPipeline {
  play(): void;
  stop(): void;
  pause(): void;
  findChild(name: string): GstAppSink | null;
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
}

export interface GstSourceOptions {
  name: string;
  launch: string;
  /** Seek back to the start on end-of-stream instead of ending (files). */
  loop?: boolean;
  /** Colour model from config; overrides what the caps say. */
  colorOverride?: Omit<ColorModel, 'origin'>;
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
export class GstSource extends EventEmitter<GstSourceEvents> {
  private pipeline: GstPipeline | null = null;
  private running = false;
  private nextId = 1;
  private capsInfo: SourceCaps | null = null;
  private color: ColorModel | null = null;
  /** Frames delivered by the appsink so far. */
  framesIn = 0;

  constructor(readonly options: GstSourceOptions) {
    super();
  }

  get caps(): SourceCaps | null {
    return this.capsInfo;
  }

  get colorModel(): ColorModel | null {
    return this.color;
  }

  get isRunning(): boolean {
    return this.running;
  }

  start(): void {
    if (this.running) return;
    let pipeline: GstPipeline;
    try {
      pipeline = new (gst().Pipeline)(this.options.launch);
    } catch (err) {
      throw new Error(`source "${this.options.name}": GStreamer could not build the pipeline: ${(err as Error).message}\n  launch: ${this.options.launch}`);
    }
    const sink = pipeline.findChild(APPSINK_NAME);
    if (!sink) throw new Error(`source "${this.options.name}": the pipeline has no appsink named ${APPSINK_NAME}`);
    this.pipeline = pipeline;
    this.running = true;
    pipeline.pollBus((msg) => this.onBus(pipeline, msg));
    pipeline.play();
    const onData = (buf: Buffer | null | undefined, caps?: Record<string, unknown>): void => {
      if (!this.running || this.pipeline !== pipeline) return;
      if (!buf) {
        // End of stream (the bus reports it). A looping source seeks back to the start; the appsink then
        // delivers again, so keep asking at a gentle pace. The watchdog catches a source that never recovers.
        if (this.options.loop) setTimeout(() => this.running && this.pipeline === pipeline && sink.pull(onData), 20);
        return;
      }
      if (caps && !this.capsInfo) this.onCaps(caps);
      const ctx = this.toFrame(buf);
      if (ctx) this.emit('frame', ctx);
      if (this.running && this.pipeline === pipeline) sink.pull(onData);
    };
    sink.pull(onData);
  }

  /** Stops the pipeline (GStreamer state NULL), which also releases a pending pull. Idempotent. */
  stop(): void {
    if (!this.pipeline) return;
    this.running = false;
    const pipeline = this.pipeline;
    this.pipeline = null;
    try {
      pipeline.stop();
    } catch {
      // Stopping a pipeline that failed to start can throw; it is stopped either way.
    }
  }

  private onBus(pipeline: GstPipeline, msg: Record<string, unknown>): void {
    if (this.pipeline !== pipeline) return;
    if (msg.type === 'error') {
      const detail = typeof msg.debug === 'string' ? ` (${msg.debug.split('\n').pop()})` : '';
      const element = typeof msg._src_element_name === 'string' ? ` from ${msg._src_element_name}` : '';
      this.stop();
      this.emit('error', new Error(`source "${this.options.name}": GStreamer error${element}: ${String(msg.message ?? 'unknown')}${detail}`));
    } else if (msg.type === 'eos') {
      if (this.options.loop) {
        // Flush-seek to the start (GST_SEEK_FLAG_FLUSH = 1); the appsink keeps delivering.
        if (pipeline.seek(0, 1)) return;
      }
      this.stop();
      this.emit('eos');
    }
  }

  private onCaps(caps: Record<string, unknown>): void {
    const width = Number(caps.width);
    const height = Number(caps.height);
    const colorimetry = typeof caps.colorimetry === 'string' ? caps.colorimetry : '';
    const text = Object.entries(caps)
      .filter(([k]) => k !== 'name')
      .map(([k, v]) => `${k}=${String(v)}`)
      .join(',');
    this.capsInfo = {
      width,
      height,
      format: String(caps.format ?? ''),
      framerate: String(caps.framerate ?? ''),
      colorimetry,
      text: `${String(caps.name ?? '')},${text}`,
    };
    this.color = this.options.colorOverride
      ? { ...this.options.colorOverride, origin: 'config' }
      : colorModelFromCaps(colorimetry || undefined, height);
    this.emit('caps', this.capsInfo);
  }

  private toFrame(buf: Buffer): FrameContext | null {
    const caps = this.capsInfo;
    const color = this.color;
    if (!caps || !color) return null;
    const image = nv12Layout(buf, caps.width, caps.height);
    if (!image) {
      this.stop();
      this.emit('error', new Error(`source "${this.options.name}": buffer of ${buf.length} bytes does not fit NV12 ${caps.width}x${caps.height}`));
      return null;
    }
    this.framesIn++;
    return {
      id: this.nextId++,
      captureTime: Date.now(),
      arrivedAt: performance.now(),
      image,
      color,
      timings: {},
      droppedBefore: 0,
    };
  }
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
