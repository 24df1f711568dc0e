/**
 * The advice to run without ONNX Runtime's arena under glibc.malloc.hugetlb=1, and the glibc and kernel behaviour
 * it rests on: with the tunable, a large block from malloc is backed by transparent huge pages once touched.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { hugePageAdvice, transparentHugePageMode } from '../../server/kernels/index.ts';

describe('transparentHugePageMode', () => {
  it('reads the selected mode from the kernel file format, and null where there is no file', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'segstream-thp-'));
    const file = path.join(dir, 'enabled');
    writeFileSync(file, 'always [madvise] never\n');
    expect(transparentHugePageMode(file)).toBe('madvise');
    writeFileSync(file, '[always] madvise never\n');
    expect(transparentHugePageMode(file)).toBe('always');
    expect(transparentHugePageMode(path.join(dir, 'missing'))).toBeNull();
  });
});

describe('hugePageAdvice', () => {
  it('advises the tunable where huge pages are available and it is not given', () => {
    const advice = hugePageAdvice({}, 'madvise');
    expect(advice).toContain('GLIBC_TUNABLES=glibc.malloc.hugetlb=1 ');
    expect(hugePageAdvice({}, 'always')).toBe(advice);
    // Tunables already given are kept in the suggested value.
    expect(hugePageAdvice({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' }, 'madvise')).toContain('GLIBC_TUNABLES=glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1 ');
  });

  it('says nothing when the tunable is given (either value) or huge pages are off or unknown', () => {
    expect(hugePageAdvice({ GLIBC_TUNABLES: 'glibc.malloc.hugetlb=1' }, 'madvise')).toBeNull();
    expect(hugePageAdvice({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=2:glibc.malloc.hugetlb=0' }, 'madvise')).toBeNull();
    expect(hugePageAdvice({}, 'never')).toBeNull();
    expect(hugePageAdvice({}, null)).toBeNull();
  });

  it('rests on real behaviour: with the tunable, glibc gets huge pages for a large block (none without, in madvise mode)', () => {
    // A child Node: a 64 MiB Buffer.allocUnsafe comes from malloc, which maps it on its own; writing it faults it in.
    const script = `
      const fs = require('node:fs');
      const huge = () => Number(/AnonHugePages:\\s+(\\d+) kB/.exec(fs.readFileSync('/proc/self/smaps_rollup', 'utf8'))[1]);
      const before = huge();
      const block = Buffer.allocUnsafe(64 * 1024 * 1024);
      block.fill(1);
      console.log(JSON.stringify({ deltaKiB: huge() - before, bytes: block.length }));`;
    const run = (extra: Record<string, string>) => {
      const { GLIBC_TUNABLES: _, ...env } = process.env;
      const child = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...env, ...extra } });
      expect(child.status, child.stderr).toBe(0);
      return JSON.parse(child.stdout) as { deltaKiB: number };
    };
    const withTunable = run({ GLIBC_TUNABLES: 'glibc.malloc.hugetlb=1' });
    const without = run({});
    const mode = transparentHugePageMode();
    if (mode === 'madvise') {
      // 62-64 MiB of the 64 in 2 MiB pages here with the tunable; a bound well below, as a fragmented machine may
      // not find every huge page at once. None without.
      expect(withTunable.deltaKiB).toBeGreaterThanOrEqual(16 * 1024);
      expect(without.deltaKiB).toBe(0);
      expect(hugePageAdvice({}, mode)).not.toBeNull();
    } else if (mode === 'never' || mode === null) {
      expect(withTunable.deltaKiB).toBe(0);
      expect(hugePageAdvice({}, mode)).toBeNull();
    } else {
      // "always": the kernel gives huge pages to any large anonymous mapping, tunable or not.
      expect(withTunable.deltaKiB).toBeGreaterThanOrEqual(16 * 1024);
      expect(without.deltaKiB).toBeGreaterThanOrEqual(16 * 1024);
    }
  });
});
