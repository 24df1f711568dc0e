/**
 * `segstream model fetch <hf-id>`: downloads an ONNX export and its config files from the Hugging Face hub
 * (URL layout <endpoint>/<id>/resolve/<revision>/<file>) into a cache directory, with resume (HTTP Range on
 * a kept .part file), sha256 verification (against the hub's ETag: sha256 for LFS files, git blob sha1 for
 * small files), a progress bar, and an offline error that says what to do instead.
 */
import { createHash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeFileAtomic } from '../../util/atomic-write.ts';
import { Progress } from '../../util/progress.ts';
import { EXIT_OK, optionalString, parseCommandArgs, parseNumber, printJson, runCommand, UsageError } from '../../cli/args.ts';

export const DEFAULT_ENDPOINT = 'https://huggingface.co';
/** Tried in order when no --file is given: Optimum / transformers.js layout first, then the repo root. */
export const ONNX_CANDIDATES = ['onnx/model.onnx', 'model.onnx'];

/**
 * The model variants of a repository converted for transformers.js: `onnx/model<suffix>.onnx` (config.json and
 * preprocessor_config.json stay at the root). `fp32` is the plain export; `quantized` is ONNX Runtime's dynamic
 * int8 quantisation (MatMulInteger/ConvInteger), `fp16` a float16 conversion (float16 input and logits).
 */
export const VARIANTS: Record<string, string> = {
  fp32: '',
  fp16: '_fp16',
  quantized: '_quantized',
  int8: '_int8',
  uint8: '_uint8',
  q4: '_q4',
  q4f16: '_q4f16',
  bnb4: '_bnb4',
};

/** The files tried, in order, for a variant. */
export function variantCandidates(variant: string): string[] {
  const suffix = VARIANTS[variant];
  if (suffix === undefined) {
    throw new UsageError(`--variant ${JSON.stringify(variant)}: expected one of ${Object.keys(VARIANTS).join(', ')} (onnx/model.onnx, onnx/model_fp16.onnx, onnx/model_quantized.onnx, ... as transformers.js names them)`);
  }
  return suffix === '' ? ONNX_CANDIDATES : [`onnx/model${suffix}.onnx`, `model${suffix}.onnx`];
}
export const SIDE_FILES = ['config.json', 'preprocessor_config.json'];
export const FETCH_MANIFEST = 'segstream-fetch.json';

export const HELP = `usage: segstream model fetch <hf-id> [options]

Downloads an ONNX export (onnx/model.onnx or model.onnx) plus config.json and preprocessor_config.json
from the Hugging Face hub into a cache directory. Interrupted downloads resume (HTTP Range); every file is
checked against the hub's checksum (sha256 for LFS files); files already in the cache are not fetched again.
Repositories converted for transformers.js (e.g. Xenova/segformer-b0-finetuned-ade-512-512) hold several
variants in onnx/: pick one with --variant. If the repository holds only PyTorch weights, export them first
(docs/models.md).

options:
  --variant <v>        fp32 (default: onnx/model.onnx, else model.onnx), fp16 (onnx/model_fp16.onnx),
                       quantized (onnx/model_quantized.onnx: dynamic int8), int8, uint8, q4, q4f16, bnb4
  --revision <rev>     branch, tag or commit (default main)
  --file <path>        fetch this file instead of the defaults (repeatable)
  --cache-dir <dir>    cache directory (default $SEGSTREAM_CACHE or ~/.cache/segstream/hub)
  --endpoint <url>     hub base URL (default $SEGSTREAM_HF_ENDPOINT or ${DEFAULT_ENDPOINT})
  --offline            use the cache only; never touch the network
  --timeout <s>        give up when no data arrives for this long (default 60)
  --quiet              no progress output
  --json               machine-readable result on stdout
  -h, --help           this text
Environment: HF_TOKEN is sent as a bearer token (gated or private repositories).

examples:
  segstream model fetch Xenova/segformer-b0-finetuned-ade-512-512
  segstream model fetch acme/segformer --revision v1.0 --cache-dir models/
  segstream model fetch acme/segformer --offline --json
`;

export interface FetchOptions {
  repoId: string;
  revision?: string;
  /** Explicit files (all required); default: the first ONNX candidate that exists + the side files. */
  files?: string[];
  /** A transformers.js variant (VARIANTS); default fp32. Not with `files`. */
  variant?: string;
  cacheDir?: string;
  endpoint?: string;
  offline?: boolean;
  token?: string;
  /** Idle timeout per request, seconds. */
  timeoutSeconds?: number;
  quiet?: boolean;
}

export interface FetchedFile {
  file: string;
  path: string;
  bytes: number;
  sha256: string;
  /** How the content was checked: against the hub's sha256 ETag, its git blob sha1, or not at all. */
  verified: 'sha256' | 'git-sha1' | 'cache' | 'none';
  fromCache: boolean;
  /** Bytes that were already on disk in a .part file when this download resumed. */
  resumedFrom: number;
  url: string;
}

export interface FetchResult {
  repoId: string;
  revision: string;
  commit?: string;
  dir: string;
  files: FetchedFile[];
  /** Optional files the repository does not have. */
  missing: string[];
  modelPath: string;
  configPath?: string;
  preprocessorPath?: string;
}

/** The hub cannot be reached at all (DNS, refused, timeout): the message says what to do instead. */
export class OfflineError extends Error {
  override name = 'OfflineError';
}

class NotFoundError extends Error {}

const REPO_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)?$/;

export function validateRepoId(id: string): void {
  if (!REPO_RE.test(id) || id.includes('..') || id.length > 96) {
    throw new UsageError(`model fetch: ${JSON.stringify(id)} is not a Hugging Face model id (expected owner/name, e.g. nvidia/segformer-b0-finetuned-ade-512-512)`);
  }
}

function validateRepoPath(file: string, what: string): void {
  if (file === '' || file.startsWith('/') || file.split('/').some((s) => s === '..' || s === '.' || s === '') || /[\\\0]/.test(file)) {
    throw new UsageError(`${what}: ${JSON.stringify(file)} is not a relative path inside the repository`);
  }
}

export function defaultCacheDir(): string {
  return process.env.SEGSTREAM_CACHE ? path.join(process.env.SEGSTREAM_CACHE, 'hub') : path.join(os.homedir(), '.cache', 'segstream', 'hub');
}

export function resolveEndpoint(given?: string): string {
  const raw = given ?? process.env.SEGSTREAM_HF_ENDPOINT ?? DEFAULT_ENDPOINT;
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new UsageError(`hub endpoint ${JSON.stringify(raw)} is not a URL${given ? '' : ' (from SEGSTREAM_HF_ENDPOINT)'}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new UsageError(`hub endpoint ${raw}: expected http:// or https://`);
  return raw.replace(/\/+$/, '');
}

export function fileUrl(endpoint: string, repoId: string, revision: string, file: string): string {
  return `${endpoint}/${repoId}/resolve/${encodeURIComponent(revision)}/${file.split('/').map(encodeURIComponent).join('/')}`;
}

function localDir(cacheDir: string, repoId: string, revision: string): string {
  return path.join(cacheDir, repoId.replace('/', '--'), encodeURIComponent(revision));
}

const NETWORK_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED', 'ETIMEDOUT', 'ENETUNREACH', 'EHOSTUNREACH', 'UND_ERR_CONNECT_TIMEOUT', 'ECONNRESET', 'UND_ERR_SOCKET']);

function networkCode(err: unknown): string | undefined {
  let e = err as { code?: string; cause?: unknown; name?: string } | undefined;
  for (let depth = 0; e && depth < 4; depth++) {
    if (e.code && NETWORK_CODES.has(e.code)) return e.code;
    if (e.name === 'TimeoutError' || e.name === 'AbortError') return 'ETIMEDOUT';
    e = e.cause as typeof e;
  }
  return undefined;
}

function offlineMessage(endpoint: string, code: string, o: { repoId: string; cacheDir: string }): string {
  return [
    `cannot reach ${endpoint} (${code}): this machine looks offline, or the hub is blocked here. What you can do:`,
    `  1. on a machine with internet: segstream model fetch ${o.repoId} --cache-dir <dir>; copy <dir> here and run`,
    `     segstream model fetch ${o.repoId} --cache-dir <dir> --offline (or point --model at the .onnx inside it)`,
    `  2. export the ONNX yourself from PyTorch weights (see docs/models.md and docs/alignment.md)`,
    `  3. use a reachable mirror: --endpoint <url> or SEGSTREAM_HF_ENDPOINT=<url>`,
    `  Partial downloads are kept in ${o.cacheDir} and resume on the next attempt.`,
  ].join('\n');
}

async function sha256OfFile(p: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(p)) h.update(chunk as Buffer);
  return h.digest('hex');
}

async function gitBlobSha1(p: string, size: number): Promise<string> {
  const h = createHash('sha1');
  h.update(`blob ${size}\0`);
  for await (const chunk of createReadStream(p)) h.update(chunk as Buffer);
  return h.digest('hex');
}

async function fileSize(p: string): Promise<number | undefined> {
  try {
    return (await fs.stat(p)).size;
  } catch {
    return undefined;
  }
}

interface HubHeaders {
  etag?: string;
  size?: number;
  commit?: string;
}

function cleanEtag(v: string | null): string | undefined {
  if (!v) return undefined;
  return v.replace(/^W\//, '').replace(/"/g, '').trim() || undefined;
}

/** GET with manual redirects so the hub's x-linked-etag / x-repo-commit headers (on the redirect) are kept. */
async function hubGet(url: string, headers: Record<string, string>, timeoutMs: number, signal: AbortSignal): Promise<{ res: Response; hub: HubHeaders; finalUrl: string }> {
  const hub: HubHeaders = {};
  let current = url;
  for (let hop = 0; hop < 6; hop++) {
    // Timeout for the response headers only; the body has its own idle timeout in the caller.
    const connect = new AbortController();
    const timer = setTimeout(() => connect.abort(Object.assign(new Error('connect timeout'), { code: 'ETIMEDOUT' })), timeoutMs);
    let res: Response;
    try {
      res = await fetch(current, { headers, redirect: 'manual', signal: AbortSignal.any([signal, connect.signal]) });
    } finally {
      clearTimeout(timer);
    }
    const linked = cleanEtag(res.headers.get('x-linked-etag'));
    const commit = res.headers.get('x-repo-commit');
    const linkedSize = res.headers.get('x-linked-size');
    if (linked && !hub.etag) hub.etag = linked;
    if (commit && !hub.commit) hub.commit = commit;
    if (linkedSize && hub.size === undefined) hub.size = Number(linkedSize);
    if (res.status >= 300 && res.status < 400 && res.headers.get('location')) {
      current = new URL(res.headers.get('location')!, current).toString();
      await res.body?.cancel();
      // The CDN behind a redirect must not receive the hub token.
      if (new URL(current).host !== new URL(url).host) delete headers.authorization;
      continue;
    }
    if (!hub.etag) hub.etag = cleanEtag(res.headers.get('etag'));
    return { res, hub, finalUrl: current };
  }
  throw new Error(`${url}: too many redirects`);
}

interface DownloadContext {
  endpoint: string;
  repoId: string;
  revision: string;
  dir: string;
  cacheDir: string;
  token?: string;
  timeoutMs: number;
  quiet: boolean;
  offline: boolean;
  cached: Map<string, { sha256: string; bytes: number }>;
}

async function downloadOne(ctx: DownloadContext, file: string, commitOut: { commit?: string }): Promise<FetchedFile> {
  const target = path.join(ctx.dir, file);
  const part = `${target}.part`;
  const url = fileUrl(ctx.endpoint, ctx.repoId, ctx.revision, file);
  const known = ctx.cached.get(file);
  const onDisk = await fileSize(target);
  if (known && onDisk === known.bytes) {
    const sha = await sha256OfFile(target);
    if (sha === known.sha256) return { file, path: target, bytes: known.bytes, sha256: sha, verified: 'cache', fromCache: true, resumedFrom: 0, url };
  }
  if (ctx.offline) {
    throw new OfflineError(`--offline: ${file} of ${ctx.repoId}@${ctx.revision} is not in the cache (${ctx.dir}); run the same command without --offline on a machine with internet, or pass --cache-dir where it was fetched`);
  }
  await fs.mkdir(path.dirname(target), { recursive: true });
  const resumeFrom = (await fileSize(part)) ?? 0;
  const headers: Record<string, string> = { 'user-agent': 'segstream-model-fetch' };
  if (ctx.token) headers.authorization = `Bearer ${ctx.token}`;
  if (resumeFrom > 0) headers.range = `bytes=${resumeFrom}-`;

  const abort = new AbortController();
  let res: Response;
  let hub: HubHeaders;
  try {
    ({ res, hub } = await hubGet(url, headers, ctx.timeoutMs, abort.signal));
  } catch (err) {
    const code = networkCode(err);
    if (code) throw new OfflineError(offlineMessage(ctx.endpoint, code, ctx));
    throw err;
  }
  if (hub.commit) commitOut.commit = hub.commit;
  if (res.status === 404) {
    await res.body?.cancel();
    throw new NotFoundError(`${file} is not in ${ctx.repoId} at revision ${ctx.revision} (HTTP 404 from ${url})`);
  }
  if (res.status === 401 || res.status === 403) {
    await res.body?.cancel();
    throw new Error(`${url}: HTTP ${res.status}: the repository is gated or private; accept its terms on the hub and set HF_TOKEN`);
  }
  let start: number;
  let total: number | undefined;
  if (res.status === 416 && resumeFrom > 0) {
    // The .part already holds everything (or more): check it below as a complete file.
    await res.body?.cancel();
    const m = /\/(\d+)$/.exec(res.headers.get('content-range') ?? '');
    total = m ? Number(m[1]) : hub.size;
    if (total !== resumeFrom) {
      await fs.rm(part, { force: true });
      throw new Error(`${file}: the kept partial download (${resumeFrom} bytes) does not fit the file on the hub${total !== undefined ? ` (${total} bytes)` : ''}; it was removed - run the command again`);
    }
    start = resumeFrom;
  } else if (res.status === 206) {
    const m = /bytes (\d+)-(\d+)\/(\d+|\*)/.exec(res.headers.get('content-range') ?? '');
    if (!m || Number(m[1]) !== resumeFrom) {
      await res.body?.cancel();
      await fs.rm(part, { force: true });
      throw new Error(`${file}: the server answered the resume request with an unexpected range (${res.headers.get('content-range')}); the partial file was removed - run the command again`);
    }
    start = resumeFrom;
    total = m[3] === '*' ? hub.size : Number(m[3]);
  } else if (res.status === 200) {
    start = 0;
    const len = res.headers.get('content-length');
    total = len ? Number(len) : hub.size;
  } else {
    await res.body?.cancel();
    throw new Error(`${url}: HTTP ${res.status} ${res.statusText}`);
  }

  if (res.status !== 416) {
    const handle = await fs.open(part, start > 0 ? 'a' : 'w');
    const progress = total ? new Progress(`fetch ${file}`, Math.max(1, Math.ceil(total / 1048576)), ctx.quiet) : undefined;
    let received = start;
    let ticked = Math.floor(start / 1048576);
    for (let i = 0; i < ticked && progress; i++) progress.tick();
    let idle: NodeJS.Timeout | undefined;
    const armIdle = () => {
      if (idle) clearTimeout(idle);
      idle = setTimeout(() => abort.abort(new Error('idle timeout')), ctx.timeoutMs);
    };
    try {
      armIdle();
      const reader = res.body!.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        await handle.write(value);
        received += value.length;
        armIdle();
        while (progress && Math.floor(received / 1048576) > ticked) {
          ticked++;
          progress.tick();
        }
      }
    } catch (err) {
      await handle.close();
      const code = networkCode(err) ?? ((err as Error).message.includes('idle timeout') ? 'ETIMEDOUT' : undefined);
      throw new Error(`${file}: the download stopped after ${received} of ${total ?? '?'} bytes (${code ?? (err as Error).message}); the partial file is kept - run the same command again to resume`, { cause: err });
    } finally {
      if (idle) clearTimeout(idle);
    }
    await handle.sync();
    await handle.close();
    if (progress && total && ticked < Math.ceil(total / 1048576)) while (ticked++ < Math.ceil(total / 1048576)) progress.tick();
    if (total !== undefined && received !== total) {
      throw new Error(`${file}: the server closed the connection after ${received} of ${total} bytes; the partial file is kept - run the same command again to resume`);
    }
  }

  const bytes = (await fileSize(part)) ?? 0;
  const sha256 = await sha256OfFile(part);
  let verified: FetchedFile['verified'] = 'none';
  const etag = hub.etag?.toLowerCase();
  if (etag && /^[0-9a-f]{64}$/.test(etag)) {
    if (etag !== sha256) {
      await fs.rm(part, { force: true });
      throw new Error(`${file}: sha256 mismatch - the hub says ${etag}, the download is ${sha256}; the corrupt file was removed, run the command again`);
    }
    verified = 'sha256';
  } else if (etag && /^[0-9a-f]{40}$/.test(etag)) {
    const sha1 = await gitBlobSha1(part, bytes);
    if (sha1 !== etag) {
      await fs.rm(part, { force: true });
      throw new Error(`${file}: checksum mismatch - the hub's git blob id is ${etag}, the download hashes to ${sha1}; the corrupt file was removed, run the command again`);
    }
    verified = 'git-sha1';
  }
  await fs.rename(part, target);
  return { file, path: target, bytes, sha256, verified, fromCache: false, resumedFrom: start, url };
}

interface ManifestFile {
  repoId: string;
  revision: string;
  commit?: string;
  endpoint: string;
  fetchedAt: string;
  files: { file: string; bytes: number; sha256: string; verified: string }[];
  missing: string[];
}

async function readManifest(dir: string): Promise<ManifestFile | undefined> {
  try {
    return JSON.parse(await fs.readFile(path.join(dir, FETCH_MANIFEST), 'utf8')) as ManifestFile;
  } catch {
    return undefined;
  }
}

export async function fetchModel(o: FetchOptions): Promise<FetchResult> {
  validateRepoId(o.repoId);
  const revision = o.revision ?? 'main';
  if (!/^[A-Za-z0-9][\w.\-/]*$/.test(revision) || revision.includes('..')) throw new UsageError(`--revision ${JSON.stringify(revision)}: expected a branch, tag or commit hash`);
  for (const f of o.files ?? []) validateRepoPath(f, '--file');
  if (o.variant !== undefined && o.files && o.files.length > 0) throw new UsageError('--variant and --file are alternatives: --file names the exact files');
  const candidates = variantCandidates(o.variant ?? 'fp32');
  const endpoint = resolveEndpoint(o.endpoint);
  const cacheDir = path.resolve(o.cacheDir ?? defaultCacheDir());
  const dir = localDir(cacheDir, o.repoId, revision);
  const manifest = await readManifest(dir);
  const cached = new Map((manifest?.files ?? []).map((f) => [f.file, { sha256: f.sha256, bytes: f.bytes }]));
  const timeoutSeconds = o.timeoutSeconds ?? 60;
  const ctx: DownloadContext = {
    endpoint,
    repoId: o.repoId,
    revision,
    dir,
    cacheDir,
    ...(o.token ?? process.env.HF_TOKEN ? { token: o.token ?? process.env.HF_TOKEN } : {}),
    timeoutMs: timeoutSeconds * 1000,
    quiet: o.quiet ?? false,
    offline: o.offline ?? false,
    cached,
  };
  const commit: { commit?: string } = manifest?.commit ? { commit: manifest.commit } : {};
  const files: FetchedFile[] = [];
  const missing: string[] = [];
  let modelPath: string | undefined;

  if (o.files && o.files.length > 0) {
    for (const f of o.files) {
      try {
        files.push(await downloadOne(ctx, f, commit));
      } catch (err) {
        if (err instanceof NotFoundError) throw new UsageError(err.message);
        throw err;
      }
    }
    modelPath = files.find((f) => f.file.endsWith('.onnx'))?.path;
  } else {
    // Prefer what the cache already holds, then try the candidates in order.
    const order = [...candidates].sort((a, b) => Number(cached.has(b)) - Number(cached.has(a)));
    for (const candidate of order) {
      try {
        const got = await downloadOne(ctx, candidate, commit);
        files.push(got);
        modelPath = got.path;
        break;
      } catch (err) {
        if (err instanceof NotFoundError) continue;
        if (err instanceof OfflineError && ctx.offline) continue;
        throw err;
      }
    }
    if (!modelPath) {
      if (ctx.offline) throw new OfflineError(`--offline: no ONNX model of ${o.repoId}@${revision} is in the cache (${dir}); fetch it once with internet, or pass --cache-dir where it was fetched`);
      if (o.variant !== undefined && o.variant !== 'fp32') {
        throw new UsageError(
          `${o.repoId}@${revision} has no ${o.variant} variant (${candidates.join(', ')} not found). Repositories converted for transformers.js usually hold onnx/model.onnx (--variant fp32), onnx/model_fp16.onnx (fp16) and onnx/model_quantized.onnx (quantized); name another file with --file <path>`,
        );
      }
      throw new UsageError(
        `${o.repoId}@${revision} has no ONNX export (${candidates.join(', ')} not found). Export it from the PyTorch weights (docs/models.md: optimum-cli export onnx, or torch.onnx.export; one line in docs/alignment.md), or name the file with --file <path>`,
      );
    }
    for (const side of SIDE_FILES) {
      try {
        files.push(await downloadOne(ctx, side, commit));
      } catch (err) {
        if (err instanceof NotFoundError || (err instanceof OfflineError && ctx.offline)) missing.push(side);
        else throw err;
      }
    }
    // Side files sit next to the model so loadModelInfo finds them; copy when the model is in a subfolder.
    const modelDir = path.dirname(modelPath);
    if (modelDir !== dir) {
      for (const f of files.filter((x) => SIDE_FILES.includes(x.file))) {
        const next = path.join(modelDir, f.file);
        if ((await fileSize(next)) !== f.bytes) await fs.copyFile(f.path, next);
      }
    }
  }

  if (!ctx.offline || !manifest) {
    const merged = new Map((manifest?.files ?? []).map((f) => [f.file, f]));
    for (const f of files) merged.set(f.file, { file: f.file, bytes: f.bytes, sha256: f.sha256, verified: f.verified === 'cache' ? merged.get(f.file)?.verified ?? 'cache' : f.verified });
    const m: ManifestFile = {
      repoId: o.repoId,
      revision,
      ...(commit.commit ? { commit: commit.commit } : {}),
      endpoint,
      fetchedAt: new Date().toISOString(),
      files: [...merged.values()],
      missing,
    };
    await writeFileAtomic(path.join(dir, FETCH_MANIFEST), `${JSON.stringify(m, null, 2)}\n`);
  }
  const byName = (n: string) => {
    const f = files.find((x) => x.file === n);
    return f ? path.join(path.dirname(modelPath!), n) : undefined;
  };
  const configPath = byName('config.json');
  const preprocessorPath = byName('preprocessor_config.json');
  return {
    repoId: o.repoId,
    revision,
    ...(commit.commit ? { commit: commit.commit } : {}),
    dir,
    files,
    missing,
    modelPath: modelPath ?? files[0]?.path ?? dir,
    ...(configPath ? { configPath } : {}),
    ...(preprocessorPath ? { preprocessorPath } : {}),
  };
}

export async function main(argv: string[]): Promise<number> {
  return runCommand('model fetch', async () => {
    const { values, positionals } = parseCommandArgs(
      'model fetch',
      argv,
      {
        revision: { type: 'string' },
        variant: { type: 'string' },
        file: { type: 'string', multiple: true },
        'cache-dir': { type: 'string' },
        endpoint: { type: 'string' },
        offline: { type: 'boolean' },
        timeout: { type: 'string' },
        quiet: { type: 'boolean' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      true,
    );
    if (values.help) {
      process.stdout.write(HELP);
      return EXIT_OK;
    }
    const [repoId] = positionals;
    if (positionals.length !== 1 || repoId === undefined) throw new UsageError(`expected one Hugging Face model id, got ${positionals.length === 0 ? 'none' : positionals.join(' ')}`);
    const revision = optionalString(values, 'revision');
    const cacheDir = optionalString(values, 'cache-dir');
    const endpoint = optionalString(values, 'endpoint');
    const timeout = parseNumber('timeout', optionalString(values, 'timeout'), { min: 1, max: 3600 });
    const files = values.file as string[] | undefined;
    const variant = optionalString(values, 'variant');
    const r = await fetchModel({
      repoId,
      ...(revision ? { revision } : {}),
      ...(variant ? { variant } : {}),
      ...(files ? { files } : {}),
      ...(cacheDir ? { cacheDir } : {}),
      ...(endpoint ? { endpoint } : {}),
      offline: values.offline === true,
      ...(timeout ? { timeoutSeconds: timeout } : {}),
      quiet: values.quiet === true,
    });
    if (values.json) printJson(r);
    else {
      for (const f of r.files) process.stdout.write(`${f.fromCache ? 'cached ' : 'fetched'} ${f.file} ${f.bytes} bytes sha256 ${f.sha256} (${f.verified === 'none' ? 'no checksum from the hub' : `verified: ${f.verified}`}${f.resumedFrom ? `, resumed at ${f.resumedFrom}` : ''})\n`);
      for (const m of r.missing) process.stdout.write(`missing ${m} (not in the repository; defaults will be used)\n`);
      process.stdout.write(`model: ${r.modelPath}\n`);
    }
    return EXIT_OK;
  });
}
