/**
 * Issue 18, attack 5: DNS rebinding. A page on evil.example whose name is re-pointed at this server makes the
 * browser send `Host: evil.example:PORT` and `Origin: http://evil.example:PORT`; the server used to compare Origin
 * with Host only, so it streamed. Now Host must be this server (loopback, the bind address, server.allowedHosts)
 * and Origin must be this server as the browser reached it, or listed in server.allowedOrigins.
 * Checked with raw requests and with Debian's Chromium, whose own resolver is pointed at 127.0.0.1 for
 * evil.example and kiosk.example (--host-resolver-rules): the browser builds Host and Origin itself.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/media.ts';
import { startCli, type CliServer } from './cli.ts';
import { connectViewer, metric, metricsText } from './helpers.ts';

let server: CliServer;
let browser: Browser;

/** A page that opens a WebSocket to its own server and reports what happened in the title. */
const PAGE = `<!doctype html><title>pending</title><script>
  const ws = new WebSocket('ws://' + location.host + '/ws');
  ws.onmessage = (e) => { if (typeof e.data === 'string' && e.data.includes('"hello"')) document.title = 'connected'; };
  ws.onerror = () => { document.title = 'refused'; };
</script>`;

beforeAll(async () => {
  const site = tempDir('hosts-site');
  writeFileSync(path.join(site, 'index.html'), PAGE);
  server = await startCli({ args: ['--static-dir', site], config: { server: { port: 0, allowedHosts: ['kiosk.example'] } } });
  browser = await chromium.launch({
    executablePath: process.env.SEGSTREAM_CHROMIUM ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--host-resolver-rules=MAP evil.example 127.0.0.1, MAP kiosk.example 127.0.0.1'],
  });
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

async function status(url: string, host: string): Promise<number> {
  // fetch() does not let a caller set Host; node:http does.
  const http = await import('node:http');
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: { host } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
  });
}

describe('allowed hosts and origins (attack 5: DNS rebinding)', () => {
  it('raw requests: a foreign Host gets 403 on every path and on the WebSocket; loopback names are served', async () => {
    const base = `http://127.0.0.1:${server.port}`;
    for (const p of ['/', '/healthz', '/metrics', '/index.html']) expect(await status(base + p, `evil.example:${server.port}`), p).toBe(403);
    // /metrics answers 200 whatever the stream's state.
    expect(await status(`${base}/metrics`, `127.0.0.1:${server.port}`)).toBe(200);
    expect(await status(`${base}/metrics`, `localhost:${server.port}`)).toBe(200);
    expect(await status(`${base}/metrics`, `kiosk.example:${server.port}`)).toBe(200);
    await expect(connectViewer(server.port, { host: `evil.example:${server.port}`, origin: `http://evil.example:${server.port}` })).rejects.toThrow(/HTTP 403/);
    // Host right, Origin another site: 403 too.
    await expect(connectViewer(server.port, { origin: `http://evil.example:${server.port}` })).rejects.toThrow(/HTTP 403/);
    const m = await metricsText(server.port);
    expect(metric(m, 'segstream_http_forbidden_host_total')).toBeGreaterThanOrEqual(4);
    expect(metric(m, 'segstream_clients_refused_by_reason_total', { reason: 'host' })).toBeGreaterThanOrEqual(1);
    expect(metric(m, 'segstream_clients_refused_by_reason_total', { reason: 'origin' })).toBeGreaterThanOrEqual(1);
    expect(server.output()).toMatch(/refused HTTP request for Host "evil\.example:\d+" \(not in server\.allowedHosts\)/);
  });

  it('Chromium: a rebound name gets 403 for the page; the server\'s own names and an allowed host load it and connect', async () => {
    const page = await browser.newPage();
    try {
      const evil = await page.goto(`http://evil.example:${server.port}/`);
      expect(evil?.status()).toBe(403);
      const health = await page.goto(`http://evil.example:${server.port}/healthz`);
      expect(health?.status()).toBe(403);

      for (const host of ['127.0.0.1', 'localhost', 'kiosk.example']) {
        const res = await page.goto(`http://${host}:${server.port}/`);
        expect(res?.status(), host).toBe(200);
        await page.waitForFunction(() => document.title !== 'pending', undefined, { timeout: 15_000 });
        expect(await page.title(), host).toBe('connected');
      }
    } finally {
      await page.close();
    }
  });

  it('Chromium: a page on another site cannot open the stream (Origin refused)', async () => {
    // The attacker's page, served from the same machine under another name and port.
    const http = await import('node:http');
    const attackerSite = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<!doctype html><title>pending</title><script>
        const ws = new WebSocket('ws://127.0.0.1:${server.port}/ws');
        ws.onmessage = () => { document.title = 'connected'; };
        ws.onerror = () => { document.title = 'refused'; };
      </script>`);
    });
    await new Promise<void>((r) => attackerSite.listen(0, '127.0.0.1', r));
    const page = await browser.newPage();
    try {
      await page.goto(`http://evil.example:${(attackerSite.address() as { port: number }).port}/`);
      await page.waitForFunction(() => document.title !== 'pending', undefined, { timeout: 15_000 });
      expect(await page.title()).toBe('refused');
    } finally {
      await page.close();
      attackerSite.close();
    }
  });
});
