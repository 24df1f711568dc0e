/**
 * The stuck-frame timeout of the inference stage, with real frames from GStreamer and real ONNX Runtime runs that
 * take longer than the (deliberately tiny) timeout, so every frame is declared stuck while the worker is inside
 * session.run(). Terminating a worker there aborted the whole process (SIGABRT from the ONNX Runtime binding);
 * the stage now retires such a worker instead. If that regressed, this test file's process would die.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildLaunch } from '../../pipelines/index.ts';
import { ensureDemoModel } from '../../server/model/demo/demo-model.ts';
import { GstSource } from '../../server/stages/source/gst-source.ts';
import { InferenceStage } from '../../server/stages/infer/inference-stage.ts';
import { ROOT, waitFor } from './helpers.ts';

describe('inference stage: a frame stuck in the worker', () => {
  it('is reported as failed, the worker is replaced, the process survives, and nothing stays in flight', async () => {
    // The SegFormer-B0-shaped demo at 128x128 takes tens of milliseconds per run; 5 ms is always "stuck".
    const files = await ensureDemoModel(path.join(ROOT, '.cache', 'demo-models'), { variant: 'b0', size: 128, classes: 150 });
    const stage = new InferenceStage({
      model: { backend: 'onnx', files: [files.modelPath], configPath: files.configPath, preprocessorPath: files.preprocessorPath, name: 'b0-128' },
      threads: 1,
      postprocess: { mode: 'lowres', smoothing: 0 },
      stuckAfterMs: 5,
    });
    const lost: string[] = [];
    const failed: number[] = [];
    let results = 0;
    stage.on('worker-lost', (err) => lost.push(err.message));
    stage.on('frame-error', (ctx) => failed.push(ctx.id));
    stage.on('result', () => results++);
    await stage.start();

    const source = new GstSource({ name: 'test', launch: buildLaunch('test', { kind: 'test', width: 320, height: 240, framerate: 30 }) });
    source.on('frame', (ctx) => stage.submit(ctx));
    source.start();
    try {
      await waitFor(() => lost.length >= 3, 'three stuck frames', 45_000);
    } finally {
      await source.stop();
    }
    // With no new frames, whatever was in flight is resolved one way or the other.
    await waitFor(() => !stage.busy, 'the stage to have no frame in flight');
    await stage.close();

    for (const message of lost) expect(message).toMatch(/^inference worker did not answer frame \d+ within 5 ms$/);
    // Every stuck frame came back as a frame error (the viewer's counters see it), none is left waiting.
    const stuckIds = lost.map((m) => Number(/frame (\d+)/.exec(m)![1]));
    expect(failed.slice(0, stuckIds.length)).toEqual(stuckIds);
    expect(stage.workerRestarts).toBeGreaterThanOrEqual(3);
    expect(results).toBe(0);
  });
});
