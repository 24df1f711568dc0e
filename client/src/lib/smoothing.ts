/**
 * Temporal smoothing of class maps against flicker: each pixel takes the class that most of the last N frames
 * agree on; ties go to the newest frame, so a real change shows after (N+1)/2 frames rather than never.
 */
import type { ClassIds, ClassMapImage } from './class-map.ts';

export class ClassMapSmoother {
  private history: ClassIds[] = [];
  private width = 0;
  private height = 0;
  private kind: 'u8' | 'u16' = 'u8';

  constructor(private window: number) {
    this.setWindow(window);
  }

  get windowSize(): number {
    return this.window;
  }

  /** Window of 1 passes maps through; the history restarts whenever the window changes. */
  setWindow(window: number): void {
    if (!Number.isInteger(window) || window < 1 || window > 9) throw new RangeError(`smoothing window: expected an integer 1..9, got ${window}`);
    this.window = window;
    this.history = [];
  }

  reset(): void {
    this.history = [];
  }

  /** Adds a map and returns the smoothed one (a new array; the input is kept as history). */
  push(map: ClassMapImage): ClassMapImage {
    const kind = map.ids instanceof Uint8Array ? 'u8' : 'u16';
    if (map.width !== this.width || map.height !== this.height || kind !== this.kind) {
      // A new size or id width (model switch) makes the old frames meaningless.
      this.history = [];
      this.width = map.width;
      this.height = map.height;
      this.kind = kind;
    }
    this.history.push(map.ids);
    if (this.history.length > this.window) this.history.shift();
    if (this.window === 1 || this.history.length === 1) return map;
    const ids = this.history.length === 3 ? vote3(this.history) : voteN(this.history);
    return { ids, width: map.width, height: map.height };
  }
}

function like(ids: ClassIds): ClassIds {
  return ids instanceof Uint8Array ? new Uint8Array(ids.length) : new Uint16Array(ids.length);
}

/** The common case, unrolled: three comparisons per pixel. `frames` is oldest first. */
function vote3(frames: ClassIds[]): ClassIds {
  const [a, b, c] = frames;
  const out = like(c);
  for (let i = 0; i < c.length; i++) {
    const newest = c[i];
    const middle = b[i];
    // c wins when it matches either other frame or when all three differ; otherwise a == b is the majority.
    out[i] = newest === middle || newest === a[i] || middle !== a[i] ? newest : middle;
  }
  return out;
}

/** Any window: count each candidate, newest first, so the newest wins ties. */
function voteN(frames: ClassIds[]): ClassIds {
  const n = frames.length;
  const newest = frames[n - 1];
  const out = like(newest);
  for (let i = 0; i < newest.length; i++) {
    let best = newest[i];
    let bestCount = 0;
    for (let j = n - 1; j >= 0; j--) {
      const candidate = frames[j][i];
      if (candidate === best && bestCount > 0) continue;
      let count = 0;
      for (let k = 0; k < n; k++) if (frames[k][i] === candidate) count++;
      if (count > bestCount) {
        best = candidate;
        bestCount = count;
      }
    }
    out[i] = best;
  }
  return out;
}
