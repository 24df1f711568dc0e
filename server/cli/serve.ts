import { promises as fs } from 'node:fs';
import path from 'node:path';
import { SegStreamApp } from '../app/app.ts';
import { POSTPROCESS_MODES } from '../protocol/index.ts';
import { ConfigError, defaultConfig, loadConfigFile, validateConfig, type Config } from '../app/config.ts';
import { InputError, UsageError } from '../util/errors.ts';
import { first, lookup } from '../util/checked-access.ts';
import { integerFlag, optionalString, parseChoice, runCli, sizeFlag, type Options, type Values } from './args.ts';

/** The flags that pick and size the source: the stream's, and bench's (which runs the same sources). */
export const SOURCE_OPTIONS = {
  source: { type: 'string' },
  file: { type: 'string' },
  usb: { type: 'string' },
  'x5-mipi': { type: 'string' },
  rtsp: { type: 'string' },
  size: { type: 'string' },
  fps: { type: 'string' },
} as const satisfies Options;

/** The flags of the stream itself: `serve` takes them, and `kiosk` (which starts the same server) too. */
export const STREAM_OPTIONS = {
  config: { type: 'string' },
  ...SOURCE_OPTIONS,
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
} as const satisfies Options;

export const OVERLAY_CHOICES = ['client', 'server'] as const;
const COLOR_CHOICES = ['bt601-full', 'bt601-limited', 'bt709-full', 'bt709-limited'] as const;

/** The stream flags' help lines, shared by serve and kiosk. */
export const STREAM_OPTIONS_HELP = `Source (one of; default: the moving test pattern):
  --source NAME          a source from the config (built in: test)
  --file PATH            a video file, an image, or an image sequence (frames/%05d.png); loops
  --usb DEVICE           a USB camera, e.g. /dev/video0 (MJPEG)
  --x5-mipi DEVICE       an RDK X5 MIPI camera V4L2 node, e.g. /dev/video8
  --rtsp URL             a network camera
  --size WxH             frame size delivered by the source (default 1280x720)
  --fps N                frame rate asked of the source, 1-240 (default 30)
  --color MODEL          override the colorimetry: bt601-full, bt601-limited, bt709-full, bt709-limited
Model:
  --model NAME|PATH      a model from the config (built in: demo), or an .onnx file (config.json and
                         preprocessor_config.json beside it are read), or BPU .bin file(s) with --backend bpu
  --backend onnx|bpu     for a model given by path (default onnx; bpu for .bin files)
  --threads N            ONNX Runtime intra-op threads, 0-256 (default 0: the runtime's choice)
  --postprocess MODE     boundary (default; boundary-exact), exact (reference), lowres (fast)
Server:
  --config FILE          JSON or YAML config (sources, models, server, stream, watchdog; docs/configuration.md)
  --port N               0-65535 (default 8080)
  --host ADDR            default 127.0.0.1 (use 0.0.0.0 to serve the LAN; a warning is printed)
  --token TOKEN          control token, 16+ characters (or env SEGSTREAM_TOKEN); without it nobody can
                         change settings
  --jpeg-quality N       1-100 (default 80)
  --overlay client|server  where the overlay is drawn (default client: the viewer blends the class map)
  --static-dir DIR       serve the viewer from DIR instead of dist/client`;

export const SERVE_HELP = `usage: segstream serve [options]

Runs the live stream: GStreamer source -> model -> overlay -> WebSocket -> viewer at http://HOST:PORT/.
With no options: the moving test pattern at 1280x720 through the generated SegFormer-B0-shaped demo model
(untrained: its masks are meaningless, its speed is real). Stops on SIGINT or SIGTERM.

${STREAM_OPTIONS_HELP}
  -h, --help             this text

Exit status: 0 after a clean stop, 1 when it cannot start (config, model, port, a --file that is not
there), 2 when called wrongly.

examples:
  segstream serve
  segstream serve --file clip.mp4 --model models/segformer-b0-ade/model.onnx
  segstream serve --usb /dev/video0 --size 1280x720 --fps 30
  segstream serve --host 0.0.0.0 --token "$(openssl rand -hex 16)"
  segstream serve --config segstream.yaml --source door
`;

/** Where a config field set from the command line came from: the flag (or variable) the user typed. */
function flagForField(field: string, tokenFromEnv: boolean): string | undefined {
  const rules: [RegExp, string][] = [
    [/^server\.port$/, '--port'],
    [/^server\.host$/, '--host'],
    [/^server\.controlToken$/, tokenFromEnv ? 'SEGSTREAM_TOKEN' : '--token'],
    [/^stream\.jpegQuality$/, '--jpeg-quality'],
    [/^stream\.postprocess$/, '--postprocess'],
    [/^stream\.overlay$/, '--overlay'],
    [/^inference\.threads$/, '--threads'],
    [/^sources\.[^.]+\.(width|height)$/, '--size'],
    [/^sources\.[^.]+\.framerate$/, '--fps'],
    [/^sources\.[^.]+\.color$/, '--color'],
    [/^sources\.file\.path$/, '--file'],
    [/^sources\.usb\.device$/, '--usb'],
    [/^sources\.x5-mipi\.device$/, '--x5-mipi'],
    [/^sources\.rtsp\.url$/, '--rtsp'],
    [/^models\.[^.]+\.(path|files.*)$/, '--model'],
    [/^models\.[^.]+\.backend$/, '--backend'],
  ];
  return rules.find(([re]) => re.test(field))?.[1];
}

export interface StreamSelection {
  config: Config;
  sourceName?: string;
  modelName?: string;
}

/**
 * Applies command-line flags on top of the config by building one raw object and validating it the same way
 * as a config file, so flags get the same checks; every message names the flag, never the config field.
 * A config file that is wrong is an InputError (exit 1) naming the file and the field.
 */
export async function configFromArgs(values: Values, cwd = process.cwd()): Promise<StreamSelection> {
  const configFile = optionalString(values, 'config');
  const base = configFile ? await loadConfigFile(path.resolve(cwd, configFile), cwd) : defaultConfig(cwd);
  const config: Config = structuredClone(base);
  let sourceName = optionalString(values, 'source');
  let modelName: string | undefined;

  const size = sizeFlag(values, 'size');
  const fps = integerFlag(values, 'fps', 1, 240);
  const color = parseChoice('color', optionalString(values, 'color'), COLOR_CHOICES);
  const port = integerFlag(values, 'port', 0, 65535);
  const jpegQuality = integerFlag(values, 'jpeg-quality', 1, 100);
  const threads = integerFlag(values, 'threads', 0, 256);
  const postprocess = parseChoice('postprocess', optionalString(values, 'postprocess'), POSTPROCESS_MODES);
  const overlayMode = parseChoice('overlay', optionalString(values, 'overlay'), OVERLAY_CHOICES);
  const backend = parseChoice('backend', optionalString(values, 'backend'), ['onnx', 'bpu'] as const);
  const model = optionalString(values, 'model');
  const host = optionalString(values, 'host');

  const given = (['file', 'usb', 'x5-mipi', 'rtsp'] as const).filter((k) => values[k] !== undefined);
  if (given.length + (sourceName ? 1 : 0) > 1) {
    throw new UsageError(`choose one source; got ${[...(sourceName ? ['--source'] : []), ...given.map((g) => `--${g}`)].join(' and ')}`);
  }
  if (sourceName !== undefined && !config.sources[sourceName]) {
    throw new UsageError(`--source: expected one of ${Object.keys(config.sources).join(', ')} (the configured sources), got ${JSON.stringify(sourceName)}`);
  }
  const rawSources: Record<string, Record<string, unknown>> = {};
  const dims = { width: size?.width ?? 1280, height: size?.height ?? 720 };
  const file = optionalString(values, 'file');
  if (file !== undefined) rawSources.file = { kind: 'file', path: path.resolve(cwd, file), ...dims, ...(fps ? { framerate: fps } : {}) };
  const usb = optionalString(values, 'usb');
  if (usb !== undefined) rawSources.usb = { kind: 'usb', device: usb, ...dims, ...(fps ? { framerate: fps } : {}) };
  const mipi = optionalString(values, 'x5-mipi');
  if (mipi !== undefined) rawSources['x5-mipi'] = { kind: 'x5-mipi', device: mipi, ...dims };
  const rtsp = optionalString(values, 'rtsp');
  if (rtsp !== undefined) rawSources.rtsp = { kind: 'rtsp', url: rtsp, ...dims };
  if (given.length === 1) sourceName = given[0];
  if (color !== undefined) {
    const name = sourceName ?? config.defaultSource;
    const existing = rawSources[name];
    if (existing) existing.color = color;
    else rawSources[name] = { ...sourceToRaw(config, name), color };
  }
  if ((size || fps) && given.length === 0) {
    const name = sourceName ?? config.defaultSource;
    const raw = sourceToRaw(config, name);
    rawSources[name] = { ...raw, ...rawSources[name], ...(size ?? {}), ...(fps && raw.kind !== 'x5-mipi' && raw.kind !== 'rtsp' ? { framerate: fps } : {}) };
  }

  const rawModels: Record<string, unknown> = {};
  if (model !== undefined) {
    if (config.models[model] && !/[/\\]|\.(onnx|bin)$/i.test(model)) {
      if (backend !== undefined) throw new UsageError(`--backend applies to a model given by path; "${model}" is a configured model with its own backend`);
      modelName = model;
    } else {
      const files = model.split(',').map((f) => path.resolve(cwd, f));
      const firstFile = first(files, '--model files');
      modelName = path.basename(firstFile).replace(/\.(onnx|bin)$/i, '').replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 60) || 'model';
      if (!/^[A-Za-z0-9]/.test(modelName)) modelName = `m${modelName}`.slice(0, 60);
      rawModels[modelName] = { backend: backend ?? (firstFile.endsWith('.bin') ? 'bpu' : 'onnx'), files };
    }
  } else if (backend === 'bpu') {
    throw new UsageError('--backend bpu needs --model with the .bin file(s) (or a configured model)');
  }

  const overlay: Record<string, unknown> = {};
  if (Object.keys(rawSources).length) overlay.sources = rawSources;
  if (Object.keys(rawModels).length) overlay.models = rawModels;
  const server: Record<string, unknown> = {};
  if (port !== undefined) server.port = port;
  if (host !== undefined) server.host = host;
  // An empty SEGSTREAM_TOKEN means no token (as when it is unset), not an invalid one.
  const tokenFlag = optionalString(values, 'token');
  const tokenFromEnv = tokenFlag === undefined && Boolean(process.env.SEGSTREAM_TOKEN);
  const token = tokenFlag ?? (process.env.SEGSTREAM_TOKEN || undefined);
  if (token !== undefined) server.controlToken = token;
  if (Object.keys(server).length) overlay.server = server;
  const stream: Record<string, unknown> = {};
  if (jpegQuality !== undefined) stream.jpegQuality = jpegQuality;
  if (postprocess !== undefined) stream.postprocess = postprocess;
  if (overlayMode !== undefined) stream.overlay = overlayMode;
  if (Object.keys(stream).length) overlay.stream = stream;
  if (threads !== undefined) overlay.inference = { threads };

  try {
    const flagged = validateConfig(overlay, 'command line', cwd, cwd);
    config.sources = { ...config.sources, ...pick(flagged.sources, Object.keys(rawSources)) };
    config.models = { ...config.models, ...pick(flagged.models, Object.keys(rawModels)) };
    if (overlay.server) config.server = { ...config.server, ...pickDefined(flagged.server, Object.keys(server)) };
    if (overlay.stream) config.stream = { ...config.stream, ...pickDefined(flagged.stream, Object.keys(stream)) };
    if (overlay.inference) config.inference = flagged.inference;
  } catch (err) {
    if (err instanceof ConfigError) {
      const flag = flagForField(err.field, tokenFromEnv);
      if (flag === 'SEGSTREAM_TOKEN') throw new InputError(`SEGSTREAM_TOKEN: ${err.detail}`);
      throw new UsageError(`${flag ?? err.field}: ${err.detail}`);
    }
    throw err;
  }
  const selection = { config, ...(sourceName ? { sourceName } : {}), ...(modelName ? { modelName } : {}) };
  await checkStartSource(selection, configFile, file !== undefined);
  return selection;
}

/**
 * A file source chosen at start that is not there fails now (exit 1) instead of being retried by the watchdog
 * for ever; one that disappears later is the watchdog's job.
 */
async function checkStartSource(sel: StreamSelection, configFile: string | undefined, fromFlag: boolean): Promise<void> {
  const name = sel.sourceName ?? sel.config.defaultSource;
  const spec = sel.config.sources[name]?.spec;
  if (!spec || spec.kind !== 'file') return;
  const where = fromFlag ? '--file' : `${configFile ?? 'config'}: sources.${name}.path`;
  const problem = await fileSourceProblem(spec.path);
  if (problem) throw new InputError(`${where}: ${problem}`);
}

/** Why a file source cannot be read (undefined when it can): a missing file, a directory, an empty sequence. */
export async function fileSourceProblem(file: string): Promise<string | undefined> {
  if (/%0?\d*d/.test(path.basename(file))) {
    const dir = path.dirname(file);
    const pattern = new RegExp(`^${path.basename(file).replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/%0?(\d*)d/, (_, n: string) => `\\d{${n || 1},}`)}$`);
    let names: string[];
    try {
      names = await fs.readdir(dir);
    } catch {
      return `${dir} does not exist (image sequence ${path.basename(file)})`;
    }
    return names.some((n) => pattern.test(n)) ? undefined : `no file in ${dir} matches ${path.basename(file)}`;
  }
  try {
    const stat = await fs.stat(file);
    // A named pipe is a file source too (a camera or encoder writing into it; GstSource guards its reads).
    if (!stat.isFile() && !stat.isFIFO()) return `${file} is not a file`;
    await fs.access(file, fs.constants.R_OK);
    return undefined;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR' ? `${file} does not exist` : `${file} cannot be read (${code ?? (err as Error).message})`;
  }
}

function sourceToRaw(config: Config, name: string): Record<string, unknown> {
  const entry = config.sources[name];
  if (!entry) throw new UsageError(`--source: expected one of ${Object.keys(config.sources).join(', ')}, got ${JSON.stringify(name)}`);
  return { ...entry.spec, ...(entry.color ? { color: entry.color } : {}), ...(entry.spec.kind === 'file' ? { loop: entry.loop } : {}) };
}

function pick<T>(record: Record<string, T>, keys: string[]): Record<string, T> {
  return Object.fromEntries(keys.map((k) => [k, lookup(record, k, 'parsed flag settings')]));
}

function pickDefined<T extends object>(obj: T, keys: string[]): Partial<T> {
  return Object.fromEntries(keys.map((k) => [k, (obj as Record<string, unknown>)[k]])) as Partial<T>;
}

/** Starts the stream server for serve and kiosk; resolves with the app and its URL. */
export async function startServer(values: Values, log: (line: string) => void): Promise<{ app: SegStreamApp; url: string; config: Config }> {
  const { config, sourceName, modelName } = await configFromArgs(values);
  const staticDir = optionalString(values, 'static-dir');
  const app = new SegStreamApp({
    config,
    ...(sourceName ? { sourceName } : {}),
    ...(modelName ? { modelName } : {}),
    ...(staticDir ? { staticDir: path.resolve(staticDir) } : {}),
    log,
  });
  const url = await app.start();
  return { app, url, config };
}

/** Resolves on the first SIGINT or SIGTERM, with its name. */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

export async function main(argv: string[]): Promise<number> {
  return runCli({ name: 'serve', options: STREAM_OPTIONS, help: SERVE_HELP }, argv, async ({ values }) => {
    const log = (line: string): void => console.log(`[segstream] ${line}`);
    const { app, url, config } = await startServer(values, log);
    log(`viewer: ${url}${config.server.controlToken ? '' : ' (no control token: viewers can watch, nobody can change settings)'}`);
    const signal = await untilSignal();
    log(`${signal}: stopping`);
    await app.stop();
    return 0;
  });
}
