/**
 * Hostile and careless clients against the real CLI server in a child process (the hub's own unit tests are in
 * test/stream/client-hub.test.ts; these check the same guarantees end to end, with real frames): a viewer that
 * never reads, too many viewers, malformed and oversized messages, a foreign Origin, controls without the token,
 * control values that try to name a path, a device or a pipeline, and the address the server binds.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startServer, TEST_TOKEN, type RunningServer } from '../helpers/server.ts';
import { canConnect, connectViewer, metric, metricsText, sendControl, waitFor, type Viewer } from './helpers.ts';

let server: RunningServer;
const viewers: Viewer[] = [];
async function viewer(headers: Record<string, string> = {}): Promise<Viewer> {
  const v = await connectViewer(server.port, headers);
  viewers.push(v);
  return v;
}

beforeAll(async () => {
  server = await startServer({
    source: 'noise',
    config: {
      server: { maxClients: 3, clientStallMs: 1000 },
      // Random noise at high JPEG quality makes big frames, so a viewer that stops reading fills the socket
      // buffers within a second or two.
      stream: { jpegQuality: 95 },
      sources: {
        test: { kind: 'test', width: 320, height: 240, framerate: 30 },
        noise: { kind: 'test', width: 640, height: 480, framerate: 30, pattern: 'snow' },
      },
    },
  });
});

afterAll(async () => {
  await server?.stop();
});

afterEach(async () => {
  for (const v of viewers.splice(0)) v.ws.terminate();
  await waitFor(async () => metric(await metricsText(server.port), 'segstream_clients') === 0, 'all viewers gone');
});

describe('clients (real server, real WebSocket clients)', () => {
  it('a viewer that never reads gets fewer frames (drops counted) and is disconnected; the others keep streaming', async () => {
    const before = await metricsText(server.port);
    const stalledBefore = metric(before, 'segstream_client_disconnects_total', { reason: 'stalled' });
    const reader = await viewer();
    const sleeper = await viewer();
    await waitFor(() => reader.frames.length > 0 && sleeper.frames.length > 0, 'both viewers to get frames');
    sleeper.pauseReading();

    await waitFor(
      async () => metric(await metricsText(server.port), 'segstream_client_disconnects_total', { reason: 'stalled' }) === stalledBefore + 1,
      'the stalled viewer to be disconnected',
    );
    const m = await metricsText(server.port);
    expect(metric(m, 'segstream_clients')).toBe(1);
    // Frames were dropped for it while it stalled; the counter keeps them after it has gone.
    expect(metric(m, 'segstream_frames_dropped_total', { where: 'slow-client' })).toBeGreaterThan(0);
    expect(server.output()).toMatch(/not reading for \d+ ms; disconnecting/);

    const readerNow = reader.frames.length;
    await waitFor(() => reader.frames.length > readerNow + 5, 'the reading viewer to keep streaming');
    sleeper.resumeReading();
    await sleeper.closed;
  });

  it('refuses viewers beyond server.maxClients with a clear message; the others are unaffected', async () => {
    const refusedBefore = metric(await metricsText(server.port), 'segstream_clients_refused_total');
    const kept = [await viewer(), await viewer(), await viewer()];
    const extra = await viewer();
    const closed = await extra.closed;
    expect(closed.code).toBe(1013);
    expect(extra.texts).toEqual([{ type: 'error', message: 'server full: at most 3 viewers' }]);
    expect(metric(await metricsText(server.port), 'segstream_clients_refused_total')).toBe(refusedBefore + 1);
    const counts = kept.map((v) => v.frames.length);
    await waitFor(() => kept.every((v, i) => v.frames.length > counts[i]! + 2), 'the admitted viewers to keep streaming');
  });

  it('answers malformed and oversized messages to the sender only', async () => {
    const a = await viewer();
    const b = await viewer();
    a.ws.send('{"type": "drawn", ');
    a.ws.send(Buffer.from([0xde, 0xad]));
    a.ws.send(JSON.stringify({ type: 'eval', code: 'process.exit()' }));
    a.ws.send(JSON.stringify([1, 2, 3]));
    const errors = (v: Viewer) => v.texts.filter((t) => t.type === 'error').map((t) => t.message);
    await waitFor(() => errors(a).length === 4, 'four error replies');
    expect(errors(a)).toEqual([
      'malformed message: expected JSON',
      'binary messages are not accepted; send JSON text',
      'unknown message type "eval"; expected "drawn" or "control"',
      'unknown message type undefined; expected "drawn" or "control"',
    ]);
    // Larger than server.maxClientMessageBytes (default 4096): the socket is closed with 1009 before the
    // message is buffered whole.
    a.ws.send(JSON.stringify({ type: 'drawn', id: 1, pad: 'x'.repeat(10_000) }));
    expect((await a.closed).code).toBe(1009);
    expect(errors(b)).toEqual([]);
    const framesB = b.frames.length;
    await waitFor(() => b.frames.length > framesB + 2, 'the other viewer to keep streaming');
  });

  it('refuses a WebSocket from a foreign Origin (HTTP 403) and accepts the server\'s own', async () => {
    const refusedBefore = metric(await metricsText(server.port), 'segstream_clients_refused_total');
    await expect(connectViewer(server.port, { origin: 'http://evil.example' })).rejects.toThrow(/HTTP 403/);
    expect(metric(await metricsText(server.port), 'segstream_clients_refused_total')).toBe(refusedBefore + 1);
    const own = await viewer({ origin: `http://127.0.0.1:${server.port}` });
    await waitFor(() => own.frames.length > 0, 'frames for a same-origin viewer');
  });

  it('control actions need the token, and no control value can name a path, a device or a pipeline', async () => {
    const v = await viewer();
    await waitFor(() => v.texts.some((t) => t.type === 'hello'), 'hello');
    const control = (m: Record<string, unknown>) => sendControl(v, m);
    const refusedToken = 'refused: wrong or missing control token';
    expect(await control({ action: 'set-source', value: 'test' })).toMatchObject({ ok: false, message: refusedToken });
    expect(await control({ token: 'segstream-test-token-012345678X', action: 'set-source', value: 'test' })).toMatchObject({ ok: false, message: refusedToken });
    for (const value of ['/dev/video0', 'videotestsrc ! appsink name=segstream_sink', 'constructor', '__proto__']) {
      const r = await control({ token: TEST_TOKEN, action: 'set-source', value });
      expect(r.ok, value).toBe(false);
      expect(r.message).toBe(`set-source: unknown source ${JSON.stringify(value)}; configured: test, noise`);
    }
    for (const value of ['/tmp/evil.onnx', '__proto__', 'toString']) {
      const r = await control({ token: TEST_TOKEN, action: 'set-model', value });
      expect(r.ok, value).toBe(false);
      expect(r.message.startsWith(`set-model: unknown model ${JSON.stringify(value)}; configured: `), r.message).toBe(true);
      expect(r.message).toMatch(/configured: .*\btiny\b/);
    }
    expect((await control({ token: TEST_TOKEN, action: 'set-postprocess', value: 'filesrc location=/etc/passwd' })).message).toMatch(/^set-postprocess: expected one of boundary, exact, lowres/);
    expect((await control({ token: TEST_TOKEN, action: 'run-pipeline', value: 'filesrc location=/etc/passwd ! fakesink' })).message).toMatch(/^unknown action "run-pipeline"/);
    expect(server.output()).toMatch(/control "set-source" refused \(wrong or missing token\)/);

    // Nothing changed: still the configured source, still streaming.
    const frames = v.frames.length;
    await waitFor(() => v.frames.length > frames + 2, 'frames after the refused actions');
    expect(v.frames.at(-1)).toMatchObject({ width: 640, height: 480 });
    expect(v.statuses().at(-1)).toMatchObject({ state: 'live' });
  });

  it('binds 127.0.0.1 unless told otherwise', async () => {
    expect(listeningAddress(server.port)).toBe('127.0.0.1');
    const lan = lanAddress();
    if (lan) expect(await canConnect(server.port, lan)).toBe(false);
  });
});

describe('binding a public address', () => {
  it('--host 0.0.0.0 listens on every interface and prints a warning', async () => {
    const open = await startServer({ args: ['--host', '0.0.0.0'] });
    try {
      expect(open.output()).toMatch(/WARNING: listening on 0\.0\.0\.0: anyone who can reach this address can watch the stream \(controls need the token\)/);
      expect(listeningAddress(open.port)).toBe('0.0.0.0');
      const lan = lanAddress();
      if (lan) expect(await canConnect(open.port, lan)).toBe(true);
    } finally {
      await open.stop();
    }
  });
});

/** The local address of the IPv4 socket listening on `port`, from /proc/net/tcp (Linux). */
function listeningAddress(port: number): string {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const [, local, , state] = line.trim().split(/\s+/);
    if (!local || state !== '0A') continue; // 0A = LISTEN
    const [hexAddr, p] = local.split(':');
    if (p !== hexPort) continue;
    const bytes = hexAddr!.match(/../g)!.map((h) => parseInt(h, 16)).reverse();
    return bytes.join('.');
  }
  throw new Error(`nothing listens on port ${port} (IPv4)`);
}

/** A non-loopback IPv4 address of this machine, if it has one. */
function lanAddress(): string | null {
  for (const addrs of Object.values(os.networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return null;
}
