// `segstream doctor`: flag errors, and the report as JSON on a real machine (GStreamer, ONNX Runtime, the BPU double).
import { describe, expect, it } from 'vitest';
import { cli, lines } from './helpers.ts';

describe('segstream doctor', () => {
  it('usage errors: one line, exit 2', async () => {
    const flag = await cli('doctor', '--jsno');
    expect(flag.code).toBe(2);
    expect(lines(flag.stderr)).toEqual(['segstream doctor: unknown option --jsno (did you mean --json?) (see segstream doctor --help)']);
    const positional = await cli('doctor', 'bpu');
    expect(positional.code).toBe(2);
    expect(lines(positional.stderr)).toEqual(['segstream doctor: unexpected argument "bpu": segstream doctor takes options only (see segstream doctor --help)']);
  });

  it('--json reports what this machine has', async () => {
    const r = await cli('doctor', '--json');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.backends.onnx.available).toBe(true);
    expect(report.backends.bpu.mode).toBe('test-double');
    expect(report.gstreamer.elements.find((e: { name: string }) => e.name === 'videotestsrc').found).toBe(true);
  });
});
