/**
 * Every failure path: each hb_dnn / hb_sys call failing (injected into the test double), an RDK X3 model, a
 * missing file, an unsupported input type, unreadable properties, bad arguments. Each error must name the call,
 * its code and description, and the model file; and a failure must never leave memory, tasks or models behind.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BpuBackend, BpuBackendError } from '../../../../server/stages/infer/bpu-backend.ts';
import { bpuAddonPath, nativeBpu } from '../../../../server/stages/infer/bpu/native.ts';
import { doubleModelFile, expectNothingAlive, fixture, makeNv12, testDouble, writeModel } from './helpers.ts';

const MODELS = fixture('nv12-models.json');
const RUN_TASK_FAILED = -6000012;

afterEach(() => {
  testDouble().clearFailures();
  expectNothingAlive();
});

async function loadError(files: string[], opts?: Parameters<typeof BpuBackend.load>[1]): Promise<BpuBackendError> {
  try {
    const b = await BpuBackend.load(files, opts);
    await b.close();
  } catch (err) {
    expect(err).toBeInstanceOf(BpuBackendError);
    return err as BpuBackendError;
  }
  throw new Error('expected BpuBackend.load to fail');
}

describe('a failing hb_dnn call while loading', () => {
  const loadCalls: [string, number][] = [
    ['hbDNNInitializeFromFiles', 1],
    ['hbDNNGetModelNameList', 1],
    ['hbDNNGetModelHandle', 1],
    ['hbDNNGetInputCount', 1],
    ['hbDNNGetInputName', 1],
    ['hbDNNGetInputTensorProperties', 1],
    ['hbDNNGetInputSource', 1],
    ['hbDNNGetOutputCount', 1],
    ['hbDNNGetOutputName', 1],
    ['hbDNNGetOutputTensorProperties', 1],
    ['hbSysAllocCachedMem', 1], // the input
    ['hbSysAllocCachedMem', 2], // the output, after the input was allocated
  ];

  it.each(loadCalls)('%s (call %i) becomes an error naming the call, code, description and file; nothing leaks', async (call, nth) => {
    testDouble().failAt(call, nth, RUN_TASK_FAILED);
    const err = await loadError([MODELS], { modelName: 'nv12_packed_f32' });
    expect(err).toMatchObject({ reason: 'hb-call', call, status: RUN_TASK_FAILED });
    expect(err.message).toContain(`${call} failed with code ${RUN_TASK_FAILED} (run task failed) for `);
    expect(err.message).toContain(MODELS);
    expect(err.files).toEqual([MODELS]);
  });

  it('covers every call the double can fail', () => {
    const runAndClose = ['hbDNNInfer', 'hbDNNWaitTaskDone', 'hbDNNReleaseTask', 'hbSysFlushMem', 'hbSysFreeMem', 'hbDNNRelease'];
    const tested = new Set([...loadCalls.map(([c]) => c), ...runAndClose]);
    expect([...tested].sort()).toEqual(testDouble().callNames().split(',').sort());
  });
});

describe('a failing call while running', () => {
  it.each([
    ['hbSysFlushMem', 1, ', CLEAN of the input'],
    ['hbSysFlushMem', 2, ', INVALIDATE of the output'],
    ['hbDNNInfer', 1, ''],
    ['hbDNNWaitTaskDone', 1, ''],
  ])('%s (call %i%s) rejects the run, releases the task, and the next run works', async (call, nth) => {
    const bpu = await BpuBackend.load([MODELS], { modelName: 'nv12_packed_f32' });
    try {
      const img = makeNv12(32, 8);
      const good = Array.from((await bpu.runNv12(img.image)).output.data as Float32Array);
      testDouble().failAt(call, nth, RUN_TASK_FAILED);
      const failed = await bpu.runNv12(img.image).then(
        () => null,
        (e: unknown) => e,
      );
      expect(failed).toBeInstanceOf(BpuBackendError);
      expect(failed).toMatchObject({ reason: 'hb-call', call, status: RUN_TASK_FAILED });
      expect((failed as Error).message).toMatch(
        new RegExp(`^${call} failed with code ${RUN_TASK_FAILED} \\(run task failed\\) for .*model 'nv12_packed_f32' in '.*nv12-models\\.json'`),
      );
      expect(testDouble().stats().liveTasks).toBe(0);
      expect(Array.from((await bpu.runNv12(img.image)).output.data as Float32Array)).toEqual(good);
    } finally {
      await bpu.close();
    }
  });

  it('hbDNNReleaseTask failing is reported; the task the runtime kept is the only thing left', async () => {
    const bpu = await BpuBackend.load([MODELS], { modelName: 'nv12_packed_f32' });
    testDouble().failAt('hbDNNReleaseTask', 1, RUN_TASK_FAILED);
    await expect(bpu.runNv12(makeNv12(32, 8).image)).rejects.toMatchObject({ call: 'hbDNNReleaseTask', status: RUN_TASK_FAILED });
    expect(testDouble().stats().liveTasks).toBe(1);
    // The runtime still holds a task of this model, so releasing the model fails too: reported, not hidden.
    await expect(bpu.close()).rejects.toMatchObject({ call: 'hbDNNRelease', message: expect.stringMatching(/hbDNNRelease failed with code -6000013 \(model is running\)/) });
    expect(testDouble().stats()).toMatchObject({ liveAllocations: 0, liveTasks: 1, livePackedHandles: 1 });
    expect(testDouble().releaseLeaks()).toBe(2);
  });
});

describe('a failing call while closing', () => {
  it('hbSysFreeMem failing is reported and everything else is still freed', async () => {
    const bpu = await BpuBackend.load([MODELS], { modelName: 'nv12_packed_f32' });
    await bpu.runNv12(makeNv12(32, 8).image);
    testDouble().failAt('hbSysFreeMem', 1, RUN_TASK_FAILED);
    await expect(bpu.close()).rejects.toMatchObject({
      call: 'hbSysFreeMem',
      status: RUN_TASK_FAILED,
      message: expect.stringMatching(/^hbSysFreeMem failed with code -6000012 \(run task failed\) for input memory of model 'nv12_packed_f32' in '.*'/),
    });
    expect(testDouble().stats()).toMatchObject({ liveAllocations: 1, liveTasks: 0, livePackedHandles: 0 });
    expect(testDouble().releaseLeaks()).toBe(1);
  });

  it('hbDNNRelease failing is reported after the memory was freed', async () => {
    const bpu = await BpuBackend.load([MODELS], { modelName: 'nv12_packed_f32' });
    testDouble().failAt('hbDNNRelease', 1, RUN_TASK_FAILED);
    await expect(bpu.close()).rejects.toMatchObject({ call: 'hbDNNRelease', status: RUN_TASK_FAILED });
    expect(testDouble().stats()).toMatchObject({ liveAllocations: 0, livePackedHandles: 1 });
    expect(testDouble().releaseLeaks()).toBe(1);
  });
});

describe('hb_sys failures', () => {
  it.each([
    ['hbSysAllocCachedMem', 1, -6000130, 'HB_SYS_OUT_OF_MEMORY: out of BPU memory'],
    ['hbSysAllocCachedMem', 2, -6000129, 'HB_SYS_INVALID_ARGUMENT: invalid argument'],
  ])('%s (call %i) failing with an HB_SYS code (%i) is described by that code, not as a DNN code', async (call, nth, code, text) => {
    testDouble().failAt(call, nth, code);
    const err = await loadError([MODELS], { modelName: 'nv12_packed_f32' });
    expect(err).toMatchObject({ reason: 'hb-call', call, status: code });
    expect(err.message).toContain(`${call} failed with code ${code} (${text}) for `);
  });

  it('a flush failing with HB_SYS_INVALID_ARGUMENT while running names the code', async () => {
    const bpu = await BpuBackend.load([MODELS], { modelName: 'nv12_packed_f32' });
    try {
      testDouble().failAt('hbSysFlushMem', 1, -6000129);
      await expect(bpu.runNv12(makeNv12(32, 8).image)).rejects.toMatchObject({
        call: 'hbSysFlushMem',
        message: expect.stringMatching(/^hbSysFlushMem failed with code -6000129 \(HB_SYS_INVALID_ARGUMENT: invalid argument\) for input of model 'nv12_packed_f32'/),
      });
    } finally {
      await bpu.close();
    }
  });
});

describe('a model built for another chip that loads and fails at hbDNNWaitTaskDone', () => {
  it('explains the failed wait as Incompatible Platform, names the file and the fix, and runs it no more', async () => {
    const file = fixture('wrong-chip-at-wait.json');
    const bpu = await BpuBackend.load([file]);
    try {
      const img = makeNv12(32, 16);
      const err = await bpu.runNv12(img.image).then(
        () => null,
        (e: unknown) => e as BpuBackendError,
      );
      expect(err).toBeInstanceOf(BpuBackendError);
      expect(err).toMatchObject({ reason: 'incompatible-platform', call: 'hbDNNWaitTaskDone', status: RUN_TASK_FAILED });
      expect(err!.message).toMatch(
        new RegExp(
          `^Incompatible Platform: '${file.replace(/[.]/g, '\\.')}' was compiled for the RDK X3 \\(march bernoulli2\\)\\. The X5 runtime loaded it, ` +
            'but the BPU cannot run it: every inference fails at hbDNNWaitTaskDone\\. Recompile the ONNX model with the toolchain \\(hb_mapper, march: bayes-e\\)\\.',
        ),
      );
      expect(err!.message).toContain(`Runtime said: hbDNNWaitTaskDone failed with code ${RUN_TASK_FAILED} (run task failed) for model 'x3_at_wait'`);
      // Known not to run here: the next run fails at once, without another inference.
      const calls = testDouble().stats().inferCalls;
      await expect(bpu.runNv12(img.image)).rejects.toBe(err);
      expect(testDouble().stats().inferCalls).toBe(calls);
    } finally {
      await bpu.close();
    }
  });

  it('passes on an "Incompatible Platform" verdict in the failure text when the file does not name bernoulli2', async () => {
    const doc = JSON.parse(readFileSync(fixture('wrong-chip-at-wait.json'), 'utf8'));
    // A J5-style march and no comment: nothing in the file says bernoulli2.
    const file = writeModel({ ...doc, march: 'bayes', comment: undefined });
    const bpu = await BpuBackend.load([file]);
    try {
      await expect(bpu.runNv12(makeNv12(32, 16).image)).rejects.toMatchObject({
        reason: 'incompatible-platform',
        message: expect.stringMatching(/^Incompatible Platform: '.*model\.json' was not compiled for this BPU \(the RDK X5 needs march bayes-e\)\. The X5 runtime loaded it/),
      });
    } finally {
      await bpu.close();
    }
  });

  it('any other failed wait carries the hint, keeping its own reason', async () => {
    const bpu = await BpuBackend.load([MODELS], { modelName: 'nv12_packed_f32' });
    try {
      testDouble().failAt('hbDNNWaitTaskDone', 1, RUN_TASK_FAILED);
      const err = await bpu.runNv12(makeNv12(32, 8).image).then(
        () => null,
        (e: unknown) => e as BpuBackendError,
      );
      expect(err).toMatchObject({ reason: 'hb-call', call: 'hbDNNWaitTaskDone' });
      expect(err!.message).toMatch(
        /\. If the runtime logged "Incompatible Platform" \(\[BPU_PLAT\] lines\), the model was compiled for another chip: it loads, then every run fails here\. Recompile/,
      );
      // Not certain: the model keeps running.
      await bpu.runNv12(makeNv12(32, 8).image);
    } finally {
      await bpu.close();
    }
  });
});

describe('resizer-input models', () => {
  it('are refused at load with what they need (hbDNNRoiInfer), before any memory is allocated', async () => {
    const file = fixture('resizer-input.json');
    const before = testDouble().stats().allocations;
    const err = await loadError([file]);
    expect(err.reason).toBe('resizer-input');
    expect(err.message).toBe(
      `input 'image' of model 'resizer_roi' in '${file}' is fed by the resizer (HB_DNN_INPUT_FROM_RESIZER): such a model must be ` +
        'run with hbDNNRoiInfer on regions of a camera image, which segstream does not do; compile it with its input from DDR, ' +
        'or as an nv12 camera (pyramid) input',
    );
    expect(testDouble().stats().allocations).toBe(before);
  });

  it('are refused by the native layer itself (what any caller of the addon gets)', () => {
    const script = `
      const a = require(${JSON.stringify(bpuAddonPath())});
      a.loadModel([${JSON.stringify(fixture('resizer-input.json'))}], '', 1).then(
        () => console.log('loaded'), (e) => console.log(e.reason));`;
    const res = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    expect(res.stdout.trim()).toBe('resizer-input');
  });

  it('pyramid-source NV12 models (what compiled X5 camera models report) load and run', async () => {
    const bpu = await BpuBackend.load([MODELS], { modelName: 'nv12_packed_f32' });
    try {
      expect(bpu.model.details.inputSource).toBe('PYRAMID');
      await bpu.runNv12(makeNv12(32, 8).image);
    } finally {
      await bpu.close();
    }
  });
});

describe('failure injection from the environment', () => {
  it('SEGSTREAM_HBDNN_DOUBLE_FAIL arms a failure for a whole process (e.g. a stream run)', () => {
    const script = `
      const a = require(${JSON.stringify(bpuAddonPath())});
      a.loadModel([${JSON.stringify(MODELS)}], 'nv12_packed_f32', 1)
        .then(() => { console.log('loaded'); process.exit(0); })
        .catch((e) => { console.log(e.call + ' ' + e.status); process.exit(0); });`;
    const res = spawnSync(process.execPath, ['-e', script], {
      env: { ...process.env, SEGSTREAM_HBDNN_DOUBLE_FAIL: 'hbSysAllocCachedMem:2:-6000007' },
      encoding: 'utf8',
    });
    expect(res.stdout.trim()).toBe('hbSysAllocCachedMem -6000007');
  });
});

describe('specific load errors', () => {
  it('an RDK X3 model (march bernoulli2) is reported as Incompatible Platform, naming the file and the fix', async () => {
    const file = fixture('x3-model.json');
    const err = await loadError([file]);
    expect(err.reason).toBe('incompatible-platform');
    expect(err.call).toBe('hbDNNInitializeFromFiles');
    expect(err.message).toMatch(
      new RegExp(`^Incompatible Platform: '${file.replace(/[.]/g, '\\.')}' was compiled for the RDK X3 \\(march bernoulli2\\); the RDK X5 BPU runs only models compiled for march bayes-e`),
    );
    expect(err.message).toContain('hb_mapper');
    expect(err.message).toMatch(/hbDNNInitializeFromFiles failed with code -6000014 \(Incompatible Platform\)/);
  });

  it("passes on the runtime's own Incompatible Platform verdict when the file does not say bernoulli2", async () => {
    const file = writeModel(doubleModelFile([], 'bayes-x'));
    const err = await loadError([file]);
    expect(err.reason).toBe('incompatible-platform');
    expect(err.message).toMatch(/^Incompatible Platform: '.*model\.json' was not compiled for this BPU \(the RDK X5 needs march bayes-e\)/);
  });

  it('a missing file is named before the runtime is asked', async () => {
    const missing = join(tmpdir(), 'segstream-no-such-dir', 'segformer.bin');
    // Were the runtime asked first, this armed failure would be what surfaces.
    testDouble().failAt('hbDNNInitializeFromFiles', 1, RUN_TASK_FAILED);
    const err = await loadError([MODELS, missing]);
    expect(err).toMatchObject({ reason: 'missing-file', message: `BPU model file not found: '${missing}'` });
    const dir = mkdtempSync(join(tmpdir(), 'segstream-bpu-dir-'));
    expect((await loadError([dir])).message).toBe(`BPU model file '${dir}' is not a file`);
  });

  it('the double itself also refuses a missing file, as libdnn does (hbDNNInitializeFromFiles, can not open file)', async () => {
    const missing = join(tmpdir(), 'segstream-no-such-dir', 'segformer.bin');
    await expect(nativeBpu().loadModel([missing], '', 1)).rejects.toMatchObject({
      call: 'hbDNNInitializeFromFiles',
      status: -6000006,
      message: expect.stringContaining(`hbDNNInitializeFromFiles failed with code -6000006 (can not open file) for model '${missing}'`),
    });
  });

  it('a compiled .bin given to the test double says it needs the board', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'segstream-bpu-bin-'));
    const bin = join(dir, 'model.bin');
    writeFileSync(bin, Buffer.from([0x48, 0x42, 0x4d, 0x00, 0xff, 0x10]));
    const err = await loadError([bin]);
    expect(err).toMatchObject({ reason: 'hb-call', call: 'hbDNNInitializeFromFiles', status: -6000002 });
    expect(err.message).toMatch(/invalid model.*is not a test-double model.*needs the board's libdnn/);
  });

  it('an unsupported input type names the type, the input, the model, the file and what is supported', async () => {
    const file = fixture('unsupported-input.json');
    const err = await loadError([file]);
    expect(err.reason).toBe('unsupported-input-type');
    expect(err.message).toBe(
      `unsupported input type HB_DNN_TENSOR_TYPE_F16 for input 'half_features' of model 'f16_input' in '${file}'; ` +
        'segstream can feed NV12, NV12_SEPARATE, YUV444, RGB, BGR and F32/S8/U8 featuremaps',
    );
  });

  it('an image-type output is an unsupported output type', async () => {
    const file = writeModel(
      doubleModelFile([
        {
          name: 'rgb_out',
          inputs: [{ name: 'x', tensorType: 'F32', layout: 'NCHW', validShape: [1, 3, 4, 4] }],
          outputs: [{ name: 'y', tensorType: 'RGB', layout: 'NHWC', validShape: [1, 4, 4, 3] }],
        },
      ]),
    );
    expect((await loadError([file])).message).toMatch(/^unsupported output type HB_DNN_IMG_TYPE_RGB for output 'y' of model 'rgb_out'/);
  });

  it('a model with two inputs is refused', async () => {
    const input = { tensorType: 'F32', layout: 'NCHW', validShape: [1, 3, 4, 4] };
    const file = writeModel(
      doubleModelFile([
        {
          name: 'two_inputs',
          inputs: [{ name: 'a', ...input }, { name: 'b', ...input }],
          outputs: [{ name: 'y', tensorType: 'F32', layout: 'NCHW', validShape: [1, 2, 4, 4] }],
        },
      ]),
    );
    const err = await loadError([file]);
    expect(err).toMatchObject({ reason: 'unsupported-model' });
    expect(err.message).toMatch(/model 'two_inputs' in '.*' has 2 inputs; segstream feeds models with exactly one input/);
  });

  it('per-axis scales that do not match the axis are refused before any memory is allocated', async () => {
    const file = writeModel(
      doubleModelFile([
        {
          name: 'bad_scales',
          inputs: [{ name: 'x', tensorType: 'F32', layout: 'NCHW', validShape: [1, 3, 4, 4] }],
          outputs: [
            {
              name: 'y',
              tensorType: 'S32',
              layout: 'NHWC',
              validShape: [1, 4, 4, 5],
              quantiType: 'SCALE',
              quantizeAxis: 3,
              scales: [1, 2, 3],
            },
          ],
        },
      ]),
    );
    const before = testDouble().stats().allocations;
    const err = await loadError([file]);
    expect(err.reason).toBe('invalid-properties');
    expect(err.message).toMatch(/output 'y' of model 'bad_scales' in '.*' has properties segstream cannot read safely: 3 scale values for axis 3 of size 5/);
    expect(testDouble().stats().allocations).toBe(before);
  });
});

describe('argument checks', () => {
  it('rejects bad files and options with the argument, what was expected and what was given', async () => {
    await expect(BpuBackend.load([])).rejects.toThrow('BpuBackend.load files: expected a non-empty array of model file paths, got an array of length 0');
    await expect(BpuBackend.load([''])).rejects.toThrow('BpuBackend.load files[0]: expected a non-empty string (a .bin path), got ""');
    await expect(BpuBackend.load([MODELS], { pipelineDepth: 3 } as never)).rejects.toThrow('BpuBackend.load opts.pipelineDepth: expected 1 or 2, got 3');
    await expect(BpuBackend.load([MODELS], { modelname: 'x' } as never)).rejects.toThrow(/BpuBackend\.load opts\.modelname: expected one of the options modelName, rawIntOutput, pipelineDepth, classNames/);
    await expect(BpuBackend.load([MODELS], { rawIntOutput: 'yes' } as never)).rejects.toThrow('BpuBackend.load opts.rawIntOutput: expected a boolean, got "yes"');
    await expect(BpuBackend.load([MODELS], { modelName: 'nv12_packed_f32', classNames: ['a', 'b'] })).rejects.toThrow(
      /opts\.classNames: model 'nv12_packed_f32' .* outputs 3 classes, got 2 names/,
    );
  });

  it('a closed backend refuses to run', async () => {
    const bpu = await BpuBackend.load([MODELS], { modelName: 'nv12_packed_f32' });
    await bpu.close();
    await expect(bpu.runNv12(makeNv12(32, 8).image)).rejects.toMatchObject({
      reason: 'closed',
      message: expect.stringMatching(/^model 'nv12_packed_f32' in '.*nv12-models\.json' is closed$/),
    });
  });
});
