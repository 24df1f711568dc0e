// `segstream mapper-config` through the shared argument layer (its YAML itself: test/toolkit/commands/mapper-config.test.ts).
import { describe, expect, it } from 'vitest';
import { cli } from './helpers.ts';
import { HF_EXPORT, usageCases } from './toolkit-cases.ts';

describe('segstream mapper-config: usage errors', () => {
  usageCases('mapper-config', [
    [['--input', 'nv12'], '--model is required: the float ONNX model the YAML compiles'],
    [['--model', HF_EXPORT, '--int16', 'some'], '--int16: expected one of auto, all, none, got "some"'],
    [['--model', HF_EXPORT, '--inptu', 'nv12'], 'unknown option --inptu (did you mean --input?)'],
    [['--model', HF_EXPORT, '--check'], '--check: expected a value'],
    [['--model', HF_EXPORT, '--check', 'a.yaml', '--out', 'b.yaml'], '--out applies when writing a YAML, not with --check'],
  ]);

  it('a model file that is not there: exit 1, naming it', async () => {
    const r = await cli('mapper-config', '--model', '/nonexistent/model.onnx');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('segstream mapper-config: /nonexistent/model.onnx: model file not found\n');
  });
});
