// `segstream model info|demo|fetch`: each subcommand's own help, its positional arguments, and flag errors that
// name the flag (never DemoModelOptions); `model info` on a real Hugging Face export (test/fixtures).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/media.ts';
import { cli, lines, ROOT } from './helpers.ts';

const HF_EXPORT = path.join(ROOT, 'test/fixtures/models/segformer-b0-ade-random/model.onnx');

describe('segstream model', () => {
  it('bare: the subcommands on stderr, exit 2; --help on stdout, exit 0', async () => {
    const bare = await cli('model');
    expect(bare.code).toBe(2);
    expect(bare.stderr).toMatch(/^usage: segstream model <subcommand> \[options\]\n/);
    const help = await cli('model', '--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toBe(bare.stderr);
  });

  it('unknown subcommands and options, with a suggestion', async () => {
    expect((await cli('model', 'inof')).stderr).toBe('segstream model: unknown subcommand "inof" (did you mean info?) (see segstream model --help)\n');
    expect((await cli('model', 'frob')).stderr).toBe('segstream model: unknown subcommand "frob" (see segstream model --help)\n');
    const opt = await cli('model', '--json');
    expect(opt.code).toBe(2);
    expect(opt.stderr).toBe('segstream model: unknown option --json: a subcommand (info, demo, fetch) comes first (see segstream model --help)\n');
  });

  it('model info --help is its own help, not the generic one', async () => {
    const r = await cli('model', 'info', '--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^usage: segstream model info <model\.onnx\|model\.bin> \[options\]\n/);
    expect(r.stdout).not.toContain('model demo');
    expect(r.stdout).toContain('  segstream model info models/segformer-b0-ade/model.onnx\n');
  });

  it('model info: exactly one model file', async () => {
    const none = await cli('model', 'info');
    expect(none.code).toBe(2);
    expect(lines(none.stderr)).toEqual(['segstream model info: expected one model file (an .onnx export or a BPU .bin) (see segstream model info --help)']);
    const two = await cli('model', 'info', 'a.onnx', 'b.onnx');
    expect(two.code).toBe(2);
    expect(lines(two.stderr)).toEqual(['segstream model info: unexpected argument "b.onnx": expected one model file (an .onnx export or a BPU .bin) (see segstream model info --help)']);
  });

  it('model info: a missing file fails with exit 1 naming it; a real export is described', async () => {
    const missing = await cli('model', 'info', '/nonexistent/model.onnx');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('segstream model info: /nonexistent/model.onnx: model file not found\n');
    const r = await cli('model', 'info', HF_EXPORT);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^input: +pixel_values float32 \[1,3,512,512\] NCHW/m);
    expect(r.stdout).toMatch(/^classes: +wall, building, sky, floor, tree/m);
  });

  it('model demo: flag errors name the flag, never DemoModelOptions', async () => {
    const cases: [string[], string][] = [
      [['--size', 'abc'], '--size: expected an integer from 32 to 4096, got "abc"'],
      [['--size', '100'], '--size: expected a multiple of 32 (SegFormer downsamples 32x), got 100'],
      [['--size', '-64'], '--size: expected an integer from 32 to 4096, got "-64"'],
      [['--classes', '1'], '--classes: expected an integer from 2 to 65535, got "1"'],
      [['--variant', 'b7'], '--variant: expected one of b0, tiny, got "b7"'],
      [['--out'], '--out: expected a value'],
    ];
    for (const [args, message] of cases) {
      const r = await cli('model', 'demo', ...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(lines(r.stderr), args.join(' ')).toEqual([`segstream model demo: ${message} (see segstream model demo --help)`]);
      expect(r.stderr).not.toContain('DemoModelOptions');
    }
  });

  it('model demo writes the tiny model where asked', async () => {
    const out = tempDir('model-demo');
    const r = await cli('model', 'demo', '--variant', 'tiny', '--size', '64', '--out', out);
    expect(r.code).toBe(0);
    const files = r.stdout.split('\n').filter((l) => l.startsWith('  ')).map((l) => l.trim());
    expect(files).toHaveLength(3);
    for (const f of files) expect(existsSync(f), f).toBe(true);
  });

  it('model fetch: one model id, and flag values checked', async () => {
    const none = await cli('model', 'fetch');
    expect(none.code).toBe(2);
    expect(lines(none.stderr)).toEqual(['segstream model fetch: expected one Hugging Face model id, got none (see segstream model fetch --help)']);
    const timeout = await cli('model', 'fetch', 'acme/x', '--timeout', '-1');
    expect(timeout.code).toBe(2);
    expect(lines(timeout.stderr)).toEqual(['segstream model fetch: --timeout: expected a number from 1 to 3600, got "-1" (see segstream model fetch --help)']);
  });
});
