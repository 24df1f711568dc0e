import { describe, expect, it } from 'vitest';
import { subtractCounters, summarizeRss, summarizeRun, summarizeSegments, type FrameRecord } from '../../server/bench/summary.ts';
import { percentile, RateMeter, SampleWindow, summarize } from '../../server/util/stats.ts';
import { at } from '../../server/util/checked-access.ts';

describe('statistics', () => {
  it('nearest-rank percentiles', () => {
    const v = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1, unsorted order
    expect(percentile(v, 50)).toBe(50);
    expect(percentile(v, 90)).toBe(90);
    expect(percentile(v, 99)).toBe(99);
    expect(percentile(v, 100)).toBe(100);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
    expect(summarize([1, 2, 3, 10])).toEqual({ count: 4, p50: 2, p90: 10, p99: 10, max: 10, mean: 4 });
  });

  it('sample window keeps only the newest values', () => {
    const w = new SampleWindow(3);
    for (const v of [1, 2, 3, 4, 5]) w.push(v);
    expect([...w.values()].sort()).toEqual([3, 4, 5]);
    expect(w.last()).toBe(5);
    w.clear();
    expect(w.size).toBe(0);
  });

  it('rate meter counts events per second in its window', () => {
    const r = new RateMeter(1000);
    for (let t = 0; t <= 900; t += 100) r.mark(t);
    expect(r.rate(900)).toBeCloseTo(10, 5);
    expect(r.rate(5000)).toBe(0);
  });
});

function synthetic(n: number, opts: { slowFirst?: number } = {}): FrameRecord[] {
  const out: FrameRecord[] = [];
  let t = 0;
  for (let i = 0; i < n; i++) {
    const slow = i < (opts.slowFirst ?? 0);
    const infer = slow ? 500 : 90 + (i % 10);
    t += slow ? 600 : 100;
    out.push({ id: i + 1, doneAt: t, totalMs: infer + 20, timings: { capture: 1, preprocess: 5, infer, postprocess: 4, overlay: 2, encode: 6 } });
  }
  return out;
}

describe('summarizeRun', () => {
  it('excludes the warm-up from percentiles and from throughput', () => {
    const records = synthetic(25, { slowFirst: 5 });
    const s = summarizeRun(records, 5, { captured: 100, inferenceBusy: 70, renderBusy: 3, slowClient: 2, errors: 0 });
    expect(s.frames).toBe(20);
    expect(s.stages.infer!.max).toBe(99); // the 500 ms warm-up frames are gone
    expect(s.stages.infer!.p50).toBe(94);
    // 20 frames, 100 ms apart after the last warm-up frame.
    expect(s.seconds).toBeCloseTo(2.0, 6);
    expect(s.fps).toBeCloseTo(10, 6);
    const withWarmup = summarizeRun(records, 0, { captured: 0, inferenceBusy: 0, renderBusy: 0, slowClient: 0, errors: 0 });
    expect(withWarmup.stages.infer!.max).toBe(500);
    expect(withWarmup.fps).toBeLessThan(s.fps);
  });

  it('accounts drops by where, as a fraction of captured frames', () => {
    const start = { captured: 10, inferenceBusy: 5, renderBusy: 0, slowClient: 1, errors: 0 };
    const end = { captured: 110, inferenceBusy: 75, renderBusy: 3, slowClient: 4, errors: 2 };
    const d = subtractCounters(end, start);
    expect(d).toEqual({ captured: 100, inferenceBusy: 70, renderBusy: 3, slowClient: 3, errors: 2 });
    const s = summarizeRun(synthetic(10), 2, d);
    expect(s.dropped.fractionDropped).toBeCloseTo(0.75, 9);
    expect(s.dropped.slowClient).toBe(3);
  });

  it('reports how much of the frame time the stages explain', () => {
    const s = summarizeRun(synthetic(12), 2, { captured: 0, inferenceBusy: 0, renderBusy: 0, slowClient: 0, errors: 0 });
    // stages sum to infer + 18, frame total is infer + 20
    expect(s.stageSumRatio).toBeGreaterThan(0.95);
    expect(s.stageSumRatio).toBeLessThan(1);
  });

  it('refuses runs too short to measure', () => {
    expect(() => summarizeRun(synthetic(3), 3, { captured: 0, inferenceBusy: 0, renderBusy: 0, slowClient: 0, errors: 0 })).toThrow(/only 3 frames were rendered; need more than warm-up \(3\) \+ 1/);
  });
});

describe('summarizeSegments (the rounds pooled)', () => {
  const none = { captured: 0, inferenceBusy: 0, renderBusy: 0, slowClient: 0, errors: 0 };

  it('one segment gives exactly summarizeRun', () => {
    const records = synthetic(25, { slowFirst: 5 });
    const drops = { captured: 100, inferenceBusy: 70, renderBusy: 3, slowClient: 2, errors: 0 };
    expect(summarizeSegments([{ records, drops }], 5)).toEqual(summarizeRun(records, 5, drops));
  });

  it('drops each segment\'s warm-up, adds up frames, seconds and drops, and takes percentiles over all frames', () => {
    // Segment A: 2 slow warm-up frames, then 10 frames 100 ms apart (1.0 s). Segment B: 2 warm-up, 5 frames 200 ms apart (1.0 s).
    const a = synthetic(12, { slowFirst: 2 });
    const b = synthetic(7, { slowFirst: 2 }).map((r, i) => (i < 2 ? r : { ...r, doneAt: at(a, 1, 'a').doneAt + (i - 1) * 200, timings: { ...r.timings, infer: 190 } }));
    const s = summarizeSegments(
      [
        { records: a, drops: { captured: 40, inferenceBusy: 28, renderBusy: 0, slowClient: 1, errors: 0 } },
        { records: b, drops: { captured: 20, inferenceBusy: 14, renderBusy: 1, slowClient: 0, errors: 1 } },
      ],
      2,
    );
    expect(s.frames).toBe(15);
    expect(s.warmupFrames).toBe(2);
    expect(s.seconds).toBeCloseTo(2.0, 9);
    expect(s.fps).toBeCloseTo(15 / 2.0, 9);
    expect(s.stages.infer!.count).toBe(15);
    expect(s.stages.infer!.max).toBe(190); // segment B's frames; neither segment's 500 ms warm-up
    expect(s.dropped).toMatchObject({ captured: 60, inferenceBusy: 42, renderBusy: 1, slowClient: 1, errors: 1 });
    expect(s.dropped.fractionDropped).toBeCloseTo(44 / 60, 9);
  });

  it('refuses no segments, and a segment too short to measure', () => {
    expect(() => summarizeSegments([], 2)).toThrow('summarizeSegments: no segments');
    expect(() => summarizeSegments([{ records: synthetic(10), drops: none }, { records: synthetic(3), drops: none }], 2)).toThrow(/only 3 frames were rendered/);
  });
});

describe('summarizeRss', () => {
  it('min, median and max of the readings in MiB', () => {
    const MiB = 2 ** 20;
    expect(summarizeRss([300, 310, 305, 320, 290].map((v) => v * MiB))).toEqual({ samples: 5, minMiB: 290, medianMiB: 305, maxMiB: 320 });
    expect(summarizeRss([])).toBeNull();
  });
});
