/**
 * Issue 18, attacks 4 and 8, against the real CLI server in a child process:
 *  4. one client sends a flood of 1-byte malformed messages and never reads the replies (once: every error reply
 *     buffered, RSS 160 MB -> 1.46 GB in 9 s, /healthz unresponsive, viewers at 0 fps). Now: replies are rate-limited
 *     and bounded by the send budget, the client is disconnected as an abuser, memory stays bounded, /healthz
 *     answers and the well-behaved viewer keeps its frames.
 *  8. a control action name with a newline (once: a forged log line), and a flood of wrong-token controls from many
 *     clients (once: 155k log lines in 4.5 s). Now: the name is escaped on one line, the log is rate-limited.
 * And the stall check without frames: a viewer that stops reading while the source is lost (nothing but small
 * messages and pings to send) is still found and disconnected.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { tempDir } from '../helpers/media.ts';
import { startCli, type CliServer } from './cli.ts';
import { baseConfig, connectViewer, healthz, metric, metricsText, startApp, waitFor, type Viewer } from './helpers.ts';

let server: CliServer;
let viewer: Viewer;

beforeAll(async () => {
  server = await startCli({ config: { server: { port: 0, controlToken: 'budgets-test-token-0123456789', maxClientsPerAddress: 16, maxClients: 32 } } });
  viewer = await connectViewer(server.port);
  await waitFor(() => viewer.frames.length > 0, 'frames for the well-behaved viewer');
});

afterAll(async () => {
  viewer?.ws.terminate();
  await server?.stop();
});

/** A raw attacker: connects, stops reading at once, and can send as fast as the socket takes it. */
function attacker(port: number, localAddress = '127.0.0.1'): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { localAddress });
    ws.on('error', () => {});
    ws.once('open', () => {
      (ws as unknown as { _socket: { pause(): void } })._socket.pause();
      resolve(ws);
    });
    ws.once('unexpected-response', (_q, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
}

describe('per-client budgets (real CLI server)', () => {
  it('attack 4: a flood of malformed 1-byte messages from a client that never reads: disconnected, memory bounded, others unaffected', async () => {
    const m0 = await metricsText(server.port);
    const abuseBefore = metric(m0, 'segstream_client_disconnects_total', { reason: 'abuse' });
    const rssBefore = server.rss();
    const ws = await attacker(server.port);
    const sent = await new Promise<number>((resolve) => {
      let n = 0;
      const burst = (): void => {
        // 200 000 messages, as fast as the socket accepts them; stops when the server closes the connection.
        for (let i = 0; i < 2000 && n < 200_000 && ws.readyState === WebSocket.OPEN; i++, n++) ws.send('x');
        if (n < 200_000 && ws.readyState === WebSocket.OPEN) setImmediate(burst);
        else resolve(n);
      };
      burst();
    });
    // Meanwhile and after: the server answers, and the viewer streams.
    expect((await healthz(server.port)).code).toBe(200);
    await waitFor(async () => metric(await metricsText(server.port), 'segstream_client_disconnects_total', { reason: 'abuse' }) === abuseBefore + 1, 'the abuser to be disconnected');
    const framesNow = viewer.frames.length;
    await waitFor(() => viewer.frames.length > framesNow + 10, 'the viewer to keep streaming');
    const rssAfter = server.rss();
    console.log(
      `[reliability] attack 4: attacker sent ${sent} messages before being cut off; server RSS ${(rssBefore / 2 ** 20).toFixed(0)} -> ${(rssAfter / 2 ** 20).toFixed(0)} MB ` +
        '(issue 18 before the fix: 160 MB -> 1.46 GB in 9 s)',
    );
    expect(rssAfter - rssBefore).toBeLessThan(200 * 2 ** 20); // generous: the unfixed server grew by 1.3 GB
    expect(server.output()).toMatch(/more than 30 invalid messages in 10 s \(last: malformed message: expected JSON\); disconnecting/);
    ws.terminate();
  });

  it('attack 8: a control action name with a newline is logged escaped, on one line', async () => {
    const ws = await attacker(server.port);
    ws.send(JSON.stringify({ type: 'control', token: 'wrong', action: 'set-source\n[segstream] FORGED: admin logged in\r\n', value: 'test' }));
    await waitFor(() => server.output().includes('FORGED'), 'the refusal in the log');
    ws.terminate();
    const lines = server.output().split('\n');
    expect(lines.some((l) => l.startsWith('[segstream] FORGED'))).toBe(false);
    expect(lines.find((l) => l.includes('FORGED'))).toMatch(/control "set-source\\n\[segstream\] FORGED: admin logged in\\r\\n" refused \(wrong or missing token\)/);
  });

  it('attack 8: a flood of wrong-token controls from 20 clients writes a bounded number of log lines', async () => {
    const linesBefore = server.output().split('\n').length;
    const clients = await Promise.all(Array.from({ length: 20 }, (_, i) => attacker(server.port, `127.0.0.${2 + (i % 8)}`)));
    const abuseBefore = metric(await metricsText(server.port), 'segstream_client_disconnects_total', { reason: 'abuse' });
    const message = JSON.stringify({ type: 'control', token: 'not-the-token', action: 'set-model', value: 'tiny' });
    for (let round = 0; round < 250; round++) for (const c of clients) if (c.readyState === WebSocket.OPEN) c.send(message);
    await waitFor(async () => metric(await metricsText(server.port), 'segstream_client_disconnects_total', { reason: 'abuse' }) >= abuseBefore + 20, 'every flooding client to be disconnected');
    const added = server.output().split('\n').slice(linesBefore - 1);
    const refusals = added.filter((l) => l.includes('refused (wrong or missing token)'));
    console.log(`[reliability] attack 8: 20 clients x up to 250 wrong-token controls -> ${added.length} log lines (${refusals.length} refusal lines); issue 18 before the fix: 155k lines in 4.5 s`);
    // At most 5 lines per kind per 10 s window (refusals, disconnects), plus the counts of what was left out.
    expect(refusals.length).toBeLessThanOrEqual(10);
    expect(added.length).toBeLessThan(40);
    for (const c of clients) c.terminate();
    expect((await healthz(server.port)).code).toBe(200);
  });
});

describe('stall detection without frames', () => {
  it('a viewer that stops reading while the source is lost is disconnected (pings, not frames)', async () => {
    const dir = tempDir('stall-lost');
    const t = await startApp(
      baseConfig({
        server: { port: 0, clientStallMs: 1000 },
        sources: { cam: { kind: 'usb', device: '/dev/video9', width: 320, height: 240 } },
        defaultSource: 'cam',
      }),
      dir,
    );
    try {
      const v = await connectViewer(t.port);
      await waitFor(() => v.statuses().some((s) => s.state === 'source-lost'), 'source-lost');
      v.pauseReading();
      await waitFor(async () => metric(await metricsText(t.port), 'segstream_client_disconnects_total', { reason: 'stalled' }) === 1, 'the silent viewer to be disconnected');
      const m = await metricsText(t.port);
      expect(metric(m, 'segstream_frames_sent_total')).toBe(0);
      expect(metric(m, 'segstream_clients')).toBe(0);
      expect(t.logs.some((l) => /not reading for \d+ ms; disconnecting/.test(l))).toBe(true);
      v.ws.terminate();
    } finally {
      await t.stop();
    }
  });
});
