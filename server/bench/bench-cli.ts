import path from 'node:path';
import { parseArgs } from 'node:util';
import { POSTPROCESS_MODES, type PostprocessMode } from '../backends/worker-protocol.ts';
import { appendLineAtomic, writeFileAtomic } from '../util/atomic-write.ts';
import { DEFAULT_BENCH, runBench, type BenchOptions, type BenchResult } from './run.ts';
import { formatMs, stageTable } from './summary.ts';

const HELP = `usage: segstream bench [options]        (also: npm run bench -- [options])

Runs source -> preprocess -> infer -> postprocess -> overlay -> encode -> send headless for N frames (or a
duration) after a warm-up, then the same model on a fixed tensor (model-only) in the same run, and reports
per-stage p50/p90/p99/max, end-to-end fps vs model-only fps, drops by where, CPU and memory.

  --source test|FILE     the moving test pattern (default) or a video/image file
  --usb DEVICE           a USB camera instead, e.g. /dev/video0
  --x5-mipi DEVICE       an RDK X5 MIPI camera V4L2 node instead, e.g. /dev/video8
  --rtsp URL             a network camera instead
  --size WxH             frame size (default 1280x720)
  --source-fps N         test source rate, paced like a camera (default 30; 0 = as fast as taken)
  --model demo|PATH      the generated SegFormer-B0-shaped demo model (default), an .onnx file, or
                         BPU .bin file(s) (comma-separated) with --backend bpu
  --backend onnx|bpu     default: onnx (bpu for .bin files)
  --demo-size N          demo model input size (default 512)
  --threads N            ONNX Runtime intra-op threads (default: runtime default)
  --postprocess MODE     boundary (default), exact, lowres
  --overlay on|off       blend the overlay on the server (default on)
  --jpeg-quality N       default 80
  --frames N             measured frames after warm-up (default 60)
  --duration S           measure for S seconds instead of a frame count
  --warmup N             frames excluded at the start (default 5)
  --model-only-runs N    default 30
  --browser              attach headless Chromium running the viewer (frame age = capture -> drawn)
  --peers N              also run N of the same frames through transformers.js's image-segmentation
                         pipeline and a hand-written onnxruntime-node loop (default 0: skip)
  --compare-quantized Q  also time the QDQ model Q (segstream quantize) in the same run: end-to-end and
                         model-only for each, model-only interleaved, and ONNX Runtime's integer kernels
  --accuracy-images DIR  with --compare-quantized: the accuracy cost (segstream verify, quantized vs float)
                         on these images
  --json                 print the full result as JSON on stdout (progress goes to stderr)
  --out FILE             also write the JSON result here (default bench/results/bench-latest.json)
  --csv FILE             append a CSV row (default bench/results/bench.csv)
  -h, --help
`;

function int(flag: string, v: string | undefined, def: number, min: number, max: number): number {
  if (v === undefined) return def;
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < min || n > max) throw new Error(`--${flag}: expected an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
  return n;
}

export function parseBenchArgs(argv: string[]): { options: Omit<BenchOptions, 'log'>; json: boolean; out: string; csv: string; help: boolean; compareQuantized?: string; accuracyImages?: string } {
  const { values } = parseArgs({
    args: argv,
    options: {
      source: { type: 'string' },
      usb: { type: 'string' },
      'x5-mipi': { type: 'string' },
      rtsp: { type: 'string' },
      size: { type: 'string' },
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
      browser: { type: 'boolean' },
      peers: { type: 'string' },
      json: { type: 'boolean' },
      out: { type: 'string' },
      csv: { type: 'string' },
      'cache-dir': { type: 'string' },
      'compare-quantized': { type: 'string' },
      'accuracy-images': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values['accuracy-images'] !== undefined && values['compare-quantized'] === undefined) throw new Error('--accuracy-images applies to --compare-quantized');
  if (values['compare-quantized'] !== undefined && (values.backend === 'bpu' || values.peers !== undefined || values.browser)) {
    throw new Error('--compare-quantized compares two ONNX models on the CPU: drop --backend bpu, --peers and --browser');
  }
  let width = DEFAULT_BENCH.width;
  let height = DEFAULT_BENCH.height;
  if (values.size !== undefined) {
    const m = /^(\d+)x(\d+)$/.exec(values.size);
    if (!m) throw new Error(`--size: expected WIDTHxHEIGHT such as 1280x720, got ${JSON.stringify(values.size)}`);
    width = Number(m[1]);
    height = Number(m[2]);
  }
  const postprocess = (values.postprocess ?? DEFAULT_BENCH.postprocess) as PostprocessMode;
  if (!POSTPROCESS_MODES.includes(postprocess)) throw new Error(`--postprocess: expected one of ${POSTPROCESS_MODES.join(', ')}, got ${JSON.stringify(values.postprocess)}`);
  if (values.overlay !== undefined && values.overlay !== 'on' && values.overlay !== 'off') throw new Error(`--overlay: expected on or off, got ${JSON.stringify(values.overlay)}`);
  const cameras = (['usb', 'x5-mipi', 'rtsp'] as const).filter((k) => values[k] !== undefined);
  if (cameras.length + (values.source !== undefined ? 1 : 0) > 1) {
    throw new Error(`choose one source: got ${[...(values.source !== undefined ? ['--source'] : []), ...cameras.map((c) => `--${c}`)].join(' and ')}`);
  }
  const camera = cameras[0];
  const file = values.source !== undefined && values.source !== 'test' ? path.resolve(values.source) : undefined;
  const source: BenchOptions['source'] = camera ?? (file ? 'file' : 'test');
  const options: Omit<BenchOptions, 'log'> = {
    ...DEFAULT_BENCH,
    source,
    ...(file ? { file } : {}),
    ...(camera === 'usb' || camera === 'x5-mipi' ? { device: values[camera] } : {}),
    ...(camera === 'rtsp' ? { url: values.rtsp } : {}),
    width,
    height,
    sourceFps: int('source-fps', values['source-fps'], DEFAULT_BENCH.sourceFps, 0, 240),
    model: values.model ?? 'demo',
    backend: parseBackend(values.backend, values.model),
    demoSize: int('demo-size', values['demo-size'], DEFAULT_BENCH.demoSize, 32, 2048),
    threads: int('threads', values.threads, DEFAULT_BENCH.threads, 0, 256),
    postprocess,
    overlay: values.overlay !== 'off',
    jpegQuality: int('jpeg-quality', values['jpeg-quality'], DEFAULT_BENCH.jpegQuality, 1, 100),
    frames: int('frames', values.frames, DEFAULT_BENCH.frames, 2, 1_000_000),
    durationS: int('duration', values.duration, 0, 0, 86_400),
    warmup: int('warmup', values.warmup, DEFAULT_BENCH.warmup, 0, 10_000),
    modelOnlyRuns: int('model-only-runs', values['model-only-runs'], DEFAULT_BENCH.modelOnlyRuns, 1, 100_000),
    browser: values.browser ?? false,
    peers: int('peers', values.peers, 0, 0, 10_000),
    cacheDir: path.resolve(values['cache-dir'] ?? '.cache'),
  };
  return {
    options,
    ...(values['compare-quantized'] !== undefined ? { compareQuantized: path.resolve(values['compare-quantized']) } : {}),
    ...(values['accuracy-images'] !== undefined ? { accuracyImages: path.resolve(values['accuracy-images']) } : {}),
    json: values.json ?? false,
    out: path.resolve(values.out ?? (values['compare-quantized'] !== undefined ? 'bench/results/bench-quantized-latest.json' : 'bench/results/bench-latest.json')),
    csv: path.resolve(values.csv ?? 'bench/results/bench.csv'),
    help: values.help ?? false,
  };
}

function parseBackend(value: string | undefined, model: string | undefined): 'onnx' | 'bpu' {
  if (value === undefined) return model !== undefined && /\.(bin|json)$/i.test(model) ? 'bpu' : 'onnx';
  if (value !== 'onnx' && value !== 'bpu') throw new Error(`--backend: expected onnx or bpu, got ${JSON.stringify(value)}`);
  if (value === 'bpu' && (model === undefined || model === 'demo')) throw new Error('--backend bpu needs --model with the .bin file(s)');
  return value;
}

export const CSV_COLUMNS = [
  'startedAt', 'cpuModel', 'cores', 'arch', 'node', 'onnxruntime', 'gstreamer', 'segstream', 'model', 'size', 'threads',
  'postprocess', 'overlay', 'frames', 'e2eFps', 'modelOnlyFps', 'e2eVsModelOnly', 'inferP50', 'frameP99', 'frameAgeP99',
  'nonModelCpuShare', 'rssPeakMiB', 'rssGrowthMiB',
] as const;

export function csvRow(r: BenchResult): string {
  const values: (string | number)[] = [
    r.startedAt, r.machine.cpuModel, r.machine.cores, r.machine.arch, r.machine.node, r.machine.onnxruntime, r.machine.gstreamer,
    r.machine.segstream, r.model.name, `${r.options.width}x${r.options.height}`, r.options.threads, r.options.postprocess,
    r.options.overlay ? 'on' : 'off', r.pipeline.frames, r.pipeline.fps.toFixed(3), r.modelOnly.fps.toFixed(3),
    r.endToEndVsModelOnly.toFixed(3), (r.pipeline.stages.infer?.p50 ?? NaN).toFixed(2), r.pipeline.total.p99.toFixed(2),
    r.frameAge ? r.frameAge.p99.toFixed(2) : '', r.cpu.nonModelShare.toFixed(3), r.memory.rssPeakMiB.toFixed(1),
    (r.memory.rssEndMiB - r.memory.rssStartMiB).toFixed(1),
  ];
  return values.map((v) => (typeof v === 'string' && /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : String(v))).join(',');
}

export function formatResult(r: BenchResult): string {
  const p = r.pipeline;
  const lines = [
    `segstream bench  ${r.startedAt}`,
    `machine: ${r.machine.cpuModel}, ${r.machine.cores} cores, ${r.machine.arch}; node ${r.machine.node}, onnxruntime-node ${r.machine.onnxruntime}, GStreamer ${r.machine.gstreamer}`,
    `model:   ${r.model.name} (${r.model.input}) on ${r.model.runtime}${
      r.model.runtime.includes('test double') ? ' -- NOT A BOARD: BPU timings here are the double\'s, not the BPU\'s' : r.model.untrainedDemo ? ' -- untrained demo model: speed is real, masks are not' : ''
    }`,
    `source:  ${r.options.source} ${r.options.width}x${r.options.height} @ ${r.options.sourceFps || 'max'} fps; post-processing ${r.options.postprocess}; server overlay ${r.options.overlay ? 'on' : 'off'}; threads ${r.options.threads || 'default'}`,
    '',
    stageTable(p),
    '',
    `end-to-end:   ${p.fps.toFixed(2)} fps over ${p.frames} frames (${p.seconds.toFixed(1)} s, ${p.warmupFrames} warm-up frames excluded)`,
    `model-only:   ${r.modelOnly.fps.toFixed(2)} fps (p50 ${formatMs(r.modelOnly.ms.p50)} ms, p99 ${formatMs(r.modelOnly.ms.p99)} ms, ${r.modelOnly.runs} runs)`,
    `ratio:        end-to-end = ${(r.endToEndVsModelOnly * 100).toFixed(1)}% of model-only`,
    `stage sum:    ${(p.stageSumRatio * 100).toFixed(1)}% of the measured frame time (the rest is hand-off between threads)`,
    `dropped:      ${p.dropped.inferenceBusy} while the model was busy (of ${p.dropped.captured} captured, latest frame wins), ${p.dropped.renderBusy} render-busy, ${p.dropped.slowClient} to slow clients, ${p.dropped.errors} errors`,
    `frame age:    ${r.frameAge ? `p50 ${formatMs(r.frameAge.p50)} / p99 ${formatMs(r.frameAge.p99)} ms (${r.frameAge.client}); p99 = ${r.frameAgeP99VsModel!.toFixed(2)}x model p50` : 'no acknowledged frames'}`,
    `cpu:          server ${r.cpu.serverCores.toFixed(2)} cores${r.cpu.browserCores !== null ? `, browser ${r.cpu.browserCores.toFixed(2)} cores` : ''}; outside the model: ${(r.cpu.nonModelShare * 100).toFixed(1)}% of the server's CPU`,
    ...r.peers.map((p) => `peer:         ${p.name}: ${p.fps.toFixed(2)} fps (p50 ${formatMs(p.ms.p50)} ms)`),
    ...(r.endToEndVsTransformersJs !== null ? [`summary:      segstream end-to-end = ${(r.endToEndVsModelOnly * 100).toFixed(0)}% of model-only = ${r.endToEndVsTransformersJs.toFixed(2)}x transformers.js`] : []),
    `memory:       RSS ${r.memory.rssStartMiB.toFixed(0)} MiB at start of measurement, peak ${r.memory.rssPeakMiB.toFixed(0)}, end ${r.memory.rssEndMiB.toFixed(0)} MiB`,
    '',
  ];
  return lines.join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const parsed = parseBenchArgs(argv);
  if (parsed.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (parsed.compareQuantized) {
    const { runQuantizedComparison, formatComparison } = await import('../toolkit/quantize/bench-compare.ts');
    const c = await runQuantizedComparison(
      { ...parsed.options, log: (l) => process.stderr.write(`${l}\n`) },
      { quantized: parsed.compareQuantized, ...(parsed.accuracyImages ? { accuracyImages: parsed.accuracyImages } : {}) },
    );
    await writeFileAtomic(parsed.out, `${JSON.stringify(c, null, 2)}\n`);
    await appendLineAtomic(parsed.csv, csvRow(c.float), CSV_COLUMNS.join(','));
    await appendLineAtomic(parsed.csv, csvRow(c.quantized), CSV_COLUMNS.join(','));
    process.stdout.write(parsed.json ? `${JSON.stringify(c, null, 2)}\n` : formatComparison(c));
    process.stderr.write(`bench: wrote ${path.relative(process.cwd(), parsed.out)} and appended ${path.relative(process.cwd(), parsed.csv)}\n`);
    return 0;
  }
  const result = await runBench({ ...parsed.options, log: (l) => process.stderr.write(`${l}\n`) });
  await writeFileAtomic(parsed.out, `${JSON.stringify(result, null, 2)}\n`);
  await appendLineAtomic(parsed.csv, csvRow(result), CSV_COLUMNS.join(','));
  process.stdout.write(parsed.json ? `${JSON.stringify(result, null, 2)}\n` : formatResult(result));
  process.stderr.write(`bench: wrote ${path.relative(process.cwd(), parsed.out)} and appended ${path.relative(process.cwd(), parsed.csv)}\n`);
  return 0;
}
