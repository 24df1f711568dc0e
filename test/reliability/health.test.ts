/**
 * Issue 18, attack 7 (and issue 12 item 3): /healthz must reflect frames actually reaching the viewers. It used to
 * say 200 "live" while every inference failed, or while a model too slow for the machine sent nothing for 70 s.
 * Real ONNX Runtime in the real worker, real GStreamer, in-process server:
 *  - a model that fails in every run (a Gather with an index out of range: loads fine, fails in ONNX Runtime):
 *    after `watchdog.inferenceFailures` frames in a row, status backend-error naming what fails, /healthz 503,
 *    the count in /metrics, one log line that says what to do; per-frame log lines rate-limited; switching to a
 *    good model makes it live again;
 *  - a model that takes 60 s per frame (the worker's delay hook): after `watchdog.noOutputMs` without a frame for
 *    the viewers, status backend-error "no frame reached the viewers", /healthz 503.
 * And (issue 18, item 11) a GStreamer error shows viewers a short reason; the log keeps GStreamer's details.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { OnnxGraphBuilder, attr } from '../../server/model/onnx/builder.ts';
import { OnnxElemType } from '../../server/model/onnx/reader.ts';
import { tempDir } from '../helpers/media.ts';
import { baseConfig, connectViewer, healthz, metric, metricsText, sendControl, startApp, TOKEN, waitFor, type TestApp } from './helpers.ts';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** pixel_values [1,3,64,64] -> Conv 4x4/4 -> Gather on the class axis with index 99 of 8: ONNX Runtime refuses every run. */
function failingModel(file: string): string {
  const b = new OnnxGraphBuilder({ opset: 17, producerName: 'segstream-test' });
  const x = b.input('pixel_values', OnnxElemType.FLOAT, [1, 3, 64, 64]);
  const w = b.initializer('w', { type: 'float32', dims: [8, 3, 4, 4], data: new Float32Array(8 * 48).fill(0.01) });
  const c = b.node('Conv', [x, w], { kernel_shape: attr.ints([4, 4]), strides: attr.ints([4, 4]) }, { scope: '/head' });
  const idx = b.initializer('idx', { type: 'int64', dims: [8], data: [0, 1, 2, 3, 4, 5, 6, 99] });
  b.node('Gather', [c, idx], { axis: attr.int(1) }, { scope: '/bad', outputs: ['logits'] });
  b.output('logits', OnnxElemType.FLOAT, [1, 8, 16, 16]);
  writeFileSync(file, b.toBytes());
  return file;
}

async function start(raw: Record<string, unknown>, dir: string, options: Parameters<typeof startApp>[2] = {}): Promise<TestApp> {
  const t = await startApp(raw, dir, options);
  cleanups.push(() => t.stop());
  return t;
}

describe('health reflects frames that reach the viewers (attack 7)', () => {
  it('a model that fails on every frame: backend-error naming it, /healthz 503, /metrics, one helpful log line; back to live after a switch', async () => {
    const dir = tempDir('health-failing');
    const bad = failingModel(path.join(dir, 'bad.onnx'));
    const t = await start(
      baseConfig({
        models: { bad: { path: bad }, tiny: { demo: { variant: 'tiny', size: 64, classes: 8 } } },
        defaultModel: 'bad',
        watchdog: { noFrameMs: 1000, maxBackoffMs: 2000, inferenceFailures: 5 },
      }),
      dir,
    );
    const v = await connectViewer(t.port);
    cleanups.push(() => v.ws.terminate());
    await waitFor(() => v.statuses().some((s) => s.state === 'backend-error'), 'backend-error');
    const status = v.statuses().find((s) => s.state === 'backend-error')!;
    expect(status.message).toMatch(/^inference fails on every frame \(5 in a row\): .*Gather.*Check the model/);
    const h = await healthz(t.port);
    expect(h.code).toBe(503);
    expect(h.body.message).toBe(status.message);
    const m = await metricsText(t.port);
    expect(metric(m, 'segstream_inference_consecutive_failures')).toBeGreaterThanOrEqual(5);
    expect(metric(m, 'segstream_backend_errors_total')).toBeGreaterThanOrEqual(5);
    expect(metric(m, 'segstream_up', { state: 'backend-error' })).toBe(0);
    expect(t.logs.filter((l) => l.startsWith('inference failed on 5 frames in a row'))).toHaveLength(1);
    expect(t.logs.find((l) => l.startsWith('inference failed on 5 frames in a row'))).toContain(`segstream model info ${bad}`);
    // 30 failing frames a second: the per-frame lines are limited (5 per 10 s, then a count).
    await new Promise((r) => setTimeout(r, 3000));
    const frameLines = t.logs.filter((l) => /^frame \d+: inference failed/.test(l));
    console.log(`[reliability] failing model: ${metric(await metricsText(t.port), 'segstream_backend_errors_total')} failed frames, ${frameLines.length} per-frame log lines`);
    expect(frameLines.length).toBeLessThanOrEqual(10);

    expect(await sendControl(v, { token: TOKEN, action: 'set-model', value: 'tiny' })).toMatchObject({ ok: true });
    await waitFor(() => v.statuses().at(-1)?.state === 'live', 'live with the good model');
    await waitFor(async () => (await healthz(t.port)).code === 200, '/healthz 200');
    expect(metric(await metricsText(t.port), 'segstream_inference_consecutive_failures')).toBe(0);
  });

  it('a model too slow to deliver: no frame reaches the viewers for noOutputMs -> backend-error, /healthz 503', async () => {
    const dir = tempDir('health-slow');
    const t = await start(baseConfig({ watchdog: { noFrameMs: 1000, maxBackoffMs: 2000, noOutputMs: 2000 } }), dir, { faults: { delayMs: 60_000 } });
    const v = await connectViewer(t.port);
    cleanups.push(() => v.ws.terminate());
    await waitFor(() => v.statuses().some((s) => s.state === 'backend-error'), 'backend-error');
    const h = await healthz(t.port);
    expect(h.code).toBe(503);
    expect(h.body.message).toMatch(/^no frame reached the viewers for \d+ s \(source \d+\.\d fps, inference 0\.0 fps\): the model may be too slow/);
    expect(v.frames).toHaveLength(0);
    // The source is fine: this is not a source problem, and the watchdog did not rebuild it.
    expect(metric(await metricsText(t.port), 'segstream_source_restarts_total')).toBe(0);
  });
});

describe('GStreamer errors: a short reason for viewers, the details in the log (item 11)', () => {
  it('a file that is not media: the status says what failed, without C files, line numbers or element paths', async () => {
    const dir = tempDir('health-typefind');
    const junk = path.join(dir, 'junk.mp4');
    writeFileSync(junk, randomBytes(64 * 1024));
    const t = await start(baseConfig({ sources: { junk: { kind: 'file', path: junk, width: 320, height: 240 } }, defaultSource: 'junk' }), dir);
    const v = await connectViewer(t.port);
    cleanups.push(() => v.ws.terminate());
    await waitFor(() => v.statuses().some((s) => s.state === 'source-lost'), 'source-lost');
    const message = v.statuses().find((s) => s.state === 'source-lost')!.message;
    console.log(`[reliability] status for a file that is not media: ${message}`);
    expect(message).toContain(junk);
    expect(message).toMatch(/GStreamer error from \w+/);
    expect(message).not.toMatch(/\.c\(\d+\)|GstPipeline|\/Gst[A-Z]/);
    // The log line has GStreamer's debug text.
    expect(t.logs.some((l) => l.startsWith('source junk lost') && /\.c\(\d+\)/.test(l))).toBe(true);
  });
});
