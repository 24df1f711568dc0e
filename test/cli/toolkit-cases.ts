/**
 * The usage-level behaviour every toolkit command shares through cli/args.ts: unknown options with a
 * suggestion, missing values, bad choices and numbers (negative numbers are values, not options), each one
 * line naming the flag, exit 2; and a missing model file, a runtime failure, exit 1.
 */
import path from 'node:path';
import { expect, it } from 'vitest';
import { cli, lines, ROOT } from './helpers.ts';

export const HF_EXPORT = path.join(ROOT, 'test/fixtures/models/segformer-b0-ade-random/model.onnx');

/** Runs `segstream <command> ...args` and expects exit 2 with exactly `segstream <command>: <message> (see ...)`. */
export function usageCases(command: string, cases: [string[], string][]): void {
  for (const [args, message] of cases) {
    it(`${args.join(' ')} -> ${message}`, async () => {
      const r = await cli(command, ...args);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(lines(r.stderr)).toEqual([`segstream ${command}: ${message} (see segstream ${command} --help)`]);
    });
  }
}
