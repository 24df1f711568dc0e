/**
 * Keeps one Chromium in kiosk mode on one URL, unattended. It says why a browser cannot start before trying
 * (no display, no Chromium at the path), reports each exit with the browser's last stderr lines, and watches
 * the tab over the DevTools protocol (a pipe, no port):
 *   - the tab's renderer crashed (Target.targetCrashed: killed by the OOM killer, a GPU fault): reload it;
 *   - the tab stopped answering (a Runtime.evaluate ping gets no reply within the hang timeout): restart the
 *     browser, since a reload would be queued behind the hung renderer;
 *   - the browser exited: start it again, pausing longer each time it dies young (1 s doubling to 30 s).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { RuntimeError } from '../../util/errors.ts';
import { DevToolsPipe, type DevToolsEvent } from './devtools-pipe.ts';

/** Flags every kiosk start gets: no first-run pages, no bubbles after a power cut, nothing fetched from the net. */
export const KIOSK_FLAGS = [
  '--kiosk',
  '--no-first-run',
  '--no-default-browser-check',
  '--noerrdialogs',
  '--disable-infobars',
  '--disable-session-crashed-bubble',
  '--disable-features=Translate,MediaRouter',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--check-for-update-interval=31536000',
  '--overscroll-history-navigation=0',
  '--disable-pinch',
  '--password-store=basic',
];

const BROWSER_NAMES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'];

/** The browser to start: --browser, else $CHROMIUM, else the first Chromium on PATH. Throws why there is none. */
export function resolveBrowser(given: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const explicit = given ?? (env.CHROMIUM || undefined);
  const fix = "install Debian's chromium package, or pass --browser PATH";
  if (explicit !== undefined) {
    const where = given !== undefined ? explicit : `${explicit} (from CHROMIUM)`;
    if (!existsSync(explicit)) throw new RuntimeError(`no Chromium found at ${where}: ${fix}`);
    try {
      accessSync(explicit, constants.X_OK);
    } catch {
      throw new RuntimeError(`no Chromium found at ${where}: the file is not executable`);
    }
    return explicit;
  }
  for (const dir of (env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    for (const name of BROWSER_NAMES) {
      const candidate = path.join(dir, name);
      try {
        accessSync(candidate, constants.X_OK);
        return candidate;
      } catch {
        // not here
      }
    }
  }
  throw new RuntimeError(`no Chromium found: none of ${BROWSER_NAMES.join(', ')} is on PATH (${fix})`);
}

/** Why Chromium would have no screen to draw on, or undefined when it has one (or runs headless). */
export function displayProblem(flags: string[], env: NodeJS.ProcessEnv = process.env, platform = process.platform): string | undefined {
  if (platform !== 'linux') return undefined;
  if (flags.some((f) => f === '--headless' || f.startsWith('--headless=') || f === '--ozone-platform=headless')) return undefined;
  const how = 'start the kiosk from the desktop session, or set DISPLAY=:0 and XAUTHORITY (X11) or WAYLAND_DISPLAY and XDG_RUNTIME_DIR (Wayland) as deploy/segstream-kiosk.service does';
  if (env.WAYLAND_DISPLAY) {
    const socket = path.isAbsolute(env.WAYLAND_DISPLAY) ? env.WAYLAND_DISPLAY : path.join(env.XDG_RUNTIME_DIR ?? '', env.WAYLAND_DISPLAY);
    if (existsSync(socket)) return undefined;
    if (!env.DISPLAY) return `no display: WAYLAND_DISPLAY=${env.WAYLAND_DISPLAY} but there is no compositor socket at ${socket} (is XDG_RUNTIME_DIR set?); ${how}`;
  }
  if (env.DISPLAY) {
    const local = /^(?:unix)?:(\d+)(?:\.\d+)?$/.exec(env.DISPLAY);
    if (local && !existsSync(`/tmp/.X11-unix/X${local[1]}`)) return `no display: DISPLAY=${env.DISPLAY} but no X server is running there (no /tmp/.X11-unix/X${local[1]}); ${how}`;
    return undefined;
  }
  return `no display: neither DISPLAY nor WAYLAND_DISPLAY is set, so Chromium has nowhere to draw; ${how}`;
}

export interface KioskBrowserOptions {
  browser: string;
  url: string;
  /** Added after KIOSK_FLAGS (e.g. --headless for tests, --lang=en). */
  extraFlags: string[];
  /** A tab that does not answer a ping for this long is restarted. */
  hangTimeoutMs: number;
  /** Stop after this many browser restarts and end with the browser's exit status (default: never). */
  maxRestarts?: number;
  log: (line: string) => void;
}

/** Lines of the browser's stderr that say nothing about why it failed (no system D-Bus in a kiosk session). */
const NOISE = /ERROR:dbus\/|Fontconfig|^\s*$/;
const TAIL_LINES = 12;

export class KioskBrowser {
  private child: ChildProcess | null = null;
  private profile: string | null = null;
  private devtools: DevToolsPipe | null = null;
  private stopping = false;
  private restarts = 0;
  private delayMs = 1000;
  private pingTimer: NodeJS.Timeout | null = null;
  private relaunchTimer: NodeJS.Timeout | null = null;
  private finish: ((status: number) => void) | null = null;
  /** Counters for logs and tests. */
  readonly stats = { launches: 0, crashReloads: 0, hangRestarts: 0, exits: 0 };

  constructor(private readonly o: KioskBrowserOptions) {}

  /** Runs until stop() (resolves 0) or until maxRestarts is used up (resolves with the browser's exit status). */
  run(): Promise<number> {
    return new Promise((resolve) => {
      this.finish = resolve;
      this.launch();
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.relaunchTimer) clearTimeout(this.relaunchTimer);
    await this.kill('SIGTERM');
    this.removeProfile();
    this.finish?.(0);
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  private launch(): void {
    this.relaunchTimer = null;
    this.profile = mkdtempSync(path.join(process.env.XDG_RUNTIME_DIR || os.tmpdir(), 'segstream-kiosk-'));
    const args = [...KIOSK_FLAGS, ...this.o.extraFlags, `--user-data-dir=${this.profile}`, '--remote-debugging-pipe', this.o.url];
    const started = Date.now();
    const tail: string[] = [];
    // Its own process group, so the renderers and helpers stop with it.
    const child = spawn(this.o.browser, args, { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'], detached: true });
    this.child = child;
    this.stats.launches++;
    child.stderr?.setEncoding('utf8');
    let partial = '';
    child.stderr?.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) if (!NOISE.test(line)) tail.push(line.slice(0, 300));
      if (tail.length > TAIL_LINES) tail.splice(0, tail.length - TAIL_LINES);
    });
    let ended = false;
    const end = (code: number | null, signal: NodeJS.Signals | null): void => {
      if (ended) return;
      ended = true;
      if (partial && !NOISE.test(partial)) tail.push(partial.slice(0, 300));
      this.onExit(child, code, signal, Date.now() - started, tail.slice(-TAIL_LINES));
    };
    child.once('error', (err) => {
      // Spawning failed (it vanished or lost its x bit since resolveBrowser looked): count it as an exit.
      tail.push(`cannot start ${this.o.browser}: ${err.message}`);
      if (child.pid === undefined) end(127, null);
    });
    child.once('close', end);
    if (child.pid === undefined || !child.stdio[3] || !child.stdio[4]) return; // the 'error' handler reports it
    this.o.log(`browser ${child.pid} on ${this.o.url}`);
    const pipe = new DevToolsPipe(child.stdio[3] as Writable, child.stdio[4] as Readable);
    this.devtools = pipe;
    void this.watch(pipe, child);
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null, ranMs: number, tail: string[]): void {
    if (this.child !== child) return;
    this.stats.exits++;
    this.stopPing();
    // Helpers the browser left behind (it was killed, not closed) go with its process group.
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // the group is already empty
    }
    this.devtools?.close('the browser exited');
    this.child = null;
    this.removeProfile();
    if (this.stopping) return;
    const status = code ?? 128 + (signal ? (os.constants.signals[signal] ?? 0) : 0);
    const how = signal ? `signal ${signal}` : `status ${code}`;
    this.o.log(`the browser exited (${how}) after ${(ranMs / 1000).toFixed(1)} s${tail.length ? `; its last output:\n${tail.map((l) => `    ${l}`).join('\n')}` : '; it printed nothing'}`);
    if (this.o.maxRestarts !== undefined && this.restarts >= this.o.maxRestarts) {
      this.o.log(`not restarting it (--max-restarts ${this.o.maxRestarts})`);
      this.finish?.(status);
      return;
    }
    // A browser that keeps dying is restarted with a growing pause; one that ran a while starts at once.
    this.delayMs = ranMs > 60_000 ? 1000 : Math.min(this.delayMs * 2, 30_000);
    this.restarts++;
    this.o.log(`restarting the browser in ${this.delayMs} ms`);
    this.relaunchTimer = setTimeout(() => this.launch(), this.delayMs);
  }

  /** Attaches to the kiosk tab and pings it; handles crashes (reload) and hangs (restart). */
  private async watch(pipe: DevToolsPipe, child: ChildProcess): Promise<void> {
    let sessionId: string;
    let targetId: string;
    try {
      await pipe.send('Target.setDiscoverTargets', { discover: true }, undefined, 30_000);
      ({ targetId, sessionId } = await this.attach(pipe));
    } catch (err) {
      if (this.child === child && !pipe.isClosed) this.o.log(`no DevTools connection to the browser (${(err as Error).message}): crash and hang detection is off for this run`);
      return;
    }
    if (process.env.SEGSTREAM_DEBUG) pipe.on('event', (e) => this.o.log(`devtools: ${e.method}${e.sessionId ? ` [${e.sessionId.slice(0, 6)}]` : ''} ${JSON.stringify(e.params).slice(0, 160)}`));
    let reloading = false;
    // A ping sent before a crash times out after it; it says nothing about the reloaded tab.
    let crashes = 0;
    pipe.on('event', (e: DevToolsEvent) => {
      const crashed = (e.method === 'Target.targetCrashed' && e.params.targetId === targetId) || (e.method === 'Inspector.targetCrashed' && e.sessionId === sessionId);
      if (crashed && !reloading) {
        reloading = true;
        crashes++;
        const why = e.params.status ? ` (${String(e.params.status)}${e.params.errorCode !== undefined ? `, code ${String(e.params.errorCode)}` : ''})` : '';
        this.o.log(`the tab crashed${why}; reloading it`);
        this.stats.crashReloads++;
        const crashedSession = sessionId;
        void (async () => {
          await pipe.send('Page.reload', { ignoreCache: true }, crashedSession, this.o.hangTimeoutMs);
          // A fresh session on the reloaded tab: the old one belonged to the renderer that died.
          await pipe.send('Target.detachFromTarget', { sessionId: crashedSession }, undefined, 5000).catch(() => undefined);
          sessionId = await this.attachTo(pipe, targetId);
        })()
          .then(() => this.o.log('the tab was reloaded'))
          .catch((err: Error) => this.restartHung(child, `the crashed tab did not reload (${err.message})`))
          .finally(() => (reloading = false));
      }
      if (e.method === 'Target.targetDestroyed' && e.params.targetId === targetId) this.restartHung(child, 'the kiosk tab was closed');
    });
    this.o.log('watching the tab (DevTools over a pipe)');
    const interval = Math.max(250, Math.min(5000, this.o.hangTimeoutMs / 2));
    const ping = async (): Promise<void> => {
      if (this.child !== child || pipe.isClosed) return;
      if (!reloading) {
        const crashesBefore = crashes;
        try {
          await pipe.send('Runtime.evaluate', { expression: '1', returnByValue: true }, sessionId, this.o.hangTimeoutMs);
        } catch (err) {
          if (this.child !== child || pipe.isClosed) return;
          if (reloading || crashes !== crashesBefore) {
            this.pingTimer = setTimeout(() => void ping(), interval);
            return;
          }
          // A second opinion on a fresh session: a message can be lost while a navigation swaps the renderer
          // (seen right after a crash reload); a hung renderer does not answer this one either.
          const stale = sessionId;
          const fresh = await this.attachTo(pipe, targetId).catch(() => null);
          const answered = fresh !== null && (await pipe.send('Runtime.evaluate', { expression: '1', returnByValue: true }, fresh, this.o.hangTimeoutMs).then(() => true, () => false));
          if (this.child !== child || pipe.isClosed) return;
          if (fresh !== null && answered) {
            sessionId = fresh;
            await pipe.send('Target.detachFromTarget', { sessionId: stale }, undefined, 5000).catch(() => undefined);
            this.pingTimer = setTimeout(() => void ping(), interval);
            return;
          }
          this.restartHung(child, `the tab did not answer for ${(this.o.hangTimeoutMs / 1000).toFixed(1)} s, twice (hung: ${(err as Error).message})`);
          return;
        }
      }
      if (this.child === child) this.pingTimer = setTimeout(() => void ping(), interval);
    };
    this.pingTimer = setTimeout(() => void ping(), interval);
  }

  /** Finds the page showing the kiosk URL (it may take a moment to appear) and attaches to it. */
  private async attach(pipe: DevToolsPipe): Promise<{ targetId: string; sessionId: string }> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const { targetInfos } = (await pipe.send('Target.getTargets', {}, undefined, 10_000)) as { targetInfos: { targetId: string; type: string; url: string }[] };
      const page = targetInfos.find((t) => t.type === 'page' && t.url.startsWith(this.o.url.replace(/\?.*$/s, ''))) ?? targetInfos.find((t) => t.type === 'page');
      if (page) return { targetId: page.targetId, sessionId: await this.attachTo(pipe, page.targetId) };
      if (Date.now() > deadline) throw new Error('no page target appeared within 30 s');
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /** A flat session on the target, with crash events (Inspector.targetCrashed) switched on. */
  private async attachTo(pipe: DevToolsPipe, targetId: string): Promise<string> {
    const { sessionId } = (await pipe.send('Target.attachToTarget', { targetId, flatten: true }, undefined, 10_000)) as { sessionId: string };
    await pipe.send('Inspector.enable', {}, sessionId, 10_000);
    return sessionId;
  }

  private restartHung(child: ChildProcess, why: string): void {
    if (this.child !== child || this.stopping) return;
    this.o.log(`${why}; restarting the browser`);
    this.stats.hangRestarts++;
    void this.kill('SIGKILL');
  }

  private stopPing(): void {
    if (this.pingTimer) clearTimeout(this.pingTimer);
    this.pingTimer = null;
  }

  /** Signals the browser's process group and waits for it to go (SIGKILL after 5 s). */
  private async kill(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    this.stopPing();
    if (!child || child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
    const gone = new Promise<void>((r) => child.once('close', () => r()));
    const send = (s: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, s);
      } catch {
        try {
          child.kill(s);
        } catch {
          // already gone
        }
      }
    };
    send(signal);
    const timer = setTimeout(() => send('SIGKILL'), 5000);
    await gone;
    clearTimeout(timer);
  }

  private removeProfile(): void {
    if (!this.profile) return;
    rmSync(this.profile, { recursive: true, force: true });
    this.profile = null;
  }
}
