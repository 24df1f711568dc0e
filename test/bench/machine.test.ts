/** Process accounting from /proc used by the benchmark (the browser's CPU share). */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { childPidsNamed, processTreeCpuSeconds } from '../../server/bench/machine.ts';

describe('childPidsNamed / processTreeCpuSeconds', () => {
  it('finds a child by its command name and counts the CPU of its tree', async () => {
    // A child that burns CPU for a while, so its tree has measurable CPU time.
    const child = spawn('sh', ['-c', 'i=0; while [ $i -lt 400000 ]; do i=$((i+1)); done; sleep 30'], { stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 300));
      const pids = childPidsNamed(process.pid, /^sh$/);
      expect(pids).toContain(child.pid);
      expect(childPidsNamed(process.pid, /^no-such-command$/)).toEqual([]);
      // Wait until the loop has used some CPU (tick resolution is 10 ms).
      let cpu = 0;
      for (let i = 0; i < 100 && cpu < 0.05; i++) {
        await new Promise((r) => setTimeout(r, 100));
        cpu = processTreeCpuSeconds(child.pid!);
      }
      expect(cpu).toBeGreaterThanOrEqual(0.05);
      // The tree of a pid that does not exist has no CPU.
      expect(processTreeCpuSeconds(2 ** 22 + 12345)).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
