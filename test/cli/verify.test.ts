// `segstream verify` through the shared argument layer (its checks themselves: test/toolkit/commands/verify.test.ts).
import { describe } from 'vitest';
import { HF_EXPORT, usageCases } from './toolkit-cases.ts';

describe('segstream verify: usage errors', () => {
  usageCases('verify', [
    [['--refrence', 'x.onnx'], 'unknown option --refrence (did you mean --reference?)'],
    [['--images', 'photos'], '--reference is required: the float ONNX model (the reference path)'],
    [['--reference'], '--reference: expected a value'],
    [['--reference', HF_EXPORT, '--images', '/tmp', '--postprocess', 'fast'], '--postprocess: expected one of exact, boundary, lowres, got "fast"'],
    [['--reference', HF_EXPORT, '--images', '/tmp', '--threads', '0'], '--threads: expected an integer from 1 to 64, got "0"'],
    [['--reference', HF_EXPORT, '--images', '/tmp', '--max-mean-diff', 'abc'], '--max-mean-diff: expected a number, got "abc"'],
    // A negative number is the value of --min-cosine (not an option); verify's own range check then names it.
    [['--reference', HF_EXPORT, '--images', '/tmp', '--deployed-int8-weights', '--min-cosine', '-2'], '--min-cosine -2: cosine similarity lies in -1..1 (e.g. 0.99)'],
  ]);
});
