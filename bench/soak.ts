/**
 * Soak run: the whole server in this process (real GStreamer test source at full speed, the inference worker with
 * ONNX Runtime, rendering, the WebSocket hub) with three real WebSocket viewers over TCP:
 *   - normal:      reads everything and acknowledges each frame like the viewer does;
 *   - slow:        connects through a link throttled to 256 KB/s that also stalls for 3 s out of every 10 s
 *                  (a phone on bad Wi-Fi): the server must drop frames for it, never queue them;
 *   - reconnecting: drops its connection every 3 s and connects again.
 * Every minute it records RSS, V8 heap (as is, and after a full GC), open file descriptors (/proc/self/fd),
 * threads, frames per minute (source, inferred, sent, received by each viewer), drops and disconnects, and the
 * machine's load average (the machine may be shared). At the end it writes bench/results/soak-<minutes>min.json
 * (atomically) and prints start-vs-end figures with growth per hour and hints for reading them.
 *
 *   npm run soak -- --minutes 30 [--model tiny|b0] [--size 320x240] [--sample-seconds 60] [--out file.json]
 *                    [--rebuild-every S]
 *
 * --rebuild-every S also rebuilds the source pipeline every S seconds (a token-holding controller re-selects the
 * source), to measure what each rebuild costs: the summary then gives fds and RSS per rebuild.
 *
 * The viewers live in this process too, so RSS includes their (bounded) buffers; the server is otherwise exactly
 * what `segstream serve` runs. Ctrl-C ends the run early and still writes the results (marked interrupted).
 */
import { readdirSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { WebSocket } from 'ws';
import { SegStreamApp } from '../server/app/app.ts';
import { machineFacts } from '../server/bench/machine.ts';
import { buildLaunch } from '../pipelines/index.ts';
import { validateConfig } from '../server/app/config.ts';
import { GstSource } from '../server/stages/source/gst-source.ts';
import { decodeFrameMessage } from '../server/protocol/index.ts';
import { writeFileAtomic } from '../server/util/atomic-write.ts';
import { at } from '../server/util/checked-access.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

interface Options {
  minutes: number;
  model: 'tiny' | 'b0';
  width: number;
  height: number;
  sampleSeconds: number;
  out: string;
  /** Seconds between forced source rebuilds; 0 = none. */
  rebuildEvery: number;
  /** Write V8 heap snapshots at the first and the last sample (to diff in DevTools). */
  heapSnapshots: boolean;
  /** Instead of the soak: measure RSS per frame pulled through gstreamer-superficial, with and without fraction fields in the caps. */
  probeCaps: boolean;
}

const USAGE =
  'usage: npm run soak -- --minutes N [--model tiny|b0] [--size WxH] [--sample-seconds S] [--rebuild-every S] [--heap-snapshots] [--out file.json]\n' +
  '       npm run soak -- --minutes N --probe-caps   (RSS per frame pulled through the GStreamer binding, two caps variants, N/2 minutes each)';

function parseOptions(argv: string[]): Options {
  const opts: Partial<Options> = { model: 'tiny', width: 320, height: 240, sampleSeconds: 60, rebuildEvery: 0, heapSnapshots: false, probeCaps: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = at(argv, i, 'argv');
    const value = argv[i + 1];
    if (flag === '--help' || flag === '-h') {
      console.log(USAGE);
      process.exit(0);
    }
    if (flag === '--heap-snapshots' || flag === '--probe-caps') {
      opts[flag === '--heap-snapshots' ? 'heapSnapshots' : 'probeCaps'] = true;
      continue;
    }
    if (value === undefined) throw new Error(`${flag}: expected a value (${USAGE})`);
    i++;
    switch (flag) {
      case '--minutes': {
        const n = Number(value);
        if (!Number.isFinite(n) || n <= 0 || n > 7 * 24 * 60) throw new Error(`--minutes: expected a number of minutes above 0 (up to a week), got ${JSON.stringify(value)}`);
        opts.minutes = n;
        break;
      }
      case '--model':
        if (value !== 'tiny' && value !== 'b0') throw new Error(`--model: expected tiny or b0, got ${JSON.stringify(value)}`);
        opts.model = value;
        break;
      case '--size': {
        const m = /^(\d+)x(\d+)$/.exec(value);
        if (!m) throw new Error(`--size: expected WIDTHxHEIGHT such as 320x240, got ${JSON.stringify(value)}`);
        opts.width = Number(m[1]);
        opts.height = Number(m[2]); // the config validation below checks the range and evenness
        break;
      }
      case '--sample-seconds': {
        const n = Number(value);
        if (!Number.isInteger(n) || n < 1 || n > 3600) throw new Error(`--sample-seconds: expected an integer from 1 to 3600, got ${JSON.stringify(value)}`);
        opts.sampleSeconds = n;
        break;
      }
      case '--rebuild-every': {
        const n = Number(value);
        if (!Number.isInteger(n) || n < 1 || n > 3600) throw new Error(`--rebuild-every: expected an integer number of seconds from 1 to 3600, got ${JSON.stringify(value)}`);
        opts.rebuildEvery = n;
        break;
      }
      case '--out':
        opts.out = path.resolve(value);
        break;
      default:
        throw new Error(`unknown argument ${JSON.stringify(flag)} (${USAGE})`);
    }
  }
  if (opts.minutes === undefined) throw new Error(`--minutes is required (${USAGE})`);
  opts.out ??= path.join(ROOT, 'bench/results', opts.probeCaps ? `soak-probe-caps-${opts.minutes}min.json` : `soak-${opts.minutes}min${opts.rebuildEvery ? `-rebuild${opts.rebuildEvery}s` : ''}.json`);
  return opts as Options;
}

/** A full garbage collection on demand, without needing node --expose-gc on the command line. */
function gcFunction(): () => void {
  v8.setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

const MB = 2 ** 20;
const CONTROL_TOKEN = `soak-${process.pid}-${Date.now()}-control`;
const round = (v: number, digits = 1) => Math.round(v * 10 ** digits) / 10 ** digits;

// ---------------------------------------------------------------------------------------------------------------
// Viewers

interface ViewerStats {
  name: string;
  connects: number;
  disconnects: number;
  /** Connections that ended without receiving a single frame (a reconnect that never got going). */
  emptyConnections: number;
  frames: number;
  bytes: number;
  errors: string[];
  /** The server's last stats message for this viewer: frame age from capture to the viewer's ack. */
  frameAge: { p50: number; p99: number } | null;
}

/**
 * A slow network link between a viewer and the server: a local TCP relay that passes server->viewer bytes at
 * `bytesPerSecond` and passes nothing at all while stalled. It stops reading from the server when it is behind,
 * so the server sees a slow client through TCP backpressure, as it would over Wi-Fi.
 */
class ThrottledLink {
  private readonly server: net.Server;
  private readonly pairs = new Set<{ up: net.Socket; down: net.Socket }>();
  private budget = 0;
  private stalled = false;
  private readonly timers: NodeJS.Timeout[] = [];
  private stallEnd: NodeJS.Timeout | null = null;

  constructor(
    private readonly targetPort: number,
    private readonly bytesPerSecond: number,
    stallMs: number,
    everyMs: number,
  ) {
    this.server = net.createServer((down) => {
      const up = net.connect(this.targetPort, '127.0.0.1');
      const pair = { up, down };
      this.pairs.add(pair);
      down.on('data', (d) => up.write(d));
      up.on('data', (d) => {
        down.write(d);
        this.budget -= d.length;
        if (this.budget <= 0) up.pause();
      });
      const end = (): void => {
        this.pairs.delete(pair);
        up.destroy();
        down.destroy();
      };
      up.on('close', end).on('error', end);
      down.on('close', end).on('error', end);
    });
    // Refill the budget ten times a second; resume reading from the server while there is budget and no stall.
    this.timers.push(
      setInterval(() => {
        this.budget = Math.min(this.budget + this.bytesPerSecond / 10, this.bytesPerSecond / 10);
        if (this.budget > 0 && !this.stalled) for (const p of this.pairs) p.up.resume();
      }, 100),
    );
    this.timers.push(
      setInterval(() => {
        this.stalled = true;
        for (const p of this.pairs) p.up.pause();
        this.stallEnd = setTimeout(() => (this.stalled = false), stallMs);
      }, everyMs),
    );
  }

  listen(): Promise<number> {
    return new Promise((resolve) => this.server.listen(0, '127.0.0.1', () => resolve((this.server.address() as net.AddressInfo).port)));
  }

  close(): void {
    for (const t of this.timers) clearInterval(t);
    if (this.stallEnd) clearTimeout(this.stallEnd);
    for (const p of this.pairs) {
      p.up.destroy();
      p.down.destroy();
    }
    this.server.close();
  }
}

/** One viewer that keeps itself connected; `behaviour` adds its particular way of misbehaving. */
class SoakViewer {
  readonly stats: ViewerStats;
  private ws: WebSocket | null = null;
  private framesThisConnection = 0;
  private stopped = false;
  private cycle: NodeJS.Timeout | null = null;
  private reconnect: NodeJS.Timeout | null = null;

  constructor(
    name: string,
    private readonly port: number,
    private readonly behaviour: 'normal' | 'slow' | 'reconnecting',
  ) {
    this.stats = { name, connects: 0, disconnects: 0, emptyConnections: 0, frames: 0, bytes: 0, errors: [], frameAge: null };
  }

  start(): void {
    this.connect();
    if (this.behaviour === 'reconnecting') this.cycle = setInterval(() => this.ws?.close(1000, 'soak: reconnect'), 3000);
  }

  stop(): void {
    this.stopped = true;
    if (this.cycle) clearInterval(this.cycle);
    if (this.reconnect) clearTimeout(this.reconnect);
    this.ws?.terminate();
  }

  private connect(): void {
    if (this.stopped) return;
    const ws = new WebSocket(`ws://127.0.0.1:${this.port}/ws`);
    this.ws = ws;
    this.framesThisConnection = 0;
    ws.on('open', () => this.stats.connects++);
    ws.on('message', (data, isBinary) => {
      if (!isBinary) {
        const m = JSON.parse(data.toString()) as { type: string; frameAge?: { p50: number; p99: number } | null; message?: string };
        if (m.type === 'stats' && m.frameAge) this.stats.frameAge = { p50: round(m.frameAge.p50), p99: round(m.frameAge.p99) };
        if (m.type === 'error' && this.stats.errors.length < 20) this.stats.errors.push(String(m.message));
        return;
      }
      const buf = data as Buffer;
      const { header } = decodeFrameMessage(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength));
      this.stats.frames++;
      this.stats.bytes += buf.byteLength;
      this.framesThisConnection++;
      if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'drawn', id: header.id }));
    });
    ws.on('error', (err) => {
      if (this.stats.errors.length < 20) this.stats.errors.push(err.message);
    });
    ws.on('close', () => {
      this.stats.disconnects++;
      if (this.framesThisConnection === 0) this.stats.emptyConnections++;
      // Reconnect (the slow viewer too, if the server dropped it for stalling).
      if (!this.stopped) this.reconnect = setTimeout(() => this.connect(), 100);
    });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Sampling

interface Sample {
  minute: number;
  elapsedS: number;
  rssMB: number;
  heapUsedMB: number;
  heapUsedAfterGcMB: number;
  /** V8 heap spaces after GC: compiled code lives in code_space; JS objects in old_space and new_space. */
  heapSpacesMB: Record<string, number>;
  externalMB: number;
  arrayBuffersMB: number;
  fds: number;
  threads: number;
  load1: number;
  /** Frames in the interval before this sample, scaled to one minute. */
  perMinute: { source: number; inferred: number; sent: number; normal: number; slow: number; reconnecting: number };
  /** Running totals. */
  totals: { framesIn: number; framesSent: number; slowClientDrops: number; stallDisconnects: number; sourceRestarts: number; sourceRebuilds: number; workerRestarts: number; backendErrors: number; reconnects: number };
  frameAgeMs: { normal: { p50: number; p99: number } | null };
}

function countDir(dir: string): number {
  try {
    return readdirSync(dir).length;
  } catch {
    return -1; // not Linux
  }
}

/** Least-squares slope of y over x (per unit of x). */
function slope(points: [number, number][]): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((a, p) => a + p[0], 0) / n;
  const my = points.reduce((a, p) => a + p[1], 0) / n;
  const num = points.reduce((a, p) => a + (p[0] - mx) * (p[1] - my), 0);
  const den = points.reduce((a, p) => a + (p[0] - mx) ** 2, 0);
  return den === 0 ? 0 : num / den;
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  if (opts.probeCaps) return probeCaps(opts);
  const gc = gcFunction();
  const model =
    opts.model === 'tiny' ? { demo: { variant: 'tiny', size: 64, classes: 8 } } : { demo: { variant: 'b0', size: 512, classes: 150 } };
  const config = validateConfig(
    {
      cacheDir: path.join(ROOT, '.cache'),
      server: { port: 0, controlToken: CONTROL_TOKEN },
      sources: { soak: { kind: 'test', width: opts.width, height: opts.height, framerate: 30, pattern: 'smpte', live: false } },
      models: { [opts.model]: model },
      defaultSource: 'soak',
      defaultModel: opts.model,
    },
    'soak config',
    ROOT,
  );
  const serverLog: string[] = [];
  const app = new SegStreamApp({
    config,
    log: (line) => {
      // Keep the log bounded too: the first lines (start-up) and the most recent ones.
      if (serverLog.length < 200) serverLog.push(line);
      else {
        serverLog.splice(100, 1);
        serverLog.push(line);
      }
    },
  });
  const url = await app.start();
  const slowLink = new ThrottledLink(app.port, 256 * 1024, 3000, 10_000);
  const viewers = [new SoakViewer('normal', app.port, 'normal'), new SoakViewer('slow', await slowLink.listen(), 'slow'), new SoakViewer('reconnecting', app.port, 'reconnecting')];
  for (const v of viewers) v.start();
  const rebuilder = opts.rebuildEvery > 0 ? new Rebuilder(app.port, opts.rebuildEvery * 1000) : null;

  const startedAt = new Date();
  const loadStart = os.loadavg();
  console.log(
    `soak: ${opts.minutes} min, model ${opts.model}, test source ${opts.width}x${opts.height} at full speed (live: false), ${url}; ` +
      `sampling every ${opts.sampleSeconds} s; load average at start ${loadStart.map((l) => l.toFixed(2)).join(' ')} on ${os.cpus().length} cores`,
  );

  const samples: Sample[] = [];
  const t0 = performance.now();
  let last = { t: t0, source: 0, inferred: 0, sent: 0, normal: 0, slow: 0, reconnecting: 0 };
  const takeSample = (): Sample => {
    gc();
    const heapAfterGc = process.memoryUsage().heapUsed;
    const heapSpaces = Object.fromEntries(v8.getHeapSpaceStatistics().map((sp) => [sp.space_name, round(sp.space_used_size / MB, 2)]));
    const mem = process.memoryUsage();
    const now = performance.now();
    const c = app.counters;
    const inferred = app.inferenceStage?.completed ?? 0;
    const received = Object.fromEntries(viewers.map((v) => [v.stats.name, v.stats.frames])) as Record<'normal' | 'slow' | 'reconnecting', number>;
    const perMin = (a: number, b: number) => round(((a - b) * 60_000) / Math.max(now - last.t, 1), 0);
    const sample: Sample = {
      minute: round((now - t0) / 60_000, 2),
      elapsedS: round((now - t0) / 1000, 1),
      rssMB: round(mem.rss / MB),
      heapUsedMB: round(mem.heapUsed / MB),
      heapUsedAfterGcMB: round(heapAfterGc / MB),
      heapSpacesMB: heapSpaces,
      externalMB: round(mem.external / MB),
      arrayBuffersMB: round(mem.arrayBuffers / MB),
      fds: countDir('/proc/self/fd'),
      threads: countDir('/proc/self/task'),
      load1: round(at(os.loadavg(), 0, 'load averages'), 2),
      perMinute: {
        source: perMin(c.framesIn, last.source),
        inferred: perMin(inferred, last.inferred),
        sent: perMin(c.framesSent, last.sent),
        normal: perMin(received.normal, last.normal),
        slow: perMin(received.slow, last.slow),
        reconnecting: perMin(received.reconnecting, last.reconnecting),
      },
      totals: {
        framesIn: c.framesIn,
        framesSent: c.framesSent,
        slowClientDrops: app.clients?.framesDroppedTotal ?? 0,
        stallDisconnects: app.clients?.stallDisconnects ?? 0,
        sourceRestarts: c.sourceRestarts,
        sourceRebuilds: rebuilder?.done ?? 0,
        workerRestarts: app.inferenceStage?.workerRestarts ?? 0,
        backendErrors: c.backendErrors,
        reconnects: at(viewers, 2, 'viewers').stats.connects,
      },
      frameAgeMs: { normal: at(viewers, 0, 'viewers').stats.frameAge },
    };
    last = { t: now, source: c.framesIn, inferred, sent: c.framesSent, ...received };
    return sample;
  };
  const print = (s: Sample): void => {
    console.log(
      `[${s.minute.toFixed(2).padStart(6)} min] rss ${s.rssMB} MB, heap ${s.heapUsedMB} MB (${s.heapUsedAfterGcMB} after GC), fds ${s.fds}, threads ${s.threads}, ` +
        `frames/min source ${s.perMinute.source} inferred ${s.perMinute.inferred} sent ${s.perMinute.sent} ` +
        `(viewers: normal ${s.perMinute.normal}, slow ${s.perMinute.slow}, reconnecting ${s.perMinute.reconnecting}), ` +
        `slow-client drops ${s.totals.slowClientDrops}, stall disconnects ${s.totals.stallDisconnects}, reconnects ${s.totals.reconnects}, load ${s.load1}`,
    );
  };

  // Warm-up: the first sample is taken once frames flow, so start-up allocation is not counted as growth.
  const warmEnd = Date.now() + 60_000;
  while (app.counters.framesSent < 10 && Date.now() < warmEnd) await new Promise((r) => setTimeout(r, 100));
  last = { ...last, t: performance.now(), source: app.counters.framesIn, inferred: app.inferenceStage?.completed ?? 0, sent: app.counters.framesSent, ...Object.fromEntries(viewers.map((v) => [v.stats.name, v.stats.frames])) };
  const first = takeSample();
  samples.push(first);
  print(first);
  const snapshotBase = opts.out.replace(/\.json$/, '');
  if (opts.heapSnapshots) console.log(`heap snapshot: ${v8.writeHeapSnapshot(`${snapshotBase}-first.heapsnapshot`)}`);

  let interrupted = false;
  const durationMs = opts.minutes * 60_000;
  const runStart = performance.now();
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const s = takeSample();
      samples.push(s);
      print(s);
      if (performance.now() - runStart >= durationMs - 500) {
        clearInterval(timer);
        resolve();
      }
    }, Math.min(opts.sampleSeconds * 1000, durationMs));
    process.once('SIGINT', () => {
      interrupted = true;
      clearInterval(timer);
      const s = takeSample();
      samples.push(s);
      print(s);
      resolve();
    });
  });

  if (opts.heapSnapshots) console.log(`heap snapshot: ${v8.writeHeapSnapshot(`${snapshotBase}-last.heapsnapshot`)}`);
  for (const v of viewers) v.stop();
  rebuilder?.stop();
  slowLink.close();
  await app.stop();

  const end = at(samples, samples.length - 1, 'samples');
  const hours = (end.elapsedS - first.elapsedS) / 3600;
  const secondHalf = samples.filter((s) => s.elapsedS >= first.elapsedS + (end.elapsedS - first.elapsedS) / 2);
  const perHour = (key: 'rssMB' | 'heapUsedAfterGcMB' | 'fds' | 'threads', points: Sample[]) =>
    round(slope(points.map((s) => [s.elapsedS / 3600, s[key]] as [number, number])), 1);
  const sentPerMinute = samples.slice(1).map((s) => s.perMinute.sent);
  const summary = {
    durationMinutes: round(hours * 60, 2),
    rssMB: { start: first.rssMB, end: end.rssMB, max: Math.max(...samples.map((s) => s.rssMB)), growthPerHourOverall: hours > 0 ? round((end.rssMB - first.rssMB) / hours) : 0, slopePerHourSecondHalf: perHour('rssMB', secondHalf) },
    codeSpaceMB: { start: first.heapSpacesMB.code_space ?? 0, end: end.heapSpacesMB.code_space ?? 0 },
    oldSpaceMB: { start: first.heapSpacesMB.old_space ?? 0, end: end.heapSpacesMB.old_space ?? 0 },
    heapAfterGcMB: { start: first.heapUsedAfterGcMB, end: end.heapUsedAfterGcMB, growthPerHourOverall: hours > 0 ? round((end.heapUsedAfterGcMB - first.heapUsedAfterGcMB) / hours) : 0, slopePerHourSecondHalf: perHour('heapUsedAfterGcMB', secondHalf) },
    fds: { start: first.fds, end: end.fds, max: Math.max(...samples.map((s) => s.fds)), slopePerHourSecondHalf: perHour('fds', secondHalf) },
    threads: { start: first.threads, end: end.threads, max: Math.max(...samples.map((s) => s.threads)) },
    framesSentPerMinute: sentPerMinute.length ? { mean: round(sentPerMinute.reduce((a, b) => a + b, 0) / sentPerMinute.length, 0), min: Math.min(...sentPerMinute), max: Math.max(...sentPerMinute) } : null,
    totals: end.totals,
    viewers: viewers.map((v) => v.stats),
    loadAverage: { start: loadStart, end: os.loadavg() },
    perSourceRebuild:
      end.totals.sourceRebuilds > first.totals.sourceRebuilds
        ? {
            rebuilds: end.totals.sourceRebuilds - first.totals.sourceRebuilds,
            fds: round((end.fds - first.fds) / (end.totals.sourceRebuilds - first.totals.sourceRebuilds), 2),
            rssKB: round(((end.rssMB - first.rssMB) * 1024) / (end.totals.sourceRebuilds - first.totals.sourceRebuilds), 0),
          }
        : null,
  };
  const hints = explain(summary, samples);
  const result = {
    benchmark: 'soak',
    command: `npm run soak -- ${process.argv.slice(2).join(' ')}`.trim(),
    startedAt: startedAt.toISOString(),
    interrupted,
    options: { ...opts, out: path.relative(ROOT, opts.out) },
    machine: machineFacts(),
    note: 'RSS and fds are of this one process: the server plus its three WebSocket viewers. The machine may have been shared with other work (see loadAverage and each sample\'s load1).',
    summary,
    hints,
    samples,
    serverLog,
  };
  await writeFileAtomic(opts.out, `${JSON.stringify(result, null, 2)}\n`);

  console.log('\nsummary');
  console.log(`  RSS       ${summary.rssMB.start} -> ${summary.rssMB.end} MB (max ${summary.rssMB.max}); ${summary.rssMB.growthPerHourOverall} MB/h overall, ${summary.rssMB.slopePerHourSecondHalf} MB/h over the second half`);
  console.log(
    `  heap(GC)  ${summary.heapAfterGcMB.start} -> ${summary.heapAfterGcMB.end} MB; ${summary.heapAfterGcMB.growthPerHourOverall} MB/h overall ` +
      `(code space ${summary.codeSpaceMB.start} -> ${summary.codeSpaceMB.end} MB, old space ${summary.oldSpaceMB.start} -> ${summary.oldSpaceMB.end} MB)`,
  );
  console.log(`  fds       ${summary.fds.start} -> ${summary.fds.end} (max ${summary.fds.max}); threads ${summary.threads.start} -> ${summary.threads.end}`);
  if (summary.framesSentPerMinute) console.log(`  frames/min sent: mean ${summary.framesSentPerMinute.mean}, min ${summary.framesSentPerMinute.min}, max ${summary.framesSentPerMinute.max}`);
  if (summary.perSourceRebuild) console.log(`  per source rebuild (${summary.perSourceRebuild.rebuilds}): ${summary.perSourceRebuild.fds} fds, ${summary.perSourceRebuild.rssKB} KB RSS`);
  console.log(`  slow-client drops ${end.totals.slowClientDrops}, stall disconnects ${end.totals.stallDisconnects}, reconnects ${end.totals.reconnects}, source restarts ${end.totals.sourceRestarts}, worker restarts ${end.totals.workerRestarts}, backend errors ${end.totals.backendErrors}`);
  for (const h of hints) console.log(`  - ${h}`);
  console.log(`wrote ${path.relative(ROOT, opts.out)}`);
  // GStreamer's and ONNX Runtime's threads do not always let the loop end by itself.
  process.exit(0);
}

/**
 * --probe-caps: pulls frames through gstreamer-superficial as fast as the test source makes them, first with the
 * caps as negotiated (they carry fraction fields: framerate, pixel-aspect-ratio), then with a capssetter that leaves
 * only format/width/height, and reports RSS growth per pulled frame for each. The binding converts each sample's
 * caps to a JS object; for values it has no direct conversion for (fractions) the unpatched 1.7.4 leaked the
 * transformed string (fixed by patches/gstreamer-superficial+1.7.4.patch), so both variants should now be near 0.
 */
async function probeCaps(opts: Options): Promise<void> {
  const seconds = (opts.minutes * 60) / 2;
  const startedAt = new Date().toISOString();
  // RSS is read after a full GC: without it, garbage the JS heap has not collected yet (a caps object and a frame
  // Buffer per pull) moves RSS by tens of MB either way within a minute, more than the leak this probe looks for.
  const gc = gcFunction();
  const base = buildLaunch('probe', { kind: 'test', width: opts.width, height: opts.height, live: false });
  const variants = [
    { name: 'caps as negotiated', launch: base },
    {
      name: 'caps without fraction fields (capssetter)',
      launch: base.replace('appsink name=', `capssetter replace=true caps="video/x-raw,format=NV12,width=${opts.width},height=${opts.height}" ! appsink name=`),
    },
  ];
  const results = [];
  for (const v of variants) {
    const source = new GstSource({ name: 'probe', launch: v.launch });
    let frames = 0;
    source.on('frame', () => frames++);
    source.start();
    await new Promise((r) => setTimeout(r, 10_000)); // warm-up: buffer pools, allocator arenas
    gc();
    const rss0 = process.memoryUsage().rss;
    const frames0 = frames;
    await new Promise((r) => setTimeout(r, seconds * 1000));
    gc();
    const grown = process.memoryUsage().rss - rss0;
    const pulled = frames - frames0;
    await source.stop();
    const result = { variant: v.name, caps: source.caps?.text ?? '', seconds, framesPulled: pulled, rssGrowthMB: round(grown / MB, 2), bytesPerFrame: round(grown / Math.max(pulled, 1), 1) };
    console.log(`${result.variant}: ${pulled} frames in ${seconds} s, RSS ${result.rssGrowthMB >= 0 ? '+' : ''}${result.rssGrowthMB} MB = ${result.bytesPerFrame} B per frame (caps ${result.caps})`);
    results.push(result);
  }
  await writeFileAtomic(
    opts.out,
    `${JSON.stringify({ benchmark: 'soak --probe-caps', command: `npm run soak -- ${process.argv.slice(2).join(' ')}`, startedAt, rss: 'after a full GC', machine: machineFacts(), loadAverage: os.loadavg(), results }, null, 2)}\n`,
  );
  console.log(`wrote ${path.relative(ROOT, opts.out)}`);
  process.exit(0);
}

/** A controller holding the token that re-selects the same source every `everyMs`, which rebuilds its pipeline. */
class Rebuilder {
  done = 0;
  private readonly ws: WebSocket;
  private readonly timer: NodeJS.Timeout;

  constructor(port: number, everyMs: number) {
    this.ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
    this.ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      const m = JSON.parse(data.toString()) as { type: string; ok?: boolean; message?: string };
      if (m.type === 'control-result') {
        if (m.ok) this.done++;
        else console.error(`soak: rebuild refused: ${m.message}`);
      }
    });
    this.timer = setInterval(() => {
      if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({ type: 'control', token: CONTROL_TOKEN, action: 'set-source', value: 'soak' }));
    }, everyMs);
  }

  stop(): void {
    clearInterval(this.timer);
    this.ws.terminate();
  }
}

/** Plain-language reading of the figures: what is flat, what grew, and the usual reasons. */
function explain(
  summary: {
    rssMB: { start: number; end: number; slopePerHourSecondHalf: number; growthPerHourOverall: number };
    heapAfterGcMB: { start: number; end: number; slopePerHourSecondHalf: number };
    codeSpaceMB: { start: number; end: number };
    oldSpaceMB: { start: number; end: number };
    fds: { start: number; end: number; max: number };
    totals: Sample['totals'];
    viewers: ViewerStats[];
  },
  samples: Sample[],
): string[] {
  const hints: string[] = [];
  const first = at(samples, 0, 'samples');
  const last = at(samples, samples.length - 1, 'samples');
  if (samples.length < 4) hints.push('fewer than 4 samples: too short to tell growth from warm-up; run longer (e.g. --minutes 30)');
  const fdDrift = summary.fds.end - summary.fds.start;
  hints.push(
    Math.abs(fdDrift) <= 3
      ? `open fds flat (${summary.fds.start} -> ${summary.fds.end}; the reconnecting viewer opens and closes a socket every 3 s, both ends in this process)`
      : `open fds changed by ${fdDrift} (max ${summary.fds.max}); source rebuilds in this run: ${summary.totals.sourceRestarts} by the watchdog, ${summary.totals.sourceRebuilds} forced. ` +
          'Unpatched, gstreamer-superficial kept 4 fds per pipeline rebuild: check that patches/gstreamer-superficial+1.7.4.patch is applied (npm install applies it and rebuilds the binding)',
  );
  if (summary.rssMB.slopePerHourSecondHalf <= 5) hints.push(`RSS flat after warm-up (${summary.rssMB.slopePerHourSecondHalf} MB/h over the second half)`);
  else {
    const pulled = last.totals.framesIn - first.totals.framesIn;
    hints.push(
      `RSS grows ${summary.rssMB.slopePerHourSecondHalf} MB/h over the second half. Unpatched, gstreamer-superficial leaked about 100 bytes for every frame pulled ` +
        `(the strings it made for the caps' fraction fields; fixed by patches/gstreamer-superficial+1.7.4.patch; measure it with --probe-caps); this run pulled ` +
        `${pulled} frames (${Math.round(pulled / Math.max((last.elapsedS - first.elapsedS) / 60, 1e-9))} per minute: the test source runs at full speed). ` +
        'Divide the RSS growth by that count and compare with --probe-caps.',
    );
  }
  const heapGrowth = summary.heapAfterGcMB.end - summary.heapAfterGcMB.start;
  if (heapGrowth > 0.5) {
    const code = summary.codeSpaceMB.end - summary.codeSpaceMB.start;
    const old = summary.oldSpaceMB.end - summary.oldSpaceMB.start;
    hints.push(
      `JS heap after GC grew ${round(heapGrowth, 2)} MB (code space ${round(code, 2)} MB, old space ${round(old, 2)} MB). V8 keeps optimising and ` +
        're-optimising functions for a long time and their code and deoptimisation data live in these spaces; retained JS objects would show as ' +
        'per-connection or per-frame object counts in a heap snapshot diff (--heap-snapshots).',
    );
  }
  if (summary.rssMB.growthPerHourOverall > summary.rssMB.slopePerHourSecondHalf * 2 && summary.rssMB.growthPerHourOverall > 5)
    hints.push("most RSS growth is in the first half: allocator arenas, JIT code, buffer pools and ONNX Runtime's memory arena filling up");
  const slow = summary.viewers.find((v) => v.name === 'slow');
  if (slow) hints.push(`the slow viewer received ${slow.frames} frames; ${summary.totals.slowClientDrops} frames were dropped for slow viewers instead of queued, ${summary.totals.stallDisconnects} stall disconnects`);
  const rec = summary.viewers.find((v) => v.name === 'reconnecting');
  if (rec) hints.push(`the reconnecting viewer connected ${rec.connects} times; ${rec.emptyConnections} connections ended without a frame`);
  return hints;
}

main().catch((err: Error) => {
  console.error(`soak: ${err.message}`);
  process.exit(1);
});
