/**
 * Shared pieces of the browser tests: the server under test (the mock by default, the real server with
 * SEGSTREAM_BROWSER_SERVER=real), the viewer build, Chromium, and screenshot comparison.
 */
import { execFile } from 'node:child_process';
import { mkdir, readdir, rm, stat, writeFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { afterAll, beforeAll } from 'vitest';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { chromiumPath, HEADLESS_CHROMIUM_ARGS } from '../../server/bench/browser-cost.ts';
import type { FrameHeader, HelloMessage } from '../../server/protocol/index.ts';
import { at } from '../../server/util/checked-access.ts';
import { REPO_ROOT, startMockServer, type MockServer, type MockServerOptions } from './mock-server.ts';

export const ARTIFACTS = join(REPO_ROOT, 'test-artifacts', 'browser');

export interface ServerUnderTest {
  kind: 'mock' | 'real';
  url: string;
  port: number;
  token: string;
  stop(): Promise<void>;
  kill(): void;
  restart(): Promise<void>;
  /** Present for the mock: lets tests check exact content and pause frames. */
  mock: MockServer | null;
}

interface RealServerModule {
  startServer(opts?: { source?: string; model?: string; args?: string[] }): Promise<{
    url: string; port: number; token: string; stop(): Promise<void>; kill(): void; restart(): Promise<void>;
  }>;
}

export const USING_REAL_SERVER = process.env.SEGSTREAM_BROWSER_SERVER === 'real';

export interface RealServerOptions {
  source?: string;
  model?: string;
  args?: string[];
}

/**
 * The one place that decides which server the browser tests run against. `realOptions` goes to the real server's
 * startServer() (e.g. `{ source: 'still' }` where a test wants a still picture, like the mock's `motion: false`).
 */
export async function startServerUnderTest(mockOptions: MockServerOptions = {}, realOptions: RealServerOptions = {}): Promise<ServerUnderTest> {
  if (USING_REAL_SERVER) {
    // Resolved at run time so this file typechecks before test/helpers/server.ts exists.
    const helper = new URL('../helpers/server.ts', import.meta.url).href;
    let startServer: RealServerModule['startServer'];
    try {
      ({ startServer } = (await import(helper)) as RealServerModule);
    } catch (error) {
      throw new Error(`SEGSTREAM_BROWSER_SERVER=real needs test/helpers/server.ts exporting startServer(): ${(error as Error).message}`, { cause: error });
    }
    if (typeof startServer !== 'function') throw new Error('test/helpers/server.ts: expected an exported function startServer');
    const real = await startServer(realOptions);
    return {
      kind: 'real',
      get url() { return real.url; },
      get port() { return real.port; },
      get token() { return real.token; },
      stop: () => real.stop(),
      kill: () => real.kill(),
      restart: () => real.restart(),
      mock: null,
    };
  }
  return wrapMock(await startMockServer(mockOptions));
}

/** A mock server seen through the ServerUnderTest interface (for tests that need a second, differently set up mock). */
export function wrapMock(mock: MockServer): ServerUnderTest {
  return {
    kind: 'mock',
    get url() { return mock.url; },
    get port() { return mock.port; },
    token: mock.token,
    stop: () => mock.stop(),
    kill: () => mock.kill(),
    restart: () => mock.restart(),
    mock,
  };
}

const execFileAsync = promisify(execFile);

async function newestMtime(dir: string): Promise<number> {
  let newest = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, await newestMtime(path));
    else newest = Math.max(newest, (await stat(path)).mtimeMs);
  }
  return newest;
}

async function builtAt(): Promise<number> {
  try {
    return (await stat(join(REPO_ROOT, 'dist', 'client', 'index.html'))).mtimeMs;
  } catch {
    return 0;
  }
}

/**
 * Builds the viewer (npx vite build) when dist/client is missing or older than client/ or the protocol.
 * Test files run in parallel, so a lock directory makes one of them build while the others wait.
 */
export async function ensureViewerBuilt(): Promise<void> {
  const sources = Math.max(await newestMtime(join(REPO_ROOT, 'client')), await newestMtime(join(REPO_ROOT, 'server', 'protocol')));
  if ((await builtAt()) >= sources) return;
  const lock = join(REPO_ROOT, 'dist', '.viewer-build-lock');
  await mkdir(join(REPO_ROOT, 'dist'), { recursive: true });
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      await mkdir(lock);
      break;
    } catch {
      const age = Date.now() - (await stat(lock).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs;
      if (age > 120_000) await rm(lock, { recursive: true, force: true }); // a build that died
      if (Date.now() > deadline) throw new Error(`timed out waiting for another viewer build (lock ${lock})`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  try {
    if ((await builtAt()) >= sources) return;
    await execFileAsync(process.execPath, [join(REPO_ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--logLevel', 'warn'], { cwd: REPO_ROOT });
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}


export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath(), args: [...HEADLESS_CHROMIUM_ARGS] });
}

export interface OpenedViewer {
  context: BrowserContext;
  page: Page;
  /** Uncaught page errors, for asserting a clean run. */
  errors: string[];
}

/** Opens the viewer at `server.url` + `query` in a fresh context. */
export async function openViewer(browser: Browser, server: ServerUnderTest, query = '', viewport = { width: 1280, height: 720 }, extra: Parameters<Browser['newContext']>[0] = {}): Promise<OpenedViewer> {
  const context = await browser.newContext({ viewport, acceptDownloads: true, ...extra });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(server.url + query);
  return { context, page, errors };
}

export interface Diagnostics {
  framesReceived: number;
  framesDrawn: number;
  lastDrawnId: number;
  lastHeader: FrameHeader | null;
  hello: HelloMessage | null;
  lastClasses: [number, number][];
  sessions: number;
  renderer: string;
  viewerDropped: number;
  decodeFailures: number;
}

export async function diagnostics(page: Page): Promise<Diagnostics> {
  return page.evaluate(() => JSON.parse(JSON.stringify((window as unknown as { __segstream: unknown }).__segstream)));
}

/** Waits until at least `count` more frames have been drawn than `after`. */
export async function waitForFrames(page: Page, count: number, after = 0, timeout = 20_000): Promise<void> {
  await page.waitForFunction(
    ([n, base]) => ((window as unknown as { __segstream?: { framesDrawn: number } }).__segstream?.framesDrawn ?? 0) >= base + n,
    [count, after] as const,
    { timeout },
  );
}

/**
 * Freezes the picture (the viewer's "Freeze picture" button), so screenshots taken afterwards all show one frame
 * and diagnostics().lastClasses describes it, whatever the server's source does meanwhile.
 */
export async function freezePicture(page: Page): Promise<void> {
  const button = page.locator('[data-testid="freeze"]');
  await button.click();
  await page.waitForFunction(() => document.querySelector('[data-testid="freeze"]')?.getAttribute('aria-pressed') === 'true');
  await page.waitForTimeout(700); // the legend republishes twice a second
}

/** Waits for the legend to be republished (it updates twice a second). */
export async function settle(page: Page, ms = 700): Promise<void> {
  await page.waitForTimeout(ms);
}

/** Screenshot of the picture area, saved as test-artifacts/browser/<name>.png. */
export async function shootStage(page: Page, name: string): Promise<Buffer> {
  await mkdir(ARTIFACTS, { recursive: true });
  const png = await page.locator('.stage').screenshot();
  await writeAtomically(join(ARTIFACTS, `${name}.png`), png);
  return png;
}

export async function shootPage(page: Page, name: string): Promise<void> {
  await mkdir(ARTIFACTS, { recursive: true });
  await writeAtomically(join(ARTIFACTS, `${name}.png`), await page.screenshot());
}

export async function writeAtomically(path: string, data: Uint8Array): Promise<void> {
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, data);
  await rename(temp, path);
}

export interface RawImage {
  data: Buffer;
  width: number;
  height: number;
}

export async function decodeRgb(png: Uint8Array): Promise<RawImage> {
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/** Mean absolute difference per channel (0..255) between two same-size images. */
export async function meanAbsDiff(a: Uint8Array, b: Uint8Array): Promise<number> {
  const [x, y] = await Promise.all([decodeRgb(a), decodeRgb(b)]);
  if (x.width !== y.width || x.height !== y.height) throw new Error(`image sizes differ: ${x.width}x${x.height} vs ${y.width}x${y.height}`);
  let sum = 0;
  for (const [i, value] of x.data.entries()) sum += Math.abs(value - at(y.data, i, 'second image bytes'));
  return sum / x.data.length;
}

/** Share of pixels within `tolerance` (per channel) of `colour`. */
export function colourShare(image: RawImage, colour: readonly [number, number, number], tolerance = 10): number {
  let hits = 0;
  const pixels = image.width * image.height;
  for (let i = 0; i < pixels; i++) {
    const o = i * 3;
    const [r, g, b] = [image.data[o], image.data[o + 1], image.data[o + 2]];
    if (r === undefined || g === undefined || b === undefined) throw new Error(`colourShare: pixel ${i} is past the end of ${image.data.length} RGB bytes (${image.width}x${image.height})`);
    if (Math.abs(r - colour[0]) <= tolerance && Math.abs(g - colour[1]) <= tolerance && Math.abs(b - colour[2]) <= tolerance) hits++;
  }
  return hits / pixels;
}

/**
 * The usual set-up of a browser test file: the viewer built, one server under test and one Chromium for the
 * whole file, both stopped after it. `ready` receives them once they are up.
 */
export function useViewerFixture(
  ready: (server: ServerUnderTest, browser: Browser) => void,
  mockOptions: MockServerOptions = {},
  realOptions: RealServerOptions = {},
): void {
  let server: ServerUnderTest | undefined;
  let browser: Browser | undefined;
  beforeAll(async () => {
    await ensureViewerBuilt();
    server = await startServerUnderTest(mockOptions, realOptions);
    browser = await launchBrowser();
    ready(server, browser);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });
}
