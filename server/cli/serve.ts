import path from 'node:path';
import { parseArgs } from 'node:util';
import { SegStreamApp } from '../app/app.ts';
import { POSTPROCESS_MODES, type PostprocessMode } from '../protocol/index.ts';
import { ConfigError, defaultConfig, loadConfigFile, validateConfig, type Config } from '../app/config.ts';

export const SERVE_HELP = `usage: segstream serve [options]

Runs the live stream: GStreamer source -> model -> overlay -> WebSocket -> viewer at http://HOST:PORT/.
With no options: the moving test pattern at 1280x720 through the generated SegFormer-B0-shaped demo model
(untrained: its masks are meaningless, its speed is real).

Source (one of):
  --source NAME          a source from the config (built in: test)
  --file PATH            a video file, an image, or an image sequence (frames/%05d.png); loops
  --usb DEVICE           a USB camera, e.g. /dev/video0 (MJPEG)
  --x5-mipi DEVICE       an RDK X5 MIPI camera V4L2 node, e.g. /dev/video8
  --rtsp URL             a network camera
  --size WxH             frame size delivered by the source (default 1280x720)
  --fps N                frame rate asked of the source (default 30)
  --color MODEL          override the colorimetry: bt601-full, bt601-limited, bt709-full, bt709-limited
Model:
  --model NAME|PATH      a model from the config (built in: demo), or an .onnx file (config.json and
                         preprocessor_config.json beside it are read), or BPU .bin file(s) with --backend bpu
  --backend onnx|bpu     for a model given by path (default onnx)
  --threads N            ONNX Runtime intra-op threads (default: runtime default)
  --postprocess MODE     boundary (default; boundary-exact), exact (reference), lowres (fast)
Server:
  --config FILE          JSON or YAML config (sources, models, server, stream, watchdog)
  --port N               default 8080
  --host ADDR            default 127.0.0.1 (use 0.0.0.0 to serve the LAN; a warning is printed)
  --token TOKEN          control token (or env SEGSTREAM_TOKEN); without it nobody can change anything
  --jpeg-quality N       1-100 (default 80)
  --overlay client|server  where the overlay is drawn (default client: the viewer blends the class map)
  -h, --help
`;

export function parseServeArgs(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: false,
    options: {
      config: { type: 'string' },
      source: { type: 'string' },
      file: { type: 'string' },
      usb: { type: 'string' },
      'x5-mipi': { type: 'string' },
      rtsp: { type: 'string' },
      size: { type: 'string' },
      fps: { type: 'string' },
      color: { type: 'string' },
      model: { type: 'string' },
      backend: { type: 'string' },
      threads: { type: 'string' },
      postprocess: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      token: { type: 'string' },
      'jpeg-quality': { type: 'string' },
      overlay: { type: 'string' },
      'static-dir': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  }).values;
}

function int(flag: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) throw new Error(`--${flag}: expected an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  return n;
}

/**
 * Applies command-line flags on top of the config by building one raw object and validating it the same way
 * as a config file, so flags get the same checks and messages.
 */
export async function configFromArgs(values: ReturnType<typeof parseServeArgs>, cwd = process.cwd()): Promise<{ config: Config; sourceName?: string; modelName?: string }> {
  const base = values.config ? await loadConfigFile(values.config, cwd) : defaultConfig(cwd);
  const config: Config = structuredClone(base);
  let sourceName = values.source;
  let modelName: string | undefined;

  let size: { width: number; height: number } | undefined;
  if (values.size !== undefined) {
    const m = /^(\d+)x(\d+)$/.exec(values.size);
    if (!m) throw new Error(`--size: expected WIDTHxHEIGHT such as 1280x720, got ${JSON.stringify(values.size)}`);
    size = { width: Number(m[1]), height: Number(m[2]) };
  }
  const fps = values.fps !== undefined ? int('fps', values.fps, 1, 240) : undefined;
  const given = (['file', 'usb', 'x5-mipi', 'rtsp'] as const).filter((k) => values[k] !== undefined);
  if (given.length + (values.source ? 1 : 0) > 1) throw new Error(`choose one source; got ${[...(values.source ? ['--source'] : []), ...given.map((g) => `--${g}`)].join(' and ')}`);
  const rawSources: Record<string, unknown> = {};
  const dims = { width: size?.width ?? 1280, height: size?.height ?? 720 };
  if (values.file !== undefined) rawSources.file = { kind: 'file', path: path.resolve(cwd, values.file), ...dims, ...(fps ? { framerate: fps } : {}) };
  if (values.usb !== undefined) rawSources.usb = { kind: 'usb', device: values.usb, ...dims, ...(fps ? { framerate: fps } : {}) };
  if (values['x5-mipi'] !== undefined) rawSources['x5-mipi'] = { kind: 'x5-mipi', device: values['x5-mipi'], ...dims };
  if (values.rtsp !== undefined) rawSources.rtsp = { kind: 'rtsp', url: values.rtsp, ...dims };
  if (given.length === 1) sourceName = given[0];
  if (values.color !== undefined) {
    const name = sourceName ?? config.defaultSource;
    const existing = rawSources[name] as Record<string, unknown> | undefined;
    if (existing) existing.color = values.color;
    else rawSources[name] = { ...sourceToRaw(config, name), color: values.color };
  }
  if ((size || fps) && given.length === 0) {
    const name = sourceName ?? config.defaultSource;
    const raw = sourceToRaw(config, name);
    rawSources[name] = { ...raw, ...(rawSources[name] as object | undefined), ...(size ?? {}), ...(fps && raw.kind !== 'x5-mipi' && raw.kind !== 'rtsp' ? { framerate: fps } : {}) };
  }

  const rawModels: Record<string, unknown> = {};
  if (values.model !== undefined) {
    if (config.models[values.model] && !/[/\\]|\.(onnx|bin)$/i.test(values.model)) {
      modelName = values.model;
    } else {
      const file = path.resolve(cwd, values.model);
      modelName = path.basename(file).replace(/\.(onnx|bin)$/i, '').replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 60) || 'model';
      rawModels[modelName] = { backend: values.backend ?? (file.endsWith('.bin') ? 'bpu' : 'onnx'), path: file };
    }
  } else if (values.backend !== undefined && values.backend !== 'onnx') {
    throw new Error('--backend bpu needs --model with the .bin file(s) (or a configured model)');
  }

  const overlay: Record<string, unknown> = {};
  if (Object.keys(rawSources).length) overlay.sources = rawSources;
  if (Object.keys(rawModels).length) overlay.models = rawModels;
  const server: Record<string, unknown> = {};
  if (values.port !== undefined) server.port = int('port', values.port, 0, 65535);
  if (values.host !== undefined) server.host = values.host;
  // An empty SEGSTREAM_TOKEN means no token (as when it is unset), not an invalid one.
  const token = values.token ?? (process.env.SEGSTREAM_TOKEN || undefined);
  if (token !== undefined) server.controlToken = token;
  if (Object.keys(server).length) overlay.server = server;
  const stream: Record<string, unknown> = {};
  if (values['jpeg-quality'] !== undefined) stream.jpegQuality = int('jpeg-quality', values['jpeg-quality'], 1, 100);
  if (values.postprocess !== undefined) {
    if (!POSTPROCESS_MODES.includes(values.postprocess as PostprocessMode)) throw new Error(`--postprocess: expected one of ${POSTPROCESS_MODES.join(', ')}, got ${JSON.stringify(values.postprocess)}`);
    stream.postprocess = values.postprocess;
  }
  if (values.overlay !== undefined) stream.overlay = values.overlay;
  if (Object.keys(stream).length) overlay.stream = stream;
  if (values.threads !== undefined) overlay.inference = { threads: int('threads', values.threads, 0, 256) };

  try {
    const flagged = validateConfig(overlay, 'command line', cwd, cwd);
    config.sources = { ...config.sources, ...pick(flagged.sources, Object.keys(rawSources)) };
    config.models = { ...config.models, ...pick(flagged.models, Object.keys(rawModels)) };
    if (overlay.server) config.server = { ...config.server, ...pickDefined(flagged.server, Object.keys(server)) };
    if (overlay.stream) config.stream = { ...config.stream, ...pickDefined(flagged.stream, Object.keys(stream)) };
    if (overlay.inference) config.inference = flagged.inference;
  } catch (err) {
    if (err instanceof ConfigError) throw new Error(`${err.field.replace(/^(server|stream|inference)\./, '--')}: ${err.message.split(': ').slice(2).join(': ')}`);
    throw err;
  }
  return { config, ...(sourceName ? { sourceName } : {}), ...(modelName ? { modelName } : {}) };
}

function sourceToRaw(config: Config, name: string): Record<string, unknown> {
  const entry = config.sources[name];
  if (!entry) throw new Error(`--source: no source named "${name}"; configured: ${Object.keys(config.sources).join(', ')}`);
  return { ...entry.spec, ...(entry.color ? { color: entry.color } : {}), ...(entry.spec.kind === 'file' ? { loop: entry.loop } : {}) };
}

function pick<T>(record: Record<string, T>, keys: string[]): Record<string, T> {
  return Object.fromEntries(keys.map((k) => [k, record[k]!]));
}

function pickDefined<T extends object>(obj: T, keys: string[]): Partial<T> {
  return Object.fromEntries(keys.map((k) => [k, (obj as Record<string, unknown>)[k]])) as Partial<T>;
}

export async function main(argv: string[]): Promise<number> {
  let values;
  try {
    values = parseServeArgs(argv);
  } catch (err) {
    process.stderr.write(`segstream serve: ${(err as Error).message}\n\n${SERVE_HELP}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(SERVE_HELP);
    return 0;
  }
  const { config, sourceName, modelName } = await configFromArgs(values);
  const app = new SegStreamApp({
    config,
    ...(sourceName ? { sourceName } : {}),
    ...(modelName ? { modelName } : {}),
    ...(values['static-dir'] ? { staticDir: path.resolve(values['static-dir']) } : {}),
    log: (line) => console.log(`[segstream] ${line}`),
  });
  const url = await app.start();
  console.log(`[segstream] viewer: ${url}${config.server.controlToken ? '' : ' (no control token: viewers can watch, nobody can change settings)'}`);
  await new Promise<void>((resolve) => {
    const shutdown = (signal: string): void => {
      console.log(`[segstream] ${signal}: stopping`);
      void app.stop().then(resolve);
    };
    process.once('SIGINT', () => shutdown('SIGINT'));
    process.once('SIGTERM', () => shutdown('SIGTERM'));
  });
  return 0;
}
