// `segstream inspect` through the shared argument layer (its checks themselves: test/toolkit/commands/inspect.test.ts).
import { describe, expect, it } from 'vitest';
import { cli } from './helpers.ts';
import { HF_EXPORT, usageCases } from './toolkit-cases.ts';

describe('segstream inspect: usage errors', () => {
  usageCases('inspect', [
    [['x.bin', '--modle', HF_EXPORT], 'unknown option --modle (did you mean --model?)'],
    [['x.bin'], '--model is required: the float ONNX model the files are for'],
    [['--model', HF_EXPORT], 'expected the files (or directories) to inspect'],
    [['x.bin', '--model', HF_EXPORT, '--role', 'final'], '--role: expected one of calibration, runtime, model-input, got "final"'],
    [['x.bin', '--model', HF_EXPORT, '--reference-image', 'a.png', '--reference-dir', 'imgs'], '--reference-image and --reference-dir are alternatives: give one'],
  ]);

  it('a model file that is not there: exit 1, naming it', async () => {
    const r = await cli('inspect', 'x.bin', '--model', '/nonexistent/model.onnx');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('segstream inspect: /nonexistent/model.onnx: model file not found\n');
  });
});
