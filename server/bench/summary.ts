/**
 * Turns per-frame records from a benchmark run into the datasheet numbers: per-stage percentiles, end-to-end
 * throughput, drops by where, after excluding the warm-up. Pure functions, so tests can feed synthetic timings.
 */
import { STAGES, type StageName } from '../stages/frame-context.ts';
import { summarize, type Summary } from '../util/stats.ts';
import { at } from '../util/checked-access.ts';

export interface FrameRecord {
  id: number;
  /** performance.now() when the frame was rendered (end of encode). */
  doneAt: number;
  /** Arrival -> end of encode, ms. */
  totalMs: number;
  timings: Partial<Record<StageName, number>>;
}

export interface DropCounters {
  /** Frames the source delivered. */
  captured: number;
  /** Replaced while the model was busy (latest frame wins). */
  inferenceBusy: number;
  /** Dropped because two renders were already running. */
  renderBusy: number;
  /** Not sent to a slow client. */
  slowClient: number;
  /** Failed in inference or rendering. */
  errors: number;
}

export interface RunSummary {
  frames: number;
  warmupFrames: number;
  seconds: number;
  fps: number;
  stages: Partial<Record<StageName, Summary>>;
  total: Summary;
  /** Sum of the mean stage times divided by the mean measured frame time. */
  stageSumRatio: number;
  dropped: Omit<DropCounters, 'captured'> & { captured: number; fractionDropped: number };
}

export function subtractCounters(end: DropCounters, start: DropCounters): DropCounters {
  return {
    captured: end.captured - start.captured,
    inferenceBusy: end.inferenceBusy - start.inferenceBusy,
    renderBusy: end.renderBusy - start.renderBusy,
    slowClient: end.slowClient - start.slowClient,
    errors: end.errors - start.errors,
  };
}

/** The frames after the warm-up, the ones that count for throughput, and the seconds they span. */
function measuredPart(records: FrameRecord[], warmup: number): { measured: FrameRecord[]; counted: number; seconds: number } {
  if (!Number.isInteger(warmup) || warmup < 0) throw new Error(`warmup: expected a non-negative integer, got ${warmup}`);
  if (records.length <= warmup + 1) {
    throw new Error(`only ${records.length} frames were rendered; need more than warm-up (${warmup}) + 1 to measure`);
  }
  const sorted = [...records].sort((a, b) => a.doneAt - b.doneAt);
  const measured = sorted.slice(warmup);
  // More records than warmup + 1 (checked above), so these indices exist.
  const startAt = at(sorted, Math.max(0, warmup - 1), 'frame records').doneAt;
  const counted = warmup > 0 ? measured.length : measured.length - 1;
  const seconds = (at(sorted, sorted.length - 1, 'frame records').doneAt - startAt) / 1000;
  return { measured, counted, seconds };
}

function summarizeMeasured(measured: FrameRecord[], counted: number, seconds: number, warmup: number, drops: DropCounters): RunSummary {
  const stages: RunSummary['stages'] = {};
  let stageMeanSum = 0;
  for (const stage of STAGES) {
    const values = measured.map((r) => r.timings[stage]).filter((v): v is number => v !== undefined);
    if (values.length === 0) continue;
    const s = summarize(values);
    stages[stage] = s;
    if (stage !== 'send') stageMeanSum += s.mean;
  }
  const total = summarize(measured.map((r) => r.totalMs));
  const lost = drops.inferenceBusy + drops.renderBusy + drops.errors;
  return {
    frames: measured.length,
    warmupFrames: warmup,
    seconds,
    fps: seconds > 0 ? counted / seconds : 0,
    stages,
    total,
    stageSumRatio: total.mean > 0 ? stageMeanSum / total.mean : NaN,
    dropped: { ...drops, fractionDropped: drops.captured > 0 ? lost / drops.captured : 0 },
  };
}

/**
 * Summarises the records after the first `warmup` frames. Throughput counts the frames after the warm-up over
 * the time from the last warm-up frame to the last frame (so the warm-up's slow start is excluded too).
 */
export function summarizeRun(records: FrameRecord[], warmup: number, drops: DropCounters): RunSummary {
  const { measured, counted, seconds } = measuredPart(records, warmup);
  return summarizeMeasured(measured, counted, seconds, warmup, drops);
}

export interface SegmentRecords {
  /** Every frame rendered in the segment, its warm-up first. */
  records: FrameRecord[];
  /** Counters over the segment's measured window. */
  drops: DropCounters;
}

/**
 * Pools pipeline segments (the interleaved rounds): each segment loses its own `warmup` frames, throughput is
 * all counted frames over the segments' measured seconds added up, percentiles are over all measured frames and
 * drops are added up. One segment gives exactly summarizeRun's figures. `warmupFrames` is per segment.
 */
export function summarizeSegments(segments: SegmentRecords[], warmup: number): RunSummary {
  if (segments.length === 0) throw new Error('summarizeSegments: no segments');
  const parts = segments.map((s) => measuredPart(s.records, warmup));
  const drops = segments.map((s) => s.drops).reduce((a, b) => ({
    captured: a.captured + b.captured,
    inferenceBusy: a.inferenceBusy + b.inferenceBusy,
    renderBusy: a.renderBusy + b.renderBusy,
    slowClient: a.slowClient + b.slowClient,
    errors: a.errors + b.errors,
  }));
  return summarizeMeasured(
    parts.flatMap((p) => p.measured),
    parts.reduce((a, p) => a + p.counted, 0),
    parts.reduce((a, p) => a + p.seconds, 0),
    warmup,
    drops,
  );
}

export interface RssSummary {
  /** Readings over the period (one per 250 ms, plus its start and end). */
  samples: number;
  minMiB: number;
  medianMiB: number;
  maxMiB: number;
}

/** Resident memory over a measured period, as bench/footprint.ts reports it: min, median and max of the readings (bytes). */
export function summarizeRss(readings: readonly number[]): RssSummary | null {
  if (readings.length === 0) return null;
  const s = summarize(readings);
  const min = readings.reduce((a, b) => Math.min(a, b), Infinity);
  return { samples: readings.length, minMiB: min / MiB, medianMiB: s.p50 / MiB, maxMiB: s.max / MiB };
}

const MiB = 2 ** 20;

export function formatMs(v: number): string {
  return Number.isFinite(v) ? v.toFixed(v < 10 ? 2 : 1) : '-';
}

export function stageTable(summary: RunSummary): string {
  const header = ['stage', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'mean ms'];
  const rows = [header];
  for (const stage of STAGES) {
    const s = summary.stages[stage];
    if (s) rows.push([stage, formatMs(s.p50), formatMs(s.p90), formatMs(s.p99), formatMs(s.max), formatMs(s.mean)]);
  }
  const t = summary.total;
  rows.push(['frame (arrival->encoded)', formatMs(t.p50), formatMs(t.p90), formatMs(t.p99), formatMs(t.max), formatMs(t.mean)]);
  const widths = header.map((_, i) => Math.max(...rows.map((r) => at(r, i, 'stage table row').length)));
  const width = (i: number) => at(widths, i, 'stage table widths');
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(width(i)) : c.padStart(width(i)))).join('  ')).join('\n');
}
