/**
 * Temporal smoothing of class maps against flicker: each pixel takes the class that most of the last N maps
 * agree on; ties go to the newest map, so a real change shows after (N+1)/2 frames rather than never.
 * Shared by the server (`set-smoothing`, applied before encoding) and the viewer (its own smoothing option), so
 * both smooth identically.
 */
export type ClassIds = Uint8Array | Uint16Array;

/** A class map: one id per pixel, row-major. */
export interface ClassIdMap {
  ids: ClassIds;
  width: number;
  height: number;
}

export const MAX_SMOOTHING_WINDOW = 9;

export class ClassMapSmoother {
  private history: ClassIds[] = [];
  private width = 0;
  private height = 0;
  private kind: 'u8' | 'u16' = 'u8';
  private window = 1;

  /** `window` frames, 1..9 (1 passes maps through; callers treat 0 as "no smoother"). */
  constructor(window: number) {
    this.setWindow(window);
  }

  get windowSize(): number {
    return this.window;
  }

  /** A window of 1 passes maps through; the history restarts whenever the window changes. */
  setWindow(window: number): void {
    if (!Number.isInteger(window) || window < 1 || window > MAX_SMOOTHING_WINDOW) {
      throw new RangeError(`smoothing window: expected an integer 1..${MAX_SMOOTHING_WINDOW}, got ${window}`);
    }
    this.window = window;
    this.history = [];
  }

  reset(): void {
    this.history = [];
  }

  /** Adds a map and returns the smoothed one (a new array; the input is kept as history). */
  push(map: ClassIdMap): ClassIdMap {
    const { ids, width, height } = map;
    const kind = ids instanceof Uint8Array ? 'u8' : 'u16';
    if (width !== this.width || height !== this.height || kind !== this.kind) {
      // A new size or id width (model switch) makes the old maps meaningless.
      this.history = [];
      this.width = width;
      this.height = height;
      this.kind = kind;
    }
    this.history.push(ids);
    if (this.history.length > this.window) this.history.shift();
    if (this.window === 1 || this.history.length === 1) return map;
    const smoothed = this.history.length === 3 ? vote3(this.history as [ClassIds, ClassIds, ClassIds]) : voteN(this.history);
    return { ids: smoothed, width, height };
  }
}

function sizeMismatch(pixel: number): Error {
  return new Error(`ClassMapSmoother: the maps in the window differ in size (pixel ${pixel} is missing from one)`);
}

function like(ids: ClassIds): ClassIds {
  return ids instanceof Uint8Array ? new Uint8Array(ids.length) : new Uint16Array(ids.length);
}

/** The common case, unrolled: three comparisons per pixel. `frames` is oldest first. */
function vote3([a, b, c]: [ClassIds, ClassIds, ClassIds]): ClassIds {
  const out = like(c);
  for (let i = 0; i < c.length; i++) {
    const newest = c[i];
    const middle = b[i];
    // push() restarts on a size change, so all three maps have c's length; the guard costs nothing measurable.
    if (newest === undefined || middle === undefined) throw sizeMismatch(i);
    // c wins when it matches either other map or when all three differ; otherwise a == b is the majority.
    out[i] = newest === middle || newest === a[i] || middle !== a[i] ? newest : middle;
  }
  return out;
}

/** Any window: count each candidate, newest first, so the newest wins ties. */
function voteN(frames: ClassIds[]): ClassIds {
  // Newest first: the first candidate met wins a tie.
  const newestFirst = [...frames].reverse();
  const [newest] = newestFirst;
  if (newest === undefined) throw new Error('ClassMapSmoother: a vote needs at least one frame');
  const out = like(newest);
  for (let i = 0; i < newest.length; i++) {
    let best = newest[i];
    if (best === undefined) throw sizeMismatch(i);
    let bestCount = 0;
    for (const frame of newestFirst) {
      const candidate = frame[i];
      if (candidate === undefined) throw sizeMismatch(i);
      if (candidate === best && bestCount > 0) continue;
      let count = 0;
      for (const other of newestFirst) if (other[i] === candidate) count++;
      if (count > bestCount) {
        best = candidate;
        bestCount = count;
      }
    }
    out[i] = best;
  }
  return out;
}
