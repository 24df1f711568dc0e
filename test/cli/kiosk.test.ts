/**
 * `segstream kiosk` (and scripts/kiosk.sh, which only execs it): the reasons a browser cannot start, said before
 * trying; a stand-in browser for the URL, flags, exit status and clean-up; and real Chromium (headless) whose
 * tab is crashed (every renderer killed, as the OOM killer would), hung (an endless loop in the page), or whose
 * browser process is killed: the launcher reloads or restarts it, and the page is loaded again.
 */
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alive, cli, lines, ROOT, run, start, waitFor, waitFor as waitForOutput } from './helpers.ts';
import { at } from '../../server/util/checked-access.ts';

const SCRIPT = join(ROOT, 'scripts', 'kiosk.sh');
const CHROMIUM = '/usr/bin/chromium';
const HEADLESS = ['--browser-flag=--headless', '--browser-flag=--no-sandbox', '--browser-flag=--disable-gpu'];
/** No display in the environment (as on a board whose desktop session has not started). */
const NO_DISPLAY: NodeJS.ProcessEnv = { DISPLAY: '', WAYLAND_DISPLAY: '', CHROMIUM: '', SEGSTREAM_KIOSK_FLAGS: '' };
let work: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'segstream-kiosk-test-'));
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

async function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(true));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(false)));
  });
}

function kioskScript(args: string[], env: NodeJS.ProcessEnv = {}) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const s = start('bash', [SCRIPT, ...args], { env: { ...NO_DISPLAY, ...env } });
    void s.exited.then(({ code }) => resolve({ code, ...s.output() }));
  });
}

/** A stand-in viewer page (the launcher is under test here, not the viewer build). */
async function staticDir(): Promise<string> {
  const dir = join(work, 'static');
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir);
  await writeFile(join(dir, 'index.html'), '<!doctype html><title>viewer</title>');
  return dir;
}

/** A config that starts fast: the tiny demo model on a small test pattern. */
async function tinyConfig(): Promise<string> {
  const file = join(work, 'tiny.json');
  await writeFile(
    file,
    JSON.stringify({
      cacheDir: join(ROOT, '.cache'),
      sources: { test: { kind: 'test', width: 320, height: 240, framerate: 15 } },
      models: { tiny: { demo: { variant: 'tiny', size: 64, classes: 8 } } },
      defaultModel: 'tiny',
    }),
  );
  return file;
}

describe('segstream kiosk: why a browser cannot start, said before trying (exit 1)', () => {
  it('no display', async () => {
    const r = await run(['kiosk', '--no-server', '--browser', CHROMIUM], { env: NO_DISPLAY });
    expect(r.code).toBe(1);
    expect(lines(r.stderr)).toEqual([
      'segstream kiosk: no display: neither DISPLAY nor WAYLAND_DISPLAY is set, so Chromium has nowhere to draw; start the kiosk from the desktop session, or set DISPLAY=:0 and XAUTHORITY (X11) or WAYLAND_DISPLAY and XDG_RUNTIME_DIR (Wayland) as deploy/segstream-kiosk.service does',
    ]);
  });

  it('a DISPLAY with no X server behind it', async () => {
    const r = await run(['kiosk', '--no-server', '--browser', CHROMIUM], { env: { ...NO_DISPLAY, DISPLAY: ':93' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('segstream kiosk: no display: DISPLAY=:93 but no X server is running there (no /tmp/.X11-unix/X93)');
  });

  it('no Chromium at the path (flag or CHROMIUM), or none on PATH', async () => {
    const flag = await run(['kiosk', '--browser', '/nonexistent/chromium', ...HEADLESS], { env: NO_DISPLAY });
    expect(flag.code).toBe(1);
    expect(flag.stderr).toBe("segstream kiosk: no Chromium found at /nonexistent/chromium: install Debian's chromium package, or pass --browser PATH\n");
    const env = await run(['kiosk', ...HEADLESS], { env: { ...NO_DISPLAY, CHROMIUM: '/nonexistent/chromium' } });
    expect(env.stderr).toBe("segstream kiosk: no Chromium found at /nonexistent/chromium (from CHROMIUM): install Debian's chromium package, or pass --browser PATH\n");
    const none = await run(['kiosk', ...HEADLESS], { env: { ...NO_DISPLAY, PATH: work } });
    expect(none.stderr).toBe(
      "segstream kiosk: no Chromium found: none of chromium, chromium-browser, google-chrome, google-chrome-stable is on PATH (install Debian's chromium package, or pass --browser PATH)\n",
    );
  });
});

describe('segstream kiosk with a stand-in browser (scripts/kiosk.sh execs segstream kiosk)', () => {
  it('starts the server, opens the kiosk URL once it answers, reports the browser exit and its output, and cleans up', async () => {
    const port = await freePort();
    const record = join(work, 'browser-args.txt');
    const fake = join(work, 'fake-chromium');
    // The stand-in fetches the viewer, records its arguments, says something on stderr, then "closes".
    await writeFile(fake, `#!/usr/bin/env bash\nprintf '%s\\n' "$@" > '${record}'\nurl="\${@: -1}"\ncurl -fsS -o /dev/null -w '%{http_code}' "$url" > '${record}.http'\necho 'stand-in: giving up' >&2\nsleep 0.3\nexit 3\n`);
    await chmod(fake, 0o755);
    const result = await kioskScript(['--config', await tinyConfig(), '--static-dir', await staticDir(), '--port', String(port), '--query', 'mode=mask&smooth=3', '--wait', '60', '--max-restarts', '0'], {
      CHROMIUM: fake,
      SEGSTREAM_KIOSK_FLAGS: '--lang=en --headless',
    });
    expect(result.stderr).toContain('the browser exited (status 3)');
    expect(result.stderr).toMatch(/the browser exited \(status 3\) after [\d.]+ s; its last output:\n {4}stand-in: giving up\n/);
    expect(result.stderr).toContain('not restarting it (--max-restarts 0)');
    expect(result.code).toBe(3);
    const args = (await readFile(record, 'utf8')).trim().split('\n');
    expect(args).toContain('--kiosk');
    expect(args).toContain('--lang=en');
    expect(args).toContain('--remote-debugging-pipe');
    expect(args.at(-1)).toBe(`http://127.0.0.1:${port}/?kiosk&mode=mask&smooth=3`);
    expect(await readFile(`${record}.http`, 'utf8')).toBe('200');
    const profile = args.find((a) => a.startsWith('--user-data-dir='))!.slice('--user-data-dir='.length);
    await expect(stat(profile)).rejects.toThrow(/ENOENT/);
    // The server it started is gone.
    expect(await listening(port)).toBe(false);
  });

  it('restarts a browser that exits, pausing longer each time, then gives up after --max-restarts', async () => {
    const fake = join(work, 'dying-chromium');
    await writeFile(fake, `#!/usr/bin/env bash\necho '[1:1:ERROR:dbus/bus.cc(405)] noise' >&2\necho 'Missing X server or $DISPLAY' >&2\nexit 1\n`);
    await chmod(fake, 0o755);
    const server = http.createServer((_req, res) => res.end('ok')).listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    try {
      const port = (server.address() as { port: number }).port;
      const r = await run(['kiosk', '--no-server', '--port', String(port), '--browser', fake, '--max-restarts', '1', ...HEADLESS], { env: NO_DISPLAY });
      expect(r.code).toBe(1);
      const exits = r.stderr.match(/the browser exited \(status 1\) after [\d.]+ s; its last output:\n {4}Missing X server or \$DISPLAY\n/g);
      expect(exits).toHaveLength(2);
      expect(r.stderr).not.toContain('dbus');
      expect(r.stderr).toContain('[segstream kiosk] restarting the browser in 2000 ms');
      expect(r.stderr).toContain('[segstream kiosk] not restarting it (--max-restarts 1)');
    } finally {
      server.close();
    }
  });

  it('says so at once when the server it started has no viewer build to serve', async () => {
    const empty = join(work, 'empty-static');
    await mkdir(empty, { recursive: true });
    const port = await freePort();
    const r = await run(['kiosk', '--config', await tinyConfig(), '--static-dir', empty, '--port', String(port), '--browser', '/bin/true', '--browser-flag=--headless'], { env: NO_DISPLAY });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`segstream kiosk: the viewer at http://127.0.0.1:${port}/ is not there: The viewer is not built (${empty} has no index.html). Run: npm run build\n`);
    expect(await listening(port)).toBe(false);
  });

  it('gives up with a clear message when nothing answers', async () => {
    const port = await freePort();
    const result = await kioskScript(['--no-server', '--port', String(port), '--wait', '1', '--browser-flag=--headless'], { CHROMIUM: '/bin/true' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`no answer from http://127.0.0.1:${port}/ after 1 s`);
  });

  it('rejects bad options with the option named (exit 2, one line)', async () => {
    const bad = await kioskScript(['--port', 'eighty'], { CHROMIUM: '/bin/true' });
    expect(bad.code).toBe(2);
    expect(lines(bad.stderr)).toEqual(['segstream kiosk: --port: expected an integer from 0 to 65535, got "eighty" (see segstream kiosk --help)']);
    const unknown = await kioskScript(['--fullscreen'], { CHROMIUM: '/bin/true' });
    expect(unknown.code).toBe(2);
    expect(lines(unknown.stderr)).toEqual(['segstream kiosk: unknown option --fullscreen (see segstream kiosk --help)']);
    const noBrowser = await kioskScript(['--no-server', '--browser-flag=--headless'], { CHROMIUM: '/nonexistent/chromium' });
    expect(noBrowser.stderr).toContain('no Chromium found');
    const serverFlag = await cli('kiosk', '--no-server', '--model', 'demo');
    expect(serverFlag.code).toBe(2);
    expect(serverFlag.stderr).toBe('segstream kiosk: --model applies when the kiosk starts the server; drop it, or drop --no-server (see segstream kiosk --help)\n');
    for (const [args, message] of [
      [['--query', 'mode=mask#x'], `--query: expected URL query text without spaces or '#', got "mode=mask#x"`],
      [['--wait', '0'], '--wait: expected an integer from 1 to 3600, got "0"'],
      [['--hang-timeout', 'soon'], '--hang-timeout: expected an integer from 1 to 600, got "soon"'],
      [['--browser-flag'], '--browser-flag: expected a value'],
      [['--browser-flag', '--headless'], '--browser-flag: expected a value, got the option --headless'],
    ] as [string[], string][]) {
      const r = await cli('kiosk', '--no-server', ...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toBe(`segstream kiosk: ${message} (see segstream kiosk --help)\n`);
    }
  });

  it('is valid bash (bash -n)', async () => {
    await promisify(execFile)('bash', ['-n', SCRIPT]);
  });
});

/**
 * A page server for --no-server runs. It counts page loads; `hangFirstLoad` makes the first page loop for ever;
 * `crash()` makes the open page allocate until V8 runs out of heap (the browser runs with a 32 MB heap limit),
 * which crashes its renderer as an out-of-memory tab does.
 */
async function pageServer(hangFirstLoad: boolean): Promise<{ port: number; loads: () => number; crash: () => void; close: () => void }> {
  let loads = 0;
  let crashRequested = false;
  const server = http.createServer((req, res) => {
    if (req.url === '/should-crash') {
      res.end(crashRequested ? 'yes' : 'no');
      crashRequested = false;
      return;
    }
    const page = (req.url ?? '').startsWith('/?kiosk');
    if (page) loads++;
    const hang = hangFirstLoad && page && loads === 1;
    res.setHeader('content-type', 'text/html');
    res.end(
      `<!doctype html><title>kiosk test</title><p>load ${loads}</p><script>${hang ? 'setTimeout(() => { for (;;) {} }, 300);' : ''}` +
        `setInterval(async () => { if ((await (await fetch('/should-crash')).text()) === 'yes') { const keep = []; for (;;) keep.push(new Array(1e6).fill(Math.random())); } }, 200);</script>`,
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as { port: number }).port, loads: () => loads, crash: () => (crashRequested = true), close: () => server.close() };
}

/** Pids below `pid` whose command line contains `text`. */
function descendantsWith(pid: number, text: string): number[] {
  const procs: { pid: number; ppid: number; cmd: string }[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const s = readFileSync(`/proc/${name}/stat`, 'utf8');
      procs.push({ pid: Number(name), ppid: Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[1]), cmd: readFileSync(`/proc/${name}/cmdline`, 'utf8') });
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const stack = [pid];
  while (stack.length) {
    const parent = stack.pop()!;
    for (const p of procs.filter((q) => q.ppid === parent)) {
      if (p.cmd.includes(text)) out.push(p.pid);
      stack.push(p.pid);
    }
  }
  return out;
}

describe('segstream kiosk with real Chromium (headless)', () => {
  const launch = (port: number, extra: string[] = []) =>
    start(process.execPath, ['bin/segstream.js', 'kiosk', '--no-server', '--port', String(port), '--browser', CHROMIUM, ...HEADLESS, ...extra], { env: NO_DISPLAY });
  const browserPids = (stderr: string) => [...stderr.matchAll(/\[segstream kiosk\] browser (\d+) on /g)].map((m) => Number(m[1]));

  it('reloads a tab whose renderer crashed (out of memory), without restarting the browser, and keeps watching it; SIGTERM stops it all', async () => {
    const pages = await pageServer(false);
    const k = launch(pages.port, ['--hang-timeout', '2', '--browser-flag=--js-flags=--max-old-space-size=32']);
    // On a failure, show what the launcher said.
    const waitFor = <T,>(what: string, check: () => T, timeoutMs = 30_000) =>
      waitForOutput(what, check, timeoutMs).catch((e: Error) => Promise.reject(new Error(`${e.message}; loads ${pages.loads()}; launcher said:\n${k.output().stderr}`)));
    try {
      await waitFor('the tab to be watched', () => k.output().stderr.includes('watching the tab'));
      await waitFor('the first page load', () => pages.loads() === 1);
      const [browser] = browserPids(k.output().stderr);
      pages.crash();
      await waitFor('the reload', () => k.output().stderr.includes('the tab was reloaded'));
      await waitFor('the second page load', () => pages.loads() === 2);
      // Several ping rounds on the reloaded tab (2 s hang timeout), then a second crash: the tab is still
      // watched, answers, and its crash is seen again.
      await new Promise((r) => setTimeout(r, 5000));
      pages.crash();
      await waitFor('the third page load', () => pages.loads() === 3);
      await waitFor('the second reload', () => k.output().stderr.split('the tab was reloaded').length === 3);
      expect(k.output().stderr.match(/the tab crashed.*; reloading it/g), k.output().stderr).toHaveLength(2);
      expect(k.output().stderr).not.toContain('did not answer');
      expect(browserPids(k.output().stderr), k.output().stderr).toEqual([browser]);
      expect(alive(browser!)).toBe(true);
      const profile = readFileSync(`/proc/${browser}/cmdline`, 'utf8').split('\0').find((a) => a.startsWith('--user-data-dir='))!.slice('--user-data-dir='.length);
      expect((await stat(profile)).isDirectory()).toBe(true);
      k.child.kill('SIGTERM');
      expect(await k.exited).toEqual({ code: 0, signal: null });
      expect(k.output().stderr).toContain('[segstream kiosk] SIGTERM: stopping');
      expect(alive(browser!)).toBe(false);
      expect(descendantsWith(browser!, '--type=renderer')).toEqual([]);
      await expect(stat(profile)).rejects.toThrow(/ENOENT/);
    } finally {
      if (k.child.exitCode === null) k.child.kill('SIGKILL');
      pages.close();
    }
  }, 180_000);

  it('shows the page again when every renderer process of the browser is killed', async () => {
    const pages = await pageServer(false);
    const k = launch(pages.port, ['--hang-timeout', '3']);
    const waitFor = <T,>(what: string, check: () => T, timeoutMs = 60_000) =>
      waitForOutput(what, check, timeoutMs).catch((e: Error) => Promise.reject(new Error(`${e.message}; loads ${pages.loads()}; launcher said:\n${k.output().stderr}`)));
    try {
      await waitFor('the tab to be watched', () => k.output().stderr.includes('watching the tab'));
      await waitFor('the first page load', () => pages.loads() === 1);
      const [browser] = browserPids(k.output().stderr);
      // Every renderer of this browser (the page's among them), as an OOM killer sweep would.
      const renderers = await waitFor('renderer processes', () => {
        const r = descendantsWith(browser!, '--type=renderer');
        return r.length ? r : null;
      });
      for (const pid of renderers) process.kill(pid, 'SIGKILL');
      await waitFor('the page loaded again and watched', () => pages.loads() >= 2 && /the tab was reloaded|restarting the browser[\s\S]*watching the tab/.test(k.output().stderr));
      // Reloaded in place, or (when the sweep also took the renderer the reload was handed, a race inside
      // Chromium) by a new browser once the tab does not answer: either way the page is shown again.
      expect(k.output().stderr).toMatch(/the tab crashed.*; reloading it/);
    } finally {
      k.child.kill('SIGTERM');
      await k.exited;
      pages.close();
    }
  });

  it('restarts the browser when the tab stops answering (an endless loop in the page)', async () => {
    const pages = await pageServer(true);
    const k = launch(pages.port, ['--hang-timeout', '2']);
    try {
      await waitFor('the hang to be noticed', () => k.output().stderr.includes('the tab did not answer for 2.0 s'), 60_000);
      await waitFor('the page loaded again by a new browser', () => pages.loads() === 2, 60_000);
      const pids = browserPids(k.output().stderr);
      expect(pids).toHaveLength(2);
      expect(pids[1]).not.toBe(pids[0]);
      await waitFor('the first browser to be gone', () => !alive(at(pids, 0, 'pids')), 10_000);
      expect(k.output().stderr).toMatch(/the tab did not answer for 2\.0 s, twice \(hung: Runtime\.evaluate: no answer within 2000 ms\); restarting the browser/);
      expect(k.output().stderr).toMatch(/the browser exited \(signal SIGKILL\)/);
    } finally {
      k.child.kill('SIGTERM');
      await k.exited;
      pages.close();
    }
  });

  it('restarts a browser that was killed, reporting how it ended', async () => {
    const pages = await pageServer(false);
    const k = launch(pages.port);
    try {
      await waitFor('the first page load', () => pages.loads() === 1);
      const [browser] = browserPids(k.output().stderr);
      process.kill(browser!, 'SIGKILL');
      await waitFor('the second page load', () => pages.loads() === 2, 60_000);
      expect(k.output().stderr).toMatch(/the browser exited \(signal SIGKILL\) after [\d.]+ s/);
      expect(k.output().stderr).toContain('restarting the browser in 2000 ms');
      expect(browserPids(k.output().stderr)).toHaveLength(2);
    } finally {
      k.child.kill('SIGTERM');
      await k.exited;
      pages.close();
    }
  });
});
