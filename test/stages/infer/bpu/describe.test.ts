/**
 * `segstream model info` on a BPU model: the tensor properties read through hb_dnn, printed with the field
 * names and order of the vendor's `hrt_model_exec model_info` (name, input source, valid shape, aligned shape,
 * aligned byte size, tensor type, tensor layout, quanti type, stride; shapes written "(1,3,512,512,)"), so a board
 * owner can put the two side by side. Here the model is the double's stream demo.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixture } from './helpers.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..', '..');

function modelInfo(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, ['bin/segstream.js', 'model', 'info', ...args], { cwd: ROOT, encoding: 'utf8' });
}

describe('segstream model info for a BPU model', () => {
  it('prints input and output properties in hrt_model_exec model_info order, then how segstream feeds and reads them', () => {
    const r = modelInfo(fixture('stream-demo.json'), '--backend', 'bpu', '--model-name', 'stream_logits');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const text = r.stdout;
    expect(text).toContain('[hb_dnn TEST DOUBLE: synthetic outputs, not a BPU]');
    expect(text).toContain(
      [
        'input[0]:',
        'name: image',
        'input source: HB_DNN_INPUT_FROM_PYRAMID',
        'valid shape: (1,3,512,512,)',
        'aligned shape: (1,3,512,512,)',
        'aligned byte size: 393216',
        'tensor type: HB_DNN_IMG_TYPE_NV12',
        'tensor layout: HB_DNN_LAYOUT_NCHW',
        'quanti type: NONE',
        'stride: (0,0,0,0,)',
      ].join('\n'),
    );
    expect(text).toContain(
      [
        'output[0]:',
        'name: logits',
        'valid shape: (1,128,128,8,)',
        'aligned shape: (1,128,128,16,)',
        'aligned byte size: 1048576',
        'tensor type: HB_DNN_TENSOR_TYPE_S32',
        'tensor layout: HB_DNN_LAYOUT_NHWC',
        'quanti type: SCALE',
      ].join('\n'),
    );
    expect(text).toContain('stride: (1048576,8192,64,4,)');
    expect(text).toContain('segstream feeds input[0]: NV12_SEPARATE: Y in sysMem[0], UV in sysMem[1], row stride 512 (alignedShape W)');
    expect(text).toContain('segstream reads output[0]: logits int32 128x128, 8 classes (SCALE per-axis 3)');
  });

  it('--json gives the ModelInfo and the tensor properties', () => {
    const r = modelInfo(fixture('stream-demo.json'), '--backend', 'bpu', '--json');
    const parsed = JSON.parse(r.stdout);
    expect(parsed.model).toMatchObject({ name: 'stream_classmap', format: 'bpu-bin', details: { hbDnnRuntime: 'test-double', inputSource: 'PYRAMID' } });
    expect(parsed.tensors.inputs[0]).toMatchObject({ tensorType: 'NV12', validShape: [1, 3, 512, 512] });
  });

  it('refuses an unknown backend', () => {
    const r = modelInfo(fixture('stream-demo.json'), '--backend', 'tpu');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('--backend: expected one of onnx, bpu, got "tpu"');
    expect(r.status).toBe(2);
  });
});
