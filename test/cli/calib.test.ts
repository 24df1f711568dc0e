// `segstream calib` through the shared argument layer (its output itself: test/toolkit/commands/calib.test.ts).
import { describe } from 'vitest';
import { HF_EXPORT, usageCases } from './toolkit-cases.ts';

describe('segstream calib: usage errors', () => {
  const base = ['--model', HF_EXPORT, '--images', '/tmp', '--out', '/tmp/segstream-calib-never-written'];
  usageCases('calib', [
    [['--model', HF_EXPORT, '--images', '/tmp', '--ot', 'x'], 'unknown option --ot (did you mean --out?)'],
    [[...base], '--format is required: featuremap | nv12 | rgb'],
    [[...base, '--format', 'jpg'], '--format: expected one of featuremap, nv12, rgb, got "jpg"'],
    [[...base, '--format', 'rgb', '--max-images', '0'], '--max-images: expected an integer >= 1, got "0"'],
    [[...base, '--format', 'rgb', '--max-images', '-3'], '--max-images: expected an integer >= 1, got "-3"'],
    [[...base, '--format', 'rgb', '--quiet=no'], '--quiet: takes no value'],
  ]);
});
