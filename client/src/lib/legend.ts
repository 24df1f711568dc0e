/**
 * Live class shares for the legend: an exponential moving average over time (so numbers are readable at
 * 30 fps), with an order that only changes when a share clearly overtakes another (so rows do not swap back and
 * forth on noise), and the top rows with the rest folded into one "other" row. The averaged shares still sum to
 * 1: every class decays toward its new share.
 */

/** Rows the legend shows before folding the rest into "other": enough for a scene, few enough to read at a glance. */
export const LEGEND_TOP_ROWS = 8;

export interface LegendEntry {
  id: number;
  /** Averaged share of pixels, 0..1. */
  share: number;
  /** Share in the latest frame, 0..1. */
  current: number;
}

export interface ShareAveragerOptions {
  /** Time constant of the average, ms. */
  tauMs: number;
  /** A class no longer present is dropped once its averaged share falls below this. */
  dropBelow: number;
  /**
   * A row moves above another only when ahead by more than this (share units), or by more than a quarter of the
   * other's share when that is smaller: small classes still sort (0.1% above 0.0%). Conversely no row ever sits
   * above one that is ahead of it by more than that.
   */
  swapMargin: number;
}

export const DEFAULT_SHARE_OPTIONS: ShareAveragerOptions = { tauMs: 600, dropBelow: 0.0005, swapMargin: 0.006 };

export class ShareAverager {
  private entries: LegendEntry[] = [];
  private lastTime: number | null = null;

  constructor(private readonly options: ShareAveragerOptions = DEFAULT_SHARE_OPTIONS) {}

  reset(): void {
    this.entries = [];
    this.lastTime = null;
  }

  /**
   * Takes one frame's class counts ([id, pixels], as in FrameHeader.classes) at time `now` (ms) and returns the
   * legend rows, largest first.
   */
  update(classes: readonly (readonly [number, number])[], now: number): LegendEntry[] {
    let total = 0;
    for (const [, count] of classes) total += count;
    const current = new Map<number, number>();
    if (total > 0) for (const [id, count] of classes) current.set(id, (current.get(id) ?? 0) + count / total);

    // The first frame is taken as is; later ones blend in by elapsed time, so the feel does not depend on fps.
    const alpha = this.lastTime === null ? 1 : 1 - Math.exp(-Math.max(0, now - this.lastTime) / this.options.tauMs);
    this.lastTime = now;

    const next: LegendEntry[] = [];
    const seen = new Set<number>();
    for (const entry of this.entries) {
      const share = current.get(entry.id) ?? 0;
      seen.add(entry.id);
      const averaged = entry.share + alpha * (share - entry.share);
      if (share === 0 && averaged < this.options.dropBelow) continue;
      next.push({ id: entry.id, share: averaged, current: share });
    }
    for (const [id, share] of current) {
      if (!seen.has(id)) next.push({ id, share: alpha * share, current: share });
    }
    this.entries = settleOrder(next, this.options.swapMargin);
    return this.entries;
  }
}

/**
 * The order with hysteresis, built from the top: each place goes to the remaining entry that came first in the
 * previous order, among those no other remaining entry beats by the margin. So the previous order is kept
 * wherever the shares allow, and for any two rows the lower one is never ahead of the upper by more than the
 * margin (whatever the distance between them). O(n^2) over at most a few hundred classes.
 */
function settleOrder(entries: LegendEntry[], margin: number): LegendEntry[] {
  const marginOf = (share: number) => Math.min(margin, share / 4);
  const remaining = entries.slice(); // previous order first, new classes after
  const out: LegendEntry[] = [];
  while (remaining.length > 0) {
    let largest = 0;
    for (const entry of remaining) largest = Math.max(largest, entry.share);
    const index = remaining.findIndex((entry) => largest <= entry.share + marginOf(entry.share));
    const [settled] = remaining.splice(index, 1);
    if (settled === undefined) throw new Error(`legend order: nothing to take at index ${index} of ${remaining.length + 1} remaining`);
    out.push(settled);
  }
  return out;
}

/** The legend as shown: the top rows in order, the rest as one summed "other" row (null when nothing is left over). */
export interface FoldedLegend {
  rows: LegendEntry[];
  other: { share: number; classes: number } | null;
}

export function foldLegend(entries: readonly LegendEntry[], top = LEGEND_TOP_ROWS): FoldedLegend {
  if (!Number.isInteger(top) || top < 1) throw new RangeError(`foldLegend: top: expected an integer of at least 1, got ${top}`);
  // Folding a single row would only rename it.
  if (entries.length <= top + 1) return { rows: entries.slice(), other: null };
  const rest = entries.slice(top);
  let share = 0;
  for (const entry of rest) share += entry.share;
  return { rows: entries.slice(0, top), other: { share, classes: rest.length } };
}
