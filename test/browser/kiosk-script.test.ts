/**
 * scripts/kiosk.sh: waits for the server before opening the browser, passes the kiosk URL and flags, and stops
 * the server and removes its browser profile when the browser exits. A stand-in "browser" records what it got.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile, chmod } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureViewerBuilt } from './harness.ts';
import { REPO_ROOT } from './mock-server.ts';

const SCRIPT = join(REPO_ROOT, 'scripts', 'kiosk.sh');
let work: string;

beforeAll(async () => {
  await ensureViewerBuilt();
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

function run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', [SCRIPT, ...args], { cwd: REPO_ROOT, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('scripts/kiosk.sh', () => {
  it('starts the server, opens the kiosk URL once it answers, and cleans up when the browser exits', async () => {
    const port = await freePort();
    const record = join(work, 'browser-args.txt');
    const fake = join(work, 'fake-chromium');
    // The stand-in fetches the viewer and its WebSocket-free HTML, records its arguments, then "closes".
    await writeFile(fake, `#!/usr/bin/env bash\nprintf '%s\\n' "$@" > '${record}'\nurl="\${@: -1}"\ncurl -fsS -o /dev/null -w '%{http_code}' "$url" > '${record}.http'\nsleep 0.3\nexit 3\n`);
    await chmod(fake, 0o755);
    const result = await run(['--mock', '--port', String(port), '--query', 'mode=mask&smooth=3', '--wait', '60'], { CHROMIUM: fake, SEGSTREAM_KIOSK_FLAGS: '--lang=en' });
    expect(result.stderr).toContain('the browser exited (status 3)');
    expect(result.code).toBe(3);
    const args = (await readFile(record, 'utf8')).trim().split('\n');
    expect(args).toContain('--kiosk');
    expect(args).toContain('--lang=en');
    expect(args.at(-1)).toBe(`http://127.0.0.1:${port}/?kiosk&mode=mask&smooth=3`);
    expect(await readFile(`${record}.http`, 'utf8')).toBe('200');
    const profile = args.find((a) => a.startsWith('--user-data-dir='))!.slice('--user-data-dir='.length);
    await expect(stat(profile)).rejects.toThrow(/ENOENT/);
    // The server it started is gone.
    expect(await listening(port)).toBe(false);
  });

  it('gives up with a clear message when nothing answers', async () => {
    const port = await freePort();
    const result = await run(['--no-server', '--port', String(port), '--wait', '1'], { CHROMIUM: '/bin/true' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`no answer from http://127.0.0.1:${port}/ after 1 s`);
  });

  it('rejects bad options with the option named', async () => {
    const bad = await run(['--port', 'eighty'], { CHROMIUM: '/bin/true' });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--port: expected an integer 1..65535, got 'eighty'");
    const unknown = await run(['--fullscreen'], { CHROMIUM: '/bin/true' });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown option '--fullscreen'");
    const noBrowser = await run(['--mock'], { CHROMIUM: '/nonexistent/chromium' });
    expect(noBrowser.stderr).toContain('no Chromium found');
  });

  it('is valid bash (bash -n)', async () => {
    await promisify(execFile)('bash', ['-n', SCRIPT]);
  });
});
