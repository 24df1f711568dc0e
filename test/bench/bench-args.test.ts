// The flags for the rounds and the memory arena: defaults, what they set, and a one-line usage error (exit 2)
// naming the flag that is wrong; a --csv table with other columns is refused before anything runs (exit 1).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseBenchArgs } from '../../server/cli/bench.ts';
import { tempDir } from '../helpers/media.ts';
import { cli, lines } from '../cli/helpers.ts';

const HELP = '(see segstream bench --help)';

describe('segstream bench --rounds / --memory-arena', () => {
  it('defaults: rounds chosen by the bench (left undefined), the memory arena on', () => {
    const o = parseBenchArgs([]).options;
    expect(o.rounds).toBeUndefined();
    expect(o.memoryArena).toBe(true);
  });

  it('takes them', () => {
    expect(parseBenchArgs(['--rounds', '8', '--frames', '160', '--model-only-runs', '80']).options).toMatchObject({ rounds: 8, frames: 160, modelOnlyRuns: 80 });
    expect(parseBenchArgs(['--memory-arena', 'off']).options.memoryArena).toBe(false);
    expect(parseBenchArgs(['--memory-arena', 'on']).options.memoryArena).toBe(true);
    expect(parseBenchArgs(['--rounds', '1', '--frames', '2', '--model-only-runs', '1']).options.rounds).toBe(1);
  });

  const cases: [string[], string][] = [
    [['--rounds', '0'], '--rounds: expected an integer from 1 to 1000, got "0"'],
    [['--rounds', 'many'], '--rounds: expected an integer from 1 to 1000, got "many"'],
    [['--rounds', '6'], '--rounds 6: each round needs a model-only run, so --model-only-runs must be at least 6 (got 5)'],
    [['--rounds', '6', '--frames', '11', '--model-only-runs', '30'], '--rounds 6: each round needs 2 measured frames, so --frames must be at least 12 (got 11)'],
    [['--rounds', '10', '--duration', '5', '--model-only-runs', '30'], '--rounds 10: each round measures --duration / --rounds seconds, at least 1 s, so --duration must be at least 10 (got 5)'],
    [['--memory-arena', 'maybe'], '--memory-arena: expected one of on, off, got "maybe"'],
  ];
  for (const [args, message] of cases) {
    it(args.join(' '), async () => {
      // --model-only-runs 5 unless the case names it, so the model-only minimum is what the first cases hit.
      const argv = args.includes('--model-only-runs') ? args : [...args, '--model-only-runs', '5'];
      const r = await cli('bench', ...argv);
      expect(r.code).toBe(2);
      expect(lines(r.stderr)).toEqual([`segstream bench: ${message} ${HELP}`]);
    });
  }

  it('refuses a --csv file that is not a bench table before measuring anything (exit 1)', async () => {
    const csv = path.join(tempDir('bench-csv'), 'other.csv');
    writeFileSync(csv, 'when,fps\n');
    const r = await cli('bench', '--csv', csv, '--frames', '2', '--model-only-runs', '1');
    expect(r.code).toBe(1);
    expect(lines(r.stderr)).toEqual([`segstream bench: --csv: ${csv} is not a segstream bench table (column 1 is "when", expected "startedAt"): name another --csv file`]);
  });
});
