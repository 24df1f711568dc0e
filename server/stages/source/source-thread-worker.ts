/**
 * The source thread: every GStreamer pipeline of the server lives here, so that a state change that blocks
 * (an RTSP server that answers half a reply keeps rtspsrc's teardown waiting for its TCP timeout, a named pipe
 * whose writer paused, a wedged camera driver) blocks this thread and never the server's event loop.
 * The binding keeps per-process JavaScript state, so exactly one thread of the process uses it.
 */
import { parentPort } from 'node:worker_threads';
import { GstSource, SourceError } from './gst-source.ts';
import type { SourceThreadReply, SourceThreadRequest } from './source-thread-protocol.ts';

if (!parentPort) throw new Error('source-thread-worker.ts must run in a worker thread');
const port = parentPort;

/** Frames handed to the main thread and not yet taken; beyond this the next pull waits. */
const FRAMES_IN_FLIGHT = 2;

interface Running {
  source: GstSource;
  unacked: number;
  waiting: (() => void) | null;
  recycled: ArrayBuffer[];
}

const running = new Map<number, Running>();

function reply(message: SourceThreadReply, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
}

/** Frame buffers the main thread gave back, per source, at most this many (a frame in flight plus spares). */
const RECYCLED_KEPT = 4;

/** The binding's buffers cannot be moved to another thread: a copy in one that can, reusing a returned buffer. */
function movable(data: Uint8Array, recycled: ArrayBuffer[] = []): Uint8Array<ArrayBuffer> {
  const i = recycled.findIndex((b) => b.byteLength === data.length);
  const own = i >= 0 ? new Uint8Array(recycled.splice(i, 1)[0] as ArrayBuffer) : new Uint8Array(data.length);
  own.set(data);
  return own;
}

function detailOf(err: unknown): string {
  return err instanceof SourceError ? err.detail : '';
}

port.on('message', (req: SourceThreadRequest) => {
  try {
    handle(req);
  } catch (err) {
    // Nothing a request does may end this thread: report it against the source.
    reply({ type: 'error', id: req.id, message: (err as Error).message, detail: detailOf(err) });
  }
});

function handle(req: SourceThreadRequest): void {
  switch (req.type) {
    case 'start': {
      const entry: Running = { source: null as unknown as GstSource, unacked: 0, waiting: null, recycled: [] };
      const source = new GstSource({
        ...req.options,
        gate: (pullNext) => {
          if (entry.unacked < FRAMES_IN_FLIGHT) pullNext();
          else entry.waiting = pullNext;
        },
      });
      entry.source = source;
      source.on('caps', (caps) => reply({ type: 'caps', id: req.id, caps, color: source.colorModel }));
      source.on('frame', (ctx) => {
        const own = movable(ctx.image.data, entry.recycled);
        const modelInput = ctx.modelInput && { ...ctx.modelInput, data: movable(ctx.modelInput.data) };
        entry.unacked++;
        reply(
          {
            type: 'frame',
            id: req.id,
            frame: {
              id: ctx.id,
              captureTime: ctx.captureTime,
              arrivedAtEpoch: performance.timeOrigin + ctx.arrivedAt,
              image: { ...ctx.image, data: own },
              color: ctx.color,
              ...(modelInput ? { modelInput } : {}),
            },
          },
          modelInput ? [own.buffer, modelInput.data.buffer] : [own.buffer],
        );
      });
      source.on('error', (err) => {
        running.delete(req.id);
        reply({ type: 'error', id: req.id, message: err.message, detail: detailOf(err) });
      });
      source.on('eos', () => {
        running.delete(req.id);
        reply({ type: 'eos', id: req.id });
      });
      running.set(req.id, entry);
      try {
        source.start();
      } catch (err) {
        running.delete(req.id);
        void source.stop();
        reply({ type: 'start-failed', id: req.id, message: (err as Error).message, detail: detailOf(err) });
        return;
      }
      reply({ type: 'started', id: req.id });
      return;
    }
    case 'ack': {
      const entry = running.get(req.id);
      if (!entry) return;
      entry.unacked = Math.max(0, entry.unacked - 1);
      const next = entry.waiting;
      if (next && entry.unacked < FRAMES_IN_FLIGHT) {
        entry.waiting = null;
        next();
      }
      return;
    }
    case 'recycle': {
      const entry = running.get(req.id);
      if (!entry) return;
      // After a caps change the old size is never taken again: only buffers of the returned size stay.
      entry.recycled = entry.recycled.filter((b) => b.byteLength === req.buffer.byteLength);
      if (entry.recycled.length < RECYCLED_KEPT) entry.recycled.push(req.buffer);
      return;
    }
    case 'shutdown': {
      // Every pipeline to NULL, then let go of the port: the thread's event loop ends by itself once the binding's
      // pending bus polls and pulls have returned (terminating it with them in flight aborts the process).
      const all = [...running.values()].map((e) => e.source.stop().catch(() => {}));
      running.clear();
      void Promise.all(all).then(() => port.close());
      return;
    }
    case 'stop': {
      const entry = running.get(req.id);
      running.delete(req.id);
      // May block this thread (that is why it is here); the main thread keeps serving meanwhile.
      const stopped = entry ? entry.source.stop() : Promise.resolve();
      void stopped.catch(() => {}).then(() => reply({ type: 'stopped', id: req.id }));
      return;
    }
  }
}
