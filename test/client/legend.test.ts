/** Legend shares: time-based averaging that keeps the sum at 1, fading out of absent classes, stable order. */
import { describe, expect, it } from 'vitest';
import { ShareAverager } from '../../client/src/lib/legend.ts';

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
