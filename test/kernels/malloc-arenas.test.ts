/** limitMallocArenas: glibc's mallopt(M_ARENA_MAX) through the kernels addon, used when ONNX Runtime's arena is off. */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { limitMallocArenas } from '../../server/kernels/index.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

describe('limitMallocArenas', () => {
  it('validates its argument', () => {
    expect(() => limitMallocArenas(0)).toThrow('limitMallocArenas: arenas must be an integer in 1..64, got 0');
    expect(() => limitMallocArenas(1.5)).toThrow('got 1.5');
  });

  it('sets the cap on glibc, and leaves an explicit MALLOC_ARENA_MAX alone', () => {
    const script = "import('./server/kernels/index.ts').then((k) => console.log(JSON.stringify(k.limitMallocArenas(2))))";
    const run = (env: Record<string, string>) =>
      spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...env } });
    const { MALLOC_ARENA_MAX: _, ...rest } = process.env;
    const own = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: ROOT, encoding: 'utf8', env: rest });
    // Debian's Node links glibc: the cap is set.
    expect(own.stdout.trim()).toBe('true');
    expect(run({ MALLOC_ARENA_MAX: '4' }).stdout.trim()).toBe('false');
  });
});
