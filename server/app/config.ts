/**
 * The server's configuration: one JSON or YAML file, validated as a whole before anything is applied (an invalid
 * config never half-applies). Every error names the field and says what was expected and what was found.
 * Command-line flags are applied on top of the file by the CLI.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { buildLaunch, SOURCE_KINDS, type SourceSpec } from '../../pipelines/index.ts';
import { PipelineSpecError } from '../../pipelines/common.ts';
import { MAX_SMOOTHING_WINDOW, POSTPROCESS_MODES, type PostprocessMode } from '../protocol/index.ts';
import { parseColorOverride } from '../stages/source/colorimetry.ts';
import { InputError } from '../util/errors.ts';
import { expectedGot, integerRange, oneOfText } from '../util/validate.ts';

export interface ModelEntry {
  backend: 'onnx' | 'bpu';
  /** ONNX file, or BPU .bin files; the name `demo` with no path means the generated demo model. */
  files: string[];
  config?: string;
  preprocessor?: string;
  /** For BPU packs: which model inside. */
  modelName?: string;
  demo?: { size: number; classes: number; variant: 'b0' | 'tiny' };
}

export interface SourceEntry {
  spec: SourceSpec;
  /** "bt601-full" etc.: overrides the colorimetry the caps report. */
  color?: string;
  loop: boolean;
}

export interface Config {
  server: {
    host: string;
    port: number;
    controlToken: string | null;
    allowedOrigins: string[];
    maxClients: number;
    /** A client whose socket has not drained for this long is disconnected. */
    clientStallMs: number;
    /** Largest WebSocket message accepted from a client, bytes. */
    maxClientMessageBytes: number;
    /** Host names/addresses (besides loopback and the bind address) requests may name; `.domain` for a domain, `*` for any. */
    allowedHosts: string[];
    /** Viewers one peer address may have at once. */
    maxClientsPerAddress: number;
    /** Open TCP connections in all, and from one peer address. */
    maxConnections: number;
    maxConnectionsPerAddress: number;
    /** A request head must arrive within this; an idle HTTP connection is closed after idleTimeoutMs. */
    headersTimeoutMs: number;
    idleTimeoutMs: number;
    /** Bytes that may wait in one viewer's send buffer. */
    clientBufferBytes: number;
  };
  stream: {
    jpegQuality: number;
    postprocess: PostprocessMode;
    overlay: 'client' | 'server';
    opacity: number;
    maxMapWidth: number;
    /** Temporal smoothing window applied on the server (frames; 0 = off). */
    smoothing: number;
  };
  inference: {
    threads: number;
    /**
     * ONNX Runtime's CPU memory arena: faster allocation, but it keeps the peak of every size class it ever served
     * (docs/performance.md, "Footprint"). Off trades some speed for a much smaller resident size.
     */
    memoryArena: boolean;
  };
  /** noOutputMs: /healthz is 503 when no frame reached the viewers for this long; inferenceFailures: consecutive failed frames that make the status backend-error. */
  watchdog: { noFrameMs: number; maxBackoffMs: number; noOutputMs: number; inferenceFailures: number };
  sources: Record<string, SourceEntry>;
  models: Record<string, ModelEntry>;
  defaultSource: string;
  defaultModel: string;
  /** Where generated files (the demo model) are cached. */
  cacheDir: string;
}

/** A config field that cannot be used: names the file, the field, what was expected and what was found. */
export class ConfigError extends InputError {
  override name = 'ConfigError';
  constructor(
    readonly file: string,
    readonly field: string,
    /** The message without the file and field, e.g. `expected an integer from 0 to 65535, got "eighty"`. */
    readonly detail: string,
  ) {
    super(`${file}: ${field}: ${detail}`);
  }
}

const SOURCE_FIELDS: Record<SourceSpec['kind'], string[]> = {
  test: ['pattern', 'framerate', 'live', 'speed'],
  file: ['path', 'loop', 'framerate', 'realtime'],
  usb: ['device', 'captureWidth', 'captureHeight', 'framerate', 'format'],
  'x5-mipi': ['device', 'colorimetry', 'modelChannel'],
  rtsp: ['url', 'latencyMs', 'tcp'],
};

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export function defaultConfig(cwd = process.cwd()): Config {
  return {
    server: {
      host: '127.0.0.1',
      port: 8080,
      controlToken: null,
      allowedOrigins: [],
      maxClients: 16,
      clientStallMs: 10_000,
      maxClientMessageBytes: 4096,
      allowedHosts: [],
      maxClientsPerAddress: 8,
      maxConnections: 512,
      maxConnectionsPerAddress: 64,
      headersTimeoutMs: 10_000,
      idleTimeoutMs: 30_000,
      clientBufferBytes: 4 * 1024 * 1024,
    },
    stream: { jpegQuality: 80, postprocess: 'boundary', overlay: 'client', opacity: 0.5, maxMapWidth: 0, smoothing: 0 },
    inference: { threads: 0, memoryArena: true },
    watchdog: { noFrameMs: 5000, maxBackoffMs: 30_000, noOutputMs: 15_000, inferenceFailures: 5 },
    sources: {
      test: { spec: { kind: 'test', width: 1280, height: 720, framerate: 30, pattern: 'smpte', live: true }, loop: false },
    },
    models: {
      demo: { backend: 'onnx', files: [], demo: { size: 512, classes: 150, variant: 'b0' } },
    },
    defaultSource: 'test',
    defaultModel: 'demo',
    cacheDir: path.join(cwd, '.cache'),
  };
}

/** Reads and validates a config file; returns the full config (defaults filled in). */
export async function loadConfigFile(file: string, cwd = process.cwd()): Promise<Config> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, '(file)', `cannot read the config file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = /\.ya?ml$/i.test(file) ? YAML.parse(text) : JSON.parse(text);
  } catch (err) {
    throw new ConfigError(file, '(syntax)', `not valid ${/\.ya?ml$/i.test(file) ? 'YAML' : 'JSON'}: ${(err as Error).message}`);
  }
  return validateConfig(raw, file, path.dirname(path.resolve(cwd, file)), cwd);
}

/** Validates a parsed config object. Relative paths resolve against `baseDir` (the config file's folder). */
export function validateConfig(raw: unknown, file: string, baseDir: string, cwd = process.cwd()): Config {
  const v = new Validator(file);
  const cfg = defaultConfig(cwd);
  const root = v.object(raw, '');
  v.onlyKeys(root, '', ['server', 'stream', 'inference', 'watchdog', 'sources', 'models', 'defaultSource', 'defaultModel', 'cacheDir']);

  if (root.server !== undefined) {
    const s = v.object(root.server, 'server');
    v.onlyKeys(s, 'server', ['host', 'port', 'controlToken', 'allowedOrigins', 'maxClients', 'clientStallMs', 'maxClientMessageBytes', ...NEW_SERVER_KEYS]);
    if (s.host !== undefined) cfg.server.host = v.string(s.host, 'server.host', /^[A-Za-z0-9.:[\]-]+$/, 'a host name or IP address');
    if (s.port !== undefined) cfg.server.port = v.int(s.port, 'server.port', 0, 65535);
    if (s.controlToken !== undefined) {
      cfg.server.controlToken = s.controlToken === null ? null : v.secret(s.controlToken, 'server.controlToken', 16, 256);
    }
    if (s.allowedOrigins !== undefined) {
      cfg.server.allowedOrigins = v.array(s.allowedOrigins, 'server.allowedOrigins').map((o, i) => v.string(o, `server.allowedOrigins[${i}]`, /^https?:\/\/[^\s/]+$/, 'an origin like http://kiosk.local:8080'));
    }
    if (s.maxClients !== undefined) cfg.server.maxClients = v.int(s.maxClients, 'server.maxClients', 1, 1000);
    if (s.clientStallMs !== undefined) cfg.server.clientStallMs = v.int(s.clientStallMs, 'server.clientStallMs', 500, 600_000);
    if (s.maxClientMessageBytes !== undefined) cfg.server.maxClientMessageBytes = v.int(s.maxClientMessageBytes, 'server.maxClientMessageBytes', 256, 1 << 20);
    parseLimits(v, s, cfg);
  }
  if (root.stream !== undefined) {
    const s = v.object(root.stream, 'stream');
    v.onlyKeys(s, 'stream', ['jpegQuality', 'postprocess', 'overlay', 'opacity', 'maxMapWidth', 'smoothing']);
    if (s.jpegQuality !== undefined) cfg.stream.jpegQuality = v.int(s.jpegQuality, 'stream.jpegQuality', 1, 100);
    if (s.postprocess !== undefined) cfg.stream.postprocess = v.oneOf(s.postprocess, 'stream.postprocess', POSTPROCESS_MODES);
    if (s.overlay !== undefined) cfg.stream.overlay = v.oneOf(s.overlay, 'stream.overlay', ['client', 'server'] as const);
    if (s.opacity !== undefined) cfg.stream.opacity = v.number(s.opacity, 'stream.opacity', 0, 1);
    if (s.maxMapWidth !== undefined) cfg.stream.maxMapWidth = v.int(s.maxMapWidth, 'stream.maxMapWidth', 0, 7680);
    if (s.smoothing !== undefined) cfg.stream.smoothing = v.int(s.smoothing, 'stream.smoothing', 0, MAX_SMOOTHING_WINDOW);
  }
  if (root.inference !== undefined) {
    const s = v.object(root.inference, 'inference');
    v.onlyKeys(s, 'inference', ['threads', 'memoryArena']);
    if (s.threads !== undefined) cfg.inference.threads = v.int(s.threads, 'inference.threads', 0, 256);
    if (s.memoryArena !== undefined) cfg.inference.memoryArena = v.bool(s.memoryArena, 'inference.memoryArena');
  }
  if (root.watchdog !== undefined) {
    const s = v.object(root.watchdog, 'watchdog');
    v.onlyKeys(s, 'watchdog', ['noFrameMs', 'maxBackoffMs', 'noOutputMs', 'inferenceFailures']);
    if (s.noFrameMs !== undefined) cfg.watchdog.noFrameMs = v.int(s.noFrameMs, 'watchdog.noFrameMs', 200, 600_000);
    if (s.maxBackoffMs !== undefined) cfg.watchdog.maxBackoffMs = v.int(s.maxBackoffMs, 'watchdog.maxBackoffMs', 100, 600_000);
    if (s.noOutputMs !== undefined) cfg.watchdog.noOutputMs = v.int(s.noOutputMs, 'watchdog.noOutputMs', 1000, 3_600_000);
    if (s.inferenceFailures !== undefined) cfg.watchdog.inferenceFailures = v.int(s.inferenceFailures, 'watchdog.inferenceFailures', 1, 1000);
  }
  if (root.sources !== undefined) {
    const sources = v.object(root.sources, 'sources');
    for (const [name, value] of Object.entries(sources)) {
      v.name(name, `sources.${name}`);
      cfg.sources[name] = parseSource(v, name, value, baseDir);
    }
  }
  if (root.models !== undefined) {
    const models = v.object(root.models, 'models');
    for (const [name, value] of Object.entries(models)) {
      v.name(name, `models.${name}`);
      cfg.models[name] = parseModel(v, name, value, baseDir);
    }
  }
  if (root.defaultSource !== undefined) cfg.defaultSource = v.oneOf(root.defaultSource, 'defaultSource', Object.keys(cfg.sources));
  if (root.defaultModel !== undefined) cfg.defaultModel = v.oneOf(root.defaultModel, 'defaultModel', Object.keys(cfg.models));
  if (root.cacheDir !== undefined) cfg.cacheDir = path.resolve(baseDir, v.string(root.cacheDir, 'cacheDir', /^.+$/, 'a directory path'));
  return cfg;
}

/** server.* limits for hostile clients (issue 18): allowed hosts, connection and viewer limits, timeouts, buffers. */
const NEW_SERVER_KEYS = ['allowedHosts', 'maxClientsPerAddress', 'maxConnections', 'maxConnectionsPerAddress', 'headersTimeoutMs', 'idleTimeoutMs', 'clientBufferBytes'];

function parseLimits(v: Validator, s: Record<string, unknown>, cfg: Config): void {
  if (s.allowedHosts !== undefined) {
    cfg.server.allowedHosts = v.array(s.allowedHosts, 'server.allowedHosts').map((h, i) => v.string(h, `server.allowedHosts[${i}]`, /^(\*|\.?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.?|\[?[0-9A-Fa-f:.]+\]?)$/, 'a host name, an IP address, ".domain" or "*"'));
  }
  if (s.maxClientsPerAddress !== undefined) cfg.server.maxClientsPerAddress = v.int(s.maxClientsPerAddress, 'server.maxClientsPerAddress', 1, 1000);
  if (s.maxConnections !== undefined) cfg.server.maxConnections = v.int(s.maxConnections, 'server.maxConnections', 8, 100_000);
  if (s.maxConnectionsPerAddress !== undefined) cfg.server.maxConnectionsPerAddress = v.int(s.maxConnectionsPerAddress, 'server.maxConnectionsPerAddress', 2, 100_000);
  if (s.headersTimeoutMs !== undefined) cfg.server.headersTimeoutMs = v.int(s.headersTimeoutMs, 'server.headersTimeoutMs', 500, 300_000);
  if (s.idleTimeoutMs !== undefined) cfg.server.idleTimeoutMs = v.int(s.idleTimeoutMs, 'server.idleTimeoutMs', 1000, 3_600_000);
  if (s.clientBufferBytes !== undefined) cfg.server.clientBufferBytes = v.int(s.clientBufferBytes, 'server.clientBufferBytes', 64 * 1024, 256 * 1024 * 1024);
}

function parseSource(v: Validator, name: string, value: unknown, baseDir: string): SourceEntry {
  const field = `sources.${name}`;
  const o = v.object(value, field);
  const kind = v.oneOf(o.kind, `${field}.kind`, SOURCE_KINDS);
  v.onlyKeys(o, field, ['kind', 'width', 'height', 'color', ...SOURCE_FIELDS[kind]]);
  const { color, loop, ...rest } = o as Record<string, unknown> & { color?: unknown; loop?: unknown };
  const spec = { ...rest, kind } as Record<string, unknown>;
  spec.width = v.int(o.width ?? 1280, `${field}.width`, 16, 7680);
  spec.height = v.int(o.height ?? 720, `${field}.height`, 16, 7680);
  if (kind === 'file') spec.path = path.resolve(baseDir, v.string(o.path, `${field}.path`, /^.+$/, 'a file path'));
  const entry: SourceEntry = { spec: spec as unknown as SourceSpec, loop: kind === 'file' ? (loop === undefined ? true : v.bool(loop, `${field}.loop`)) : false };
  if (kind === 'file') (entry.spec as { loop?: boolean }).loop = entry.loop;
  if (color !== undefined) {
    const c = v.string(color, `${field}.color`, /^(bt601|bt709)-(full|limited)$/, 'bt601-full, bt601-limited, bt709-full or bt709-limited');
    if (parseColorOverride(c)) entry.color = c;
  }
  try {
    buildLaunch(name, entry.spec); // the pipeline module checks every kind-specific field
  } catch (err) {
    if (err instanceof PipelineSpecError) {
      // Name the field inside the source: `sources.cam.device: expected ...`.
      throw new ConfigError(v.file, `${field}.${err.field}`, err.message.slice(`source "${err.source}": ${err.field}: `.length));
    }
    throw new ConfigError(v.file, field, (err as Error).message);
  }
  return entry;
}

function parseModel(v: Validator, name: string, value: unknown, baseDir: string): ModelEntry {
  const field = `models.${name}`;
  const o = v.object(value, field);
  v.onlyKeys(o, field, ['backend', 'path', 'files', 'config', 'preprocessor', 'modelName', 'demo']);
  const backend = o.backend === undefined ? 'onnx' : v.oneOf(o.backend, `${field}.backend`, ['onnx', 'bpu'] as const);
  const entry: ModelEntry = { backend, files: [] };
  if (o.demo !== undefined) {
    const d = v.object(o.demo, `${field}.demo`);
    v.onlyKeys(d, `${field}.demo`, ['size', 'classes', 'variant']);
    entry.demo = {
      size: d.size === undefined ? 512 : v.int(d.size, `${field}.demo.size`, 32, 2048),
      classes: d.classes === undefined ? 150 : v.int(d.classes, `${field}.demo.classes`, 2, 1000),
      variant: d.variant === undefined ? 'b0' : v.oneOf(d.variant, `${field}.demo.variant`, ['b0', 'tiny'] as const),
    };
    if (entry.demo.size % 32 !== 0) throw new ConfigError(v.file, `${field}.demo.size`, `expected a multiple of 32, got ${entry.demo.size}`);
    return entry;
  }
  if (o.path !== undefined) entry.files = [path.resolve(baseDir, v.string(o.path, `${field}.path`, /^.+$/, 'a model file path'))];
  if (o.files !== undefined) entry.files = v.array(o.files, `${field}.files`).map((f, i) => path.resolve(baseDir, v.string(f, `${field}.files[${i}]`, /^.+$/, 'a model file path')));
  if (entry.files.length === 0) throw new ConfigError(v.file, `${field}.path`, 'expected the model file path (or `demo: {}` for the generated demo model)');
  if (o.config !== undefined) entry.config = path.resolve(baseDir, v.string(o.config, `${field}.config`, /^.+$/, 'a config.json path'));
  if (o.preprocessor !== undefined) entry.preprocessor = path.resolve(baseDir, v.string(o.preprocessor, `${field}.preprocessor`, /^.+$/, 'a preprocessor_config.json path'));
  if (o.modelName !== undefined) entry.modelName = v.string(o.modelName, `${field}.modelName`, /^.+$/, 'a model name');
  return entry;
}

class Validator {
  constructor(readonly file: string) {}

  private fail(field: string, expected: string, got: unknown): never {
    throw new ConfigError(this.file, field || '(top level)', expectedGot(expected, got));
  }

  object(value: unknown, field: string): Record<string, unknown> {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) this.fail(field, 'an object', value);
    return value as Record<string, unknown>;
  }

  array(value: unknown, field: string): unknown[] {
    if (!Array.isArray(value)) this.fail(field, 'a list', value);
    return value;
  }

  onlyKeys(o: Record<string, unknown>, field: string, keys: string[]): void {
    for (const k of Object.keys(o)) {
      if (!keys.includes(k)) throw new ConfigError(this.file, field ? `${field}.${k}` : k, `unknown field; expected one of ${keys.join(', ')}`);
    }
  }

  string(value: unknown, field: string, re: RegExp, expected: string): string {
    if (typeof value !== 'string' || !re.test(value)) this.fail(field, expected, value);
    return value;
  }

  /** A secret (the control token): its length is reported, never its text. */
  secret(value: unknown, field: string, min: number, max: number): string {
    if (typeof value !== 'string') this.fail(field, `a string of at least ${min} characters`, value);
    if (value.length < min) throw new ConfigError(this.file, field, `expected a string of at least ${min} characters, got ${value.length} characters`);
    if (value.length > max) throw new ConfigError(this.file, field, `expected a string of at most ${max} characters, got ${value.length} characters`);
    return value;
  }

  name(value: string, field: string): void {
    if (!NAME_RE.test(value)) this.fail(field, 'a name of letters, digits, _ . - (up to 64 characters)', value);
  }

  int(value: unknown, field: string, min: number, max: number): number {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) this.fail(field, integerRange(min, max), value);
    return value;
  }

  number(value: unknown, field: string, min: number, max: number): number {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) this.fail(field, `a number from ${min} to ${max}`, value);
    return value;
  }

  bool(value: unknown, field: string): boolean {
    if (typeof value !== 'boolean') this.fail(field, 'true or false', value);
    return value;
  }

  oneOf<T extends string>(value: unknown, field: string, options: readonly T[]): T {
    if (typeof value !== 'string' || !options.includes(value as T)) this.fail(field, oneOfText(options), value);
    return value as T;
  }
}
