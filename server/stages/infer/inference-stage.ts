import { EventEmitter } from 'node:events';
import type { Worker } from 'node:worker_threads';
import type { FrameContext, Nv12Image } from '../frame-context.ts';
import type { ModelInfo } from '../../model/model-info.ts';
import { Postprocessor, type PostprocessSettings } from '../postprocess/postprocess.ts';
import type { Tensor } from '../../model/model-info.ts';
import type { FrameRequest, LoadRequest, ModelRef, WorkerReply, WorkerRequest } from './worker-protocol.ts';
import { reportStuckThreads } from '../../util/exit-blockers.ts';
import { startTsWorker } from '../../util/ts-worker.ts';

/**
 * Workers let go of while (probably) inside the runtime, until they exit: see `InferenceStage.retire`. Node's
 * process exit joins every worker thread, so while one of these is stuck in a native call (an ONNX Runtime or BPU
 * run that never returns) a normal exit would wait for it; the process guard exits hard instead.
 */
const retiredWorkers = new Map<Worker, string>();
reportStuckThreads(() => [...retiredWorkers.values()]);

export interface InferenceStageOptions {
  model: ModelRef;
  threads: number;
  /** ONNX Runtime's CPU memory arena (default on). */
  memoryArena?: boolean;
  postprocess: PostprocessSettings;
  /** A frame in the worker longer than this is declared stuck and the worker is restarted. */
  stuckAfterMs?: number;
  /** Largest class-map width sent on (the map keeps the frame's aspect ratio). 0 = the frame's width. */
  maxMapWidth?: number;
  faults?: LoadRequest['faults'];
}

export interface InferenceStageEvents {
  /** A frame came back with its class map; timings for preprocess/infer/postprocess are filled. */
  result: [FrameContext];
  /** One frame failed; the stage goes on with the next. */
  'frame-error': [FrameContext, Error];
  /** The worker died or hung; it is being restarted. */
  'worker-lost': [Error];
  /** The model is (re)loaded. */
  ready: [ModelInfo];
  /** The model could not be loaded (the stage retries with backoff). */
  'load-error': [Error];
}

/**
 * Main-thread side of the inference worker, and post-processing. Only one frame is in the worker at a time; while
 * it is busy, the newest arriving frame waits and older waiting frames are dropped (counted), so latency never
 * builds up. The worker returns the model's output as soon as the run ends and takes the next frame at once;
 * post-processing (the argmax kernel on the libuv pool) runs here meanwhile, frames in order, so only
 * preprocessing and the model stay on the worker's critical path.
 */
export class InferenceStage extends EventEmitter<InferenceStageEvents> {
  private worker: Worker | null = null;
  private inFlight: FrameContext | null = null;
  private pending: FrameContext | null = null;
  private stuckTimer: NodeJS.Timeout | null = null;
  private restartTimer: NodeJS.Timeout | null = null;
  private restartDelayMs = 250;
  private closed = false;
  /** The current worker has loaded the model. */
  private workerReady = false;
  private loadedModel: ModelInfo | null = null;
  private loadWaiters: { resolve: (m: ModelInfo) => void; reject: (e: Error) => void }[] = [];
  private postprocessor: Postprocessor | null = null;
  /** Post-processing of frames already out of the worker, in order. */
  private postprocessing: Promise<void> = Promise.resolve();
  private readonly retiredHere = new Set<Worker>();
  /** Frames replaced while waiting for the worker. */
  dropped = 0;
  /** Frames that completed inference. */
  completed = 0;
  errors = 0;
  workerRestarts = 0;

  constructor(private options: InferenceStageOptions) {
    super();
  }

  get model(): ModelInfo | null {
    return this.loadedModel;
  }

  get busy(): boolean {
    return this.inFlight !== null;
  }

  /** This stage's workers that were let go of inside the runtime and have not ended yet. */
  stuckThreads(): string[] {
    return [...this.retiredHere].flatMap((w) => retiredWorkers.get(w) ?? []);
  }

  /** Starts the worker and resolves with the model once it is loaded (rejects on a load error). */
  start(): Promise<ModelInfo> {
    const ready = new Promise<ModelInfo>((resolve, reject) => this.loadWaiters.push({ resolve, reject }));
    this.spawn();
    return ready;
  }

  /** Changes post-processing (mode, smoothing) from the next frame on; kept across worker restarts. */
  configurePostprocess(settings: Partial<PostprocessSettings>): void {
    this.options = { ...this.options, postprocess: { ...this.options.postprocess, ...settings } };
    this.postprocessor?.configure(settings);
  }

  get postprocess(): PostprocessSettings {
    return this.options.postprocess;
  }

  /** Offers a frame. Returns false when it replaced (dropped) an older waiting frame. */
  submit(ctx: FrameContext): boolean {
    if (this.closed) return false;
    if (!this.inFlight && this.worker && this.workerReady) {
      this.dispatch(ctx);
      return true;
    }
    let replaced = false;
    if (this.pending) {
      this.dropped++;
      this.pending.releaseImage?.();
      replaced = true;
    }
    this.pending = ctx;
    return !replaced;
  }

  /**
   * Stops the worker gracefully: it finishes the frame in hand and releases the model before the thread ends.
   * (Terminating a thread inside ONNX Runtime's run() makes the binding throw into a dying environment, which
   * aborts the whole process.) After `graceMs` without an answer the worker is left to finish on its own
   * (see `retire`) rather than terminated.
   */
  async close(graceMs = 10_000): Promise<void> {
    this.closed = true;
    this.clearTimers();
    const worker = this.worker;
    this.worker = null;
    if (!worker) return;
    const ended = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), graceMs);
      worker.on('message', (m: WorkerReply) => {
        if (m.type === 'closed') {
          clearTimeout(timer);
          resolve(true);
        }
      });
      worker.once('exit', () => {
        clearTimeout(timer);
        resolve(true);
      });
      worker.postMessage({ type: 'close' });
    });
    if (ended) await worker.terminate();
    else this.retire(worker, false, `inference worker (${this.options.model.name ?? 'model'}) did not stop within ${graceMs} ms`);
  }

  private spawn(): void {
    if (this.closed) return;
    const worker = startTsWorker(new URL('./inference-worker.ts', import.meta.url));
    this.worker = worker;
    this.workerReady = false;
    worker.on('message', (msg: WorkerReply) => this.onMessage(worker, msg));
    worker.on('error', (err) => this.onWorkerLost(worker, err));
    worker.on('exit', (code) => {
      if (!this.closed) this.onWorkerLost(worker, new Error(`inference worker exited with code ${code}`));
    });
    const load: LoadRequest = {
      type: 'load',
      model: this.options.model,
      threads: this.options.threads,
      memoryArena: this.options.memoryArena ?? true,
      ...(this.options.faults ? { faults: this.options.faults } : {}),
    };
    worker.postMessage(load);
  }

  private onMessage(worker: Worker, msg: WorkerReply): void {
    if (worker !== this.worker) return;
    switch (msg.type) {
      case 'loaded':
        this.loadedModel = msg.model;
        this.postprocessor = new Postprocessor(msg.model, this.options.postprocess);
        this.workerReady = true;
        this.restartDelayMs = 250;
        for (const w of this.loadWaiters.splice(0)) w.resolve(msg.model);
        this.emit('ready', msg.model);
        this.pump();
        return;
      case 'load-error': {
        const err = new Error(msg.message);
        if (this.loadWaiters.length > 0) {
          for (const w of this.loadWaiters.splice(0)) w.reject(err);
          this.closed = true;
          void worker.terminate();
        } else {
          this.emit('load-error', err);
          this.scheduleRestart();
        }
        return;
      }
      case 'inferred': {
        const ctx = this.finish();
        if (!ctx || ctx.id !== msg.id) return;
        ctx.image = restoreImage(ctx.image, msg.image);
        ctx.timings.preprocess = msg.timings.preprocess;
        ctx.timings.infer = msg.timings.infer;
        this.pump(); // the worker is free: the next frame runs while this one is post-processed
        const postprocessor = this.postprocessor;
        this.postprocessing = this.postprocessing.then(() => this.postprocessFrame(ctx, msg.output, postprocessor));
        return;
      }
      case 'frame-error': {
        const ctx = this.finish();
        if (!ctx) return;
        ctx.image = restoreImage(ctx.image, msg.image);
        this.errors++;
        this.emit('frame-error', ctx, new Error(msg.message));
        this.pump();
        return;
      }
      case 'closed':
        return;
    }
  }

  private async postprocessFrame(ctx: FrameContext, output: Tensor, postprocessor: Postprocessor | null): Promise<void> {
    const start = performance.now();
    try {
      if (!postprocessor) throw new Error('no model is loaded');
      const { width, height } = mapSize(ctx.image.width, ctx.image.height, this.options.maxMapWidth ?? 0);
      const r = await postprocessor.runAsync(output, width, height);
      this.releaseOutput(output, postprocessor);
      ctx.classMap = r.classMap;
      ctx.histogram = r.histogram;
      ctx.smoothing = r.smoothing;
      ctx.timings.postprocess = performance.now() - start;
    } catch (err) {
      if (this.closed) return;
      this.errors++;
      this.emit('frame-error', ctx, err as Error);
      return;
    }
    if (this.closed) return;
    this.completed++;
    this.emit('result', ctx);
  }

  /**
   * Moves a post-processed model output back to the worker. Measured with `--trace-gc` on `segstream serve` at
   * 1280x720 (20 s): the main thread ran a full collection every ~0.3 s, because memory moved in from another
   * thread counts as new external memory against its heap limit; a buffer moved out again no longer does. Only
   * logits, whose argmax wrote a new class map: a class map computed in the model may be the frame's map itself.
   */
  private releaseOutput(output: Tensor, postprocessor: Postprocessor): void {
    const buffer = output.data.buffer;
    if (!postprocessor.makesNewMap || !(buffer instanceof ArrayBuffer) || buffer.byteLength < 64 * 1024 || !this.worker) return;
    const request: WorkerRequest = { type: 'release', buffer };
    this.worker.postMessage(request, [buffer]);
  }

  private dispatch(ctx: FrameContext): void {
    const worker = this.worker!;
    // Copy the frame into a buffer of its own so it can be moved to the worker (the GStreamer binding's
    // buffers cannot be detached) and come back with the result.
    const own = new Uint8Array(ctx.image.data.length);
    own.set(ctx.image.data);
    const image: Nv12Image = { ...ctx.image, data: own };
    ctx.releaseImage?.();
    delete ctx.releaseImage;
    ctx.image = image;
    ctx.timings.capture = performance.now() - ctx.arrivedAt;
    this.inFlight = ctx;
    // The model-size buffer is needed only by the worker: moved there, not copied, when it is a whole buffer of its own.
    const modelInput = ctx.modelInput && { ...ctx.modelInput, data: movableCopy(ctx.modelInput.data) };
    delete ctx.modelInput;
    const request: FrameRequest = { type: 'frame', id: ctx.id, image, color: { matrix: ctx.color.matrix, range: ctx.color.range }, ...(modelInput ? { modelInput } : {}) };
    worker.postMessage(request, modelInput ? [own.buffer, modelInput.data.buffer] : [own.buffer]);
    const stuckAfter = this.options.stuckAfterMs ?? 30_000;
    this.stuckTimer = setTimeout(() => {
      if (this.worker === worker && this.inFlight === ctx) {
        this.onWorkerLost(worker, new Error(`inference worker did not answer frame ${ctx.id} within ${stuckAfter} ms`), true);
      }
    }, stuckAfter);
  }

  private finish(): FrameContext | null {
    const ctx = this.inFlight;
    this.inFlight = null;
    if (this.stuckTimer) clearTimeout(this.stuckTimer);
    this.stuckTimer = null;
    return ctx;
  }

  private pump(): void {
    if (this.inFlight || !this.pending || !this.workerReady || !this.worker) return;
    const next = this.pending;
    this.pending = null;
    this.dispatch(next);
  }

  private onWorkerLost(worker: Worker, err: Error, stillRunning = false): void {
    if (worker !== this.worker || this.closed) return;
    this.worker = null;
    this.workerReady = false;
    if (stillRunning) this.retire(worker, true, `inference worker retired after: ${err.message}`);
    else void worker.terminate(); // it has already exited or thrown: nothing is running in it
    const lost = this.finish();
    if (lost) {
      this.errors++;
      this.emit('frame-error', lost, err);
    }
    this.workerRestarts++;
    this.emit('worker-lost', err);
    if (this.loadWaiters.length > 0 && !this.loadedModel) {
      for (const w of this.loadWaiters.splice(0)) w.reject(err);
      this.closed = true;
      return;
    }
    this.scheduleRestart();
  }

  /**
   * Lets go of a worker that is probably still inside the runtime's run() (where terminate() would abort the
   * process): it is asked to close, which it does after the frame in hand, and terminated only once it says so.
   * Unref'd, so a worker that never comes back cannot keep the process alive; its late answers are ignored.
   */
  private retire(worker: Worker, askToClose: boolean, why: string): void {
    retiredWorkers.set(worker, why);
    this.retiredHere.add(worker);
    worker.once('exit', () => {
      retiredWorkers.delete(worker);
      this.retiredHere.delete(worker);
    });
    worker.on('message', (m: WorkerReply) => {
      if (m.type === 'closed') void worker.terminate();
    });
    worker.on('error', () => {});
    worker.unref();
    if (askToClose) worker.postMessage({ type: 'close' });
  }

  private scheduleRestart(): void {
    if (this.closed || this.restartTimer) return;
    const delay = this.restartDelayMs;
    this.restartDelayMs = Math.min(this.restartDelayMs * 2, 10_000);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      this.spawn();
    }, delay);
  }

  private clearTimers(): void {
    if (this.stuckTimer) clearTimeout(this.stuckTimer);
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.stuckTimer = this.restartTimer = null;
  }
}

function restoreImage(before: Nv12Image, after: Nv12Image): Nv12Image {
  return { ...before, data: after.data };
}

/** Class-map size: the frame's size, or scaled down to `maxWidth` keeping the aspect ratio. */
export function mapSize(width: number, height: number, maxWidth: number): { width: number; height: number } {
  if (maxWidth <= 0 || width <= maxWidth) return { width, height };
  return { width: maxWidth, height: Math.max(1, Math.round((height * maxWidth) / width)) };
}

/** `data` itself when it owns its whole (unshared) buffer, so it can be moved to another thread; otherwise a copy. */
function movableCopy(data: Uint8Array): Uint8Array<ArrayBuffer> {
  const buf = data.buffer;
  if (buf instanceof ArrayBuffer && data.byteOffset === 0 && data.byteLength === buf.byteLength) return data as Uint8Array<ArrayBuffer>;
  const own = new Uint8Array(data.length);
  own.set(data);
  return own;
}
