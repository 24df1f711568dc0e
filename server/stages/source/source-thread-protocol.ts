/** Messages between the main thread and the source thread (source-thread.ts, source-thread-worker.ts). */
import type { ColorModel, Nv12Image } from '../frame-context.ts';
import type { GstSourceOptions, SourceCaps } from './gst-source.ts';

export type SourceThreadRequest =
  | { type: 'start'; id: number; options: Omit<GstSourceOptions, 'gate'> }
  | { type: 'stop'; id: number }
  /** The main thread has taken frame(s) of source `id`: the thread may pull the next. */
  | { type: 'ack'; id: number }
  /** A frame's image memory, moved back for the thread to copy a later frame into (see FrameContext.releaseImage). */
  | { type: 'recycle'; id: number; buffer: ArrayBuffer }
  /** Stop every pipeline and end the thread once GStreamer's pending work has returned. */
  | { type: 'shutdown'; id: 0 };

export interface SourceThreadFrame {
  id: number;
  captureTime: number;
  /** performance.timeOrigin + performance.now() in the source thread (each thread has its own time origin). */
  arrivedAtEpoch: number;
  image: Nv12Image;
  color: ColorModel;
  /** The paired model-size buffer (FrameContext.modelInput), moved along with the frame. */
  modelInput?: Nv12Image;
}

export type SourceThreadReply =
  | { type: 'started'; id: number }
  | { type: 'start-failed'; id: number; message: string; detail: string }
  | { type: 'caps'; id: number; caps: SourceCaps; color: ColorModel | null }
  | { type: 'frame'; id: number; frame: SourceThreadFrame }
  | { type: 'error'; id: number; message: string; detail: string }
  | { type: 'eos'; id: number }
  | { type: 'stopped'; id: number };
