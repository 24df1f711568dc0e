/**
 * `ThreadedSource`: a GStreamer source whose pipeline runs in the source thread (source-thread-worker.ts), with
 * the same events as `GstSource`. Building, playing and stopping a pipeline are GStreamer state changes that can
 * block for as long as an element likes (rtspsrc waits up to its 20 s TCP timeout on a server that stalls
 * mid-reply); in the source thread they cannot freeze the server. Frames arrive as their own buffers, at most
 * two in flight; the appsink keeps only the newest meanwhile.
 */
import type { Worker } from 'node:worker_threads';
import { reportStuckThreads } from '../../util/exit-blockers.ts';
import { startTsWorker } from '../../util/ts-worker.ts';
import type { FrameContext } from '../frame-context.ts';
import { SourceError, type GstSourceEvents, type GstSourceOptions } from './gst-source.ts';
import { SourceState } from './source-state.ts';
import type { SourceThreadReply, SourceThreadRequest } from './source-thread-protocol.ts';

export interface ThreadedSourceEvents extends GstSourceEvents {
  /** The pipeline was built and set playing in the source thread. */
  started: [];
}

/**
 * Ends the source thread if no source uses it any more (see SourceHost.shutdown); resolves when it has ended or
 * after `graceMs`.
 */
export function releaseSourceThread(graceMs: number): Promise<void> {
  return host?.shutdown(graceMs) ?? Promise.resolve();
}

/** A start or stop the source thread has not answered for this long counts as stuck (for the process guard). */
const STUCK_AFTER_MS = 250;

/** The one source thread of the process, started on first use. */
class SourceHost {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly sources = new Map<number, ThreadedSource>();
  /** Stops sent and not yet confirmed, with when they were sent. */
  private readonly stopping = new Map<number, { since: number; name: string; resolve: () => void }>();
  private crashed: Error | null = null;
  /** Set while the thread is ending (see `shutdown`); requests wait for it. */
  private exiting: Promise<void> | null = null;
  private readonly queued: SourceThreadRequest[] = [];
  /** Starts sent and not yet answered, with when they were sent. */
  readonly starting = new Map<number, number>();

  register(source: ThreadedSource): number {
    const id = this.nextId++;
    this.sources.set(id, source);
    return id;
  }

  /**
   * Moves a frame's memory back to the thread, which copies a later frame into it instead of allocating; it also
   * stops counting against this thread's heap (InferenceStage.releaseOutput says why that matters).
   */
  recycle(id: number, buffer: ArrayBuffer): void {
    if (this.exiting || !this.worker || buffer.byteLength === 0) return;
    this.worker.postMessage({ type: 'recycle', id, buffer } satisfies SourceThreadRequest, [buffer]);
  }

  send(req: SourceThreadRequest): void {
    if (this.exiting) {
      // A new source while the old thread is ending: the binding must never be used by two threads at once.
      this.queued.push(req);
      return;
    }
    const w = this.ensure();
    if (req.type === 'start') this.starting.set(req.id, performance.now());
    w.postMessage(req);
    this.updateRef();
  }

  stop(id: number, name: string): Promise<void> {
    this.sources.delete(id);
    this.starting.delete(id);
    if (!this.worker) return Promise.resolve();
    return new Promise((resolve) => {
      this.stopping.set(id, { since: performance.now(), name, resolve });
      this.send({ type: 'stop', id });
    });
  }

  /**
   * What keeps the source thread busy beyond a moment: a pipeline start or teardown blocked in GStreamer (Node's
   * exit would wait for the thread as long as it is blocked).
   */
  stuck(): string[] {
    const now = performance.now();
    const out: string[] = [];
    for (const s of this.stopping.values()) if (now - s.since > STUCK_AFTER_MS) out.push(`source ${s.name}: GStreamer still stopping its pipeline after ${Math.round(now - s.since)} ms`);
    for (const [id, since] of this.starting) {
      if (now - since > STUCK_AFTER_MS) out.push(`source ${this.sources.get(id)?.options.name ?? id}: GStreamer still starting its pipeline after ${Math.round(now - since)} ms`);
    }
    return out;
  }

  /** The thread answered a start (started or failed). */
  startAnswered(id: number): void {
    this.starting.delete(id);
  }

  private ensure(): Worker {
    if (this.worker) return this.worker;
    const worker = startTsWorker(new URL('./source-thread-worker.ts', import.meta.url));
    this.worker = worker;
    worker.on('message', (msg: SourceThreadReply) => this.onMessage(msg));
    worker.on('error', (err) => this.onLost(worker, err));
    worker.on('exit', (code) => this.onLost(worker, new Error(`source thread exited with code ${code}`)));
    return worker;
  }

  private onMessage(msg: SourceThreadReply): void {
    if (msg.type === 'started' || msg.type === 'start-failed') this.startAnswered(msg.id);
    if (msg.type === 'stopped') {
      this.stopping.get(msg.id)?.resolve();
      this.stopping.delete(msg.id);
      this.updateRef();
      return;
    }
    const source = this.sources.get(msg.id);
    if (!source) {
      // A frame of a source that was stopped meanwhile: let the thread go on pulling (or finish).
      if (msg.type === 'frame') this.worker?.postMessage({ type: 'ack', id: msg.id } satisfies SourceThreadRequest);
      return;
    }
    source.onReply(msg);
  }

  /**
   * Ends the thread if no source uses it: stops its pipelines and waits (at most `graceMs`) until it has ended by
   * itself. Node's exit tears down live worker threads, and one with the binding's bus polls still in flight
   * aborts the process ("uv_loop_close() while having open handles").
   */
  shutdown(graceMs: number): Promise<void> {
    const worker = this.worker;
    if (!worker || this.sources.size > 0) return this.exiting ?? Promise.resolve();
    if (this.exiting) return this.exiting;
    // Both keep the event loop alive until the thread has ended (or the grace is over): a caller awaiting this
    // must not find the loop empty first.
    worker.ref();
    this.exiting = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, graceMs);
      worker.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      worker.postMessage({ type: 'shutdown', id: 0 } satisfies SourceThreadRequest);
    });
    return this.exiting;
  }

  /** The thread died (a crash in it, not a source error): every source is lost; the next start makes a new one. */
  private onLost(worker: Worker, err: Error): void {
    if (worker !== this.worker) return;
    if (this.exiting) {
      // Ended as asked.
      this.worker = null;
      this.exiting = null;
      for (const s of this.stopping.values()) s.resolve();
      this.stopping.clear();
      this.starting.clear();
      for (const req of this.queued.splice(0)) this.send(req);
      return;
    }
    this.worker = null;
    this.crashed = err;
    for (const s of this.stopping.values()) s.resolve();
    this.stopping.clear();
    this.starting.clear();
    const sources = [...this.sources.entries()];
    this.sources.clear();
    for (const [id, source] of sources) source.onReply({ type: 'error', id, message: `source thread failed: ${err.message}`, detail: err.stack ?? '' });
  }

  /** The thread keeps the process alive only while it has something to do. */
  private updateRef(): void {
    if (!this.worker) return;
    if (this.sources.size > 0 || this.stopping.size > 0) this.worker.ref();
    else this.worker.unref();
  }

  get lastCrash(): Error | null {
    return this.crashed;
  }
}

let host: SourceHost | null = null;
function sourceHost(): SourceHost {
  if (!host) {
    const h = new SourceHost();
    host = h;
    // A teardown still blocked in GStreamer keeps the source thread, which the process exit would join.
    reportStuckThreads(() => h.stuck());
  }
  return host;
}

export class ThreadedSource extends SourceState<ThreadedSourceEvents> {
  private id = 0;
  private stopped: Promise<void> | null = null;

  constructor(readonly options: Omit<GstSourceOptions, 'gate'>) {
    super();
  }

  start(): void {
    if (this.id !== 0) return;
    const h = sourceHost();
    this.id = h.register(this);
    h.send({ type: 'start', id: this.id, options: this.options });
  }

  /** Stops the pipeline; resolves once GStreamer has let go of it (the main thread is never blocked meanwhile). */
  stop(): Promise<void> {
    if (this.stopped) return this.stopped;
    this.running = false;
    this.stopped = this.id === 0 ? Promise.resolve() : sourceHost().stop(this.id, this.options.name);
    return this.stopped;
  }

  /** Called by the host with this source's messages. */
  onReply(msg: SourceThreadReply): void {
    if (this.stopped) {
      if (msg.type === 'frame') sourceHost().send({ type: 'ack', id: this.id });
      return;
    }
    switch (msg.type) {
      case 'started':
        this.running = true;
        this.emit('started');
        return;
      case 'start-failed':
        this.emit('error', new SourceError(msg.message, msg.detail));
        return;
      case 'caps':
        this.capsInfo = msg.caps;
        this.color = msg.color;
        this.emit('caps', msg.caps);
        return;
      case 'frame': {
        const f = msg.frame;
        const ctx: FrameContext = {
          id: f.id,
          captureTime: f.captureTime,
          arrivedAt: f.arrivedAtEpoch - performance.timeOrigin,
          image: f.image,
          color: f.color,
          ...(f.modelInput ? { modelInput: f.modelInput } : {}),
          timings: {},
        };
        const id = this.id;
        let released = false;
        ctx.releaseImage = () => {
          if (released) return;
          released = true;
          sourceHost().recycle(id, f.image.data.buffer as ArrayBuffer);
        };
        this.framesIn++;
        sourceHost().send({ type: 'ack', id: this.id });
        this.emit('frame', ctx);
        return;
      }
      case 'error':
        this.running = false;
        this.emit('error', new SourceError(msg.message, msg.detail));
        return;
      case 'eos':
        this.running = false;
        this.emit('eos');
        return;
      case 'stopped':
        return;
    }
  }
}
