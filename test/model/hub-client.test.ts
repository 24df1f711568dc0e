/**
 * `segstream model fetch` against a local HTTP server that imitates the Hugging Face hub's URL layout and
 * headers (302 to a CDN with x-linked-etag = sha256 for LFS files, git blob ETags for small files, Range).
 * Nothing here reaches the network.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModelInfo } from '../../server/model/load.ts';
import { buildDemoModel, demoConfigJson, demoPreprocessorJson } from '../../server/model/demo/demo-model.ts';
import { fetchModel, main, OfflineError } from '../../server/model/hub/hub-client.ts';
import { capture, tempDir } from '../toolkit/helpers.ts';
import { at } from '../../server/util/checked-access.ts';

interface Hub {
  url: string;
  requests: { path: string; range?: string; auth?: string }[];
  /** Cut the connection after this many body bytes on the next CDN response. */
  dropAfter?: number;
  /** Flip one byte of the next CDN response. */
  corruptNext?: boolean;
  close(): Promise<void>;
}

const COMMIT = 'c0ffee'.padEnd(40, '0');
let dir: string;
let hub: Hub;
let onnx: Uint8Array;
let fp16: Uint8Array;
let quantized: Uint8Array;
let repos: Record<string, Record<string, Uint8Array>>;

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const gitSha1 = (b: Uint8Array) => createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');

async function startHub(): Promise<Hub> {
  const requests: Hub['requests'] = [];
  const state: Partial<Hub> = {};
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    requests.push({ path: url.pathname, ...(req.headers.range ? { range: req.headers.range } : {}), ...(req.headers.authorization ? { auth: req.headers.authorization } : {}) });
    const cdn = /^\/cdn\/([0-9a-f]{64})$/.exec(url.pathname);
    if (cdn) {
      const body = Object.values(repos).flatMap((r) => Object.values(r)).find((b) => sha256(b) === cdn[1]);
      if (!body) return res.writeHead(404).end();
      let start = 0;
      const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
      if (m) start = Number(m[1]);
      if (start >= body.length && m) return res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
      let payload = Buffer.from(body.subarray(start));
      if (state.corruptNext) {
        state.corruptNext = false;
        payload = Buffer.from(payload);
        payload[10] = at(payload, 10, 'payload') ^ 0xff;
      }
      res.writeHead(m ? 206 : 200, { 'content-length': String(payload.length), ...(m ? { 'content-range': `bytes ${start}-${body.length - 1}/${body.length}` } : {}) });
      if (state.dropAfter !== undefined) {
        const cut = state.dropAfter;
        state.dropAfter = undefined;
        res.write(payload.subarray(0, cut), () => res.destroy());
        return;
      }
      return res.end(payload);
    }
    const hubPath = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname);
    const repo = hubPath ? repos[at(hubPath, 1, 'hubPath')] : undefined;
    const file = hubPath && repo ? repo[decodeURIComponent(at(hubPath, 3, 'hubPath'))] : undefined;
    if (!hubPath || !file) return res.writeHead(404, { 'x-error-code': 'EntryNotFound' }).end('Entry not found');
    if (at(hubPath, 3, 'hubPath').endsWith('.onnx')) {
      // LFS file: redirect to the "CDN"; the checksum travels on the redirect.
      return res
        .writeHead(302, { location: `/cdn/${sha256(file)}`, 'x-linked-etag': `"${sha256(file)}"`, 'x-linked-size': String(file.length), 'x-repo-commit': COMMIT, etag: `"${gitSha1(file)}"` })
        .end();
    }
    res.writeHead(200, { 'content-length': String(file.length), etag: `"${gitSha1(file)}"`, 'x-repo-commit': COMMIT });
    res.end(Buffer.from(file));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }) as Hub;
}

beforeAll(async () => {
  dir = tempDir('fetch');
  onnx = buildDemoModel({ variant: 'tiny', size: 64, classes: 8, seed: 9 });
  fp16 = buildDemoModel({ variant: 'tiny', size: 64, classes: 8, seed: 9, precision: 'float16' });
  quantized = buildDemoModel({ variant: 'tiny', size: 64, classes: 8, seed: 9, quantize: 'dynamic' });
  const json = (o: unknown) => new TextEncoder().encode(`${JSON.stringify(o, null, 2)}\n`);
  repos = {
    'acme/segformer-onnx': {
      'onnx/model.onnx': onnx,
      'config.json': json(demoConfigJson({ variant: 'tiny', size: 64, classes: 8 })),
      'preprocessor_config.json': json(demoPreprocessorJson({ variant: 'tiny', size: 64, classes: 8 })),
    },
    'acme/root-onnx': { 'model.onnx': onnx },
    // The layout of a repository converted for transformers.js (Xenova/segformer-*): three variants in onnx/,
    // the two JSON files at the root.
    'acme/segformer-transformers-js': {
      'onnx/model.onnx': onnx,
      'onnx/model_fp16.onnx': fp16,
      'onnx/model_quantized.onnx': quantized,
      'config.json': json(demoConfigJson({ variant: 'tiny', size: 64, classes: 8 })),
      'preprocessor_config.json': json(demoPreprocessorJson({ variant: 'tiny', size: 64, classes: 8 })),
    },
    // The repositories the docs name, in their real layouts (transformers.js conversion; PyTorch weights only).
    'Xenova/segformer-b0-finetuned-ade-512-512': {
      'onnx/model.onnx': onnx,
      'onnx/model_fp16.onnx': fp16,
      'onnx/model_quantized.onnx': quantized,
      'config.json': json(demoConfigJson({ variant: 'tiny', size: 64, classes: 8 })),
      'preprocessor_config.json': json(demoPreprocessorJson({ variant: 'tiny', size: 64, classes: 8 })),
    },
    'nvidia/segformer-b0-finetuned-ade-512-512': { 'config.json': json({ model_type: 'segformer' }), 'model.safetensors': new Uint8Array(100) },
    'acme/pytorch-only': { 'config.json': json({ model_type: 'segformer' }), 'model.safetensors': new Uint8Array(100) },
  };
  hub = await startHub();
  // Belt and braces: nothing may fall back to the real hub.
  process.env.SEGSTREAM_HF_ENDPOINT = hub.url;
});

afterAll(async () => {
  delete process.env.SEGSTREAM_HF_ENDPOINT;
  await hub.close();
  await fs.rm(dir, { recursive: true, force: true });
});

describe('model fetch', () => {
  it('downloads the ONNX export and configs, verified, into the cache', async () => {
    const cacheDir = path.join(dir, 'cache1');
    const r = await fetchModel({ repoId: 'acme/segformer-onnx', cacheDir, endpoint: hub.url, quiet: true });
    expect(r.commit).toBe(COMMIT);
    const model = r.files.find((f) => f.file === 'onnx/model.onnx')!;
    expect(model.sha256).toBe(sha256(onnx));
    expect(model.verified).toBe('sha256');
    expect(r.files.find((f) => f.file === 'config.json')!.verified).toBe('git-sha1');
    expect(r.missing).toEqual([]);
    expect(sha256(await fs.readFile(r.modelPath))).toBe(sha256(onnx));
    // Configs sit next to the model, so the model loads with its class names and preprocessing.
    const info = await loadModelInfo(r.modelPath);
    expect(info.output.classes).toBe(8);
    expect(info.preprocess.origin).toBe('preprocessor_config');
    const manifest = JSON.parse(await fs.readFile(path.join(r.dir, 'segstream-fetch.json'), 'utf8'));
    expect(manifest.files.map((f: { file: string }) => f.file).sort()).toEqual(['config.json', 'onnx/model.onnx', 'preprocessor_config.json']);

    // A second fetch is served from the cache without a single request.
    const before = hub.requests.length;
    const again = await fetchModel({ repoId: 'acme/segformer-onnx', cacheDir, endpoint: hub.url, quiet: true });
    expect(again.files.every((f) => f.fromCache)).toBe(true);
    expect(hub.requests.length).toBe(before);
    // --offline works from the cache too.
    const offline = await fetchModel({ repoId: 'acme/segformer-onnx', cacheDir, offline: true, quiet: true });
    expect(offline.modelPath).toBe(r.modelPath);
    expect(hub.requests.length).toBe(before);
  });

  it('falls back to model.onnx at the repository root', async () => {
    const r = await fetchModel({ repoId: 'acme/root-onnx', cacheDir: path.join(dir, 'cache2'), endpoint: hub.url, quiet: true });
    expect(path.basename(r.modelPath)).toBe('model.onnx');
    expect(at(r.files, 0, 'r.files').file).toBe('model.onnx');
    expect(r.missing).toEqual(['config.json', 'preprocessor_config.json']);
  });

  it('--variant picks a transformers.js variant from onnx/; the root configs land next to it and it loads', async () => {
    const cacheDir = path.join(dir, 'cache-variants');
    const expected = { fp32: ['onnx/model.onnx', onnx, 'float32'], fp16: ['onnx/model_fp16.onnx', fp16, 'float16'], quantized: ['onnx/model_quantized.onnx', quantized, 'float32'] } as const;
    for (const [variant, [file, bytes, dtype]] of Object.entries(expected)) {
      const r = await fetchModel({ repoId: 'acme/segformer-transformers-js', variant, cacheDir, endpoint: hub.url, quiet: true });
      expect(at(r.files, 0, 'r.files').file).toBe(file);
      expect(at(r.files, 0, 'r.files').verified).toBe('sha256');
      expect(sha256(await fs.readFile(r.modelPath))).toBe(sha256(bytes));
      expect(r.missing).toEqual([]);
      expect(r.configPath).toBe(path.join(path.dirname(r.modelPath), 'config.json'));
      const info = await loadModelInfo(r.modelPath);
      expect(info.input.dtype).toBe(dtype);
      expect(info.output).toMatchObject({ kind: 'logits', classes: 8, height: 16, width: 16, dtype });
      expect(info.preprocess.origin).toBe('preprocessor_config');
      expect(info.details.config).toBe(r.configPath);
    }
    // The other variants were never requested when one was asked for.
    expect(hub.requests.filter((q) => q.path.includes('segformer-transformers-js/resolve') && q.path.endsWith('.onnx')).map((q) => q.path.split('/').pop())).toEqual([
      'model.onnx',
      'model_fp16.onnx',
      'model_quantized.onnx',
    ]);
    // From the command line, as the docs show it.
    const cli = await capture(() => main(['acme/segformer-transformers-js', '--variant', 'fp16', '--cache-dir', cacheDir, '--quiet']));
    expect(cli.code).toBe(0);
    expect(cli.stdout).toContain('cached  onnx/model_fp16.onnx');
    expect(cli.stdout).toContain(`model: ${path.join(cacheDir, 'acme--segformer-transformers-js', 'main', 'onnx', 'model_fp16.onnx')}`);
  });

  it('--variant: a missing variant and a bad name are explained', async () => {
    await expect(fetchModel({ repoId: 'acme/segformer-onnx', variant: 'fp16', cacheDir: path.join(dir, 'cache-nofp16'), endpoint: hub.url, quiet: true })).rejects.toThrow(
      /has no fp16 variant \(onnx\/model_fp16.onnx, model_fp16.onnx not found\)/,
    );
    await expect(fetchModel({ repoId: 'acme/segformer-onnx', variant: 'int3', cacheDir: dir })).rejects.toThrow(/--variant "int3": expected one of fp32, fp16, quantized/);
    await expect(fetchModel({ repoId: 'acme/segformer-onnx', variant: 'fp16', files: ['onnx/model.onnx'], cacheDir: dir })).rejects.toThrow(/--variant and --file are alternatives/);
  });

  it('every `model fetch` example in README.md and docs/ works against the repository layout it names', async () => {
    const root = path.resolve(import.meta.dirname, '../..');
    const docs = ['README.md', 'docs/models.md', 'docs/alignment.md'];
    const examples: string[][] = [];
    for (const doc of docs) {
      const text = await fs.readFile(path.join(root, doc), 'utf8');
      for (const m of text.matchAll(/(?:segstream|bin\/segstream\.js) model fetch ([^\s#`]+)((?: --variant \w+)?)/g)) {
        if (/^[\w.-]+\/[\w.-]+$/.test(at(m, 1, 'm'))) examples.push([at(m, 1, 'm'), ...m[2]!.trim().split(/\s+/).filter(Boolean)]);
      }
    }
    expect(examples.length).toBeGreaterThanOrEqual(4);
    const cacheDir = path.join(dir, 'cache-docs');
    for (const [repo, ...args] of examples) {
      const variant = args[0] === '--variant' ? args[1] : undefined;
      expect(repos[repo!], `${repo} is imitated by the fixture`).toBeDefined();
      const r = await fetchModel({ repoId: repo!, ...(variant ? { variant } : {}), cacheDir, endpoint: hub.url, quiet: true });
      expect((await loadModelInfo(r.modelPath)).output.classes).toBe(8);
    }
    // The PyTorch-only repository docs/models.md exports from: fetching it points at the export recipe.
    const models = await fs.readFile(path.join(root, 'docs/models.md'), 'utf8');
    expect(models).toContain('optimum-cli export onnx --model nvidia/segformer-b0-finetuned-ade-512-512');
    await expect(fetchModel({ repoId: 'nvidia/segformer-b0-finetuned-ade-512-512', cacheDir, endpoint: hub.url, quiet: true })).rejects.toThrow(
      /has no ONNX export .*docs\/models.md: optimum-cli export onnx, or torch.onnx.export/,
    );
  });

  it('resumes an interrupted download with an HTTP Range request', async () => {
    const cacheDir = path.join(dir, 'cache3');
    hub.dropAfter = 100_000;
    await expect(fetchModel({ repoId: 'acme/segformer-onnx', cacheDir, endpoint: hub.url, quiet: true })).rejects.toThrow(/partial file is kept - run the same command again to resume/);
    const part = path.join(cacheDir, 'acme--segformer-onnx', 'main', 'onnx', 'model.onnx.part');
    const kept = (await fs.stat(part)).size;
    expect(kept).toBeGreaterThanOrEqual(100_000);
    expect(kept).toBeLessThan(onnx.length);
    const r = await fetchModel({ repoId: 'acme/segformer-onnx', cacheDir, endpoint: hub.url, quiet: true });
    const model = r.files.find((f) => f.file === 'onnx/model.onnx')!;
    expect(model.resumedFrom).toBe(kept);
    expect(model.sha256).toBe(sha256(onnx));
    expect(hub.requests.some((q) => q.range === `bytes=${kept}-`)).toBe(true);
    await expect(fs.stat(part)).rejects.toThrow();
  });

  it('rejects a corrupted download and removes it', async () => {
    const cacheDir = path.join(dir, 'cache4');
    hub.corruptNext = true;
    await expect(fetchModel({ repoId: 'acme/segformer-onnx', cacheDir, endpoint: hub.url, quiet: true })).rejects.toThrow(/sha256 mismatch/);
    const target = path.join(cacheDir, 'acme--segformer-onnx', 'main', 'onnx', 'model.onnx');
    await expect(fs.stat(target)).rejects.toThrow();
    await expect(fs.stat(`${target}.part`)).rejects.toThrow();
  });

  it('says what to do when the hub cannot be reached', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const err = await fetchModel({ repoId: 'acme/segformer-onnx', cacheDir: path.join(dir, 'cache5'), endpoint: `http://127.0.0.1:${port}`, quiet: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OfflineError);
    const msg = (err as Error).message;
    expect(msg).toContain('ECONNREFUSED');
    expect(msg).toContain('looks offline');
    expect(msg).toContain('--offline');
    expect(msg).toContain('docs/alignment.md');
    expect(msg).toContain('SEGSTREAM_HF_ENDPOINT');
    const offline = await fetchModel({ repoId: 'acme/segformer-onnx', cacheDir: path.join(dir, 'cache6'), offline: true, quiet: true }).catch((e: unknown) => e);
    expect((offline as Error).message).toMatch(/--offline: no ONNX model .* is in the cache/);
  });

  it('explains a repository without an ONNX export, and rejects bad ids and paths', async () => {
    await expect(fetchModel({ repoId: 'acme/pytorch-only', cacheDir: path.join(dir, 'cache7'), quiet: true })).rejects.toThrow(/has no ONNX export .*docs\/alignment.md/);
    await expect(fetchModel({ repoId: '../etc/passwd', cacheDir: dir })).rejects.toThrow(/not a Hugging Face model id/);
    await expect(fetchModel({ repoId: 'acme/x', files: ['../../secret'], cacheDir: dir })).rejects.toThrow(/not a relative path inside the repository/);
  });

  it('uses SEGSTREAM_HF_ENDPOINT and prints JSON from the command line', async () => {
    const before = hub.requests.length;
    const r = await capture(() => main(['acme/root-onnx', '--cache-dir', path.join(dir, 'cache8'), '--json', '--quiet']));
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.files[0].sha256).toBe(sha256(onnx));
    expect(hub.requests.length).toBeGreaterThan(before);
    const usage = await capture(() => main([]));
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('expected one Hugging Face model id');
  });
});
