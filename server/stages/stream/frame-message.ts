/**
 * The send stage's input: one binary frame message per rendered frame (protocol: server/protocol/frame-message.ts),
 * encoded once and shared by every viewer.
 */
import { encodeFrameMessage, type FrameHeader } from '../../protocol/index.ts';
import type { FrameContext } from '../frame-context.ts';
import { classesPresent } from '../render/class-map-codec.ts';
import type { RenderedFrame } from '../render/render.ts';

export interface OutgoingFrame {
  id: number;
  /** Wall-clock capture time, for the frame age viewers report back. */
  captureTime: number;
  message: Uint8Array;
}

export function buildFrameMessage(ctx: FrameContext, rendered: RenderedFrame, dropped: FrameHeader['dropped']): OutgoingFrame {
  const map = ctx.classMap;
  if (!map) throw new Error(`frame ${ctx.id}: nothing to send (postprocess did not run)`);
  const message = encodeFrameMessage(
    {
      type: 'frame',
      id: ctx.id,
      captureTime: ctx.captureTime,
      width: ctx.image.width,
      height: ctx.image.height,
      overlaid: rendered.overlaid,
      classMap: { width: map.width, height: map.height, bytesPerPixel: rendered.bytesPerPixel, encoding: 'deflate-raw' },
      stages: { ...ctx.timings },
      classes: classesPresent(ctx.histogram ?? new Uint32Array(0)),
      dropped,
      smoothing: ctx.smoothing ?? 0,
    },
    rendered.jpeg,
    rendered.classMap,
  );
  return { id: ctx.id, captureTime: ctx.captureTime, message };
}
