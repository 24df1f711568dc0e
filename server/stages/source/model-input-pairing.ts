/**
 * Pairs preview frames with buffers of the model-size branch (a second VSE scaler channel of the same camera).
 * Both branches see the same captures, so a model buffer belongs to the preview frame with the same timestamp;
 * when that one has not arrived, the newest earlier buffer stands in (the previous capture), but never an older
 * capture than that (then the frame goes without, and the model input is resized from the
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
 * not newer than the frame from at most one capture before it, else null. The previous capture is one interval
 * older only up to rounding and jitter (at 15/1, PTS steps are 66666666 or 66666667 ns and the interval is
 * 66666666.7), so the bound lies halfway to the capture before that: 1.5 intervals.
 */
const PREVIOUS_CAPTURE_BOUND = 1.5;

export function pairModelBuffer(previewNs: number, held: readonly TimedModelBuffer[], frameIntervalNs: number): TimedModelBuffer | null {
  let best: TimedModelBuffer | null = null;
  for (const b of held) {
    if (b.timestampNs === previewNs) return b;
    if (b.timestampNs > previewNs || previewNs - b.timestampNs > PREVIOUS_CAPTURE_BOUND * frameIntervalNs) continue;
    if (!best || b.timestampNs > best.timestampNs) best = b;
  }
  return best;
}

/**
 * The newest few model buffers. More than two: the preview appsink keeps its buffer while the consumer is busy,
 * so a preview frame can be a few captures older than the newest model buffer and still find its own.
 */
export class ModelBufferHolder {
  private readonly held: TimedModelBuffer[] = [];

  constructor(private readonly keep = 4) {}

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
