/**
 * Lifecycle: BPU memory allocated once per model and freed by close(), cache maintenance on every run,
 * inference off the JavaScript thread, one inference in flight per model (two with pipelineDepth 2), close()
 * waiting for work in flight, and a garbage-collected backend still releasing its memory.
 */
import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { BpuBackend } from '../../../../server/stages/infer/bpu-backend.ts';
import type { InferenceResult } from '../../../../server/stages/infer/backend.ts';
import { bpuAddonPath } from '../../../../server/stages/infer/bpu/native.ts';
import { expectNothingAlive, expectedOutput, fixture, makeNv12, testDouble, type TestNv12 } from './helpers.ts';
import { at } from '../../../../server/util/checked-access.ts';

const MODELS = fixture('nv12-models.json');

afterEach(() => {
  testDouble().hold(false);
  expectNothingAlive();
});

/** Resolves once `check` holds, polling on timers: it can only resolve if the JavaScript thread is free. */
async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function yuv(img: TestNv12): number[] {
  return expectedOutput('NCHW', 3, 8, 32, (c, h, w) => img.sample(c, w, h) + 0.5);
}

describe('memory', () => {
  it('allocates once at load, flushes on every run, and close() frees everything', async () => {
    const double = testDouble();
    double.resetCounters();
    const bpu = await BpuBackend.load([MODELS], { modelName: 'nv12_packed_f32', pipelineDepth: 2 });
    // Two slots, each with one input and one output buffer.
    expect(double.stats()).toMatchObject({ allocations: 4, liveAllocations: 4, livePackedHandles: 1 });
    expect(double.stats().liveAllocatedBytes).toBe(2 * (32 * 8 * 3 / 2 + 4 * 8 * 48 * 4));
    for (let i = 0; i < 5; i++) await bpu.runNv12(makeNv12(32, 8, { seed: i }).image);
    expect(double.stats()).toMatchObject({ allocations: 4, inferCalls: 5, cleanFlushes: 5, invalidateFlushes: 5, liveTasks: 0 });
    await bpu.close();
    expectNothingAlive();
  });

  it('holds an NV12 input in one block per slot (both planes), lent without copies and freed by close()', async () => {
    const double = testDouble();
    double.resetCounters();
    const bpu = await BpuBackend.load([MODELS], { modelName: 'nv12_w24_f32' });
    // Input block (Y and UV at stride 32) and output.
    expect(double.stats()).toMatchObject({ allocations: 2, liveAllocations: 2 });
    expect(double.stats().liveAllocatedBytes).toBe(32 * 8 + 32 * 4 + 3 * 8 * 24 * 4);
    await bpu.runNv12With((t) => t.data.fill(128));
    await bpu.runNv12(makeNv12(24, 8, { strideY: 64, strideUV: 64 }).image);
    expect(double.stats()).toMatchObject({ allocations: 2, liveAllocations: 2, cleanFlushes: 2 });
    await bpu.close();
    expectNothingAlive();
  });

  it('close() is idempotent', async () => {
    const bpu = await BpuBackend.load([MODELS], { modelName: 'nv12_classmap' });
    await Promise.all([bpu.close(), bpu.close()]);
    await bpu.close();
    expectNothingAlive();
  });
});

describe('concurrency', () => {
  it('runs inference off the JavaScript thread', async () => {
    const bpu = await BpuBackend.load([MODELS], { modelName: 'nv12_packed_f32' });
    try {
      const img = makeNv12(32, 8);
      testDouble().hold(true);
      let settled = false;
      const run = bpu.runNv12(img.image).finally(() => (settled = true));
      // Timers keep firing while the task is held inside the runtime.
      await until(() => testDouble().stats().liveTasks === 1, 'the task to start');
      expect(settled).toBe(false);
      testDouble().hold(false);
      expect(Array.from((await run).output.data as Float32Array)).toEqual(yuv(img));
    } finally {
      await bpu.close();
    }
  });

  it.each([
    [1, 1],
    [2, 2],
  ])('pipelineDepth %i keeps at most %i inference(s) in flight and never mixes buffers', async (depth, most) => {
    const bpu = await BpuBackend.load([MODELS], { modelName: 'nv12_packed_f32', pipelineDepth: depth as 1 | 2 });
    try {
      const double = testDouble();
      double.resetCounters();
      double.hold(true);
      const images = [0, 1, 2, 3].map((seed) => makeNv12(32, 8, { seed: seed * 50 }));
      const runs: Promise<InferenceResult>[] = images.map((img) => bpu.runNv12(img.image));
      await until(() => double.stats().liveTasks === most, `${most} task(s) in flight`);
      double.hold(false);
      const results = await Promise.all(runs);
      results.forEach((r, i) => expect(Array.from(r.output.data as Float32Array)).toEqual(yuv(at(images, i, 'images'))));
      expect(double.stats()).toMatchObject({ inferCalls: 4, maxConcurrentTasks: most });
    } finally {
      await bpu.close();
    }
  });

  it('close() waits for the inference in flight and rejects the runs still queued', async () => {
    const bpu = await BpuBackend.load([MODELS], { modelName: 'nv12_packed_f32' });
    const img = makeNv12(32, 8);
    testDouble().hold(true);
    const inFlight = bpu.runNv12(img.image);
    const queued = bpu.runNv12(img.image);
    await until(() => testDouble().stats().liveTasks === 1, 'the first task');
    let closed = false;
    const closing = bpu.close().then(() => (closed = true));
    await expect(queued).rejects.toMatchObject({ reason: 'closed' });
    expect(closed).toBe(false);
    expect(testDouble().stats().livePackedHandles).toBe(1);
    testDouble().hold(false);
    expect(Array.from((await inFlight).output.data as Float32Array)).toEqual(yuv(img));
    await closing;
    expectNothingAlive();
  });
});

describe('a task released while it still runs (hbDNNReleaseTask does not wait)', () => {
  const RUN_TASK_FAILED = -6000012;

  it('keeps the task\'s memory out of use: the next run gets fresh memory while the cancelled task still runs', async () => {
    const bpu = await BpuBackend.load([MODELS], { modelName: 'nv12_packed_f32' });
    const double = testDouble();
    try {
      double.resetCounters();
      double.hold(true);
      double.failAt('hbDNNWaitTaskDone', 1, RUN_TASK_FAILED);
      await expect(bpu.runNv12(makeNv12(32, 8).image)).rejects.toMatchObject({ call: 'hbDNNWaitTaskDone' });
      // Released: no handle left, but its thread is still held inside the runtime, using its memory.
      expect(double.stats()).toMatchObject({ liveTasks: 0, runningTasks: 1, cancelledTasks: 1, liveAllocations: 2 });
      const img = makeNv12(32, 8, { seed: 7 });
      const next = bpu.runNv12(img.image);
      // The double refuses memory a running task uses: this second task could only start on fresh memory.
      await until(() => double.stats().runningTasks === 2, 'the second task to start');
      expect(double.stats()).toMatchObject({ allocations: 2, liveAllocations: 4 });
      double.hold(false);
      expect(Array.from((await next).output.data as Float32Array)).toEqual(yuv(img));
    } finally {
      double.hold(false);
      await bpu.close();
    }
    expectNothingAlive();
  });

  it('close() frees that memory only once the runtime has let the task go', async () => {
    const bpu = await BpuBackend.load([MODELS], { modelName: 'nv12_packed_f32' });
    const double = testDouble();
    double.hold(true);
    double.failAt('hbDNNWaitTaskDone', 1, RUN_TASK_FAILED);
    await expect(bpu.runNv12(makeNv12(32, 8).image)).rejects.toMatchObject({ call: 'hbDNNWaitTaskDone' });
    let closed = false;
    const closing = bpu.close().then(() => (closed = true));
    // The double fails hbSysFreeMem of memory a running task uses: had close() tried, it would reject.
    await new Promise((r) => setTimeout(r, 100));
    expect(closed).toBe(false);
    expect(double.stats()).toMatchObject({ runningTasks: 1, liveAllocations: 2, livePackedHandles: 1 });
    double.hold(false);
    await closing;
    expectNothingAlive();
  });
});

describe('a runtime that keeps failing at hbDNNWaitTaskDone', () => {
  it('after 4 such runs (their memory kept) the model refuses to run, and close() still frees everything', async () => {
    const bpu = await BpuBackend.load([MODELS], { modelName: 'nv12_packed_f32' });
    const double = testDouble();
    try {
      for (let i = 0; i < 4; i++) {
        double.failAt('hbDNNWaitTaskDone', 1, -6000012);
        await expect(bpu.runNv12(makeNv12(32, 8).image)).rejects.toMatchObject({ call: 'hbDNNWaitTaskDone' });
      }
      // Each failed run set its input and output memory aside (kept, not freed); the next run took new memory.
      expect(double.stats()).toMatchObject({ liveAllocations: 4 * 2, allocations: expect.any(Number) });
      expect(double.stats().liveAllocatedBytes).toBe(4 * (32 * 8 * 1.5 + 4 * 8 * 48 * 4));
      const calls = double.stats().inferCalls;
      await expect(bpu.runNv12(makeNv12(32, 8).image)).rejects.toMatchObject({
        reason: 'runtime-stuck',
        message: expect.stringMatching(/: 4 runs failed at hbDNNWaitTaskDone and their tasks may still run on the BPU; .*close and load the model again$/),
      });
      expect(double.stats().inferCalls).toBe(calls);
    } finally {
      await bpu.close();
    }
    expectNothingAlive();
  });
});

describe('garbage collection', () => {
  it('a model dropped without close() frees its memory when collected', () => {
    const script = `
      const a = require(${JSON.stringify(bpuAddonPath())});
      (async () => {
        let m = await a.loadModel([${JSON.stringify(MODELS)}], 'nv12_packed_f32', 2);
        const before = a.testDouble.stats().liveAllocations;
        m = null;
        for (let i = 0; i < 50 && a.testDouble.stats().liveAllocations > 0; i++) {
          globalThis.gc();
          await new Promise((r) => setImmediate(r));
        }
        const s = a.testDouble.stats();
        console.log(JSON.stringify({ before, after: s.liveAllocations, packed: s.livePackedHandles }));
      })();`;
    const res = spawnSync(process.execPath, ['--expose-gc', '-e', script], { encoding: 'utf8' });
    expect(res.stderr).toBe('');
    expect(JSON.parse(res.stdout)).toEqual({ before: 4, after: 0, packed: 0 });
  });
});
