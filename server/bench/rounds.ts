/**
 * The interleaved schedule of `segstream bench`: K rounds, each a pipeline segment and a model-only segment on the
 * same model, so a machine whose speed drifts (a shared VM: ONNX Runtime ~20% between minutes) slows both sides
 * of each round alike and the per-round ratio holds. The order alternates (pipeline first, then model-only first,
 * ...: ABBA), so a steady drift within a round does not favour one side either.
 */
import { percentile, summarize } from '../util/stats.ts';
import { meanInterval, type MeanInterval } from './interval.ts';
import { summarizeRss, summarizeRun, type DropCounters, type FrameRecord, type RssSummary } from './summary.ts';

export type SegmentKind = 'pipeline' | 'model-only';

export interface Segment {
  /** 0-based round. */
  round: number;
  kind: SegmentKind;
}

/** Rounds when --rounds is not given (fewer when the totals cannot give each round its minimum). */
export const DEFAULT_ROUNDS = 5;
export const MAX_ROUNDS = 1000;
/** A pipeline segment needs two measured frames for a rate; a model-only segment one run. */
export const MIN_FRAMES_PER_ROUND = 2;
/**
 * Without --rounds, a --duration is split into rounds of at least this many seconds (a slow model still renders
 * two frames in each); an explicit --rounds may go down to 1 s per round.
 */
export const DEFAULT_MIN_SECONDS_PER_ROUND = 10;

/** The segments in the order they run: round r is [pipeline, model-only] for even r, [model-only, pipeline] for odd r. */
export function interleaveSchedule(rounds: number): Segment[] {
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`rounds: expected a positive integer, got ${rounds}`);
  const out: Segment[] = [];
  for (let round = 0; round < rounds; round++) {
    const kinds: SegmentKind[] = round % 2 === 0 ? ['pipeline', 'model-only'] : ['model-only', 'pipeline'];
    for (const kind of kinds) out.push({ round, kind });
  }
  return out;
}

/** `total` split into `parts` whole shares that differ by at most one, the larger ones first. */
export function splitEvenly(total: number, parts: number): number[] {
  if (!Number.isInteger(total) || total < 0) throw new Error(`splitEvenly: total must be a non-negative integer, got ${total}`);
  if (!Number.isInteger(parts) || parts < 1) throw new Error(`splitEvenly: parts must be a positive integer, got ${parts}`);
  const base = Math.floor(total / parts);
  const extra = total % parts;
  return Array.from({ length: parts }, (_, i) => base + (i < extra ? 1 : 0));
}

export interface RoundPlan {
  rounds: number;
  /** Measured frames of each round's pipeline segment (after its warm-up); all 0 when timed by duration. */
  framesPerRound: number[];
  /** Seconds each pipeline segment measures (--duration / rounds); 0 when counted in frames. */
  secondsPerRound: number;
  /** Model-only runs of each round. */
  runsPerRound: number[];
  /** Whether the count of rounds was chosen here (no --rounds). */
  automatic: boolean;
}

export interface RoundTotals {
  /** --rounds; undefined = DEFAULT_ROUNDS, or fewer when the totals are small. */
  rounds?: number | undefined;
  /** Measured frames in all (ignored when durationS > 0). */
  frames: number;
  durationS: number;
  modelOnlyRuns: number;
}

/**
 * Splits the run's totals (--frames or --duration, --model-only-runs) over the rounds. Throws, naming the flags,
 * when an explicit --rounds leaves a round without its minimum.
 */
export function planRounds(t: RoundTotals): RoundPlan {
  let rounds = t.rounds;
  const automatic = rounds === undefined;
  if (rounds === undefined) {
    const byFrames = t.durationS > 0 ? Math.floor(t.durationS / DEFAULT_MIN_SECONDS_PER_ROUND) : Math.floor(t.frames / MIN_FRAMES_PER_ROUND);
    rounds = Math.max(1, Math.min(DEFAULT_ROUNDS, t.modelOnlyRuns, byFrames));
  } else {
    if (!Number.isInteger(rounds) || rounds < 1 || rounds > MAX_ROUNDS) throw new Error(`--rounds: expected an integer from 1 to ${MAX_ROUNDS}, got ${rounds}`);
    if (t.durationS > 0 && t.durationS < rounds) {
      throw new Error(`--rounds ${rounds}: each round measures --duration / --rounds seconds, at least 1 s, so --duration must be at least ${rounds} (got ${t.durationS})`);
    }
    if (t.durationS <= 0 && t.frames < rounds * MIN_FRAMES_PER_ROUND) {
      throw new Error(`--rounds ${rounds}: each round needs ${MIN_FRAMES_PER_ROUND} measured frames, so --frames must be at least ${rounds * MIN_FRAMES_PER_ROUND} (got ${t.frames})`);
    }
    if (t.modelOnlyRuns < rounds) {
      throw new Error(`--rounds ${rounds}: each round needs a model-only run, so --model-only-runs must be at least ${rounds} (got ${t.modelOnlyRuns})`);
    }
  }
  return {
    rounds,
    framesPerRound: t.durationS > 0 ? new Array<number>(rounds).fill(0) : splitEvenly(t.frames, rounds),
    secondsPerRound: t.durationS > 0 ? t.durationS / rounds : 0,
    runsPerRound: splitEvenly(t.modelOnlyRuns, rounds),
    automatic,
  };
}

export interface PipelineSegmentFigures {
  /** Every frame rendered in the segment, its warm-up first. */
  records: FrameRecord[];
  drops: DropCounters;
  /** Frame ages acknowledged during the measured window, ms. */
  ages: number[];
  /** Wall and server CPU seconds of the measured window. */
  wallS: number;
  cpuS: number;
  /** Resident-memory readings over the measured window, bytes. */
  rss: number[];
}

export interface ModelOnlyFigures {
  ms: number[];
  wallS: number;
  cpuS: number;
}

/** One round's figures: its pipeline segment, its model-only segment, and their ratios. */
export interface BenchRound {
  /** 1-based. */
  round: number;
  first: SegmentKind;
  pipeline: { frames: number; seconds: number; fps: number; inferP50Ms: number; frameAgeP99Ms: number | null; frameAges: number; serverCores: number; rss: RssSummary | null };
  modelOnly: { runs: number; seconds: number; fps: number; p50Ms: number; cpuSecondsPerRun: number };
  /** End-to-end fps / model-only fps of this round. */
  e2eVsModelOnly: number;
  /** This round's frame age p99 / its model-only p50 (null without acknowledged frames). */
  frameAgeP99VsModelP50: number | null;
}

export function summarizeRound(round: number, p: PipelineSegmentFigures, m: ModelOnlyFigures, warmup: number): BenchRound {
  const run = summarizeRun(p.records, warmup, p.drops);
  const model = summarize(m.ms);
  const modelFps = m.wallS > 0 ? m.ms.length / m.wallS : NaN;
  const ageP99 = p.ages.length > 0 ? percentile(p.ages, 99) : null;
  return {
    round: round + 1,
    first: round % 2 === 0 ? 'pipeline' : 'model-only',
    pipeline: {
      frames: run.frames,
      seconds: run.seconds,
      fps: run.fps,
      inferP50Ms: run.stages.infer?.p50 ?? NaN,
      frameAgeP99Ms: ageP99,
      frameAges: p.ages.length,
      serverCores: p.wallS > 0 ? p.cpuS / p.wallS : NaN,
      rss: summarizeRss(p.rss),
    },
    modelOnly: { runs: m.ms.length, seconds: m.wallS, fps: modelFps, p50Ms: model.p50, cpuSecondsPerRun: m.ms.length > 0 ? m.cpuS / m.ms.length : NaN },
    e2eVsModelOnly: run.fps / modelFps,
    frameAgeP99VsModelP50: ageP99 !== null ? ageP99 / model.p50 : null,
  };
}

export interface InterleavedRatios {
  /** Per-round end-to-end / model-only: the mean and its 95% interval. */
  e2eVsModelOnly: MeanInterval;
  /** Per-round frame age p99 / model-only p50 over the rounds that had acknowledged frames; null when none had. */
  frameAgeP99VsModelP50: MeanInterval | null;
}

export function interleavedRatios(rounds: readonly BenchRound[]): InterleavedRatios {
  const ages = rounds.map((r) => r.frameAgeP99VsModelP50).filter((v): v is number => v !== null && Number.isFinite(v));
  return {
    e2eVsModelOnly: meanInterval(rounds.map((r) => r.e2eVsModelOnly)),
    frameAgeP99VsModelP50: ages.length > 0 ? meanInterval(ages) : null,
  };
}
