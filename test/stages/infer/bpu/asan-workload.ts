/**
 * A plain script (not a vitest file) that drives the BPU backend through every path and then exits normally,
 * so LeakSanitizer's exit-time check sees the whole process. Used by scripts/bpu-asan.sh:
 *   node --import tsx test/stages/infer/bpu/asan-workload.ts            -> must leak nothing through the addon/double
 *   SEGSTREAM_ASAN_CANARY=1 node --import tsx ...           -> also leaks 48 bytes inside the double on purpose:
 *                                                              the leak check must report it, or it is blind
 */
import { fileURLToPath } from 'node:url';
import { BpuBackend } from '../../../../server/stages/infer/bpu-backend.ts';
import { bpuTestDouble } from '../../../../server/stages/infer/bpu/native.ts';
import type { Tensor } from '../../../../server/model/model-info.ts';
import { at } from '../../../../server/util/checked-access.ts';

const fixture = (name: string) => fileURLToPath(new URL(`../../../fixtures/bpu/${name}`, import.meta.url));

function nv12(width: number, height: number, stride: number, seed: number) {
  const data = new Uint8Array(stride * height * 1.5);
  for (let i = 0; i < data.length; i++) data[i] = (i * 31 + seed) & 0xff;
  return { data, width, height, strideY: stride, strideUV: stride, offsetUV: stride * height };
}

async function expectFailure(p: Promise<unknown>, what: string): Promise<void> {
  try {
    const v = await p;
    if (v && typeof (v as BpuBackend).close === 'function') await (v as BpuBackend).close();
  } catch {
    return;
  }
  throw new Error(`expected a failure: ${what}`);
}

async function main(): Promise<void> {
  const double = bpuTestDouble();
  if (!double) throw new Error('asan-workload needs the addon built against the test double');

  const nv12Models = fixture('nv12-models.json');
  for (const [name, width, height, stride, nv12Feed] of [
    ['nv12_packed_f32', 32, 8, 40, 'separate'],
    ['nv12_w24_f32', 24, 8, 48, 'separate'],
    ['nv12_w24_f32', 24, 8, 27, 'separate'],
    ['nv12_aligned_w32', 24, 8, 40, 'packed'],
    ['nv12_classmap', 32, 16, 32, 'separate'],
  ] as const) {
    const bpu = await BpuBackend.load([nv12Models], { modelName: name, pipelineDepth: 2, rawIntOutput: true, nv12Feed });
    await Promise.all([0, 1, 2, 3].map((s) => bpu.runNv12(nv12(width, height, stride, s))));
    // Frames written straight into the lent BPU memory; the lent view is detached at close.
    let lent: Uint8Array | null = null;
    await Promise.all([5, 6].map((s) => bpu.runNv12With((t) => (lent = t.data).fill(s))));
    await bpu.close();
    if (lent!.length !== 0) throw new Error('the lent input memory outlived close()');
  }

  // A task released while the runtime still runs it: its memory is kept until the model is released.
  {
    const bpu = await BpuBackend.load([nv12Models], { modelName: 'nv12_packed_f32' });
    double.hold(true);
    double.failAt('hbDNNWaitTaskDone', 1, -6000012);
    await expectFailure(bpu.runNv12(nv12(32, 8, 32, 3)), 'wait failure');
    const closing = bpu.close();
    setTimeout(() => double.hold(false), 50);
    await closing;
    double.clearFailures();
  }
  await expectFailure(
    BpuBackend.load([fixture('wrong-chip-at-wait.json')]).then(async (b) => {
      try {
        await b.runNv12(nv12(32, 16, 32, 1));
      } finally {
        await b.close();
      }
    }),
    'model for another chip',
  );
  await expectFailure(BpuBackend.load([fixture('resizer-input.json')]), 'resizer input');

  const quantised = fixture('quantized-outputs.json');
  for (const raw of [false, true]) {
    for (const name of ['s32_nhwc_per_channel', 's8_nhwc_per_channel', 's16_nchw_shift', 'f32_nchw_padded', 'u8_bgr_per_tensor', 'yuv444_f16']) {
      const bpu = await BpuBackend.load([quantised], { modelName: name, rawIntOutput: raw });
      const info = at(bpu.tensorInfo.inputs, 0, 'bpu.tensorInfo.inputs');
      const n = info.validShape.reduce((a, b) => a * b, 1);
      const dtype = bpu.model.input.dtype;
      const data = dtype === 'float32' ? new Float32Array(n).fill(1.5) : dtype === 'int8' ? new Int8Array(n).fill(-3) : new Uint8Array(n).fill(200);
      const input: Tensor = { dtype, shape: info.validShape, data };
      await bpu.run(input);
      await bpu.close();
    }
  }

  const demo = await BpuBackend.load([fixture('stream-demo.json')], { modelName: 'stream_logits', rawIntOutput: true });
  await demo.runNv12(nv12(512, 512, 576, 7));
  await demo.close();

  // Every call failing once, at load, run and close.
  for (const call of double.callNames().split(',')) {
    double.failAt(call, 1, -6000012);
    try {
      const bpu = await BpuBackend.load([nv12Models], { modelName: 'nv12_packed_f32' });
      try {
        await bpu.runNv12(nv12(32, 8, 32, 1));
      } catch {
        // expected for run-time calls
      }
      await bpu.close().catch(() => undefined);
    } catch {
      // expected for load-time calls
    }
    double.clearFailures();
    double.releaseLeaks();
  }

  await expectFailure(BpuBackend.load([fixture('x3-model.json')]), 'X3 model');
  await expectFailure(BpuBackend.load([fixture('unsupported-input.json')]), 'unsupported input');
  await expectFailure(BpuBackend.load(['/nonexistent/model.bin']), 'missing file');
  await expectFailure(BpuBackend.load([nv12Models], { modelName: 'no_such_model' }), 'unknown model');

  const s = double.stats();
  if (s.liveAllocations || s.liveTasks || s.livePackedHandles) throw new Error(`double still holds ${JSON.stringify(s)}`);

  if (process.env.SEGSTREAM_ASAN_CANARY === '1') double.leakCanary();
  console.log('asan-workload: done');
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
