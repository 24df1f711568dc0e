import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SegStreamApp } from '../app/app.ts';
import { configFromArgs, parseServeArgs, SERVE_HELP } from './serve.ts';

const HELP = `usage: segstream kiosk [serve options] [--browser PATH]

Starts the server and Chromium in kiosk mode on this machine's display (the viewer opened with ?kiosk:
fullscreen, no controls, reconnects by itself). Chromium is restarted if it exits. For boot-time start on a
board see deploy/ and docs/viewer.md.

${SERVE_HELP.split('\n').slice(2).join('\n')}`;

export async function main(argv: string[]): Promise<number> {
  const browserIndex = argv.indexOf('--browser');
  const browser = browserIndex >= 0 ? argv[browserIndex + 1] : '/usr/bin/chromium';
  const rest = browserIndex >= 0 ? [...argv.slice(0, browserIndex), ...argv.slice(browserIndex + 2)] : argv;
  const values = parseServeArgs(rest);
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (!browser || !existsSync(browser)) throw new Error(`--browser: ${browser ?? '(missing)'} does not exist; install Debian's chromium or pass --browser PATH`);
  const { config, sourceName, modelName } = await configFromArgs(values);
  const app = new SegStreamApp({ config, ...(sourceName ? { sourceName } : {}), ...(modelName ? { modelName } : {}), log: (l) => console.log(`[segstream] ${l}`) });
  const url = await app.start();
  const kioskUrl = `${url}?kiosk`;
  console.log(`[segstream] kiosk: ${kioskUrl}`);
  const profile = mkdtempSync(path.join(os.tmpdir(), 'segstream-kiosk-'));
  let child: ChildProcess | null = null;
  let stopping = false;
  let delay = 1000;
  const launch = (): void => {
    const started = Date.now();
    child = spawn(
      browser,
      ['--kiosk', '--no-first-run', '--noerrdialogs', '--disable-infobars', '--disable-session-crashed-bubble', '--disable-background-networking', '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`, kioskUrl],
      { stdio: 'ignore' },
    );
    child.once('exit', (code) => {
      if (stopping) return;
      // A browser that keeps dying is restarted with a growing pause; one that ran a while starts at once.
      delay = Date.now() - started > 60_000 ? 1000 : Math.min(delay * 2, 60_000);
      console.log(`[segstream] browser exited (${code}); restarting in ${delay} ms`);
      setTimeout(launch, delay);
    });
  };
  launch();
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      stopping = true;
      child?.kill('SIGTERM');
      void app.stop().then(resolve);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return 0;
}
