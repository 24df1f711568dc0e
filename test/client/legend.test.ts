/** Legend shares: time-based averaging that keeps the sum at 1, fading out of absent classes, stable order. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_SHARE_OPTIONS, foldLegend, LEGEND_TOP_ROWS, ShareAverager, type LegendEntry } from '../../client/src/lib/legend.ts';

const sum = (entries: { share: number }[]) => entries.reduce((s, e) => s + e.share, 0);

describe('ShareAverager', () => {
  it('takes the first frame as is, sorted largest first', () => {
    const shares = new ShareAverager();
    const rows = shares.update([[3, 25], [7, 75]], 0);
    expect(rows.map((r) => r.id)).toEqual([7, 3]);
    expect(rows.map((r) => r.share)).toEqual([0.75, 0.25]);
  });

  it('moves toward new shares by elapsed time and keeps the sum at 1', () => {
    const shares = new ShareAverager({ tauMs: 1000, dropBelow: 0.0005, swapMargin: 0 });
    shares.update([[1, 100]], 0);
    const rows = shares.update([[2, 100]], 1000);
    const one = rows.find((r) => r.id === 1)!;
    expect(one.share).toBeCloseTo(Math.exp(-1), 6);
    expect(sum(rows)).toBeCloseTo(1, 9);
    // Long after, the absent class has faded below the threshold and is gone.
    const later = shares.update([[2, 100]], 20_000);
    expect(later.map((r) => r.id)).toEqual([2]);
  });

  it('does not swap rows for differences within the margin', () => {
    const shares = new ShareAverager({ tauMs: 1, dropBelow: 0.0005, swapMargin: 0.01 });
    shares.update([[1, 505], [2, 495]], 0);
    expect(shares.update([[1, 497], [2, 503]], 1000).map((r) => r.id)).toEqual([1, 2]);
    expect(shares.update([[1, 450], [2, 550]], 2000).map((r) => r.id)).toEqual([2, 1]);
  });

  it('still sorts small shares: below the absolute margin it is relative', () => {
    const shares = new ShareAverager({ tauMs: 1, dropBelow: 0.00001, swapMargin: 0.004 });
    expect(shares.update([[1, 9000], [2, 996], [3, 4]], 0).map((r) => r.id)).toEqual([1, 2, 3]);
    // Class 3 at 0.10% passes class 2 at 0.04%, far less apart than the absolute margin.
    expect(shares.update([[1, 9000], [2, 4], [3, 10], [4, 986]], 1000).map((r) => r.id)).toEqual([1, 4, 3, 2]);
    // Large shares keep the absolute margin: 50.1% does not pass 49.9%.
    expect(shares.update([[1, 4990], [4, 5010]], 2000).map((r) => r.id)).toEqual([1, 4]);
  });

  it('handles an empty frame without dividing by zero', () => {
    const shares = new ShareAverager();
    expect(shares.update([], 0)).toEqual([]);
  });
});

/** A small deterministic generator (the test must not depend on Math.random). */
function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

describe('legend order under noise', () => {
  const margin = DEFAULT_SHARE_OPTIONS.swapMargin;
  const marginOf = (share: number) => Math.min(margin, share / 4);

  it('never puts a row above one ahead of it by more than the margin, at any distance, and swaps rarely', () => {
    const random = lcg(16);
    const shares = new ShareAverager();
    // 40 classes with close base shares (a busy scene), each frame jittered by up to ±30 %, 30 fps for 20 s.
    const base = Array.from({ length: 40 }, (_, i) => 1000 / (1 + i * 0.15));
    let previousTop: number[] = [];
    let topChanges = 0;
    const outOfOrder: string[] = [];
    for (let frame = 0; frame < 600; frame++) {
      const classes = base.map((b, id) => [id, Math.round(b * (0.7 + 0.6 * random()))] as const);
      const rows = shares.update(classes, frame * 33.3);
      for (const [i, above] of rows.entries()) {
        for (const below of rows.slice(i + 1)) {
          if (below.share > above.share + marginOf(above.share) + 1e-12) outOfOrder.push(`frame ${frame}: ${below.id} (${below.share}) under ${above.id} (${above.share})`);
        }
      }
      const top = rows.slice(0, LEGEND_TOP_ROWS).map((r) => r.id);
      if (previousTop.length > 0 && top.join() !== previousTop.join()) topChanges++;
      previousTop = top;
    }
    expect(outOfOrder.slice(0, 3)).toEqual([]);
    // Measured: 2 changes of the top rows' order in 600 frames; with margin 0 the same jitter gives 61.
    expect(topChanges).toBeLessThan(15);
  });

  it('moves a class that clearly overtook several rows straight past all of them', () => {
    const shares = new ShareAverager({ tauMs: 1, dropBelow: 0.0005, swapMargin: 0.01 });
    shares.update([[1, 300], [2, 298], [3, 296], [4, 106]], 0);
    // Class 4 now leads by far more than the margin: it goes to the top, the close three keep their order.
    expect(shares.update([[1, 250], [2, 252], [3, 254], [4, 244 + 0]], 1000).map((r) => r.id)).toEqual([1, 2, 3, 4]);
    expect(shares.update([[1, 200], [2, 202], [3, 204], [4, 394]], 2000).map((r) => r.id)).toEqual([4, 1, 2, 3]);
  });
});

describe('foldLegend', () => {
  const entries = (shares: number[]): LegendEntry[] => shares.map((share, id) => ({ id, share, current: share }));

  it('keeps the top rows and sums the rest into "other"', () => {
    const folded = foldLegend(entries([0.4, 0.2, 0.1, 0.1, 0.05, 0.05, 0.05, 0.02, 0.02, 0.01]), 8);
    expect(folded.rows.map((r) => r.id)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(folded.other!.classes).toBe(2);
    expect(folded.other!.share).toBeCloseTo(0.03, 12);
    const total = folded.rows.reduce((s, r) => s + r.share, 0) + folded.other!.share;
    expect(total).toBeCloseTo(1, 12);
  });

  it('shows a single leftover row itself instead of an "other" of one', () => {
    expect(foldLegend(entries([0.5, 0.3, 0.2]), 2)).toEqual({ rows: entries([0.5, 0.3, 0.2]), other: null });
    expect(foldLegend(entries([0.5, 0.3]), 8).other).toBeNull();
  });

  it('refuses a top count below 1', () => {
    expect(() => foldLegend([], 0)).toThrow('foldLegend: top: expected an integer of at least 1, got 0');
  });
});
