// The datasheet's arithmetic (axis maxima, histogram bins, per-second rates) and that it escapes what it shows.
import { describe, expect, it } from 'vitest';
import { benchReportHtml, fpsPerSecond, histogram, niceMax, ratioAxis } from '../../server/bench/report-html.ts';
import { interleavedRatios, summarizeRound } from '../../server/bench/rounds.ts';
import type { BenchResult } from '../../server/bench/run.ts';
import { summarize } from '../../server/util/stats.ts';
import { at } from '../../server/util/checked-access.ts';

describe('bench report', () => {
  it('rounds axes up to 1, 2, 2.5 or 5 x 10^n', () => {
    expect([0.7, 1, 1.2, 2.2, 3, 7, 12, 260, 0, Number.NaN].map(niceMax)).toEqual([1, 1, 2, 2.5, 5, 10, 20, 500, 1, 1]);
  });

  it('bins values, the maximum in the last bin', () => {
    expect(histogram([0, 1, 2, 9.99, 10, 5], 10, 5)).toEqual([2, 1, 1, 0, 2]);
  });

  it('counts frames per whole second', () => {
    expect(fpsPerSecond([0.1, 0.5, 0.9, 1.2, 2.9, 2.95])).toEqual([3, 1, 2]);
    expect(fpsPerSecond([])).toEqual([]);
  });

  it('escapes names and paths it shows', () => {
    const s = summarize([1, 2, 3]);
    const r = {
      startedAt: '2026-01-01T00:00:00Z',
      options: { source: 'file', file: '/x/<clip>.mp4', width: 320, height: 240, sourceFps: 0, postprocess: 'boundary', overlay: true, jpegQuality: 80, threads: 0 },
      machine: { cpuModel: 'cpu', cores: 2, arch: 'x64', memGiB: 1, os: 'os', node: 'v20', onnxruntime: '1', gstreamer: '1', segstream: '0' },
      model: { name: 'm<script>.onnx', path: '/m.onnx', input: 'x', backend: 'onnx', runtime: 'ort', untrainedDemo: false },
      source: { caps: '' },
      pipeline: { frames: 3, warmupFrames: 0, seconds: 1, fps: 3, stages: { infer: s }, total: s, stageSumRatio: 0.9, dropped: { captured: 3, inferenceBusy: 0, renderBusy: 0, slowClient: 0, errors: 0, fractionDropped: 0 } },
      modelOnly: { runs: 3, ms: s, fps: 4, cpuSecondsPerRun: 0.1 },
      endToEndVsModelOnly: 0.75,
      cpu: { serverCores: 1, browserCores: null, nonModelShare: 0.1 },
      memory: { rssStartMiB: 1, rssPeakMiB: 1, rssEndMiB: 1, heapEndMiB: 1 },
      frameAge: null,
      frameAgeP99VsModel: null,
      send: null,
      peers: [],
      endToEndVsTransformersJs: null,
      series: { frameDoneS: [0.2, 0.6, 1.4], frameAgeMs: [] },
    } as unknown as BenchResult;
    const html = benchReportHtml(r);
    expect(html).not.toContain('<script>');
    expect(html).toContain('m&#60;script&#62;.onnx');
    expect(html).toContain('/x/&#60;clip&#62;.mp4');
    expect(html).toContain('No frame was acknowledged');
  });
});

/** A result whose rounds come from synthetic segments: end-to-end at `fps[i]` against a 10 fps model. */
function withRounds(fps: number[], ages: (number | null)[]): BenchResult {
  const s = summarize([1, 2, 3]);
  const rounds = fps.map((f, i) =>
    summarizeRound(
      i,
      {
        records: Array.from({ length: 6 }, (_, k) => ({ id: k + 1, doneAt: 1000 + (k * 1000) / f, totalMs: 100, timings: { infer: 100 } })),
        drops: { captured: 6, inferenceBusy: 0, renderBusy: 0, slowClient: 0, errors: 0 },
        ages: [ages[i]].filter((age): age is number => typeof age === 'number'),
        wallS: 1,
        cpuS: 1,
        rss: [300 * 2 ** 20],
      },
      { ms: [100, 100], wallS: 0.2, cpuS: 0.2 },
      1,
    ),
  );
  return {
    startedAt: '2026-01-01T00:00:00Z',
    options: { source: 'test', width: 320, height: 240, sourceFps: 30, postprocess: 'boundary', overlay: true, jpegQuality: 80, threads: 0 },
    machine: { cpuModel: 'cpu', cores: 2, arch: 'x64', memGiB: 1, os: 'os', node: 'v20', onnxruntime: '1', gstreamer: '1', segstream: '0' },
    model: { name: 'demo', path: '/m.onnx', input: 'x', backend: 'onnx', runtime: 'ort', untrainedDemo: true },
    source: { caps: '' },
    pipeline: { frames: 5 * fps.length, warmupFrames: 1, seconds: 1, fps: 9, stages: { infer: s }, total: s, stageSumRatio: 0.9, dropped: { captured: 3, inferenceBusy: 0, renderBusy: 0, slowClient: 0, errors: 0, fractionDropped: 0 } },
    modelOnly: { runs: 2 * fps.length, ms: s, fps: 10, cpuSecondsPerRun: 0.1, rssMiB: 150 },
    endToEndVsModelOnly: 0.9,
    interleaved: { ...interleavedRatios(rounds), rounds, automatic: true, modelOnlyWarmupRuns: 1 },
    cpu: { serverCores: 1, browserCores: null, nonModelShare: 0.1 },
    memory: { rssStartMiB: 300, rssPeakMiB: 310, rssEndMiB: 305, heapEndMiB: 20, rss: { samples: 9, minMiB: 299, medianMiB: 302, maxMiB: 310 }, memoryArena: false },
    frameAge: null,
    frameAgeP99VsModel: 2,
    send: null,
    peers: [],
    endToEndVsTransformersJs: null,
    series: { frameDoneS: [0.2, 0.6, 1.4], roundStartS: fps.map((_, i) => i), frameAgeMs: [] },
  } as unknown as BenchResult;
}

describe('bench report: interleaved rounds', () => {
  it('fits the ratio axis around the values on round steps, never below 0', () => {
    expect(ratioAxis([0.9, 0.95])).toEqual({ min: 0.85, max: 1, step: 0.05 });
    expect(ratioAxis([1, 1])).toEqual({ min: 0.95, max: 1.05, step: 0.025 });
    expect(ratioAxis([0.01, 0.5])).toEqual({ min: 0, max: 0.6, step: 0.2 });
    expect(ratioAxis([0.483, 0.838, 1.494])).toEqual({ min: 0.25, max: 1.75, step: 0.25 });
    expect(ratioAxis([Number.NaN])).toEqual({ min: 0, max: 1, step: 0.2 });
  });

  it('charts one point per round (filled when the pipeline ran first), the mean, its interval and the 1.0 line', () => {
    const r = withRounds([8, 9, 10, 9.5], [200, null, 250, 300]);
    const html = benchReportHtml(r);
    const e2e = [...html.matchAll(/<circle class="round-point e2e-ratio" data-round="(\d+)"[^>]*fill="([^"]+)"/g)];
    expect(e2e.map((m) => m[1])).toEqual(['1', '2', '3', '4']);
    expect(e2e.map((m) => m[2] !== '#fff')).toEqual([true, false, true, false]);
    // Rounds without an acknowledged frame have no frame-age point.
    expect([...html.matchAll(/class="round-point age-ratio" data-round="(\d+)"/g)].map((m) => m[1])).toEqual(['1', '3', '4']);
    expect(html.match(/class="ci-band"/g)).toHaveLength(2);
    expect(html.match(/class="reference"/g)).toHaveLength(2);
    expect(html.match(/<tr class="round-row">/g)).toHaveLength(4);
    const i = r.interleaved.e2eVsModelOnly;
    expect(html).toContain(`mean ${i.mean.toFixed(3)}`);
    expect(html).toContain(`95% interval ${i.low!.toFixed(3)} to ${i.high!.toFixed(3)}`);
    expect(html).toContain('min 299, median 302, max 310 MiB (9 readings after warm-up); ONNX Runtime memory arena off');
    expect(html).not.toMatch(/NaN|undefined/);
    // The points sit in round order at their values: a higher ratio is higher on the chart (smaller y).
    const ys = [...html.matchAll(/class="round-point e2e-ratio" data-round="\d+" cx="[^"]+" cy="([^"]+)"/g)].map((m) => Number(m[1]));
    expect(ys[0]).toBeGreaterThan(at(ys, 1, 'ys'));
    expect(ys[1]).toBeGreaterThan(at(ys, 2, 'ys'));
  });

  it('one round: its point and mean, no interval band; a result from before the rounds still renders', () => {
    const one = benchReportHtml(withRounds([9], [200]));
    expect(one.match(/class="round-point e2e-ratio"/g)).toHaveLength(1);
    expect(one).not.toContain('class="ci-band"');
    expect(one).toContain('(one round: no interval)');
    const old = withRounds([9], [200]) as unknown as Record<string, unknown>;
    delete old.interleaved;
    expect(benchReportHtml(old as unknown as BenchResult)).toContain('This run has no interleaved rounds');
  });
});
