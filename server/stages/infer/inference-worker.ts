/**
 * The inference worker thread: preprocess -> infer for one frame at a time, so that ONNX Runtime's run() (which
 * blocks the thread it is called on) never stalls the server's event loop. The model's output goes back at once
 * (moved, not copied) and is post-processed on the main thread while this thread runs the next frame. The stages
 * themselves live in server/stages/preprocess and ./backend.ts; this file only moves frames in and outputs out.
 */
import { parentPort } from 'node:worker_threads';
import { Preprocessor } from '../preprocess/preprocess.ts';
import { feedsModelInput, runModel, type Backend, type InferenceResult } from './backend.ts';
import { loadBackend } from './load-backend.ts';
import type { FrameRequest, LoadRequest, WorkerReply, WorkerRequest } from './worker-protocol.ts';

if (!parentPort) throw new Error('inference-worker.ts must run in a worker thread');
const port = parentPort;

interface Loaded {
  backend: Backend;
  preprocess: Preprocessor;
}

let loaded: Loaded | null = null;
let faults: NonNullable<LoadRequest['faults']> = {};
let framesSeen = 0;
/** The frame being processed; `close` waits for it, because tearing a thread down inside session.run() aborts the process. */
let current: Promise<void> = Promise.resolve();

function reply(message: WorkerReply, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
}

port.on('message', (request: WorkerRequest) => {
  void handle(request);
});

async function handle(request: WorkerRequest): Promise<void> {
  switch (request.type) {
    case 'load':
      try {
        faults = request.faults ?? {};
        const backend = await loadBackend(request.model, { threads: request.threads, memoryArena: request.memoryArena });
        loaded = { backend, preprocess: new Preprocessor(backend.model) };
        reply({ type: 'loaded', model: backend.model, backend: backend.kind });
      } catch (err) {
        reply({ type: 'load-error', message: (err as Error).message });
      }
      return;
    case 'frame':
      current = runFrame(request);
      await current;
      return;
    case 'release':
      // Nothing to do: the buffer is this thread's now and goes with its next collection.
      return;
    case 'close':
      await current;
      await loaded?.backend.close();
      loaded = null;
      reply({ type: 'closed' });
      return;
  }
}

async function runFrame(request: FrameRequest): Promise<void> {
  const { image } = request;
  try {
    if (!loaded) throw new Error('no model is loaded');
    framesSeen++;
    if (faults.exitOnFrame === framesSeen) process.exit(3);
    if (faults.throwOnFrame === framesSeen) throw new Error(`injected inference fault on frame ${framesSeen}`);
    if (faults.delayMs) await new Promise((r) => setTimeout(r, faults.delayMs));

    const { result, preprocessMs, inferMs } = await preprocessAndInfer(loaded, request);
    const output = result.output;
    reply({ type: 'inferred', id: request.id, image, output, timings: { preprocess: preprocessMs, infer: inferMs } }, transferables(image.data, output.data));
  } catch (err) {
    reply({ type: 'frame-error', id: request.id, image, message: (err as Error).message }, transferables(image.data));
  }
}

/**
 * Preprocess, then infer. An NV12 model whose backend lends its input memory gets the frame resized straight into
 * it inside the run (no copy); the resize still counts as preprocessing.
 */
async function preprocessAndInfer({ backend, preprocess }: Loaded, request: FrameRequest): Promise<{ result: InferenceResult; preprocessMs: number; inferMs: number }> {
  const start = performance.now();
  const fed = feedsModelInput(backend, request.modelInput);
  if (fed) {
    // The source's model channel already scaled the capture to the model's size: no resize, no preprocessing.
    const result = await backend.runNv12!(fed);
    return { result, preprocessMs: 0, inferMs: performance.now() - start };
  }
  if (backend.model.input.kind === 'nv12' && backend.runNv12With) {
    let preprocessMs = 0;
    const result = await backend.runNv12With((target) => {
      const t = performance.now();
      preprocess.resizeInto(request.image, target);
      preprocessMs = performance.now() - t;
    });
    return { result, preprocessMs, inferMs: performance.now() - start - preprocessMs };
  }
  const input = preprocess.run(request.image, request.color);
  const preprocessMs = performance.now() - start;
  const result = await runModel(backend, input);
  return { result, preprocessMs, inferMs: performance.now() - start - preprocessMs };
}

/** ArrayBuffers that can be moved (not copied) back to the main thread: whole, unshared buffers only. */
export function transferables(...views: ArrayBufferView[]): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  for (const v of views) {
    const buf = v.buffer;
    if (buf instanceof ArrayBuffer && v.byteOffset === 0 && v.byteLength === buf.byteLength && !out.includes(buf)) out.push(buf);
  }
  return out;
}
