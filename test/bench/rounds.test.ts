// The interleaving schedule, how the totals are split over the rounds, and one round's figures from synthetic
// segments (hand-computed), without running anything.
import { describe, expect, it } from 'vitest';
import { interleavedRatios, interleaveSchedule, planRounds, splitEvenly, summarizeRound, type PipelineSegmentFigures } from '../../server/bench/rounds.ts';
import type { FrameRecord } from '../../server/bench/summary.ts';
import { at } from '../../server/util/checked-access.ts';

describe('interleaveSchedule', () => {
  it('alternates the order round by round (ABBA), each round one pipeline and one model-only segment', () => {
    expect(interleaveSchedule(4).map((s) => `${s.round}:${s.kind}`)).toEqual([
      '0:pipeline', '0:model-only',
      '1:model-only', '1:pipeline',
      '2:pipeline', '2:model-only',
      '3:model-only', '3:pipeline',
    ]);
    expect(interleaveSchedule(1)).toEqual([{ round: 0, kind: 'pipeline' }, { round: 0, kind: 'model-only' }]);
    const seven = interleaveSchedule(7);
    expect(seven).toHaveLength(14);
    for (let r = 0; r < 7; r++) expect(seven.filter((s) => s.round === r).map((s) => s.kind).sort()).toEqual(['model-only', 'pipeline']);
  });

  it('refuses a count of rounds that is not a positive integer', () => {
    expect(() => interleaveSchedule(0)).toThrow('rounds: expected a positive integer, got 0');
    expect(() => interleaveSchedule(1.5)).toThrow('rounds: expected a positive integer, got 1.5');
  });
});

describe('splitEvenly / planRounds', () => {
  it('splits a total into shares that differ by at most one, the larger first', () => {
    expect(splitEvenly(60, 5)).toEqual([12, 12, 12, 12, 12]);
    expect(splitEvenly(8, 3)).toEqual([3, 3, 2]);
    expect(splitEvenly(3, 3)).toEqual([1, 1, 1]);
    expect(splitEvenly(0, 2)).toEqual([0, 0]);
    expect(() => splitEvenly(3, 0)).toThrow('splitEvenly: parts must be a positive integer, got 0');
  });

  it('defaults to 5 rounds, fewer when the totals cannot give each round 2 frames and 1 run', () => {
    expect(planRounds({ frames: 60, durationS: 0, modelOnlyRuns: 30 })).toEqual({ rounds: 5, framesPerRound: [12, 12, 12, 12, 12], secondsPerRound: 0, runsPerRound: [6, 6, 6, 6, 6], automatic: true });
    expect(planRounds({ frames: 8, durationS: 0, modelOnlyRuns: 3 })).toMatchObject({ rounds: 3, framesPerRound: [3, 3, 2], runsPerRound: [1, 1, 1] });
    expect(planRounds({ frames: 4, durationS: 0, modelOnlyRuns: 30 }).rounds).toBe(2);
    expect(planRounds({ frames: 2, durationS: 0, modelOnlyRuns: 1 }).rounds).toBe(1);
    // By duration: the seconds are split, at least 10 per round unless --rounds says otherwise.
    expect(planRounds({ frames: 60, durationS: 600, modelOnlyRuns: 30 })).toMatchObject({ rounds: 5, secondsPerRound: 120, framesPerRound: [0, 0, 0, 0, 0] });
    expect(planRounds({ frames: 60, durationS: 35, modelOnlyRuns: 30 }).rounds).toBe(3);
    expect(planRounds({ frames: 60, durationS: 3, modelOnlyRuns: 30 }).rounds).toBe(1);
    expect(planRounds({ rounds: 3, frames: 60, durationS: 3, modelOnlyRuns: 30 }).secondsPerRound).toBe(1);
  });

  it('takes an explicit --rounds, and names the flag that is too small for it', () => {
    expect(planRounds({ rounds: 8, frames: 160, durationS: 0, modelOnlyRuns: 80 })).toMatchObject({ rounds: 8, automatic: false, framesPerRound: new Array(8).fill(20), runsPerRound: new Array(8).fill(10) });
    expect(() => planRounds({ rounds: 5, frames: 8, durationS: 0, modelOnlyRuns: 30 })).toThrow('--rounds 5: each round needs 2 measured frames, so --frames must be at least 10 (got 8)');
    expect(() => planRounds({ rounds: 5, frames: 60, durationS: 0, modelOnlyRuns: 3 })).toThrow('--rounds 5: each round needs a model-only run, so --model-only-runs must be at least 5 (got 3)');
    expect(() => planRounds({ rounds: 5, frames: 60, durationS: 4, modelOnlyRuns: 30 })).toThrow('--rounds 5: each round measures --duration / --rounds seconds, at least 1 s, so --duration must be at least 5 (got 4)');
    expect(() => planRounds({ rounds: 0, frames: 60, durationS: 0, modelOnlyRuns: 30 })).toThrow('--rounds: expected an integer from 1 to 1000, got 0');
  });
});

/** `n` frames finishing `everyMs` apart from t = 1000 ms, each with the given infer time. */
function frames(n: number, everyMs: number, inferMs: number): FrameRecord[] {
  return Array.from({ length: n }, (_, i) => ({ id: i + 1, doneAt: 1000 + i * everyMs, totalMs: inferMs + 10, timings: { infer: inferMs } }));
}

describe('summarizeRound / interleavedRatios', () => {
  const drops = { captured: 30, inferenceBusy: 20, renderBusy: 0, slowClient: 0, errors: 0 };

  it("computes a round's ratios from its own two segments", () => {
    // 2 warm-up frames, then 10 measured frames 250 ms apart: 10 frames over 2.5 s = 4 fps.
    const p: PipelineSegmentFigures = { records: frames(12, 250, 200), drops, ages: [300, 310, 320, 500], wallS: 2.6, cpuS: 2.6 * 1.5, rss: [100 * 2 ** 20, 110 * 2 ** 20, 105 * 2 ** 20] };
    // 5 runs of 190-210 ms in 1.0 s: 5 fps, p50 200 ms.
    const m = { ms: [190, 200, 210, 200, 200], wallS: 1.0, cpuS: 1.6 };
    const r = summarizeRound(0, p, m, 2);
    expect(r.round).toBe(1);
    expect(r.first).toBe('pipeline');
    expect(r.pipeline).toMatchObject({ frames: 10, fps: 4, inferP50Ms: 200, frameAgeP99Ms: 500, frameAges: 4 });
    expect(r.pipeline.seconds).toBeCloseTo(2.5, 9);
    expect(r.pipeline.serverCores).toBeCloseTo(1.5, 9);
    expect(r.pipeline.rss).toEqual({ samples: 3, minMiB: 100, medianMiB: 105, maxMiB: 110 });
    expect(r.modelOnly).toMatchObject({ runs: 5, fps: 5, p50Ms: 200 });
    expect(r.modelOnly.cpuSecondsPerRun).toBeCloseTo(0.32, 9);
    expect(r.e2eVsModelOnly).toBeCloseTo(4 / 5, 9);
    expect(r.frameAgeP99VsModelP50).toBeCloseTo(500 / 200, 9);
    expect(summarizeRound(1, p, m, 2).first).toBe('model-only');
    expect(summarizeRound(2, { ...p, ages: [] }, m, 2).frameAgeP99VsModelP50).toBeNull();
  });

  it('the mean of the per-round ratios with its interval; frame age only over the rounds that have one', () => {
    const p = (everyMs: number, ages: number[]): PipelineSegmentFigures => ({ records: frames(6, everyMs, 100), drops, ages, wallS: 1, cpuS: 1, rss: [] });
    const m = { ms: [100, 100, 100, 100], wallS: 0.4, cpuS: 0.4 }; // 10 fps, p50 100 ms
    // 5 measured frames over 5 intervals: 125 ms -> 8 fps (0.8), 111.11 ms -> 9 fps (0.9), 100 ms -> 10 fps (1.0).
    const rounds = [summarizeRound(0, p(125, [150]), m, 1), summarizeRound(1, p(1000 / 9, []), m, 1), summarizeRound(2, p(100, [250]), m, 1)];
    expect(rounds.map((r) => r.e2eVsModelOnly.toFixed(6))).toEqual(['0.800000', '0.900000', '1.000000']);
    const ratios = interleavedRatios(rounds);
    // mean 0.9, sd 0.1, half = 4.302653 * 0.1 / sqrt(3) = 0.248414.
    expect(ratios.e2eVsModelOnly.mean).toBeCloseTo(0.9, 9);
    expect(ratios.e2eVsModelOnly.low).toBeCloseTo(0.9 - 0.248414, 5);
    expect(ratios.e2eVsModelOnly.high).toBeCloseTo(0.9 + 0.248414, 5);
    expect(ratios.frameAgeP99VsModelP50).toMatchObject({ n: 2, mean: 2 });
    expect(interleavedRatios([at(rounds, 1, 'rounds')]).frameAgeP99VsModelP50).toBeNull();
  });
});
