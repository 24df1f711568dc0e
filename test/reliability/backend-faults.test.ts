/**
 * Backend faults with real ONNX Runtime in the real inference worker: a model that fails to load (at start-up and
 * when switched to), an inference that throws, and a worker thread that dies. The server never falls over, says
 * what happened, restarts the worker, and no frame stays in flight forever. Faults are injected through
 * AppOptions.faults, which only code that constructs the app can set (never a client).
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureDemoModel } from '../../server/model/demo/demo-model.ts';
import { tempDir } from '../helpers/media.ts';
import { baseConfig, canConnect, connectViewer, freePort, healthz, metric, metricsText, ROOT, sendControl, startApp, TOKEN, waitFor, type TestApp } from './helpers.ts';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A real model file cut in half, as an interrupted copy leaves it. */
async function truncatedModel(dir: string): Promise<string> {
  const { modelPath } = await ensureDemoModel(path.join(ROOT, '.cache', 'demo-models'), { variant: 'tiny', size: 64, classes: 8 });
  const bytes = readFileSync(modelPath);
  const file = path.join(dir, 'truncated.onnx');
  writeFileSync(file, bytes.subarray(0, Math.floor(bytes.length / 2)));
  return file;
}

async function start(dir: string, extra: Record<string, unknown> = {}, faults?: { throwOnFrame?: number; exitOnFrame?: number }): Promise<TestApp> {
  const t = await startApp(baseConfig(extra), dir, faults ? { faults } : {});
  cleanups.push(() => t.stop());
  return t;
}

describe('backend faults (real ONNX Runtime, real worker thread)', () => {
  it('a model that fails to load: `segstream serve` refuses to start, names the file, never binds the port', async () => {
    const dir = tempDir('rel-badmodel');
    const broken = await truncatedModel(dir);
    const port = await freePort();
    const configFile = path.join(dir, 'config.json');
    writeFileSync(configFile, JSON.stringify(baseConfig({ models: { broken: { path: broken } }, defaultModel: 'broken', server: { port } })));
    const child = spawn(process.execPath, [path.join(ROOT, 'bin/segstream.js'), 'serve', '--config', configFile], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    // While it runs, nothing may listen on the port.
    let accepted = 0;
    let running = true;
    void exited.then(() => (running = false));
    while (running) {
      if (await canConnect(port)) accepted++;
      await new Promise((r) => setTimeout(r, 50));
    }
    const code = await exited;
    expect(code).not.toBe(0);
    expect(accepted).toBe(0);
    expect(output).toContain(broken);
    expect(output).toMatch(/not a valid ONNX model|truncated/);
    expect(output).not.toContain('viewer: http');
  });

  it('set-model to a model that fails to load: control-result ok:false naming the file, the stream goes on with the old model', async () => {
    const dir = tempDir('rel-setmodel');
    const broken = await truncatedModel(dir);
    const t = await start(dir, { models: { tiny: { demo: { variant: 'tiny', size: 64, classes: 8 } }, broken: { path: broken }, gone: { path: 'missing.onnx' } } });
    const v = await connectViewer(t.port);
    cleanups.push(() => v.ws.terminate());
    await waitFor(() => v.frames.length >= 3, 'frames');

    const first = await sendControl(v, { token: TOKEN, action: 'set-model', value: 'broken' });
    const second = await sendControl(v, { token: TOKEN, action: 'set-model', value: 'gone' });
    expect(first).toMatchObject({ action: 'set-model', ok: false, message: expect.stringContaining(broken) });
    expect(second).toMatchObject({ action: 'set-model', ok: false, message: expect.stringContaining(path.join(dir, 'missing.onnx')) });
    expect(second.message).toMatch(/not found/);

    const framesNow = v.frames.length;
    await waitFor(() => v.frames.length > framesNow + 5, 'frames after the failed switches');
    expect(t.app.model?.name).toBe('tiny');
    expect((await healthz(t.port)).code).toBe(200);
  });

  it('an inference that throws: that frame is counted as an error, the stream goes on', async () => {
    const dir = tempDir('rel-throw');
    const t = await start(dir, {}, { throwOnFrame: 3 });
    const v = await connectViewer(t.port);
    cleanups.push(() => v.ws.terminate());
    await waitFor(() => t.logs.some((l) => l.includes('injected inference fault on frame 3')), 'the injected fault');
    const inferredAtFault = metric(await metricsText(t.port), 'segstream_frames_inferred_total');
    await waitFor(async () => metric(await metricsText(t.port), 'segstream_frames_inferred_total') > inferredAtFault + 10, 'inference to go on');
    const m = await metricsText(t.port);
    expect(metric(m, 'segstream_backend_errors_total')).toBe(1);
    expect(metric(m, 'segstream_worker_restarts_total')).toBe(0);
    expect(v.statuses().some((s) => s.state === 'backend-error')).toBe(false);
    await waitFor(() => v.frames.length > 5, 'frames at the viewer');
  });

  it('a worker that dies: "backend-error" status, worker restarted, "live" again, frames resume, no frame left in flight', async () => {
    const dir = tempDir('rel-exit');
    // The worker exits on its 5th frame; each restarted worker does the same, so the stream keeps recovering.
    const t = await start(dir, {}, { exitOnFrame: 5 });
    const v = await connectViewer(t.port);
    cleanups.push(() => v.ws.terminate());

    await waitFor(() => v.statuses().some((s) => s.state === 'backend-error'), 'backend-error');
    const down = v.statuses().find((s) => s.state === 'backend-error')!;
    expect(down.message).toMatch(/inference worker restarted: inference worker exited with code 3/);
    const health = await healthz(t.port);
    // Either still down or already back: /healthz says which, never anything else.
    expect([health.code, health.body.state]).toEqual(health.body.state === 'live' ? [200, 'live'] : [503, 'backend-error']);

    const downAt = v.statuses().indexOf(down);
    await waitFor(() => v.statuses().slice(downAt).some((s) => s.state === 'live'), 'live after the restart');
    const back = v.statuses().slice(downAt).find((s) => s.state === 'live')!;
    expect(back.message).toBe('inference worker back');
    const framesBack = v.frames.length;
    await waitFor(() => v.frames.length >= framesBack + 2, 'frames from the restarted worker');

    const m = await metricsText(t.port);
    expect(metric(m, 'segstream_worker_restarts_total')).toBeGreaterThanOrEqual(1);
    // The frame that was in the worker when it died is reported as failed, not left waiting.
    expect(metric(m, 'segstream_backend_errors_total')).toBeGreaterThanOrEqual(1);
    expect(t.logs.some((l) => /frame \d+: inference failed: inference worker exited with code 3/.test(l))).toBe(true);
  });
});
