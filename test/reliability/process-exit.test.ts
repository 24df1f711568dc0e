/**
 * The process never hangs (issue 18: every uncaught exception became a permanent outage, and SIGTERM with a stuck
 * worker took 24 s). The real server with a real pipeline playing, in a child process:
 *  - an uncaught exception or an unhandled rejection: logged (secrets masked), the process exits with code 1,
 *    and a new one can start on the same port at once;
 *  - SIGTERM while a worker thread is blocked in a native call: the process still ends (Node's own exit would
 *    wait for that thread forever; the guard's reaper ends it);
 *  - SIGTERM on a healthy server: exit code 0.
 * Times are printed, never asserted (only "ended at all" within a generous bound).
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/media.ts';
import { startCli } from './cli.ts';
import { connectViewer, freePort, healthz, waitFor } from './helpers.ts';

const FIXTURE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'faulty-server.ts');
/** Only a hung process takes this long; the time it took is printed. */
const GENEROUS_MS = 30_000;

async function endedWithin<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: the process did not end within ${ms} ms (hung)`)), ms);
  });
  try {
    return await Promise.race([p, hung]);
  } finally {
    clearTimeout(timer);
  }
}

describe('process: fatal errors and signals end the process (real pipeline playing)', () => {
  for (const fault of ['throw', 'reject'] as const) {
    it(`${fault === 'throw' ? 'an uncaught exception' : 'an unhandled rejection'}: logged, exit code 1, restartable on the same port`, async () => {
      const port = await freePort();
      const config = { server: { port, controlToken: 'segstream-secret-token-123456' } };
      const server = await startCli({ script: FIXTURE, args: [fault], config });
      const t0 = Date.now();
      const ended = await endedWithin(server.exited, GENEROUS_MS, fault);
      console.log(`[reliability] ${fault}: process ended ${Date.now() - t0} ms after start-up completed (includes the first frames), ${JSON.stringify(ended)}`);
      expect(ended).toEqual({ code: 1, signal: null });
      const out = server.output();
      expect(out).toMatch(fault === 'throw' ? /FATAL: uncaught exception: injected fault: a handler threw/ : /FATAL: unhandled promise rejection: injected fault: a promise nobody awaited failed/);
      expect(out).toMatch(/exiting \(code 1\) so the service can be restarted/);
      // The control token is masked in the fatal report too.
      expect(out).not.toContain('segstream-secret-token-123456');

      // What a supervisor does next: start it again, same port; it serves.
      const again = await startCli({ config });
      try {
        expect(again.port).toBe(port);
        const v = await connectViewer(port);
        await waitFor(() => v.frames.length > 0, 'frames from the restarted server');
        v.ws.terminate();
        expect((await healthz(port)).code).toBe(200);
      } finally {
        await again.stop();
      }
    });
  }

  it('SIGTERM while a worker thread is blocked in a native call: the process still ends', async () => {
    const dir = tempDir('stuck');
    const fifo = path.join(dir, 'never-written');
    execFileSync('mkfifo', [fifo]);
    const server = await startCli({ script: FIXTURE, args: ['stuck-native', fifo] });
    await waitFor(() => /a worker is now blocked in open\(\) of a FIFO/.test(server.output()), 'the worker to block');
    const t0 = Date.now();
    server.proc.kill('SIGTERM');
    const ended = await endedWithin(server.exited, GENEROUS_MS, 'SIGTERM with a blocked worker');
    const ms = Date.now() - t0;
    console.log(`[reliability] SIGTERM with a worker blocked in native code: ended after ${ms} ms, ${JSON.stringify(ended)} (bound by the reaper at 4.5 s; not asserted)`);
    // Ended, by whatever means: exit code or the reaper's SIGKILL. It did not hang.
    expect(ended.code !== null || ended.signal !== null).toBe(true);
  });

  it('SIGTERM on a healthy CLI server: stops and exits 0', async () => {
    const server = await startCli();
    const v = await connectViewer(server.port);
    await waitFor(() => v.frames.length > 0, 'frames');
    const t0 = Date.now();
    server.proc.kill('SIGTERM');
    const ended = await endedWithin(server.exited, GENEROUS_MS, 'SIGTERM');
    console.log(`[reliability] SIGTERM on a healthy server: exited after ${Date.now() - t0} ms (not asserted)`);
    expect(ended).toEqual({ code: 0, signal: null });
  });
});
