/**
 * Model-only segments of `segstream bench`: the same model, loader, thread count and memory-arena setting as the
 * stream's inference worker, on a fixed input, in a child process that lives for the whole run. A process of its
 * own keeps the second loaded model out of the measured server's resident memory and CPU time, and keeps the
 * model loaded between rounds (no reload per round). The child is idle while a pipeline segment runs.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ModelInfo, Tensor } from '../model/model-info.ts';
import { packedNv12, type Nv12Image } from '../stages/frame-context.ts';
import type { ModelRef } from '../stages/infer/worker-protocol.ts';

export type ModelOnlyRequest =
  | { type: 'load'; model: ModelRef; threads: number; memoryArena: boolean; warmupRuns: number }
  | { type: 'segment'; runs: number; warmupRuns: number }
  | { type: 'close' };

export type ModelOnlyReply =
  | { type: 'loaded'; model: string; input: string; rssBytes: number }
  | { type: 'segment'; ms: number[]; wallS: number; cpuS: number; rssBytes: number }
  | { type: 'closed' }
  | { type: 'error'; message: string };

/** One model-only segment: each timed run's milliseconds inside the runtime, and the segment's wall and CPU time. */
export interface ModelOnlySegment {
  ms: number[];
  /** Wall seconds of the timed runs, back to back. */
  wallS: number;
  /** CPU seconds (user + system) the child used for them. */
  cpuS: number;
  /** The child's resident memory after the segment, MiB. */
  rssMiB: number;
}

const MiB = 2 ** 20;

/** A fixed, deterministic input of the model's own kind: a float tensor, or an NV12 image for NV12 models. */
export function fixedInputFor(info: Pick<ModelInfo, 'input'>): { tensor: Tensor } | { nv12: Nv12Image } {
  const { width, height, layout, kind } = info.input;
  let seed = 1;
  const next = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  if (kind === 'nv12') {
    const data = new Uint8Array((width * height * 3) / 2);
    for (let i = 0; i < data.length; i++) data[i] = Math.floor(next() * 256);
    return { nv12: packedNv12(data, width, height) };
  }
  const data = new Float32Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = next() * 4 - 2;
  return { tensor: { dtype: 'float32', shape: layout === 'NCHW' ? [1, 3, height, width] : [1, height, width, 3], data } };
}

const BOOTSTRAP = fileURLToPath(new URL('./child-bootstrap.mjs', import.meta.url));
const CHILD = new URL('./model-only-child.ts', import.meta.url).href;
/** The last output of the child kept for error messages. */
const TAIL_CHARS = 4000;

export class ModelOnlyProcess {
  private tail = '';
  private exited: string | null = null;
  private pending: { resolve: (r: ModelOnlyReply) => void; reject: (e: Error) => void } | null = null;

  private constructor(private readonly child: ChildProcess) {
    const keep = (chunk: Buffer) => {
      this.tail = (this.tail + chunk.toString()).slice(-TAIL_CHARS);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    child.on('message', (m: ModelOnlyReply) => {
      const p = this.pending;
      this.pending = null;
      if (!p) return;
      if (m.type === 'error') p.reject(new Error(`bench: model-only: ${m.message}`));
      else p.resolve(m);
    });
    child.on('exit', (code, signal) => {
      this.exited = signal ? `signal ${signal}` : `code ${code}`;
      const p = this.pending;
      this.pending = null;
      p?.reject(new Error(`bench: the model-only process exited (${this.exited})${this.tail.trim() ? `: ${this.tail.trim().split('\n').slice(-5).join(' | ')}` : ''}`));
    });
  }

  /** The child's process id. */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Starts the child and loads the model in it; resolves once `warmupRuns` untimed runs are done. */
  static async start(model: ModelRef, o: { threads: number; memoryArena: boolean; warmupRuns?: number }): Promise<{ process: ModelOnlyProcess; model: string; input: string; rssMiB: number }> {
    // No inherited loader flags (a test runner's): the bootstrap registers tsx itself. Output is piped, so a runtime
    // warning cannot land in `--json` output on stdout.
    const child = fork(BOOTSTRAP, [CHILD], { execArgv: [], stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    const p = new ModelOnlyProcess(child);
    try {
      const r = await p.request({ type: 'load', model, threads: o.threads, memoryArena: o.memoryArena, warmupRuns: o.warmupRuns ?? 3 });
      if (r.type !== 'loaded') throw new Error(`bench: model-only: unexpected reply ${r.type}`);
      return { process: p, model: r.model, input: r.input, rssMiB: r.rssBytes / MiB };
    } catch (err) {
      await p.close();
      throw err;
    }
  }

  /** Runs `warmupRuns` untimed, then `runs` timed runs back to back on the fixed input. */
  async segment(runs: number, warmupRuns = 1): Promise<ModelOnlySegment> {
    if (!Number.isInteger(runs) || runs < 1) throw new Error(`model-only segment: runs must be a positive integer, got ${runs}`);
    const r = await this.request({ type: 'segment', runs, warmupRuns });
    if (r.type !== 'segment') throw new Error(`bench: model-only: unexpected reply ${r.type}`);
    return { ms: r.ms, wallS: r.wallS, cpuS: r.cpuS, rssMiB: r.rssBytes / MiB };
  }

  /** Releases the model and ends the child (killed if it does not end within `graceMs`). */
  async close(graceMs = 10_000): Promise<void> {
    if (this.exited !== null) return;
    const ended = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    if (this.child.connected && !this.pending) {
      await Promise.race([this.request({ type: 'close' }).catch(() => undefined), new Promise((r) => setTimeout(r, graceMs))]);
    }
    if (this.exited === null) this.child.kill('SIGKILL');
    await ended;
  }

  private request(message: ModelOnlyRequest): Promise<ModelOnlyReply> {
    if (this.exited !== null) return Promise.reject(new Error(`bench: the model-only process has exited (${this.exited})`));
    if (this.pending) return Promise.reject(new Error('bench: model-only: one request at a time'));
    return new Promise<ModelOnlyReply>((resolve, reject) => {
      this.pending = { resolve, reject };
      this.child.send(message);
    });
  }
}
