/**
 * A deterministic stand-in for the segstream server: serves dist/client over HTTP and speaks the real protocol
 * (server/protocol) on /ws with synthetic frames (mock-scene.ts). For viewer development and tests.
 *
 *   npx tsx test/browser/mock-server.ts [--port 8090] [--token secret] [--fps 12] [--overlaid] [--static]
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { randomBytes } from 'node:crypto';
import { deflateRawSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import type { Socket } from 'node:net';
import sharp from 'sharp';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  encodeFrameMessage,
  isPostprocessMode,
  POSTPROCESS_MODES,
  PROTOCOL_VERSION,
  type ClientMessage,
  type HelloMessage,
  type PostprocessMode,
  type ServerTextMessage,
  type StatsMessage,
} from '../../server/protocol/index.ts';
import { first, at } from '../../server/util/checked-access.ts';
import { blendOverlay, histogram, MOCK_CLASS_COUNT, mockClassMap, mockClassNames, mockFrameRgb, mockPalette, type SceneOptions } from './mock-scene.ts';

export const REPO_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

export interface MockServerOptions {
  /** 0 picks a free port. */
  port?: number;
  host?: string;
  /** Control token; random when omitted; '' means the server has no token (controls unavailable). */
  token?: string;
  fps?: number;
  frameWidth?: number;
  frameHeight?: number;
  mapWidth?: number;
  mapHeight?: number;
  /** Blend the overlay into the JPEG on the "server" (FrameHeader.overlaid). */
  overlaid?: boolean;
  motion?: boolean;
  flickerShare?: number;
  /** See SceneOptions.busyClasses. */
  busyClasses?: number;
  /** Directory served at / (default dist/client). */
  staticDir?: string;
}

export interface MockServer {
  readonly kind: 'mock';
  readonly url: string;
  readonly port: number;
  readonly token: string;
  /** Every message clients sent, in order. */
  readonly received: ClientMessage[];
  readonly scene: SceneOptions;
  readonly mapSize: [number, number];
  readonly frameSize: [number, number];
  framesSent(): number;
  /** Current settings a token holder can change. */
  settings(): { source: string; model: string; postprocess: PostprocessMode; jpegQuality: number; smoothing: number };
  /** Stop sending frames but keep links open (a stalled camera). */
  pauseFrames(): void;
  resumeFrames(): void;
  /** Graceful shutdown. */
  stop(): Promise<void>;
  /** Abrupt: drop every connection and stop listening at once (like a crash). */
  kill(): void;
  /** Listen again on the same port after kill() or stop(). */
  restart(): Promise<void>;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.ico': 'image/x-icon',
};

const SOURCES = ['test', 'file-demo'];
const MODELS = ['mock-demo', 'mock-tiny'];

function positiveInt(name: string, value: number | undefined, fallback: number, multipleOf = 1): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value <= 0 || value % multipleOf !== 0) {
    throw new RangeError(`mock server ${name}: expected a positive integer${multipleOf > 1 ? ` divisible by ${multipleOf}` : ''}, got ${value}`);
  }
  return value;
}

interface Client {
  socket: WebSocket;
  dropped: number;
  ages: number[];
}

export async function startMockServer(options: MockServerOptions = {}): Promise<MockServer> {
  const fps = options.fps ?? 12;
  if (!(fps > 0 && fps <= 120)) throw new RangeError(`mock server fps: expected 0 < fps <= 120, got ${fps}`);
  const frameWidth = positiveInt('frameWidth', options.frameWidth, 320, 2);
  const frameHeight = positiveInt('frameHeight', options.frameHeight, 240, 2);
  const mapWidth = positiveInt('mapWidth', options.mapWidth, 128, 8);
  const mapHeight = positiveInt('mapHeight', options.mapHeight, 96, 8);
  const host = options.host ?? '127.0.0.1';
  const token = options.token ?? randomBytes(8).toString('hex');
  const staticDir = resolve(options.staticDir ?? join(REPO_ROOT, 'dist', 'client'));
  const scene: SceneOptions = { motion: options.motion ?? true, flickerShare: options.flickerShare ?? 0, busyClasses: options.busyClasses ?? 0 };
  const overlaid = options.overlaid ?? false;
  const palette = mockPalette();
  const classNames = mockClassNames();
  const settings: { source: string; model: string; postprocess: PostprocessMode; jpegQuality: number; smoothing: number } = { source: first(SOURCES, 'mock sources'), model: first(MODELS, 'mock models'), postprocess: POSTPROCESS_MODES[0], jpegQuality: 80, smoothing: 0 };
  const received: ClientMessage[] = [];
  const clients = new Set<Client>();
  const captureTimes = new Map<number, number>();
  const sockets = new Set<Socket>();
  let frameId = 0;
  let sent = 0;
  let paused = false;
  let frameTimer: ReturnType<typeof setInterval> | null = null;
  let statsTimer: ReturnType<typeof setInterval> | null = null;
  let producing = false;
  let lastEncodeMs = 0;

  const hello = (): HelloMessage => ({
    type: 'hello',
    protocol: PROTOCOL_VERSION,
    server: 'segstream-mock',
    model: {
      name: settings.model, backend: 'onnx', inputName: 'pixel_values', inputSize: [512, 512], inputKind: 'float32 NCHW',
      outputSize: [mapHeight, mapWidth], classes: MOCK_CLASS_COUNT, untrainedDemo: true,
    },
    source: {
      name: settings.source, kind: settings.source === 'test' ? 'videotestsrc' : 'file', width: frameWidth, height: frameHeight,
      framerate: `${fps}/1`, colorimetry: 'bt601', caps: `video/x-raw, format=NV12, width=${frameWidth}, height=${frameHeight}, framerate=${fps}/1`,
    },
    classNames,
    palette,
    postprocess: settings.postprocess,
    postprocessModes: [...POSTPROCESS_MODES],
    jpegQuality: settings.jpegQuality,
    smoothing: settings.smoothing,
    sources: SOURCES,
    models: MODELS,
    controlsAvailable: token !== '',
  });

  const sendText = (client: Client, message: ServerTextMessage) => {
    if (client.socket.readyState === client.socket.OPEN) client.socket.send(JSON.stringify(message));
  };

  async function produceFrame(): Promise<void> {
    if (paused || producing || clients.size === 0) return;
    producing = true;
    try {
      const id = ++frameId;
      const captureTime = Date.now();
      const map = mockClassMap(id, mapWidth, mapHeight, scene);
      let rgb = mockFrameRgb(id, frameWidth, frameHeight, map, mapWidth, mapHeight, scene);
      if (overlaid) rgb = blendOverlay(rgb, frameWidth, frameHeight, map, mapWidth, mapHeight, palette, 0.5);
      const encodeStart = performance.now();
      const jpeg = await sharp(rgb, { raw: { width: frameWidth, height: frameHeight, channels: 3 } }).jpeg({ quality: settings.jpegQuality }).toBuffer();
      const compressed = deflateRawSync(map);
      lastEncodeMs = performance.now() - encodeStart;
      captureTimes.set(id, captureTime);
      if (captureTimes.size > 300) captureTimes.delete(captureTimes.keys().next().value!);
      const classes = histogram(map);
      for (const client of clients) {
        if (client.socket.readyState !== client.socket.OPEN) continue;
        // Backpressure like the real server: a slow link skips frames instead of queueing them.
        if (client.socket.bufferedAmount > 512 * 1024) {
          client.dropped++;
          continue;
        }
        const message = encodeFrameMessage(
          {
            type: 'frame', id, captureTime, width: frameWidth, height: frameHeight, overlaid,
            classMap: { width: mapWidth, height: mapHeight, bytesPerPixel: 1, encoding: 'deflate-raw' },
            // Fixed synthetic stage times (the mock runs no model) plus the real encode time.
            stages: { capture: 0.4, preprocess: 2.5, infer: 40 + (id % 7), postprocess: 3, overlay: overlaid ? 2 : 0, encode: lastEncodeMs, send: 0.2 },
            classes,
            dropped: { inferenceBusy: Math.floor(id / 10), renderBusy: Math.floor(id / 25) },
            smoothing: settings.smoothing,
          },
          jpeg,
          compressed,
        );
        client.socket.send(message);
        sent++;
      }
    } finally {
      producing = false;
    }
  }

  function stats(client: Client): StatsMessage {
    const ages = [...client.ages].sort((a, b) => a - b);
    const pick = (q: number) => at(ages, Math.min(ages.length - 1, Math.floor(q * ages.length)), 'frame ages');
    return {
      type: 'stats',
      frameAge: ages.length === 0 ? null : { p50: pick(0.5), p90: pick(0.9), p99: pick(0.99), last: at(client.ages, client.ages.length - 1, 'frame ages'), count: ages.length },
      fps: { source: fps, inference: fps, sent: fps },
      modelMs: 43,
      slowLink: client.dropped,
    };
  }

  function handleControl(client: Client, message: Extract<ClientMessage, { type: 'control' }>): void {
    const refuse = (text: string) => sendText(client, { type: 'control-result', action: message.action, ok: false, message: text });
    if (token === '') return refuse('this server has no control token configured');
    if (message.token !== token) return refuse('wrong or missing control token');
    let rehello = false;
    switch (message.action) {
      case 'set-source':
        if (!SOURCES.includes(message.value)) return refuse(`unknown source "${message.value}"`);
        settings.source = message.value;
        rehello = true;
        break;
      case 'set-model':
        if (!MODELS.includes(message.value)) return refuse(`unknown model "${message.value}"`);
        settings.model = message.value;
        rehello = true;
        break;
      case 'set-postprocess':
        if (!isPostprocessMode(message.value)) return refuse(`unknown post-processing mode "${message.value}"`);
        settings.postprocess = message.value;
        break;
      case 'set-jpeg-quality':
        if (!Number.isInteger(message.value) || message.value < 1 || message.value > 100) return refuse(`JPEG quality must be an integer 1..100, got ${message.value}`);
        settings.jpegQuality = message.value;
        break;
      case 'set-smoothing':
        if (!Number.isInteger(message.value) || message.value < 0 || message.value > 9) return refuse(`smoothing must be an integer 0..9, got ${message.value}`);
        settings.smoothing = message.value;
        break;
      default:
        return refuse(`unknown action "${(message as { action: string }).action}"`);
    }
    sendText(client, { type: 'control-result', action: message.action, ok: true, message: 'applied' });
    if (rehello) for (const other of clients) sendText(other, hello());
  }

  function onConnection(socket: WebSocket): void {
    const client: Client = { socket, dropped: 0, ages: [] };
    clients.add(client);
    sendText(client, hello());
    sendText(client, { type: 'status', state: 'live', since: Date.now(), message: 'streaming' });
    socket.on('message', (data, isBinary) => {
      if (isBinary) return sendText(client, { type: 'error', message: 'binary messages are not accepted' });
      let message: ClientMessage;
      try {
        message = JSON.parse(data.toString()) as ClientMessage;
      } catch {
        return sendText(client, { type: 'error', message: 'message is not JSON' });
      }
      received.push(message);
      if (received.length > 5000) received.splice(0, received.length - 5000);
      if (message.type === 'drawn') {
        const captured = captureTimes.get(message.id);
        if (captured !== undefined) {
          client.ages.push(Date.now() - captured);
          if (client.ages.length > 200) client.ages.shift();
        }
      } else if (message.type === 'control') {
        handleControl(client, message);
      } else {
        sendText(client, { type: 'error', message: `unknown message type ${String((message as { type?: unknown }).type)}` });
      }
    });
    socket.on('close', () => clients.delete(client));
    socket.on('error', () => clients.delete(client));
  }

  async function serveStatic(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const file = normalize(join(staticDir, path.endsWith('/') ? `${path}index.html` : path));
    if (file !== staticDir && !file.startsWith(staticDir + sep)) {
      res.writeHead(403).end('forbidden');
      return;
    }
    try {
      const info = await stat(file);
      if (!info.isFile()) throw new Error('not a file');
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-cache' });
      res.end(body);
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: ${path} (is the viewer built? npx vite build)`);
    }
  }

  let server: Server;
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  wss.on('connection', onConnection);

  let port = options.port ?? 0;
  async function listen(): Promise<void> {
    server = createServer((req, res) => void serveStatic(req, res));
    server.on('connection', (socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    server.on('upgrade', (req, socket, head) => {
      if (new URL(req.url ?? '/', 'http://x').pathname !== '/ws') {
        socket.destroy();
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
    });
    await new Promise<void>((resolveListen, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolveListen());
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('mock server: no TCP address');
    port = address.port;
    frameTimer = setInterval(() => void produceFrame(), 1000 / fps);
    statsTimer = setInterval(() => {
      for (const client of clients) sendText(client, stats(client));
    }, 1000);
  }

  function halt(): void {
    if (frameTimer !== null) clearInterval(frameTimer);
    if (statsTimer !== null) clearInterval(statsTimer);
    frameTimer = statsTimer = null;
  }

  function kill(): void {
    halt();
    for (const client of clients) client.socket.terminate();
    clients.clear();
    for (const socket of sockets) socket.destroy();
    server.close();
  }

  await listen();

  return {
    kind: 'mock',
    get url() {
      return `http://${host}:${port}/`;
    },
    get port() {
      return port;
    },
    token,
    received,
    scene,
    mapSize: [mapWidth, mapHeight],
    frameSize: [frameWidth, frameHeight],
    framesSent: () => sent,
    settings: () => ({ ...settings }),
    pauseFrames: () => {
      paused = true;
    },
    resumeFrames: () => {
      paused = false;
    },
    async stop() {
      halt();
      for (const client of clients) client.socket.close(1001, 'server stopping');
      clients.clear();
      await new Promise<void>((done) => {
        server.close(() => done());
        for (const socket of sockets) socket.destroy();
      });
    },
    kill,
    async restart() {
      if (server.listening) kill();
      await listen();
    },
  };
}

// Run directly: a development server for the viewer.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const value = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const server = await startMockServer({
    port: Number(value('--port') ?? 8090),
    token: value('--token'),
    fps: value('--fps') ? Number(value('--fps')) : undefined,
    overlaid: args.includes('--overlaid'),
    motion: !args.includes('--static'),
  });
  console.log(`mock segstream server at ${server.url} (control token: ${server.token || 'none'})`);
}
