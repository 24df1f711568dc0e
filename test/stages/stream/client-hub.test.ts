import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { ClientHub, type ClientHubOptions } from '../../../server/stages/stream/client-hub.ts';
import { decodeFrameMessage, encodeFrameMessage, type ControlAction } from '../../../server/protocol/index.ts';
import type { OutgoingFrame } from '../../../server/stages/stream/frame-message.ts';
import { at } from '../../../server/util/checked-access.ts';

const TOKEN = 'a-very-secret-control-token';
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

async function startHub(overrides: Partial<ClientHubOptions> = {}) {
  const controls: ControlAction[] = [];
  const hub = new ClientHub({
    maxClients: 3,
    controlToken: TOKEN,
    allowedOrigins: ['http://kiosk.example:8080'],
    clientStallMs: 1000,
    maxMessageBytes: 1024,
    hello: () => ({ type: 'error', message: 'hello-placeholder' }),
    status: () => ({ type: 'status', state: 'live', since: 1, message: 'ok' }),
    onControl: async (a) => {
      controls.push(a);
      return `did ${a.action}`;
    },
    streamRates: () => ({ fps: { source: 30, inference: 10, sent: 10 }, modelMs: 90 }),
    ...overrides,
  });
  const server = http.createServer();
  hub.attach(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  cleanups.push(() => {
    hub.close();
    server.close();
  });
  return { hub, port, controls };
}

function connect(port: number, headers: Record<string, string> = {}): Promise<{ ws: WebSocket; texts: Record<string, unknown>[]; frames: Buffer[] }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { headers });
    const texts: Record<string, unknown>[] = [];
    const frames: Buffer[] = [];
    ws.on('message', (data, isBinary) => {
      if (isBinary) frames.push(data as Buffer);
      else texts.push(JSON.parse(data.toString()));
    });
    ws.once('open', () => resolve({ ws, texts, frames }));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
    cleanups.push(() => ws.terminate());
  });
}

const until = async (cond: () => boolean, what: string, ms = 5000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

function payload(id: number, jpegBytes = 100, captureTime = Date.now()): OutgoingFrame {
  const header = {
    type: 'frame' as const,
    id,
    captureTime,
    width: 8,
    height: 8,
    overlaid: false,
    classMap: { width: 8, height: 8, bytesPerPixel: 1 as const, encoding: 'raw' as const },
    stages: {},
    classes: [] as [number, number][],
    smoothing: 0,
    dropped: { inferenceBusy: 0, renderBusy: 0 },
  };
  return { id, captureTime, message: encodeFrameMessage(header, new Uint8Array(jpegBytes), new Uint8Array(64)) };
}

describe('ClientHub', () => {
  it('greets with hello and status, and delivers frames', async () => {
    const { hub, port } = await startHub();
    const c = await connect(port);
    await until(() => c.texts.length >= 2, 'hello and status');
    expect(c.texts[0]).toMatchObject({ message: 'hello-placeholder' });
    expect(c.texts[1]).toMatchObject({ type: 'status', state: 'live' });
    hub.broadcast(payload(1));
    await until(() => c.frames.length === 1, 'a frame');
    expect(decodeFrameMessage(new Uint8Array(at(c.frames, 0, 'c.frames'))).header).toMatchObject({ id: 1 });
    // Per-viewer drops travel in the viewer's stats, not in the shared frame message.
    await until(() => c.texts.some((t) => t.type === 'stats'), 'stats', 4000);
    expect(c.texts.find((t) => t.type === 'stats')).toMatchObject({ slowLink: 0 });
  });

  it('accepts same-origin and configured origins, refuses others', async () => {
    const { port } = await startHub();
    await expect(connect(port, { origin: `http://127.0.0.1:${port}` })).resolves.toBeTruthy();
    await expect(connect(port, { origin: 'http://kiosk.example:8080' })).resolves.toBeTruthy();
    await expect(connect(port, { origin: 'http://evil.example' })).rejects.toThrow(/HTTP 403/);
  });

  it('limits the number of clients with a clear message', async () => {
    const { port } = await startHub();
    for (let i = 0; i < 3; i++) await connect(port);
    const extra = await connect(port);
    await until(() => extra.texts.length > 0, 'the refusal');
    expect(extra.texts[0]).toEqual({ type: 'error', message: 'server full: at most 3 viewers' });
    await until(() => extra.ws.readyState === WebSocket.CLOSED, 'close');
  });

  it('rejects malformed, binary, unknown and oversized messages to that client only', async () => {
    const { port } = await startHub();
    const a = await connect(port);
    const b = await connect(port);
    a.ws.send('not json');
    a.ws.send(Buffer.from([1, 2, 3]));
    a.ws.send(JSON.stringify({ type: 'exec', cmd: 'rm -rf /' }));
    a.ws.send(JSON.stringify({ type: 'drawn', id: 'x' }));
    const errors = () => a.texts.filter((t) => t.type === 'error' && t.message !== 'hello-placeholder');
    await until(() => errors().length === 4, 'four errors');
    expect(errors().map((t) => t.message)).toEqual([
      'malformed message: expected JSON',
      'binary messages are not accepted; send JSON text',
      'unknown message type "exec"; expected "drawn" or "control"',
      'drawn: id must be an integer frame id',
    ]);
    expect(b.texts.some((t) => t.type === 'error' && t.message !== 'hello-placeholder')).toBe(false);
    const closed = new Promise<number>((r) => a.ws.once('close', (code) => r(code)));
    a.ws.send('x'.repeat(5000));
    expect(await closed).toBe(1009);
    expect(b.ws.readyState).toBe(WebSocket.OPEN);
  });

  it('refuses controls without the right token and never calls the handler', async () => {
    const { port, controls } = await startHub();
    const c = await connect(port);
    c.ws.send(JSON.stringify({ type: 'control', action: 'set-source', value: 'cam' }));
    c.ws.send(JSON.stringify({ type: 'control', token: 'wrong', action: 'set-source', value: 'cam' }));
    c.ws.send(JSON.stringify({ type: 'control', token: TOKEN, action: 'run-pipeline', value: 'filesrc' }));
    c.ws.send(JSON.stringify({ type: 'control', token: TOKEN, action: 'set-source', value: 'cam' }));
    await until(() => c.texts.filter((t) => t.type === 'control-result').length === 4, 'four results');
    const results = c.texts.filter((t) => t.type === 'control-result');
    expect(results[0]).toMatchObject({ ok: false, message: 'refused: wrong or missing control token' });
    expect(results[1]).toMatchObject({ ok: false, message: 'refused: wrong or missing control token' });
    expect(results[2]).toMatchObject({ ok: false, message: expect.stringMatching(/unknown action "run-pipeline"/) });
    expect(results[3]).toMatchObject({ ok: true, message: 'did set-source' });
    expect(controls).toEqual([{ action: 'set-source', value: 'cam' }]);
  });

  it('says controls are disabled when no token is configured', async () => {
    const { port, controls } = await startHub({ controlToken: null });
    const c = await connect(port);
    c.ws.send(JSON.stringify({ type: 'control', token: '', action: 'set-source', value: 'cam' }));
    await until(() => c.texts.some((t) => t.type === 'control-result'), 'result');
    expect(c.texts.find((t) => t.type === 'control-result')).toMatchObject({ ok: false, message: expect.stringMatching(/controls are disabled/) });
    expect(controls).toEqual([]);
  });

  it('measures frame age from drawn acks and reports it in stats', async () => {
    const hooked: number[] = [];
    const { hub, port } = await startHub({ onFrameAge: (ms) => hooked.push(ms) });
    const c = await connect(port);
    hub.broadcast(payload(5, 100, Date.now() - 40));
    await until(() => c.frames.length === 1, 'frame 5');
    c.ws.send(JSON.stringify({ type: 'drawn', id: 5 }));
    c.ws.send(JSON.stringify({ type: 'drawn', id: 999 })); // unknown ids are ignored
    await until(() => c.texts.some((t) => t.type === 'stats' && t.frameAge !== null), 'stats with frame age', 4000);
    const stats = c.texts.find((t) => t.type === 'stats' && t.frameAge !== null) as { frameAge: { p50: number; count: number }; fps: object };
    expect(stats.frameAge.count).toBe(1);
    expect(stats.frameAge.p50).toBeGreaterThanOrEqual(40);
    // The hook sees the same single sample (the benchmark keeps every age through it).
    expect(hooked).toHaveLength(1);
    expect(hooked[0]).toBeGreaterThanOrEqual(40);
    expect(stats.fps).toEqual({ source: 30, inference: 10, sent: 10 });
  });

  it('encodes each frame once: every viewer receives the same bytes', async () => {
    const { hub, port } = await startHub();
    const a = await connect(port);
    const b = await connect(port);
    const frame = payload(3, 300);
    hub.broadcast(frame);
    await until(() => a.frames.length === 1 && b.frames.length === 1, 'the frame at both viewers');
    expect(Buffer.compare(at(a.frames, 0, 'a.frames'), at(b.frames, 0, 'b.frames'))).toBe(0);
    expect(Buffer.compare(at(a.frames, 0, 'a.frames'), Buffer.from(frame.message))).toBe(0);
  });

  it('gives a client that does not read fewer frames, never a growing buffer, then disconnects it', async () => {
    const { hub, port } = await startHub({ clientStallMs: 1500 });
    const slow = await connect(port);
    const fast = await connect(port);
    (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const big = 512 * 1024;
    for (let i = 1; i <= 60; i++) {
      hub.broadcast(payload(i, big));
      await new Promise((r) => setTimeout(r, 15));
      // At most one frame on the wire plus one waiting per client: the hub never queues more.
    }
    await until(() => fast.frames.length >= 50, 'the fast client to get most frames');
    const snap = hub.snapshot();
    const slowStats = snap.find((s) => s.sent < 50)!;
    expect(slowStats.dropped).toBeGreaterThan(10);
    await until(() => hub.stallDisconnects === 1, 'the stalled client to be disconnected', 6000);
    expect(hub.clientCount).toBe(1);
  });
});
