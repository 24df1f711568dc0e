/**
 * Issue 18, item 11: a corrupted cached demo model blocked start-up forever under systemd (named in the error,
 * but never regenerated, so every restart failed the same way). The demo model is derived data: a damaged copy
 * is now found by its checksums (or, for a cache from before checksums, by comparison with a fresh build) and
 * generated again, and the server starts. A user's own model files are never "repaired": a damaged one still
 * stops start-up with its name (see also backend-faults.test.ts for a truncated .onnx).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/media.ts';
import { startCli } from './cli.ts';
import { connectViewer, ROOT, waitFor } from './helpers.ts';

async function streams(config: Record<string, unknown>): Promise<string> {
  const server = await startCli({ config });
  try {
    const v = await connectViewer(server.port);
    await waitFor(() => v.frames.length > 2, 'frames');
    v.ws.terminate();
    return server.output();
  } finally {
    await server.stop();
  }
}

describe('start-up self-repair of the demo model cache', () => {
  it('a truncated cached model.onnx is generated again and the server starts', async () => {
    const cacheDir = tempDir('repair-cache');
    const config = { cacheDir };
    expect(await streams(config)).not.toMatch(/repaired/);
    const modelsDir = path.join(cacheDir, 'demo-models');
    const folder = readdirSync(modelsDir).find((f) => !f.endsWith('.json'))!;
    const model = path.join(modelsDir, folder, 'model.onnx');
    const good = readFileSync(model);
    truncateSync(model, Math.floor(good.length / 2));

    const out = await streams(config);
    expect(out).toContain(`demo model cache repaired: ${path.join(modelsDir, folder)}: model.onnx does not match its checksum (damaged); generated again`);
    expect(readFileSync(model).equals(good)).toBe(true);
  });

  it('a cache from before checksums with a damaged file is compared with a fresh build and repaired', async () => {
    const cacheDir = tempDir('repair-legacy');
    const config = { cacheDir };
    await streams(config);
    const modelsDir = path.join(cacheDir, 'demo-models');
    for (const f of readdirSync(modelsDir).filter((f) => f.endsWith('.sha256.json'))) rmSync(path.join(modelsDir, f));
    const folder = readdirSync(modelsDir).find((f) => !f.endsWith('.json'))!;
    writeFileSync(path.join(modelsDir, folder, 'config.json'), '{"not": "the demo config"');
    const out = await streams(config);
    expect(out).toContain('config.json differs from what the generator makes (damaged); generated again');
  });

  it('a damaged user model still stops start-up, naming the file (nothing is regenerated)', () => {
    const dir = tempDir('repair-user');
    // A copy of a real model, then truncated.
    const cached = path.join(ROOT, '.cache', 'demo-models');
    const folder = readdirSync(cached).find((f) => f.startsWith('segformer-tiny-demo-64x64-c8-') && !f.endsWith('.json'))!;
    const user = path.join(dir, 'mine.onnx');
    copyFileSync(path.join(cached, folder, 'model.onnx'), user);
    truncateSync(user, 1000);
    const configFile = path.join(dir, 'config.json');
    writeFileSync(configFile, JSON.stringify({ cacheDir: path.join(dir, 'cache'), server: { port: 0 }, models: { mine: { path: user } }, defaultModel: 'mine' }));
    const r = spawnSync(process.execPath, [path.join(ROOT, 'bin/segstream.js'), 'serve', '--config', configFile], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(1);
    expect(r.stderr + r.stdout).toContain(user);
    expect(r.stderr + r.stdout).not.toMatch(/repaired/);
    expect(readFileSync(user).length).toBe(1000);
  });
});
