/**
 * Shared pieces of the reliability tests: an in-process server from a raw config object (validated exactly like a
 * config file), a recording WebSocket viewer, /healthz and /metrics readers, and a polling wait. Everything is
 * real: GStreamer pipelines, the inference worker with ONNX Runtime, WebSocket clients over TCP.
 */
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { SegStreamApp, type AppOptions } from '../../server/app/app.ts';
import { validateConfig } from '../../server/app/config.ts';
import { parseMetrics } from '../../server/util/prometheus.ts';
import { decodeFrameMessage, type FrameHeader, type StatusMessage } from '../../server/protocol/index.ts';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const TOKEN = 'reliability-test-token-0123456789';

/** The tiny generated model and a 320x240 test pattern, with a short watchdog so failures show within seconds. */
export function baseConfig(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    cacheDir: path.join(ROOT, '.cache'),
    server: { port: 0, controlToken: TOKEN },
    watchdog: { noFrameMs: 1000, maxBackoffMs: 2000 },
    sources: { test: { kind: 'test', width: 320, height: 240, framerate: 30, pattern: 'smpte' } },
    models: { tiny: { demo: { variant: 'tiny', size: 64, classes: 8 } } },
    defaultSource: 'test',
    defaultModel: 'tiny',
    ...extra,
  };
}

export interface TestApp {
  app: SegStreamApp;
  port: number;
  /** Every line the server logged. */
  logs: string[];
  stop(): Promise<void>;
}

/** Starts SegStreamApp in this process from a raw config (relative paths resolve against `dir`). */
export async function startApp(raw: Record<string, unknown>, dir: string, options: Omit<AppOptions, 'config' | 'log'> = {}): Promise<TestApp> {
  const config = validateConfig(raw, 'reliability test config', dir);
  const logs: string[] = [];
  const app = new SegStreamApp({ ...options, config, log: (line) => logs.push(line) });
  await app.start();
  return { app, port: app.port, logs, stop: () => app.stop() };
}

export interface Viewer {
  ws: WebSocket;
  /** Text messages, parsed, in arrival order. */
  texts: Record<string, unknown>[];
  /** Headers of the binary frames received. */
  frames: FrameHeader[];
  statuses(): StatusMessage[];
  closed: Promise<{ code: number; reason: string }>;
  /** Stops reading from the socket (the kernel buffers fill, the server's sends stall). */
  pauseReading(): void;
  resumeReading(): void;
}

/** A WebSocket viewer that records everything and acknowledges each frame like the real viewer. */
export function connectViewer(port: number, headers: Record<string, string> = {}, options: { localAddress?: string } = {}): Promise<Viewer> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { headers, ...(options.localAddress ? { localAddress: options.localAddress } : {}) });
    const texts: Record<string, unknown>[] = [];
    const frames: FrameHeader[] = [];
    const closed = new Promise<{ code: number; reason: string }>((r) => ws.once('close', (code, reason) => r({ code, reason: reason.toString() })));
    ws.on('message', (data, isBinary) => {
      if (!isBinary) {
        texts.push(JSON.parse(data.toString()) as Record<string, unknown>);
        return;
      }
      const { header } = decodeFrameMessage(new Uint8Array(data as Buffer));
      frames.push(header);
      if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'drawn', id: header.id }));
    });
    const socket = () => (ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    ws.once('open', () =>
      resolve({
        ws,
        texts,
        frames,
        statuses: () => texts.filter((t) => t.type === 'status') as unknown as StatusMessage[],
        closed,
        pauseReading: () => socket().pause(),
        resumeReading: () => socket().resume(),
      }),
    );
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

export interface ControlResult {
  type: 'control-result';
  action: string;
  ok: boolean;
  message: string;
}

/** Sends one control message and waits for its answer (one at a time: answers to different actions can overtake each other). */
export async function sendControl(v: Viewer, message: Record<string, unknown>): Promise<ControlResult> {
  const seen = v.texts.length;
  v.ws.send(JSON.stringify({ type: 'control', ...message }));
  await waitFor(() => v.texts.slice(seen).some((t) => t.type === 'control-result'), `the answer to ${JSON.stringify(message)}`);
  return v.texts.slice(seen).find((t) => t.type === 'control-result') as unknown as ControlResult;
}

/** Polls until `cond` holds; the timeout only bounds a hung test, it is never the thing asserted. */
export async function waitFor(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** GET with a deadline: a server whose event loop is blocked fails the test instead of hanging it. */
async function get(port: number, pathname: string): Promise<Response> {
  try {
    return await fetch(`http://127.0.0.1:${port}${pathname}`, { signal: AbortSignal.timeout(10_000) });
  } catch (err) {
    throw new Error(`the server did not answer GET ${pathname} within 10 s (event loop blocked?): ${(err as Error).message}`, { cause: err });
  }
}

export async function healthz(port: number): Promise<{ code: number; body: { state: string; message: string; since: number; clients: number } }> {
  const res = await get(port, '/healthz');
  return { code: res.status, body: (await res.json()) as { state: string; message: string; since: number; clients: number } };
}

export async function metricsText(port: number): Promise<string> {
  return (await get(port, '/metrics')).text();
}

/** The value of one sample in /metrics text, e.g. metric(text, 'segstream_frames_dropped_total', { where: 'slow-client' }). */
export function metric(text: string, name: string, labels: Record<string, string> = {}): number {
  const found = parseMetrics(text).find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (!found) throw new Error(`metric ${name}${JSON.stringify(labels)} not in /metrics:\n${text}`);
  return found.value;
}

/** A TCP port that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** True when something accepts TCP connections on 127.0.0.1:port. */
export function canConnect(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, host);
    socket.setTimeout(2000, () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
