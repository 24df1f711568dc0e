/**
 * `segstream kiosk`: the one kiosk launcher. Starts the stream server (or uses a running one with --no-server),
 * waits until the viewer answers, and keeps Chromium full screen on it: see kiosk/kiosk-browser.ts for how a
 * crashed or hung tab and a dead browser are handled. scripts/kiosk.sh only execs this.
 */
import { execFile } from 'node:child_process';
import type { SegStreamApp } from '../app/app.ts';
import { RuntimeError, UsageError } from '../util/errors.ts';
import { firstLine } from '../util/first-line.ts';
import { integerFlag, optionalString, runCli, type Values } from './args.ts';
import { displayProblem, KioskBrowser, resolveBrowser } from './kiosk/kiosk-browser.ts';
import { registerCloser } from '../app/process-guard.ts';
import { startServer, STREAM_OPTIONS, STREAM_OPTIONS_HELP, untilSignal } from './serve.ts';

const KIOSK_OPTIONS = {
  ...STREAM_OPTIONS,
  'no-server': { type: 'boolean' },
  query: { type: 'string' },
  wait: { type: 'string' },
  browser: { type: 'string' },
  'browser-flag': { type: 'string', multiple: true },
  'hang-timeout': { type: 'string' },
  'max-restarts': { type: 'string' },
} as const;

export const KIOSK_HELP = `usage: segstream kiosk [options]

Shows the viewer full screen on this machine's display (?kiosk: no controls, compact HUD, reconnects by
itself) and keeps it there unattended: it starts the stream server (unless --no-server), waits until the
viewer answers, then starts Chromium in kiosk mode. A tab whose renderer crashes is reloaded; a tab that stops
answering, or a browser that exits, is restarted (the browser's exit status and last output are printed).
Before starting anything it says why a browser could not start: no display (DISPLAY / WAYLAND_DISPLAY), no
Chromium at the path. For boot-time start on a board see deploy/ and docs/viewer.md.

Kiosk:
  --no-server            do not start a server: show the one already running at --host/--port
                         (deploy/segstream-kiosk.service, with deploy/segstream.service running the server)
  --query TEXT           viewer URL parameters, e.g. 'mode=side-by-side&smooth=3' (docs/viewer.md)
  --wait S               seconds to wait for the viewer to answer, 1-3600 (default 120)
  --browser PATH         the browser (default: $CHROMIUM, else chromium / chromium-browser / google-chrome
                         on PATH)
  --browser-flag=FLAG    an extra browser flag, repeatable (also env SEGSTREAM_KIOSK_FLAGS, space separated)
  --hang-timeout S       a tab that does not answer a ping for S seconds, twice (the second time on a fresh
                         DevTools session), gets a new browser, 1-600 (default 15)
  --max-restarts N       give up after N browser restarts and exit with the browser's status (default: never)

The stream (with --no-server only --host and --port apply; the others are refused):
${STREAM_OPTIONS_HELP}
  -h, --help             this text

Exit status: 0 after SIGINT/SIGTERM, the browser's status once --max-restarts is used up, 1 when it cannot
start (no display, no Chromium, the server does not answer), 2 when called wrongly.

examples:
  segstream kiosk                                   test pattern + demo model, full screen
  segstream kiosk --usb /dev/video0 --query 'mode=side-by-side'
  segstream kiosk --no-server --port 8080 --wait 300
  DISPLAY=:0 segstream kiosk --file clip.mp4 --browser /usr/bin/chromium
`;

/** Flags of the stream that mean nothing when the kiosk does not start the server. */
const SERVER_ONLY = Object.keys(STREAM_OPTIONS).filter((k) => k !== 'host' && k !== 'port');

export async function main(argv: string[]): Promise<number> {
  return runCli({ name: 'kiosk', options: KIOSK_OPTIONS, help: KIOSK_HELP }, argv, async ({ values }) => {
    const log = (line: string): void => void process.stderr.write(`[segstream kiosk] ${line}\n`);
    const noServer = values['no-server'] === true;
    if (noServer) {
      const given = SERVER_ONLY.filter((k) => values[k] !== undefined);
      if (given.length) throw new UsageError(`--${given[0]} applies when the kiosk starts the server; drop it, or drop --no-server`);
    }
    const query = kioskQuery(values);
    const waitS = integerFlag(values, 'wait', 1, 3600, 120);
    const hangTimeoutS = integerFlag(values, 'hang-timeout', 1, 600, 15);
    const maxRestarts = integerFlag(values, 'max-restarts', 0, 1_000_000);
    const host = optionalString(values, 'host') ?? '127.0.0.1';
    const port = integerFlag(values, 'port', 0, 65535, 8080);
    const extraFlags = [...(process.env.SEGSTREAM_KIOSK_FLAGS ?? '').split(/\s+/).filter(Boolean), ...((values['browser-flag'] as string[] | undefined) ?? [])];

    // Why the browser could not start, before starting anything.
    const browserPath = resolveBrowser(optionalString(values, 'browser'));
    const noDisplay = displayProblem(extraFlags);
    if (noDisplay) throw new RuntimeError(noDisplay);

    let app: SegStreamApp | null = null;
    let base: string;
    if (noServer) {
      base = `http://${host.includes(':') ? `[${host}]` : host}:${port}/`;
    } else {
      const started = await startServer(values, (line) => console.log(`[segstream] ${line}`));
      app = started.app;
      base = started.url;
    }
    const signal = untilSignal();
    try {
      log(`waiting for the viewer at ${base} (up to ${waitS} s)`);
      const answered = await Promise.race([waitForViewer(base, waitS * 1000), signal.then(() => 'signal' as const)]);
      if (answered === 'signal') return 0;
      if (answered !== true) {
        const last = answered ? `; the last answer was ${answered}` : noServer ? ' (is segstream serve running there?)' : '';
        throw new RuntimeError(`no answer from ${base} after ${waitS} s${last}`);
      }
      const url = `${base}?kiosk${query ? `&${query}` : ''}`;
      if (process.env.DISPLAY && !extraFlags.some((f) => f.startsWith('--headless'))) keepScreenOn(log);
      const browser = new KioskBrowser({ browser: browserPath, url, extraFlags, hangTimeoutMs: hangTimeoutS * 1000, ...(maxRestarts !== undefined ? { maxRestarts } : {}), log });
      void signal.then((s) => {
        log(`${s}: stopping`);
        return browser.stop();
      });
      // A fatal error ends the process through the process guard: the browser must not outlive it.
      const unregister = registerCloser({ close: () => browser.stop() });
      try {
        return await browser.run();
      } finally {
        unregister();
      }
    } finally {
      await app?.stop();
    }
  });
}

/** Turns X11 screen blanking and DPMS off where xset exists (Wayland compositors have their own idle settings). */
function keepScreenOn(log: (line: string) => void): void {
  execFile('xset', ['s', 'off', '-dpms', 's', 'noblank'], (err) => {
    if (err && (err as NodeJS.ErrnoException).code !== 'ENOENT') log(`could not turn screen blanking off (xset: ${err.message.split('\n')[0]})`);
  });
}

function kioskQuery(values: Values): string {
  const raw = values.query;
  if (raw === undefined) return '';
  // An empty --query is allowed: systemd passes `--query=${SEGSTREAM_KIOSK_QUERY}` even when it is unset.
  const q = String(raw).replace(/^[?&]/, '');
  if (/[\s#]/.test(q)) throw new UsageError(`--query: expected URL query text without spaces or '#', got ${JSON.stringify(raw)}`);
  return q;
}

/**
 * Polls the viewer until it answers with a 2xx/3xx (true), or the time is up (the last error answer, if any).
 * A server without a built viewer says so at once: that will not fix itself by waiting.
 */
async function waitForViewer(url: string, timeoutMs: number): Promise<true | string | null> {
  const deadline = Date.now() + timeoutMs;
  let last: string | null = null;
  for (;;) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000), redirect: 'manual' });
      const text = res.status >= 400 ? firstLine(await res.text()).slice(0, 200) : '';
      if (res.status < 400) {
        await res.body?.cancel();
        return true;
      }
      last = `HTTP ${res.status}${text ? `: ${text}` : ''}`;
      if (/viewer is not built/i.test(text)) throw new RuntimeError(`the viewer at ${url} is not there: ${text}`);
    } catch (err) {
      if (err instanceof RuntimeError) throw err;
      // not up yet
    }
    if (Date.now() >= deadline) return last;
    await new Promise((r) => setTimeout(r, Math.min(500, Math.max(0, deadline - Date.now()))));
  }
}
