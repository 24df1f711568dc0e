/**
 * Pairs preview frames with buffers of the model-size branch (a second VSE scaler channel of the same camera).
 * Both branches see the same captures, so a model buffer belongs to the preview frame with the same timestamp;
 * when that one has not arrived, the newest earlier buffer stands in, but never one a whole frame interval or
 * more older than the preview frame (then the frame goes without, and the model input is resized from the
 * preview as before).
 */
import type { Nv12Image } from '../frame-context.ts';

export interface TimedModelBuffer {
  /** Timestamp in nanoseconds, on the same clock as the preview frames it is paired with. */
  timestampNs: number;
  image: Nv12Image;
}

/**
 * The model buffer for a preview frame stamped `previewNs`: the one with the same timestamp, else the newest one
 * not newer than the frame and less than `frameIntervalNs` older, else null.
 */
export function pairModelBuffer(previewNs: number, held: readonly TimedModelBuffer[], frameIntervalNs: number): TimedModelBuffer | null {
  let best: TimedModelBuffer | null = null;
  for (const b of held) {
    if (b.timestampNs === previewNs) return b;
    if (b.timestampNs > previewNs || previewNs - b.timestampNs >= frameIntervalNs) continue;
    if (!best || b.timestampNs > best.timestampNs) best = b;
  }
  return best;
}

/** The newest few model buffers (a pairing needs at most the current and the previous capture). */
export class ModelBufferHolder {
  private readonly held: TimedModelBuffer[] = [];

  constructor(private readonly keep = 2) {}

  add(buffer: TimedModelBuffer): void {
    this.held.push(buffer);
    if (this.held.length > this.keep) this.held.shift();
  }

  /**
   * The buffer for a preview frame (see pairModelBuffer). Older buffers leave the holder (a later frame cannot
   * want them); the paired one stays, since the next frame may arrive before its own model buffer does.
   */
  take(previewNs: number, frameIntervalNs: number): TimedModelBuffer | null {
    const found = pairModelBuffer(previewNs, this.held, frameIntervalNs);
    if (found) this.held.splice(0, this.held.indexOf(found));
    return found;
  }

  get size(): number {
    return this.held.length;
  }
}
