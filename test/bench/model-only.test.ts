// The model-only child process: loads the model with the stream's loader (ONNX Runtime names the same input),
// times segments on a fixed input, reports a bad model with its message, and never outlives close().
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixedInputFor, ModelOnlyProcess } from '../../server/bench/model-only.ts';
import { ensureDemoModel } from '../../server/model/demo/demo-model.ts';
import type { ModelRef } from '../../server/stages/infer/worker-protocol.ts';
import { tempDir } from '../helpers/media.ts';
import { at } from '../../server/util/checked-access.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
let ref: ModelRef;

beforeAll(async () => {
  const files = await ensureDemoModel(path.join(ROOT, '.cache', 'demo-models'), { variant: 'tiny', size: 64, classes: 8 });
  ref = { backend: 'onnx', files: [files.modelPath], configPath: files.configPath, preprocessorPath: files.preprocessorPath, name: 'tiny' };
}, 120_000);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('ModelOnlyProcess', () => {
  it('times segments of the model in a process of its own, and ends it on close', async () => {
    const started = await ModelOnlyProcess.start(ref, { threads: 1, memoryArena: true, warmupRuns: 1 });
    const child = started.process;
    const pid = child.pid!;
    try {
      expect(pid).not.toBe(process.pid);
      expect(alive(pid)).toBe(true);
      // ONNX Runtime itself names the input the child reports.
      const session = await ort.InferenceSession.create(at(ref.files, 0, 'ref.files'));
      expect(started.input).toBe(`${session.inputNames[0]} tensor 64x64`);
      await session.release();
      expect(started.model).toBe('tiny');
      expect(started.rssMiB).toBeGreaterThan(0);

      for (const runs of [4, 2]) {
        const s = await child.segment(runs, 1);
        expect(s.ms).toHaveLength(runs);
        for (const ms of s.ms) expect(ms).toBeGreaterThan(0);
        // The segment's wall time holds every timed run (each run's time is inside the runtime call only).
        expect(s.wallS * 1000).toBeGreaterThanOrEqual(s.ms.reduce((a, b) => a + b, 0) - 1e-6);
        expect(s.cpuS).toBeGreaterThan(0);
        expect(s.rssMiB).toBeGreaterThan(0);
      }
      await expect(child.segment(0)).rejects.toThrow('model-only segment: runs must be a positive integer, got 0');
    } finally {
      await child.close();
    }
    expect(alive(pid)).toBe(false);
    await expect(child.segment(1)).rejects.toThrow(/the model-only process has exited/);
  }, 120_000);

  it('with the memory arena off it runs the same way', async () => {
    const { process: child } = await ModelOnlyProcess.start(ref, { threads: 1, memoryArena: false, warmupRuns: 1 });
    try {
      expect((await child.segment(2)).ms).toHaveLength(2);
    } finally {
      await child.close();
    }
  }, 120_000);

  it("reports a model that cannot load with the loader's message, and leaves no process behind", async () => {
    const dir = tempDir('model-only');
    const bytes = readFileSync(at(ref.files, 0, 'ref.files'));
    const truncated = path.join(dir, 'truncated.onnx');
    writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const before = new Set(childPids());
    await expect(ModelOnlyProcess.start({ backend: 'onnx', files: [truncated], name: 'truncated' }, { threads: 1, memoryArena: true })).rejects.toThrow(/^bench: model-only: .*truncated\.onnx/);
    expect(childPids().filter((p) => !before.has(p))).toEqual([]);
  }, 120_000);
});

/** Pids of this process's children, from /proc. */
function childPids(): number[] {
  const out = readFileSync(`/proc/${process.pid}/task/${process.pid}/children`, 'utf8').trim();
  return out === '' ? [] : out.split(/\s+/).map(Number).filter((p) => alive(p));
}

describe('fixedInputFor', () => {
  it('is the same input every time, in the layout and kind the model takes', () => {
    const nchw = fixedInputFor({ input: { name: 'x', kind: 'tensor', layout: 'NCHW', width: 8, height: 4 } } as never);
    const again = fixedInputFor({ input: { name: 'x', kind: 'tensor', layout: 'NCHW', width: 8, height: 4 } } as never);
    expect(nchw).toEqual(again);
    if (!('tensor' in nchw)) throw new Error('expected a tensor');
    expect(nchw.tensor.shape).toEqual([1, 3, 4, 8]);
    const values = nchw.tensor.data as Float32Array;
    expect(Math.min(...values)).toBeGreaterThanOrEqual(-2);
    expect(Math.max(...values)).toBeLessThan(2);
    const nhwc = fixedInputFor({ input: { name: 'x', kind: 'tensor', layout: 'NHWC', width: 8, height: 4 } } as never);
    expect('tensor' in nhwc && nhwc.tensor.shape).toEqual([1, 4, 8, 3]);
    const nv12 = fixedInputFor({ input: { name: 'x', kind: 'nv12', layout: 'NHWC', width: 8, height: 4 } } as never);
    expect('nv12' in nv12 && nv12.nv12.data.length).toBe(8 * 4 * 1.5);
  });
});
