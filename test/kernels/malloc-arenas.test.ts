/** glibc malloc settings through the kernels addon (mallopt), used when ONNX Runtime's arena is off. */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixMallocMmapThreshold, limitMallocArenas } from '../../server/kernels/index.ts';

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

describe('fixMallocMmapThreshold', () => {
  it('validates its argument', () => {
    expect(() => fixMallocMmapThreshold(100)).toThrow('fixMallocMmapThreshold: bytes must be an integer in 4096..33554432, got 100');
    expect(() => fixMallocMmapThreshold(64 * 1024 * 1024)).toThrow('got 67108864');
  });

  it('sets the threshold on glibc, and leaves one given in the environment alone', () => {
    const script = "import('./server/kernels/index.ts').then((k) => console.log(JSON.stringify(k.fixMallocMmapThreshold(262144))))";
    const { MALLOC_MMAP_THRESHOLD_: _a, GLIBC_TUNABLES: _b, ...env } = process.env;
    const run = (extra: Record<string, string>) =>
      spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: ROOT, encoding: 'utf8', env: { ...env, ...extra } }).stdout.trim();
    expect(run({})).toBe('true');
    expect(run({ MALLOC_MMAP_THRESHOLD_: '131072' })).toBe('false');
    expect(run({ GLIBC_TUNABLES: 'glibc.malloc.mmap_threshold=131072' })).toBe('false');
  });
});
