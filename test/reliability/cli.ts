/**
 * The real server as an attacker meets it: `bin/segstream.js serve` (or a fixture script that starts the app the
 * same way) in a child process, with its pid, its whole output, its exit, and its resident memory from /proc.
 * Only loopback addresses are used.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { tempDir } from '../helpers/media.ts';
import { ROOT, TOKEN } from './helpers.ts';
import { seededRandom } from '../helpers/seeded-random.ts';

export interface CliServer {
  port: number;
  pid: number;
  proc: ChildProcess;
  output(): string;
  /** Resolves with how the process ended (never rejects). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resident memory of the server process, bytes (from /proc). */
  rss(): number;
  /** SIGTERM, then SIGKILL if it has not ended after `killAfterMs` (a test must never hang on a stuck server). */
  stop(killAfterMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface CliServerOptions {
  /** Config merged over the base test config (top-level keys replace). */
  config?: Record<string, unknown>;
  args?: string[];
  env?: Record<string, string>;
  /** A TypeScript or JavaScript file to run instead of bin/segstream.js serve (it gets the config path as argv[2]). */
  script?: string;
  /** Prefix the command (e.g. ['prlimit', '--nofile=200:200', '--']). */
  wrap?: string[];
  /** Output that means "ready" (default: the viewer URL line). */
  ready?: RegExp;
}

export function cliConfig(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    cacheDir: path.join(ROOT, '.cache'),
    server: { port: 0, controlToken: TOKEN },
    watchdog: { noFrameMs: 1000, maxBackoffMs: 2000 },
    sources: { test: { kind: 'test', width: 320, height: 240, framerate: 30, pattern: 'smpte' } },
    models: {
      tiny: { demo: { variant: 'tiny', size: 64, classes: 8 } },
      tiny2: { demo: { variant: 'tiny', size: 64, classes: 5 } },
    },
    defaultSource: 'test',
    defaultModel: 'tiny',
    ...extra,
  };
}

export async function startCli(opts: CliServerOptions = {}): Promise<CliServer> {
  const dir = tempDir('cli');
  const configFile = path.join(dir, 'config.json');
  writeFileSync(configFile, JSON.stringify(cliConfig(opts.config), null, 2));
  const command = opts.script
    ? [process.execPath, '--import', 'tsx', opts.script, configFile, ...(opts.args ?? [])]
    : [process.execPath, path.join(ROOT, 'bin/segstream.js'), 'serve', '--config', configFile, ...(opts.args ?? [])];
  const full = [...(opts.wrap ?? []), ...command];
  const proc = spawn(full[0]!, full.slice(1), { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SEGSTREAM_TOKEN: '', ...opts.env } });
  let log = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
  const ready = opts.ready ?? /viewer: http:\/\/[^\s:]+:(\d+)\//;
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start within 60 s:\n${log}`)), 60_000);
    const onData = (chunk: Buffer): void => {
      log += chunk.toString();
      const m = ready.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve(Number(/viewer: http:\/\/[^\s:]+:(\d+)\//.exec(log)?.[1] ?? m[1] ?? 0));
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`server ended (code ${code}, signal ${signal}) before it was ready:\n${log}`));
    });
  });
  // Keep collecting after ready.
  const server: CliServer = {
    port,
    pid: proc.pid!,
    proc,
    output: () => log,
    exited,
    rss: () => {
      const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${proc.pid}/status`, 'utf8'));
      return m ? Number(m[1]) * 1024 : NaN;
    },
    async stop(killAfterMs = 15_000) {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), killAfterMs);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
  return server;
}

/** A TCP connection from a chosen loopback address (127.0.0.2 is another peer to the server). */
export function tcpConnect(port: number, localAddress = '127.0.0.1'): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: '127.0.0.1', localAddress });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

/** Resolves when the socket is closed by the other side (or errors), with how long that took. */
export function closedWithin(socket: net.Socket): Promise<number> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    if (socket.destroyed) return resolve(0);
    socket.on('error', () => {});
    socket.once('close', () => resolve(Date.now() - t0));
    // Read (and discard) what comes, or the end of the stream is never seen.
    socket.resume();
  });
}

/** Seeded PRNG, so every random test is reproducible. */
export const seeded = seededRandom;
