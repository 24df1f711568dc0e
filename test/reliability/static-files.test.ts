/**
 * Issue 18, attack 3: a static file that disappears between the server's check and its open (the viewer being
 * rebuilt while it is served). The server used to stat, then createReadStream(file).pipe(res) with no error
 * handler: an unhandled 'error' event (ENOENT), then the hang. Now it opens the file first and serves what it
 * opened, or answers 404. Here a separate process deletes and rewrites the files in a tight loop (and turns one
 * into a directory now and then) while 600 requests run; every answer must be whole or a clean 404, and the
 * server must still serve afterwards.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/media.ts';
import { startCli, type CliServer } from './cli.ts';
import { connectViewer, healthz, waitFor } from './helpers.ts';

let server: CliServer;
let site: string;

beforeAll(async () => {
  site = tempDir('churn-site');
  mkdirSync(path.join(site, 'assets'));
  writeFileSync(path.join(site, 'index.html'), '<!doctype html><title>viewer</title>');
  writeFileSync(path.join(site, 'assets', 'app.js'), 'x'.repeat(256 * 1024));
  server = await startCli({ args: ['--static-dir', site] });
});

afterAll(async () => {
  await server?.stop();
});

function get(port: number, pathname: string): Promise<{ status: number; length: number; declared: number; aborted: boolean }> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: pathname, agent: false }, (res) => {
      let length = 0;
      let aborted = false;
      res.on('data', (d: Buffer) => (length += d.length));
      res.on('aborted', () => (aborted = true));
      res.on('error', () => (aborted = true));
      res.on('close', () => resolve({ status: res.statusCode ?? 0, length, declared: Number(res.headers['content-length'] ?? -1), aborted }));
    });
    req.on('error', () => resolve({ status: 0, length: 0, declared: -1, aborted: true }));
  });
}

describe('static files that change while served (attack 3)', () => {
  it('600 requests while the files are deleted, rewritten and replaced by a directory: whole answers or 404, server up', async () => {
    const churn = spawn(
      process.execPath,
      [
        '-e',
        `const fs = require('node:fs'); const [dir] = process.argv.slice(1);
         const files = ['index.html', 'assets/app.js'].map((f) => dir + '/' + f);
         let i = 0;
         for (;;) {
           const f = files[i++ % 2];
           try { fs.rmSync(f, { recursive: true, force: true }); } catch {}
           if (i % 50 === 0) { try { fs.mkdirSync(f); } catch {} continue; }
           try { fs.writeFileSync(f, 'y'.repeat(1000 + (i % 7) * 40000)); } catch {}
         }`,
        site,
      ],
      { stdio: 'ignore' },
    );
    const seen = new Map<string, number>();
    try {
      for (let round = 0; round < 60; round++) {
        const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => get(server.port, i % 2 ? '/assets/app.js' : '/')));
        for (const a of answers) {
          const key = `${a.status}${a.aborted ? ' aborted' : ''}`;
          seen.set(key, (seen.get(key) ?? 0) + 1);
          expect([200, 404, 503], JSON.stringify(a)).toContain(a.status);
          if (a.status === 200 && !a.aborted) expect(a.length, 'body length = Content-Length').toBe(a.declared);
        }
      }
    } finally {
      churn.kill('SIGKILL');
    }
    console.log(`[reliability] static churn: answers ${JSON.stringify(Object.fromEntries(seen))}`);
    expect(seen.get('200') ?? 0).toBeGreaterThan(0);
    expect(server.proc.exitCode).toBeNull();
    expect(server.output()).not.toMatch(/FATAL|Unhandled 'error'/);
    expect((await healthz(server.port)).code).toBe(200);
    const v = await connectViewer(server.port);
    await waitFor(() => v.frames.length > 0, 'frames after the churn');
    v.ws.terminate();
  });
});
