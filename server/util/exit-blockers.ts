/**
 * Threads that would keep the process from exiting. Node's exit joins every worker thread, and a thread stuck in
 * a native call (an inference run that never returns, a GStreamer state change that blocks) is joined for as long
 * as it is stuck. Whatever lets go of such a thread registers a reporter here; the process guard
 * (server/app/process-guard.ts) asks before exiting and exits hard while any thread is reported.
 */
const reporters = new Set<() => string[]>();

/** Registers a reporter of stuck threads (each described in a few words); returns the function that removes it. */
export function reportStuckThreads(reporter: () => string[]): () => void {
  reporters.add(reporter);
  return () => reporters.delete(reporter);
}

/** Every thread currently reported stuck. */
export function stuckThreads(): string[] {
  const out: string[] = [];
  for (const r of reporters) {
    try {
      out.push(...r());
    } catch {
      // a reporter that fails reports nothing
    }
  }
  return out;
}
