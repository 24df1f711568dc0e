// The datasheet's arithmetic (axis maxima, histogram bins, per-second rates) and that it escapes what it shows.
import { describe, expect, it } from 'vitest';
import { benchReportHtml, fpsPerSecond, histogram, niceMax } from '../../server/bench/report-html.ts';
import type { BenchResult } from '../../server/bench/run.ts';
import { summarize } from '../../server/util/stats.ts';

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
