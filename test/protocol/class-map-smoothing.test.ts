/** The class-map majority vote against a per-pixel reference, including ties and resets. */
import { describe, expect, it } from 'vitest';
import { ClassMapSmoother } from '../../server/protocol/index.ts';
import { at, first } from '../../server/util/checked-access.ts';

/** Reference: most frequent value, ties to the newest frame. */
function reference(frames: number[][], i: number): number {
  // Pixel i of every frame, newest first: the first value met wins a tie.
  const votes = frames.map((f) => at(f, i, 'frame pixels')).reverse();
  let best = first(votes, 'frames');
  let bestCount = 0;
  for (const v of votes) {
    const count = votes.filter((u) => u === v).length;
    if (count > bestCount) {
      best = v;
      bestCount = count;
    }
  }
  return best;
}

function seeded(seed: number) {
  let s = seed;
  return () => ((s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
}

describe('ClassMapSmoother', () => {
  it.each([3, 5])('matches the reference vote with a window of %i', (window) => {
    const random = seeded(window);
    const smoother = new ClassMapSmoother(window);
    const history: number[][] = [];
    for (let frame = 0; frame < 12; frame++) {
      const ids = Array.from({ length: 7 * 5 }, () => Math.floor(random() * 4));
      history.push(ids);
      const out = smoother.push({ ids: Uint8Array.from(ids), width: 7, height: 5 });
      const recent = history.slice(-window);
      expect(Array.from(out.ids)).toEqual(ids.map((_, i) => reference(recent, i)));
    }
  });

  it('lets the newest frame win when all differ, and a 2-of-3 majority beat it', () => {
    const smoother = new ClassMapSmoother(3);
    smoother.push({ ids: Uint8Array.from([1, 1]), width: 2, height: 1 });
    smoother.push({ ids: Uint8Array.from([2, 1]), width: 2, height: 1 });
    const out = smoother.push({ ids: Uint8Array.from([3, 9]), width: 2, height: 1 });
    expect(Array.from(out.ids)).toEqual([3, 1]);
  });

  it('keeps 16-bit ids and restarts when the size changes', () => {
    const smoother = new ClassMapSmoother(3);
    smoother.push({ ids: Uint16Array.from([300, 300]), width: 2, height: 1 });
    smoother.push({ ids: Uint16Array.from([300, 300]), width: 2, height: 1 });
    const out = smoother.push({ ids: Uint16Array.from([301, 300]), width: 2, height: 1 });
    expect(out.ids).toBeInstanceOf(Uint16Array);
    expect(Array.from(out.ids)).toEqual([300, 300]);
    const resized = smoother.push({ ids: Uint16Array.from([7, 7, 7]), width: 3, height: 1 });
    expect(Array.from(resized.ids)).toEqual([7, 7, 7]);
  });

  it('rejects a bad window', () => {
    expect(() => new ClassMapSmoother(0)).toThrow(/smoothing window: expected an integer 1..9, got 0/);
    expect(() => new ClassMapSmoother(2.5)).toThrow(/got 2.5/);
  });
});
