/**
 * Last-resort process handling for the CLI (installed by bin/segstream.js): whatever goes wrong, the process ends
 * within a bounded time so a supervisor (systemd `Restart=always`) can start it again. It never hangs.
 *
 *  - An uncaught exception or unhandled rejection is logged (secrets masked) and the process exits with code 1.
 *  - SIGTERM, SIGINT and SIGHUP stop the running servers and exit 0.
 *  - Either way, what is running is stopped first: each running server registers a closer here (its GStreamer
 *    pipelines must reach NULL, or the binding's bus polling keeps a libuv thread that Node's exit waits for).
 *  - Exit is bounded: closers get `GRACE_MS`; if a thread is known to be stuck in native code (an inference call
 *    that never returns, a GStreamer state change that blocks) Node's own exit would wait for it forever, so the
 *    process kills itself instead (SIGKILL, logged first). A separate reaper process, started when shutdown
 *    begins, kills the process if it still exists `HARD_DEADLINE_MS` later, whatever it is stuck in.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { stuckThreads } from '../util/exit-blockers.ts';
import { oneLine } from '../util/log.ts';
import { SecretMask } from '../util/redact.ts';

/** Time the closers get before the process exits anyway. */
export const GRACE_MS = 2500;
/** The reaper kills the process this long after shutdown began, if it still exists. */
export const HARD_DEADLINE_MS = 4500;

export interface Closer {
  /** Stops everything; should settle within `graceMs`. */
  close(graceMs: number): Promise<void>;
  /** Secrets this closer knows (masked in fatal error reports). */
  secrets?(): string[];
}

const closers = new Set<Closer>();

/** Registers a running server; returns the function that unregisters it. */
export function registerCloser(closer: Closer): () => void {
  closers.add(closer);
  return () => closers.delete(closer);
}

export interface ProcessGuard {
  /** The CLI's main returned: exits now if a shutdown is under way, else lets Node end the process as usual. */
  mainReturned(code: number): void;
}

export interface ProcessGuardOptions {
  write?: (line: string) => void;
  graceMs?: number;
  hardDeadlineMs?: number;
}

let installed: ProcessGuard | null = null;

export function installProcessGuard(options: ProcessGuardOptions = {}): ProcessGuard {
  if (installed) return installed;
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const graceMs = options.graceMs ?? GRACE_MS;
  const hardDeadlineMs = options.hardDeadlineMs ?? HARD_DEADLINE_MS;
  let shuttingDown: Promise<void> | null = null;
  let exitCode = 0;
  let exited = false;

  const say = (line: string): void => {
    const mask = new SecretMask([...closers].flatMap((c) => c.secrets?.() ?? []));
    try {
      write(`[segstream] ${oneLine(mask.apply(line))}`);
    } catch {
      // stderr gone: nothing else to tell
    }
  };

  const finish = (): void => {
    if (exited) return;
    exited = true;
    // Reported by whatever let go of such a thread (server/util/exit-blockers.ts), running server or not.
    const stuck = stuckThreads();
    if (stuck.length > 0) {
      // process.exit() would join these threads and wait as long as they are stuck.
      say(`exiting hard (SIGKILL): ${stuck.join('; ')}`);
      process.kill(process.pid, 'SIGKILL');
      return;
    }
    process.exit(exitCode);
  };

  const shutdown = (code: number, why: string): Promise<void> => {
    if (shuttingDown) return shuttingDown;
    exitCode = code;
    startReaper(hardDeadlineMs);
    // Kept referenced: the exit must happen even if every other handle is gone meanwhile.
    const deadline = new Promise<void>((resolve) => setTimeout(resolve, graceMs));
    const all = Promise.allSettled([...closers].map((c) => c.close(graceMs - 250)));
    shuttingDown = Promise.race([all.then(() => undefined), deadline.then(() => say(`${why}: not everything stopped within ${graceMs} ms; exiting anyway`))]).then(finish);
    return shuttingDown;
  };

  const fatal = (err: unknown, origin: string): void => {
    const e = err instanceof Error ? err : new Error(String(err));
    say(`FATAL: ${origin === 'unhandledRejection' ? 'unhandled promise rejection' : 'uncaught exception'}: ${e.message}; exiting (code 1) so the service can be restarted`);
    for (const line of (e.stack ?? '').split('\n').slice(1, 12)) say(`    ${line.trim()}`);
    if (shuttingDown) return; // a second fault while stopping: the deadline and the reaper still hold
    void shutdown(1, 'fatal error');
  };
  process.on('uncaughtException', fatal);

  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      if (closers.size === 0 && !shuttingDown) {
        // Nothing of ours is running (a toolkit command): the default action, death by the signal.
        process.removeListener(signal, onSignal);
        process.kill(process.pid, signal);
        return;
      }
      if (shuttingDown) {
        say(`${signal} again while stopping: exiting now`);
        exited = false;
        finish();
        return;
      }
      void shutdown(0, signal);
    };
    process.on(signal, onSignal);
  }

  installed = {
    mainReturned(code: number): void {
      if (!shuttingDown) {
        process.exitCode = code;
        return;
      }
      if (exitCode === 0) exitCode = code;
      void shuttingDown.then(finish);
    },
  };
  return installed;
}

let reaper: ChildProcess | null = null;

/**
 * A small separate process that SIGKILLs this one `ms` from now unless this one has ended by then (it sees its
 * stdin close when we exit). It is its own process group, so a terminal's second Ctrl-C does not reach it.
 */
function startReaper(ms: number): void {
  if (reaper) return;
  const code = `
    const pid = Number(process.argv[1]);
    const timer = setTimeout(() => { try { process.kill(pid, 'SIGKILL'); } catch {} process.exit(0); }, Number(process.argv[2]));
    process.stdin.on('end', () => { clearTimeout(timer); process.exit(0); });
    process.stdin.on('error', () => { clearTimeout(timer); process.exit(0); });
    process.stdin.resume();
  `;
  try {
    reaper = spawn(process.execPath, ['-e', code, String(process.pid), String(ms)], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
    reaper.on('error', () => {});
    reaper.stdin?.on('error', () => {});
    reaper.unref();
    (reaper.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  } catch {
    // Cannot spawn (no memory, no fds): the in-process deadline still holds while the event loop runs.
  }
}
