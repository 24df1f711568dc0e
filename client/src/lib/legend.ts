/**
 * Live class shares for the legend: an exponential moving average over time (so numbers are readable at
 * 30 fps), with an order that only changes when a share clearly overtakes its neighbour (so rows do not
 * swap back and forth on noise). The averaged shares still sum to 1: every class decays toward its new share.
 */

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
   * A row moves above its neighbour only when ahead by more than this (share units), or by more than a quarter
   * of the neighbour's share when that is smaller: small classes still sort (0.1% above 0.0%).
   */
  swapMargin: number;
}

export const DEFAULT_SHARE_OPTIONS: ShareAveragerOptions = { tauMs: 600, dropBelow: 0.0005, swapMargin: 0.004 };

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
 * Insertion sort from the previous order: an entry moves up only past neighbours it beats by the margin (absolute
 * for large shares, relative for small ones, where an absolute margin would freeze the order).
 */
function settleOrder(entries: LegendEntry[], margin: number): LegendEntry[] {
  const out = entries.slice();
  for (let i = 1; i < out.length; i++) {
    const item = out[i];
    let j = i - 1;
    while (j >= 0 && item.share > out[j].share + Math.min(margin, out[j].share / 4)) {
      out[j + 1] = out[j];
      j--;
    }
    out[j + 1] = item;
  }
  return out;
}
