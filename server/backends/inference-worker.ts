/**
 * The inference worker thread: preprocess -> infer -> postprocess for one frame at a time, so that neither
 * ONNX Runtime's blocking run() nor the kernels ever stall the server's event loop.
 */
import { parentPort } from 'node:worker_threads';
import * as kernels from '../kernels/index.ts';
import type { Nv12Image } from '../frame.ts';
import type { Backend, InferenceResult, Tensor } from './backend.ts';
import type { FrameRequest, LoadRequest, PostprocessMode, WorkerReply, WorkerRequest } from './worker-protocol.ts';
import { loadBackend } from './load-backend.ts';

if (!parentPort) throw new Error('inference-worker.ts must run in a worker thread');
const port = parentPort;

let backend: Backend | null = null;
let postprocess: PostprocessMode = 'boundary';
let faults: LoadRequest['faults'] = {};
let framesSeen = 0;
/** The model input tensor, reused frame after frame (a fresh multi-megabyte buffer costs page faults each time). */
let inputBuffer: Float32Array | null = null;
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
        postprocess = request.postprocess;
        backend = await loadBackend(request.model, { threads: request.threads });
        reply({ type: 'loaded', model: backend.model, backend: backend.kind });
      } catch (err) {
        reply({ type: 'load-error', message: (err as Error).message });
      }
      return;
    case 'set-postprocess':
      postprocess = request.mode;
      return;
    case 'frame':
      current = runFrame(request);
      await current;
      return;
    case 'close':
      await current;
      await backend?.close();
      backend = null;
      reply({ type: 'closed' });
      return;
  }
}

async function runFrame(request: FrameRequest): Promise<void> {
  const { image } = request;
  try {
    if (!backend) throw new Error('no model is loaded');
    framesSeen++;
    if (faults?.exitOnFrame === framesSeen) process.exit(3);
    if (faults?.throwOnFrame === framesSeen) throw new Error(`injected inference fault on frame ${framesSeen}`);
    const model = backend.model;

    let t = performance.now();
    let input: Tensor | null = null;
    let nv12Input: Nv12Image | null = null;
    const inPlace = model.input.kind === 'nv12' ? nv12Target(backend) : null;
    if (inPlace) {
      // The frame is resized straight into the BPU's input memory (no copy), inside the run below.
    } else if (model.input.kind === 'nv12') {
      nv12Input = kernels.resizeNv12(image, model.input.width, model.input.height);
    } else {
      const { mean, std, rescale, channelOrder } = model.preprocess;
      const size = model.input.width * model.input.height * 3;
      if (inputBuffer?.length !== size) inputBuffer = new Float32Array(size);
      const data = kernels.nv12ToTensor(image, {
        out: inputBuffer,
        width: model.input.width,
        height: model.input.height,
        mean,
        std,
        rescale,
        layout: model.input.layout,
        channelOrder,
        color: request.color,
      });
      const shape = model.input.layout === 'NCHW' ? [1, 3, model.input.height, model.input.width] : [1, model.input.height, model.input.width, 3];
      input = { dtype: 'float32', shape, data };
    }
    let preprocessMs = performance.now() - t;

    t = performance.now();
    let resizeMs = 0;
    const result = inPlace
      ? await inPlace((target) => {
          const start = performance.now();
          kernels.resizeNv12(image, model.input.width, model.input.height, { out: target });
          resizeMs = performance.now() - start;
        })
      : nv12Input !== null
        ? await runNv12(backend, nv12Input)
        : await backend.run(input!);
    const inferMs = performance.now() - t - resizeMs;
    preprocessMs += resizeMs;

    t = performance.now();
    const out = model.output;
    let classMap: { data: Uint8Array | Uint16Array; width: number; height: number };
    let histogram: Uint32Array;
    if (out.kind === 'classmap') {
      const raw = result.output.data;
      const ids = raw instanceof Uint8Array || raw instanceof Uint16Array ? raw : Uint16Array.from(raw as ArrayLike<number>, Number);
      const map = kernels.resizeClassMap({ data: ids, width: out.width, height: out.height }, request.mapWidth, request.mapHeight);
      classMap = map;
      histogram = countClasses(map.data, out.classes);
    } else {
      const q = out.quantization;
      const r = kernels.argmax(result.output.data as Float32Array, {
        layout: out.layout,
        classes: out.classes,
        height: out.height,
        width: out.width,
        ...(q ? { scales: q.scales, ...(q.zeroPoints ? { zeroPoints: q.zeroPoints } : {}) } : {}),
        mode: postprocess,
        outWidth: request.mapWidth,
        outHeight: request.mapHeight,
      });
      classMap = r.classMap;
      histogram = r.histogram;
    }
    const postprocessMs = performance.now() - t;

    reply(
      {
        type: 'result',
        id: request.id,
        image,
        classMap,
        histogram,
        timings: { preprocess: preprocessMs, infer: inferMs, postprocess: postprocessMs },
      },
      transferables(image.data, classMap.data, histogram),
    );
  } catch (err) {
    reply({ type: 'frame-error', id: request.id, image, message: (err as Error).message }, transferables(image.data));
  }
}

/** The backend's way to run a frame written straight into its input memory (the BPU backend has one). */
function nv12Target(b: Backend): ((fill: (target: Nv12Image) => void) => Promise<InferenceResult>) | null {
  const withTarget = b as Backend & { runNv12With?: (fill: (target: Nv12Image) => void) => Promise<InferenceResult> };
  return typeof withTarget.runNv12With === 'function' ? withTarget.runNv12With.bind(b) : null;
}

/** NV12-input models exist only on the BPU backend, which takes the image with its strides. */
function runNv12(b: Backend, image: Nv12Image): Promise<InferenceResult> {
  const withNv12 = b as Backend & { runNv12?: (i: Nv12Image) => Promise<InferenceResult> };
  if (typeof withNv12.runNv12 !== 'function') throw new Error(`model ${b.model.name} takes NV12 input but the ${b.kind} backend cannot feed NV12`);
  return withNv12.runNv12(image);
}

function countClasses(map: Uint8Array | Uint16Array, classes: number): Uint32Array {
  // A class-map model need not declare its class count: then size the histogram by the largest id present.
  let size = classes;
  if (size <= 0) for (let i = 0; i < map.length; i++) if (map[i]! >= size) size = map[i]! + 1;
  const h = new Uint32Array(Math.max(size, 1));
  for (let i = 0; i < map.length; i++) {
    const c = map[i]!;
    if (c < h.length) h[c]!++;
  }
  return h;
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
