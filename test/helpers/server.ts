/**
 * Starts the real segstream server (`bin/segstream.js serve`) as a child process for integration and browser
 * tests. The default is the test pattern through a tiny generated demo model, so a test gets live frames in
 * seconds; `kill()` and `restart()` exercise recovery.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from './media.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export const TEST_TOKEN = 'segstream-test-token-0123456789';

export interface StartServerOptions {
  /** Source name from the test config (default `test`: 320x240 moving pattern at 30 fps). */
  source?: string;
  /** Model name from the test config (default `tiny`). */
  model?: string;
  /** Extra CLI arguments. */
  args?: string[];
  /** Extra config merged into the generated test config (top-level keys replace). */
  config?: Record<string, unknown>;
  /** Start without the control token. */
  noToken?: boolean;
}

export interface RunningServer {
  url: string;
  port: number;
  token: string;
  /** Everything the server printed so far. */
  output(): string;
  stop(): Promise<void>;
  kill(): void;
  restart(): Promise<void>;
}

export function testConfig(dir: string, extra: Record<string, unknown> = {}): string {
  const config = {
    cacheDir: path.join(ROOT, '.cache'),
    sources: {
      test: { kind: 'test', width: 320, height: 240, framerate: 30, pattern: 'smpte' },
      still: { kind: 'test', width: 320, height: 240, framerate: 10, pattern: 'smpte', speed: 0 },
    },
    models: {
      tiny: { demo: { variant: 'tiny', size: 64, classes: 8 } },
      tiny2: { demo: { variant: 'tiny', size: 64, classes: 5 } },
    },
    defaultSource: 'test',
    defaultModel: 'tiny',
    ...extra,
  };
  const file = path.join(dir, 'segstream-test.json');
  writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

export async function startServer(opts: StartServerOptions = {}): Promise<RunningServer> {
  const dir = tempDir('server');
  const configFile = testConfig(dir, opts.config);
  let port = 0;
  let child: ChildProcess | null = null;
  let log = '';

  const launch = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const args = [
        path.join(ROOT, 'bin/segstream.js'),
        'serve',
        '--config', configFile,
        '--port', String(port),
        '--source', opts.source ?? 'test',
        '--model', opts.model ?? 'tiny',
        ...(opts.noToken ? [] : ['--token', TEST_TOKEN]),
        ...(opts.args ?? []),
      ];
      const proc = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SEGSTREAM_TOKEN: '' } });
      child = proc;
      const timer = setTimeout(() => reject(new Error(`server did not start within 60 s:\n${log}`)), 60_000);
      const onData = (chunk: Buffer): void => {
        log += chunk.toString();
        const m = /viewer: http:\/\/[^:]+:(\d+)\//.exec(log);
        if (m && port === 0) port = Number(m[1]);
        if (m) {
          clearTimeout(timer);
          resolve();
        }
      };
      proc.stdout!.on('data', onData);
      proc.stderr!.on('data', onData);
      proc.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`server exited with code ${code} before it was ready:\n${log}`));
      });
    });

  await launch();
  const exited = (): Promise<void> =>
    new Promise((resolve) => {
      if (!child || child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
    });

  return {
    get url() {
      return `http://127.0.0.1:${port}/`;
    },
    get port() {
      return port;
    },
    token: opts.noToken ? '' : TEST_TOKEN,
    output: () => log,
    async stop() {
      const done = exited();
      child?.kill('SIGTERM');
      const timer = setTimeout(() => child?.kill('SIGKILL'), 5000);
      await done;
      clearTimeout(timer);
    },
    kill() {
      child?.kill('SIGKILL');
    },
    async restart() {
      await exited();
      log = '';
      await launch();
    },
  };
}
