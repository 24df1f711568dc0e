import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { POSTPROCESS_MODES } from '../protocol/index.ts';
import { writeFileAtomic } from '../util/atomic-write.ts';
import { UsageError, InputError } from '../util/errors.ts';
import { DEFAULT_BENCH, runBench, type BenchOptions, type BenchResult } from '../bench/run.ts';
import { browserCostLines } from '../bench/browser-cost.ts';
import { appendCsvRows, csvHeaderProblem } from '../bench/csv-file.ts';
import { formatInterval } from '../bench/interval.ts';
import { benchReportHtml } from '../bench/report-html.ts';
import { MAX_ROUNDS, planRounds } from '../bench/rounds.ts';
import { formatMs, stageTable } from '../bench/summary.ts';
import { deprecated, integerFlag, optionalString, parseChoice, parseCommandArgs, runCli, sizeFlag, type Options } from './args.ts';
import { importOptional } from './optional-package.ts';
import { fileSourceProblem, OVERLAY_CHOICES, SOURCE_OPTIONS } from './serve.ts';

const BENCH_OPTIONS = {
  ...SOURCE_OPTIONS,
  'source-fps': { type: 'string' },
  model: { type: 'string' },
  backend: { type: 'string' },
  'demo-size': { type: 'string' },
  threads: { type: 'string' },
  postprocess: { type: 'string' },
  overlay: { type: 'string' },
  'jpeg-quality': { type: 'string' },
  frames: { type: 'string' },
  duration: { type: 'string' },
  warmup: { type: 'string' },
  'model-only-runs': { type: 'string' },
  rounds: { type: 'string' },
  'memory-arena': { type: 'string' },
  browser: { type: 'boolean' },
  peers: { type: 'string' },
  json: { type: 'boolean' },
  out: { type: 'string' },
  csv: { type: 'string' },
  'cache-dir': { type: 'string' },
  'compare-quantized': { type: 'string' },
  'accuracy-images': { type: 'string' },
} as const satisfies Options;

export const BENCH_HELP = `usage: segstream bench [options]        (also: npm run bench -- [options])

Runs source -> preprocess -> infer -> postprocess -> overlay -> encode -> send headless for N frames (or a
duration) after a warm-up, and the same model on a fixed tensor (model-only), interleaved in rounds
([pipeline | model-only], [model-only | pipeline], ...) so a drifting machine slows both alike; reports
per-stage p50/p90/p99/max, end-to-end fps vs model-only fps per round with a 95% interval, frame age,
drops by where, CPU and resident memory.
Writes bench.json, bench.csv and report.html (a datasheet with charts: open it in a browser) into a new
folder under $XDG_CACHE_HOME/segstream/bench/ (~/.cache/segstream/bench/), never into the checkout
unless --out says so; the folder is printed at the end.

Source (the same flags as serve; default: the moving test pattern):
  --file PATH            a video/image file (the old spelling --source FILE still works, deprecated)
  --usb DEVICE           a USB camera, e.g. /dev/video0
  --x5-mipi DEVICE       an RDK X5 MIPI camera V4L2 node, e.g. /dev/video8
  --rtsp URL             a network camera
  --size WxH             frame size (default 1280x720)
  --fps N                source rate, paced like a camera, 0-240 (default 30; 0 = as fast as frames are
                         taken; the old spelling --source-fps still works, deprecated)
Model:
  --model demo|PATH      the generated SegFormer-B0-shaped demo model (default), an .onnx file, or
                         BPU .bin file(s) (comma-separated) with --backend bpu
  --backend onnx|bpu     default: onnx (bpu for .bin files)
  --demo-size N          demo model input size, 32-2048 (default 512)
  --threads N            ONNX Runtime intra-op threads, 0-256 (default 0: the runtime's choice)
  --memory-arena on|off  ONNX Runtime's CPU memory arena (default on; off also caps glibc's malloc
                         arenas, as inference.memoryArena: false does in serve)
  --postprocess MODE     boundary (default), exact, lowres
Output of the stream:
  --overlay client|server  server (default here: the overlay blended into the JPEG, the full chain) or client
                         (the viewer blends the class map); the old on|off still work, deprecated
  --jpeg-quality N       1-100 (default 80)
Run:
  --frames N             measured frames in all, split over the rounds, 2-1000000 (default 60)
  --duration S           measure for S seconds in all (split over the rounds) instead of a frame count
  --warmup N             frames excluded at the start of each round's pipeline (default 5)
  --model-only-runs N    model-only runs in all, split over the rounds (default 30)
  --rounds K             [pipeline | model-only] rounds, 1-1000 (default 5, fewer when that would leave
                         a round under 2 frames, 10 s of --duration or 1 model-only run); each round's
                         pipeline is a fresh server; 1 = the pipeline, then the model alone
  --browser              attach headless Chromium running the viewer (frame age = capture -> drawn;
                         needs playwright-core, a development dependency)
  --peers N              also run N of the same frames through transformers.js's image-segmentation
                         pipeline and a hand-written onnxruntime-node loop (needs @huggingface/transformers,
                         a development dependency; default 0: skip)
  --compare-quantized Q  also time the QDQ model Q (segstream quantize) in the same run: end-to-end and
                         model-only for each, model-only interleaved, and ONNX Runtime's integer kernels
  --accuracy-images DIR  with --compare-quantized: the accuracy cost (segstream verify, quantized vs float)
                         on these images
Results:
  --out DIR|FILE.json    the folder to write into (created), or a .json file (report.html and the CSV go
                         beside it, same name); bench/results/ only when you name it here
  --csv FILE             also append a CSV row to FILE (bench/datasheet.sh appends to bench/results/bench.csv)
  --json                 print the full result as JSON on stdout (progress goes to stderr)
  --cache-dir DIR        where the demo model is generated (default .cache)
  -h, --help             this text

examples:
  segstream bench
  segstream bench --frames 200 --threads 2 --postprocess lowres
  segstream bench --rounds 8 --frames 160 --model-only-runs 80 --memory-arena off
  segstream bench --file clip.mp4 --model models/segformer-b0-ade/model.onnx --overlay client
  segstream bench --usb /dev/video0 --size 640x480 --duration 60 --out bench-usb/
  segstream bench --json | jq .pipeline.fps
  segstream bench --compare-quantized quant/model_qdq.onnx --accuracy-images photos/
`;

export interface ParsedBenchArgs {
  options: Omit<BenchOptions, 'log'>;
  json: boolean;
  /** --out as given: a folder, or a .json file; undefined = a new folder in the cache. */
  out: string | undefined;
  csv: string | undefined;
  help: boolean;
  /** Old spellings used, to be noted on stderr. */
  deprecations: [string, string][];
  /** A QDQ model to time against the float one in the same run, and images for its accuracy cost. */
  compareQuantized?: string;
  accuracyImages?: string;
}

export function parseBenchArgs(argv: string[], values = parseBenchValues(argv)): ParsedBenchArgs {
  const deprecations: [string, string][] = [];
  const size = sizeFlag(values, 'size') ?? { width: DEFAULT_BENCH.width, height: DEFAULT_BENCH.height };
  const postprocess = parseChoice('postprocess', optionalString(values, 'postprocess'), POSTPROCESS_MODES, DEFAULT_BENCH.postprocess);
  let overlayRaw = optionalString(values, 'overlay');
  if (overlayRaw === 'on' || overlayRaw === 'off') {
    const instead = overlayRaw === 'on' ? 'server' : 'client';
    deprecations.push([`--overlay ${overlayRaw}`, `--overlay ${instead}`]);
    overlayRaw = instead;
  }
  const overlay = parseChoice('overlay', overlayRaw, OVERLAY_CHOICES, 'server');
  let fileFlag = optionalString(values, 'file');
  const sourceFlag = optionalString(values, 'source');
  const cameras = (['usb', 'x5-mipi', 'rtsp'] as const).filter((k) => values[k] !== undefined);
  const sources = [...(sourceFlag !== undefined ? ['--source'] : []), ...(fileFlag !== undefined ? ['--file'] : []), ...cameras.map((c) => `--${c}`)];
  if (sources.length > 1) throw new UsageError(`choose one source: got ${sources.join(' and ')}`);
  if (sourceFlag !== undefined && sourceFlag !== 'test') {
    deprecations.push([`--source ${sourceFlag}`, `--file ${sourceFlag}`]);
    fileFlag = sourceFlag;
  }
  let fpsRaw = optionalString(values, 'fps');
  if (values['source-fps'] !== undefined) {
    if (fpsRaw !== undefined) throw new UsageError('--source-fps is the old spelling of --fps: give one');
    deprecations.push(['--source-fps', '--fps']);
    fpsRaw = optionalString(values, 'source-fps');
  }
  const camera = cameras[0];
  const file = fileFlag !== undefined ? path.resolve(fileFlag) : undefined;
  const source: BenchOptions['source'] = camera ?? (file ? 'file' : 'test');
  const model = optionalString(values, 'model') ?? 'demo';
  const durationS = integerFlag(values, 'duration', 1, 86_400, 0);
  const rounds = integerFlag(values, 'rounds', 1, MAX_ROUNDS);
  const memoryArena = parseChoice('memory-arena', optionalString(values, 'memory-arena'), ['on', 'off'] as const, 'on') === 'on';
  const options: Omit<BenchOptions, 'log'> = {
    ...DEFAULT_BENCH,
    source,
    ...(file ? { file } : {}),
    ...(camera === 'usb' || camera === 'x5-mipi' ? { device: optionalString(values, camera)! } : {}),
    ...(camera === 'rtsp' ? { url: optionalString(values, 'rtsp')! } : {}),
    width: size.width,
    height: size.height,
    sourceFps: fpsRaw === undefined ? DEFAULT_BENCH.sourceFps : integerFlag({ fps: fpsRaw }, 'fps', 0, 240, DEFAULT_BENCH.sourceFps),
    model,
    backend: parseBackend(optionalString(values, 'backend'), model),
    demoSize: integerFlag(values, 'demo-size', 32, 2048, DEFAULT_BENCH.demoSize),
    threads: integerFlag(values, 'threads', 0, 256, DEFAULT_BENCH.threads),
    memoryArena,
    postprocess,
    overlay: overlay === 'server',
    jpegQuality: integerFlag(values, 'jpeg-quality', 1, 100, DEFAULT_BENCH.jpegQuality),
    frames: integerFlag(values, 'frames', 2, 1_000_000, DEFAULT_BENCH.frames),
    durationS,
    warmup: integerFlag(values, 'warmup', 0, 10_000, DEFAULT_BENCH.warmup),
    modelOnlyRuns: integerFlag(values, 'model-only-runs', 1, 100_000, DEFAULT_BENCH.modelOnlyRuns),
    ...(rounds !== undefined ? { rounds } : {}),
    browser: values.browser === true,
    peers: integerFlag(values, 'peers', 0, 10_000, 0),
    cacheDir: path.resolve(optionalString(values, 'cache-dir') ?? '.cache'),
  };
  try {
    planRounds(options);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const compareQuantized = optionalString(values, 'compare-quantized');
  const accuracyImages = optionalString(values, 'accuracy-images');
  if (accuracyImages !== undefined && compareQuantized === undefined) throw new UsageError('--accuracy-images applies to --compare-quantized');
  if (compareQuantized !== undefined && (options.backend === 'bpu' || options.peers > 0 || options.browser)) {
    throw new UsageError('--compare-quantized compares two ONNX models on the CPU: drop --backend bpu, --peers and --browser');
  }
  return {
    options,
    ...(compareQuantized !== undefined ? { compareQuantized: path.resolve(compareQuantized) } : {}),
    ...(accuracyImages !== undefined ? { accuracyImages: path.resolve(accuracyImages) } : {}),
    json: values.json === true,
    out: optionalString(values, 'out'),
    csv: optionalString(values, 'csv'),
    help: values.help === true,
    deprecations,
  };
}

function parseBenchValues(argv: string[]) {
  // parseBenchArgs(argv) alone (tests, tools) parses with the same layer as the command.
  return parseCommandArgs('bench', argv, { ...BENCH_OPTIONS, help: { type: 'boolean', short: 'h' } }).values;
}

function parseBackend(value: string | undefined, model: string): 'onnx' | 'bpu' {
  const backend = parseChoice('backend', value, ['onnx', 'bpu'] as const);
  if (backend === undefined) return /\.(bin|json)$/i.test(model) ? 'bpu' : 'onnx';
  if (backend === 'bpu' && model === 'demo') throw new UsageError('--backend bpu needs --model with the .bin file(s)');
  return backend;
}

/** Where the results go: a folder (bench.json, bench.csv, report.html), or a .json file with the rest beside it. */
export function benchOutputs(out: string | undefined, csv: string | undefined, startedAt: Date, env: NodeJS.ProcessEnv = process.env): { json: string; html: string; csv: string; appendCsv?: string } {
  let json: string;
  let html: string;
  let ownCsv: string;
  if (out !== undefined && /\.json$/i.test(out)) {
    json = path.resolve(out);
    html = json.replace(/\.json$/i, '.html');
    ownCsv = json.replace(/\.json$/i, '.csv');
  } else {
    const cache = env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : path.join(os.homedir(), '.cache');
    const stamp = startedAt.toISOString().replace(/:/g, '-').replace(/\.\d+Z$/, 'Z');
    const dir = out !== undefined ? path.resolve(out) : path.join(cache, 'segstream', 'bench', stamp);
    json = path.join(dir, 'bench.json');
    html = path.join(dir, 'report.html');
    ownCsv = path.join(dir, 'bench.csv');
  }
  // With --csv the row is appended there (a running table, as bench/datasheet.sh keeps); else a one-row file.
  return csv !== undefined ? { json, html, csv: path.resolve(csv), appendCsv: path.resolve(csv) } : { json, html, csv: ownCsv };
}

export const CSV_COLUMNS = [
  'startedAt', 'cpuModel', 'cores', 'arch', 'node', 'onnxruntime', 'gstreamer', 'segstream', 'model', 'size', 'threads',
  'postprocess', 'overlay', 'frames', 'e2eFps', 'modelOnlyFps', 'e2eVsModelOnly', 'inferP50', 'frameP99', 'frameAgeP99',
  'nonModelCpuShare', 'rssPeakMiB', 'rssGrowthMiB',
  // Added with the interleaved rounds (older files get the longer header on their next row: csv-file.ts).
  'memoryArena', 'rounds', 'e2eVsModelOnlyMean', 'e2eVsModelOnlyCi95Low', 'e2eVsModelOnlyCi95High', 'ageP99VsModelP50',
  'ageP99VsModelP50Mean', 'ageP99VsModelP50Ci95Low', 'ageP99VsModelP50Ci95High', 'rssMinMiB', 'rssMedianMiB', 'rssMaxMiB',
] as const;

export function csvRow(r: BenchResult): string {
  const values: (string | number)[] = [
    r.startedAt, r.machine.cpuModel, r.machine.cores, r.machine.arch, r.machine.node, r.machine.onnxruntime, r.machine.gstreamer,
    r.machine.segstream, r.model.name, `${r.options.width}x${r.options.height}`, r.options.threads, r.options.postprocess,
    r.options.overlay ? 'on' : 'off', r.pipeline.frames, r.pipeline.fps.toFixed(3), r.modelOnly.fps.toFixed(3),
    r.endToEndVsModelOnly.toFixed(3), (r.pipeline.stages.infer?.p50 ?? NaN).toFixed(2), r.pipeline.total.p99.toFixed(2),
    r.frameAge ? r.frameAge.p99.toFixed(2) : '', r.cpu.nonModelShare.toFixed(3), r.memory.rssPeakMiB.toFixed(1),
    (r.memory.rssEndMiB - r.memory.rssStartMiB).toFixed(1),
    r.memory.memoryArena ? 'on' : 'off', r.interleaved.rounds.length, fixed(r.interleaved.e2eVsModelOnly.mean, 3),
    fixed(r.interleaved.e2eVsModelOnly.low, 3), fixed(r.interleaved.e2eVsModelOnly.high, 3), fixed(r.frameAgeP99VsModel, 3),
    fixed(r.interleaved.frameAgeP99VsModelP50?.mean, 3), fixed(r.interleaved.frameAgeP99VsModelP50?.low, 3),
    fixed(r.interleaved.frameAgeP99VsModelP50?.high, 3), fixed(r.memory.rss?.minMiB, 1), fixed(r.memory.rss?.medianMiB, 1),
    fixed(r.memory.rss?.maxMiB, 1),
  ];
  return values.map((v) => (typeof v === 'string' && /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : String(v))).join(',');
}

/** A CSV cell: the number to `digits`, empty when there is none. */
function fixed(v: number | null | undefined, digits: number): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '' : v.toFixed(digits);
}

export function formatResult(r: BenchResult): string {
  const p = r.pipeline;
  const i = r.interleaved;
  const lines = [
    `segstream bench  ${r.startedAt}`,
    `machine: ${r.machine.cpuModel}, ${r.machine.cores} cores, ${r.machine.arch}; node ${r.machine.node}, onnxruntime-node ${r.machine.onnxruntime}, GStreamer ${r.machine.gstreamer}`,
    `model:   ${r.model.name} (${r.model.input}) on ${r.model.runtime}${
      r.model.runtime.includes('test double') ? ' -- NOT A BOARD: BPU timings here are the double\'s, not the BPU\'s' : r.model.untrainedDemo ? ' -- untrained demo model: speed is real, masks are not' : ''
    }`,
    `source:  ${r.options.source} ${r.options.width}x${r.options.height} @ ${r.options.sourceFps || 'max'} fps; post-processing ${r.options.postprocess}; server overlay ${r.options.overlay ? 'on' : 'off'}; threads ${r.options.threads || 'default'}; memory arena ${r.memory.memoryArena ? 'on' : 'off'}`,
    '',
    stageTable(p),
    '',
    `end-to-end:   ${p.fps.toFixed(2)} fps over ${p.frames} frames (${p.seconds.toFixed(1)} s, ${p.warmupFrames} warm-up frames excluded per round)`,
    `model-only:   ${r.modelOnly.fps.toFixed(2)} fps (p50 ${formatMs(r.modelOnly.ms.p50)} ms, p99 ${formatMs(r.modelOnly.ms.p99)} ms, ${r.modelOnly.runs} runs)`,
    `ratio:        end-to-end = ${(r.endToEndVsModelOnly * 100).toFixed(1)}% of model-only (all rounds pooled)`,
    `rounds:       ${i.rounds.length} of [pipeline | model-only], order alternating${i.automatic ? '' : ' (--rounds)'}; end-to-end / model-only per round: ${i.rounds.map((x) => x.e2eVsModelOnly.toFixed(3)).join(' ')}`,
    `              mean ${formatInterval(i.e2eVsModelOnly)}`,
    ...(i.frameAgeP99VsModelP50
      ? [`              frame age p99 / model p50 per round: ${i.rounds.map((x) => (x.frameAgeP99VsModelP50 === null ? '-' : x.frameAgeP99VsModelP50.toFixed(2))).join(' ')}; mean ${formatInterval(i.frameAgeP99VsModelP50, 2)}`]
      : []),
    `stage sum:    ${(p.stageSumRatio * 100).toFixed(1)}% of the measured frame time (the rest is hand-off between threads)`,
    `dropped:      ${p.dropped.inferenceBusy} while the model was busy (of ${p.dropped.captured} captured, latest frame wins), ${p.dropped.renderBusy} render-busy, ${p.dropped.slowClient} to slow clients, ${p.dropped.errors} errors`,
    `frame age:    ${r.frameAge ? `p50 ${formatMs(r.frameAge.p50)} / p99 ${formatMs(r.frameAge.p99)} ms (${r.frameAge.client}); p99 = ${r.frameAgeP99VsModel!.toFixed(2)}x model p50` : 'no acknowledged frames'}`,
    `cpu:          server ${r.cpu.serverCores.toFixed(2)} cores${r.cpu.browserCores !== null ? `, browser ${r.cpu.browserCores.toFixed(2)} cores` : ''}; outside the model: ${(r.cpu.nonModelShare * 100).toFixed(1)}% of the server's CPU`,
    ...browserCostLines(r.cpu.browserMsPerDrawnFrame, r.cpu.browserMsPerDrawnFrameByType, r.browserBreakdown),
    ...r.peers.map((p) => `peer:         ${p.name}: ${p.fps.toFixed(2)} fps (p50 ${formatMs(p.ms.p50)} ms)`),
    ...(r.endToEndVsTransformersJs !== null ? [`summary:      segstream end-to-end = ${(r.endToEndVsModelOnly * 100).toFixed(0)}% of model-only = ${r.endToEndVsTransformersJs.toFixed(2)}x transformers.js`] : []),
    `memory:       RSS ${r.memory.rssStartMiB.toFixed(0)} MiB at start of measurement, peak ${r.memory.rssPeakMiB.toFixed(0)}, end ${r.memory.rssEndMiB.toFixed(0)} MiB`,
    ...(r.memory.rss
      ? [`              over the measured windows (after warm-up, ${r.memory.rss.samples} readings): min ${r.memory.rss.minMiB.toFixed(0)}, median ${r.memory.rss.medianMiB.toFixed(0)}, max ${r.memory.rss.maxMiB.toFixed(0)} MiB; memory arena ${r.memory.memoryArena ? 'on' : 'off'}; model-only process (Node, the runtime and the model) ${r.modelOnly.rssMiB.toFixed(0)} MiB`]
      : []),
    '',
  ];
  return lines.join('\n');
}

export async function main(argv: string[]): Promise<number> {
  return runCli({ name: 'bench', options: BENCH_OPTIONS, help: BENCH_HELP }, argv, async ({ values }) => {
    const parsed = parseBenchArgs(argv, values);
    for (const [old, instead] of parsed.deprecations) deprecated('bench', old, instead);
    const o = parsed.options;
    // Fail now, not after the measurement: a --file that is not there, a package a production install lacks.
    if (o.file) {
      const problem = await fileSourceProblem(o.file);
      if (problem) throw new InputError(`--file: ${problem}`);
    }
    if (o.peers > 0) await importOptional('@huggingface/transformers', '--peers');
    if (o.browser) await importOptional('playwright-core', '--browser');
    const outputs = benchOutputs(parsed.out, parsed.csv, new Date());
    if (outputs.appendCsv) {
      const problem = await csvHeaderProblem(outputs.appendCsv, CSV_COLUMNS);
      if (problem) throw new InputError(`--csv: ${problem}`);
    }
    if (parsed.compareQuantized) return compareQuantized(parsed, outputs);
    const result = await runBench({ ...o, log: (l) => process.stderr.write(`${l}\n`) });
    await fs.mkdir(path.dirname(outputs.json), { recursive: true });
    await writeFileAtomic(outputs.json, `${JSON.stringify(result, null, 2)}\n`);
    await writeFileAtomic(outputs.html, benchReportHtml(result));
    if (outputs.appendCsv) await appendCsvRows(outputs.appendCsv, [csvRow(result)], CSV_COLUMNS);
    else await writeFileAtomic(outputs.csv, `${CSV_COLUMNS.join(',')}\n${csvRow(result)}\n`);
    process.stdout.write(parsed.json ? `${JSON.stringify(result, null, 2)}\n` : formatResult(result));
    const shown = (f: string) => (path.relative(process.cwd(), f).startsWith('..') ? f : path.relative(process.cwd(), f) || f);
    process.stderr.write(`bench: wrote ${shown(outputs.json)}, ${outputs.appendCsv ? `appended a row to ${shown(outputs.csv)}` : shown(outputs.csv)}\n`);
    process.stderr.write(`bench: datasheet: ${shown(outputs.html)}  (open it in a browser)\n`);
    return 0;
  });
}

/** `--compare-quantized`: float and QDQ model timed in one run (server/toolkit/quantize/bench-compare.ts). */
async function compareQuantized(parsed: ParsedBenchArgs, outputs: ReturnType<typeof benchOutputs>): Promise<number> {
  const { runQuantizedComparison, formatComparison } = await import('../toolkit/quantize/bench-compare.ts');
  const c = await runQuantizedComparison(
    { ...parsed.options, log: (l) => process.stderr.write(`${l}\n`) },
    { quantized: parsed.compareQuantized!, ...(parsed.accuracyImages ? { accuracyImages: parsed.accuracyImages } : {}) },
  );
  await fs.mkdir(path.dirname(outputs.json), { recursive: true });
  await writeFileAtomic(outputs.json, `${JSON.stringify(c, null, 2)}\n`);
  const rows = [csvRow(c.float), csvRow(c.quantized)];
  if (outputs.appendCsv) await appendCsvRows(outputs.appendCsv, rows, CSV_COLUMNS);
  else await writeFileAtomic(outputs.csv, `${CSV_COLUMNS.join(',')}\n${rows.join('\n')}\n`);
  process.stdout.write(parsed.json ? `${JSON.stringify(c, null, 2)}\n` : formatComparison(c));
  process.stderr.write(`bench: wrote ${outputs.json} and ${outputs.appendCsv ?? outputs.csv}\n`);
  return 0;
}
