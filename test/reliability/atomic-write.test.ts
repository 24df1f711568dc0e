/**
 * Crash safety of server/util/atomic-write.ts: a child process rewrites a multi-megabyte file (or appends lines to
 * one) in a loop and is killed with SIGKILL at random moments. After every kill the target must be absent (nothing
 * committed yet) or exactly one complete version, never a truncated or mixed one, and never older than the last
 * write the child reported as done.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/media.ts';
import { checkLines, checkVersion, versionContent } from './atomic-content.ts';
import { ROOT } from './helpers.ts';

const CHILD = path.join(ROOT, 'test/reliability/atomic-writer-child.ts');
const KILLS = 8;

/** Starts the writer, kills it after `killAfterMs`, resolves with the last version it reported done (0 if none). */
function runAndKill(mode: 'write' | 'append', target: string, start: number, killAfterMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, mode, target, String(start)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let timer: NodeJS.Timeout | null = null;
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      // The clock starts once the writer is running, so the kill lands inside the write loop.
      timer ??= setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('exit', (code, signal) => {
      if (timer) clearTimeout(timer);
      if (signal !== 'SIGKILL') return reject(new Error(`writer exited by itself (code ${code}): ${err}`));
      const done = [...out.matchAll(/^done (\d+)$/gm)].map((m) => Number(m[1]));
      resolve(done.length ? done[done.length - 1]! : 0);
    });
  });
}

/** Kill delays spread over one write's duration and beyond (seeded, so a failure can be replayed). */
function killDelays(seed: number): number[] {
  let s = seed;
  return Array.from({ length: KILLS }, () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return 5 + (s % 400);
  });
}

/**
 * Runs the child KILLS times, killing it at seeded moments, and after each kill checks the target with `check`
 * (which returns the last complete write it finds, or a problem). The target must be absent only while nothing was
 * reported done, and never older than the last write reported done or seen. Returns the last write seen.
 */
async function killRepeatedly(
  mode: 'write' | 'append',
  target: string,
  seed: number,
  check: (file: string) => { done: number } | { problem: string },
): Promise<number> {
  let seen = 0;
  for (const delay of killDelays(seed)) {
    const reported = await runAndKill(mode, target, seen + 1, delay);
    if (!existsSync(target)) {
      expect(reported, 'the child reported a write done but the file is missing').toBe(0);
      continue;
    }
    const result = check(target);
    expect(result, `after SIGKILL at ${delay} ms`).not.toHaveProperty('problem');
    const done = (result as { done: number }).done;
    expect(done).toBeGreaterThanOrEqual(Math.max(reported, seen));
    seen = done;
  }
  return seen;
}

describe('atomic writes survive SIGKILL at random moments', () => {
  it('the checker itself rejects a truncated file (so the crash test can fail)', () => {
    const full = versionContent(3);
    expect(checkVersion(full)).toEqual({ version: 3 });
    expect(checkVersion(full.subarray(0, full.length - 1))).toHaveProperty('problem');
    expect(checkVersion(full.subarray(0, 4096))).toHaveProperty('problem');
    expect(checkLines('header: atomic append test\nline 1 ' + 'y'.repeat(2300) + '\nline 2 yyy')).toHaveProperty('problem');
  });

  it('writeFileAtomic: the target is always one whole version, never older than the last completed write', async () => {
    const dir = tempDir('rel-atomic');
    const target = path.join(dir, 'snapshot.bin');
    const committed = await killRepeatedly('write', target, 20261126, (file) => {
      const result = checkVersion(readFileSync(file));
      return 'problem' in result ? result : { done: result.version };
    });
    expect(committed, 'at least one write completed across the runs').toBeGreaterThan(0);
    // The only visible (non-dot) file is the target; a crash can leave hidden temporary files, never a partial target.
    expect(readdirSync(dir).filter((f) => !f.startsWith('.'))).toEqual(['snapshot.bin']);
    for (const f of readdirSync(dir).filter((f) => f.startsWith('.'))) expect(f).toMatch(/^\.snapshot\.bin\.\d+\.[a-z0-9]+\.tmp$/);
  });

  it('appendLineAtomic: every line is whole, none is lost once reported done', async () => {
    const dir = tempDir('rel-append');
    const target = path.join(dir, 'bench.csv');
    const last = await killRepeatedly('append', target, 42, (file) => {
      const result = checkLines(readFileSync(file, 'utf8'));
      return 'problem' in result ? result : { done: result.last };
    });
    expect(last).toBeGreaterThan(0);
  });
});
