/**
 * `segstream verify`: runs the reference path (training preprocessing through the exact kernels, float ONNX
 * in ONNX Runtime) and a deployed path (another model - QDQ/int8 ONNX, a weight-rounded copy, a BPU .bin -
 * and/or another input path - NV12 from a camera colour range, or the user's own preprocessed files) on the
 * same frames, and reports per image and pooled: logits cosine similarity, max/mean |diff|, class-map pixel
 * agreement, per-class IoU (deployed vs reference) and the preprocessing difference against the reference
 * tensor (with the mistake named when it is a known one). Writes report.html (self-contained) and
 * report.json; exits 1 when a threshold given on the command line fails.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Backend, ModelInfo, Tensor } from '../backends/backend.ts';
import { OnnxBackend } from '../backends/onnx.ts';
import type { ClassMap, Nv12Image } from '../frame.ts';
import { argmax, nv12ToTensor, overlayRgb, resizeClassMap, resizeNv12, resizeRgb, rgbToNv12, rgbToTensor } from '../kernels/index.ts';
import { loadModelInfo } from '../model/load.ts';
import { ModelLoadError } from '../model/errors.ts';
import { makePalette } from '../render/palette.ts';
import { writeFileAtomic } from '../util/atomic-write.ts';
import { Progress } from '../util/progress.ts';
import {
  EXIT_FAILED_CHECKS,
  EXIT_OK,
  optionalString,
  parseChoice,
  parseCommandArgs,
  parseNumber,
  printJson,
  requiredString,
  runCommand,
  UsageError,
} from './cli-args.ts';
import { deriveExpectation } from './expectation.ts';
import { finding, formatFindings, type Finding } from './findings.ts';
import { decodeImage, openImageSet } from './images.ts';
import { ClassMapAccumulator, DiffAccumulator, LogitAccumulator, logitDiffMap, type ClassMapStats, type DiffStats, type LogitStats } from './metrics.ts';
import { diagnosePreprocessing, prepareDiagnosis, toNormalisedNchw, type PreprocessParams } from './preprocess-diagnosis.ts';
import { quantizeWeightsPerChannel } from './quantize-weights.ts';
import { heatColour, pngDataUri, renderHtmlReport, type HtmlImageCard, type HtmlMetricRow } from './report-html.ts';
import { analyseTensorFile } from './tensor-analysis.ts';
import { readTensorFile } from './tensor-file.ts';
import { listTensorFiles } from './calib-manifest.ts';
import { describeQdq, readQdqSummary } from '../toolkit/quantize/qdq-model-info.ts';

export const HELP = `usage: segstream verify --reference <float.onnx> [--deployed <model.onnx|model.bin>] --images <dir|video> [options]

Runs the reference path (the model's training preprocessing through segstream's exact kernels, the float
ONNX in ONNX Runtime) and the deployed path on the same frames, and reports per image and pooled: logits
cosine similarity, max/mean |diff|, class-map pixel agreement, per-class IoU (deployed vs reference), and
the preprocessing difference against the reference tensor, naming known mistakes (wrong colour range,
BGR, missing antialiasing). Writes <out>/report.html (self-contained) and <out>/report.json.
Every image must pass every threshold given; exit status 1 otherwise.

deployed path (at least one must differ from the reference):
  --deployed <file>          a second model: QDQ/int8 ONNX, or a BPU .bin (needs the BPU backend)
  --deployed-int8-weights    deployed = the reference with its weights rounded to int8 per channel
  --deployed-input <p>       reference (default: the same tensor) | nv12 (the camera path: RGB -> NV12 in
                             --source-range/--source-matrix, decoded with --decode-range/--decode-matrix)
  --source-range <r>         nv12: range the camera encodes, full | limited (default full)
  --source-matrix <m>        nv12: bt601 | bt709 (default bt601)
  --decode-range <r>         nv12: range the deployed side decodes with (default: = source, i.e. correct)
  --decode-matrix <m>        nv12: matrix the deployed side decodes with (default: = source)
  --deployed-tensors <dir>   your own preprocessed input files for the deployed model, one per image,
                             matched by name (coffee.png <-> coffee.bin / coffee.npy)
thresholds (each image must pass):
  --min-cosine <c>           logits cosine similarity, -1..1 (e.g. 0.99)
  --max-mean-diff <d>        mean |logit diff| >= 0
  --max-abs-diff <d>         max |logit diff| >= 0
  --min-agreement <f>        class-map pixel agreement, fraction 0..1 (e.g. 0.95)
  --min-miou <f>             mean IoU of deployed vs reference classes, 0..1
  --max-preprocess-diff <d>  mean |input tensor diff| vs reference, normalised units (1 LSB ~ 0.0175)
other options:
  --preprocessor <json>      preprocessor_config.json (default: next to the reference)
  --model-config <json>      config.json of the reference (default: next to it)
  --deployed-config <json>   config.json of the deployed model (default: next to it)
  --postprocess <m>          exact (default: HF upsample then argmax) | boundary | lowres
  --out <dir>                where report.html / report.json go (default ./segstream-verify)
  --max-images <n>           use at most n images (video: frames at 1/s, default 16)
  --threads <n>              ONNX Runtime intra-op threads (default 2)
  --quiet                    no progress bar
  --json                     print report.json on stdout
  -h, --help                 this text
`;

export interface VerifyThresholds {
  minCosine?: number;
  maxMeanDiff?: number;
  maxAbsDiff?: number;
  minAgreement?: number;
  minMeanIoU?: number;
  maxPreprocessDiff?: number;
}

export interface VerifyOptions {
  reference: string;
  deployed?: string;
  deployedInt8Weights?: boolean;
  deployedInput?: 'reference' | 'nv12';
  sourceRange?: 'full' | 'limited';
  sourceMatrix?: 'bt601' | 'bt709';
  decodeRange?: 'full' | 'limited';
  decodeMatrix?: 'bt601' | 'bt709';
  deployedTensors?: string;
  images: string;
  preprocessor?: string;
  modelConfig?: string;
  deployedConfig?: string;
  postprocess?: 'exact' | 'boundary' | 'lowres';
  thresholds?: VerifyThresholds;
  out?: string;
  maxImages?: number;
  threads?: number;
  quiet?: boolean;
  /** Skip writing report.html (report.json is always written). */
  noHtml?: boolean;
}

export interface VerifyImageResult {
  image: string;
  width: number;
  height: number;
  logits: LogitStats | null;
  classMap: Omit<ClassMapStats, 'perClass'> & { perClass: (ClassMapStats['perClass'][number] & { name: string })[] };
  preprocess: (DiffStats & { lsb: number; diagnosis?: { verdict: string; code: string; message: string } }) | null;
  failures: string[];
  findings: Finding[];
}

export interface VerifyReport {
  tool: 'segstream verify';
  createdAt: string;
  reference: { path: string; name: string; input: string; output: string };
  deployed: { path: string; name: string; kind: string; input: string; output: string; note?: string };
  deployedPath: string;
  postprocess: string;
  thresholds: VerifyThresholds;
  overall: {
    logits: LogitStats | null;
    classMap: Omit<ClassMapStats, 'perClass'> & { perClass: (ClassMapStats['perClass'][number] & { name: string })[] };
    preprocess: DiffStats | null;
    worstCosine: number | null;
    worstAgreement: number;
  };
  images: VerifyImageResult[];
  passed: boolean;
  failures: string[];
  findings: Finding[];
  htmlPath?: string;
  jsonPath: string;
}

/** An input combination that cannot be verified, with the finding that says why. */
export class VerifyInputError extends UsageError {
  constructor(readonly finding: Finding) {
    super(`${finding.message}${finding.fix ? `\n  fix: ${finding.fix}` : ''}`);
  }
}

export function validateThresholds(t: VerifyThresholds): void {
  const frac = (name: string, v: number | undefined) => {
    if (v === undefined) return;
    if (!Number.isFinite(v)) throw new UsageError(`--${name}: expected a number, got ${v}`);
    if (v > 1 && v <= 100) throw new UsageError(`--${name} ${v}: expected a fraction from 0 to 1; ${v} looks like a percentage - use ${v / 100}`);
    if (v < 0 || v > 1) throw new UsageError(`--${name} ${v}: expected a fraction from 0 to 1`);
  };
  const nonNeg = (name: string, v: number | undefined) => {
    if (v === undefined) return;
    if (!Number.isFinite(v) || v < 0) throw new UsageError(`--${name} ${v}: expected a number >= 0 (an absolute difference)`);
  };
  if (t.minCosine !== undefined && (!Number.isFinite(t.minCosine) || t.minCosine < -1 || t.minCosine > 1)) {
    throw new UsageError(`--min-cosine ${t.minCosine}: cosine similarity lies in -1..1 (e.g. 0.99)`);
  }
  frac('min-agreement', t.minAgreement);
  frac('min-miou', t.minMeanIoU);
  nonNeg('max-mean-diff', t.maxMeanDiff);
  nonNeg('max-abs-diff', t.maxAbsDiff);
  nonNeg('max-preprocess-diff', t.maxPreprocessDiff);
  if (t.maxMeanDiff !== undefined && t.maxAbsDiff !== undefined && t.maxAbsDiff < t.maxMeanDiff) {
    throw new UsageError(`--max-abs-diff ${t.maxAbsDiff} is below --max-mean-diff ${t.maxMeanDiff}: a maximum can never be below the mean, so no run could pass`);
  }
}

function describeInput(m: ModelInfo): string {
  const i = m.input;
  return `${i.name} ${i.kind === 'nv12' ? 'NV12' : `${i.dtype} ${i.layout}`} ${i.height}x${i.width}`;
}

function describeOutput(m: ModelInfo): string {
  const o = m.output;
  return `${o.name} ${o.kind} ${o.dtype} ${o.layout} ${o.classes} classes ${o.height}x${o.width}`;
}

/** Logits as float32 NCHW, or null for a class-map output. */
function logitsNchw(t: Tensor, m: ModelInfo): { data: Float32Array; classes: number; height: number; width: number } | null {
  if (m.output.kind !== 'logits') return null;
  const shape = t.shape;
  const layout = m.output.layout;
  const classes = layout === 'NCHW' ? shape[1]! : shape[3]!;
  const height = layout === 'NCHW' ? shape[2]! : shape[1]!;
  const width = layout === 'NCHW' ? shape[3]! : shape[2]!;
  let values: Float32Array;
  if (t.data instanceof Float32Array) values = t.data;
  else if (m.output.quantization) {
    const q = m.output.quantization;
    values = new Float32Array(t.data.length);
    const axisLen = classes;
    const plane = height * width;
    for (let i = 0; i < values.length; i++) {
      const c = q.scales.length === 1 ? 0 : layout === 'NCHW' ? Math.floor(i / plane) % axisLen : i % axisLen;
      const zp = q.zeroPoints ? q.zeroPoints[q.zeroPoints.length === 1 ? 0 : c]! : 0;
      values[i] = (Number(t.data[i]!) - zp) * q.scales[c]!;
    }
  } else {
    throw new Error(`${m.path}: output ${m.output.name} is ${t.dtype} without quantisation scales; cannot compare logits`);
  }
  if (layout === 'NHWC') {
    const out = new Float32Array(values.length);
    const plane = height * width;
    for (let p = 0; p < plane; p++) for (let c = 0; c < classes; c++) out[c * plane + p] = values[p * classes + c]!;
    values = out;
  }
  return { data: values, classes, height, width };
}

function classMapOf(t: Tensor, m: ModelInfo, logits: ReturnType<typeof logitsNchw>, outW: number, outH: number, mode: 'exact' | 'boundary' | 'lowres'): ClassMap {
  if (logits) {
    return argmax(logits.data, { layout: 'NCHW', classes: logits.classes, height: logits.height, width: logits.width, mode, outWidth: outW, outHeight: outH }).classMap;
  }
  // Argmax inside the model: [1,1,h,w] / [1,h,w,1] / [1,h,w] integer ids.
  const h = m.output.height || t.shape[t.shape.length - 2]!;
  const w = m.output.width || t.shape[t.shape.length - 1]!;
  const n = t.data.length;
  const data = m.output.classes > 255 ? new Uint16Array(n) : new Uint8Array(n);
  for (let i = 0; i < n; i++) data[i] = Number(t.data[i]!);
  const map: ClassMap = { data, width: w, height: h };
  return resizeClassMap(map, outW, outH);
}

interface DeployedFeed {
  /** What the deployed model is fed (a tensor, or an NV12 frame for a BPU nv12 model). */
  tensor?: Tensor;
  nv12?: Nv12Image;
  /** The same input in the reference's units (normalised NCHW) for the preprocessing difference. */
  normalised: Float32Array;
  findings: Finding[];
}

function toModelTensor(info: ModelInfo, values: Float32Array, layout: 'NCHW' | 'NHWC'): Tensor {
  const shape = layout === 'NCHW' ? [1, 3, info.input.height, info.input.width] : [1, info.input.height, info.input.width, 3];
  if (info.input.dtype === 'float32') return { dtype: 'float32', shape, data: values };
  if (info.input.dtype === 'uint8') {
    const u = new Uint8Array(values.length);
    for (let i = 0; i < values.length; i++) u[i] = Math.max(0, Math.min(255, Math.round(values[i]!)));
    return { dtype: 'uint8', shape, data: u };
  }
  throw new Error(`${info.path}: input ${info.input.name} is ${info.input.dtype}; verify feeds float32 or uint8 inputs`);
}

function preprocessParams(info: ModelInfo): PreprocessParams {
  return { width: info.input.width, height: info.input.height, mean: info.preprocess.mean, std: info.preprocess.std, rescale: info.preprocess.rescale, channelOrder: info.preprocess.channelOrder };
}

async function isFile(p: string): Promise<boolean> {
  try {
    return (await fs.stat(p)).isFile();
  } catch {
    return false;
  }
}

function classCountFinding(err: ModelLoadError, what: string): VerifyInputError | undefined {
  if (err.field === 'id2label' || err.field === 'num_labels') {
    return new VerifyInputError(
      finding('class-count-mismatch', 'error', `class-count mismatch in the ${what}: ${err.message}`, { subject: err.file, fix: 'use the config.json that belongs to this model (same fine-tuning), or re-export the model' }),
    );
  }
  return undefined;
}

async function loadInfo(file: string, opts: { configPath?: string; preprocessorPath?: string }, what: string): Promise<ModelInfo> {
  try {
    return await loadModelInfo(file, opts);
  } catch (err) {
    if (err instanceof ModelLoadError) throw classCountFinding(err, what) ?? new UsageError(`${what}: ${err.message}`);
    throw err;
  }
}

export async function runVerify(o: VerifyOptions): Promise<VerifyReport> {
  const thresholds = o.thresholds ?? {};
  validateThresholds(thresholds);
  const deployedInput = o.deployedInput ?? 'reference';
  const mode = o.postprocess ?? 'exact';
  if (deployedInput !== 'nv12' && (o.sourceRange || o.sourceMatrix || o.decodeRange || o.decodeMatrix)) {
    throw new UsageError('--source-range/--source-matrix/--decode-range/--decode-matrix describe the NV12 camera path: add --deployed-input nv12');
  }
  if (o.deployedTensors && deployedInput === 'nv12') throw new UsageError('--deployed-tensors and --deployed-input nv12 are alternatives: the files already are the deployed input');
  if (o.deployed && o.deployedInt8Weights) throw new UsageError('--deployed and --deployed-int8-weights are alternatives: the int8-weight copy is made from --reference');
  if (!o.deployed && !o.deployedInt8Weights && deployedInput === 'reference' && !o.deployedTensors) {
    throw new UsageError('nothing differs from the reference: give --deployed <model>, --deployed-int8-weights, --deployed-input nv12 or --deployed-tensors <dir>');
  }
  if (o.threads !== undefined && (!Number.isInteger(o.threads) || o.threads < 1 || o.threads > 64)) throw new UsageError(`--threads ${o.threads}: expected an integer from 1 to 64`);

  const sideOpts = { ...(o.modelConfig ? { configPath: o.modelConfig } : {}), ...(o.preprocessor ? { preprocessorPath: o.preprocessor } : {}) };
  const refInfo = await loadInfo(o.reference, sideOpts, 'reference model');
  if (refInfo.format !== 'onnx' || refInfo.input.dtype !== 'float32' || refInfo.input.kind !== 'tensor') {
    throw new UsageError(`--reference ${o.reference}: the reference must be the float ONNX model (float32 input), got ${describeInput(refInfo)}`);
  }
  if (refInfo.output.kind !== 'logits') throw new UsageError(`--reference ${o.reference}: the reference must output logits (got a class map): export the model without the final ArgMax`);

  const findings: Finding[] = [];
  const tmpDirs: string[] = [];
  const backends: Backend[] = [];
  const set = await openImageSet(o.images, o.maxImages ? { maxImages: o.maxImages } : {});
  try {
    // The deployed model.
    let depInfo: ModelInfo;
    let depBackend: Backend | undefined;
    let depNote: string | undefined;
    let depPath = o.deployed ?? o.reference;
    let depExecution: 'all' | 'disabled' | undefined;
    if (o.deployedInt8Weights) {
      const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'segstream-verify-'));
      tmpDirs.push(tmp);
      // Rounded float weights, not QDQ: ONNX Runtime's optimiser would also quantise activations of a
      // DequantizeLinear+MatMul pair, and this option promises weight rounding only.
      const q = quantizeWeightsPerChannel(await fs.readFile(refInfo.path), { mode: 'fake' });
      depPath = path.join(tmp, 'int8-weights.onnx');
      await fs.writeFile(depPath, q.bytes);
      const refDir = path.dirname(refInfo.path);
      const cfg = o.modelConfig ?? ((await isFile(path.join(refDir, 'config.json'))) ? path.join(refDir, 'config.json') : undefined);
      const pre = o.preprocessor ?? ((await isFile(path.join(refDir, 'preprocessor_config.json'))) ? path.join(refDir, 'preprocessor_config.json') : undefined);
      depInfo = await loadInfo(depPath, { ...(cfg ? { configPath: cfg } : {}), ...(pre ? { preprocessorPath: pre } : {}) }, 'int8-weight copy');
      depNote = `the reference with ${q.tensors.length} weight tensors rounded to int8 per output channel (${q.mode === 'qdq' ? 'DequantizeLinear nodes' : 'rounded float weights'}); activations stay float`;
    } else if (o.deployed && path.extname(o.deployed).toLowerCase() === '.bin') {
      let mod: typeof import('../backends/bpu.ts');
      try {
        mod = await import('../backends/bpu.ts');
      } catch (err) {
        throw new UsageError(`--deployed ${o.deployed}: the BPU backend could not be loaded here (${(err as Error).message}); run verify on the RDK X5, or compare against a QDQ ONNX`);
      }
      const avail = mod.bpuAvailability();
      if (!avail.available) throw new UsageError(`--deployed ${o.deployed}: the BPU backend is not available here: ${avail.reason}`);
      const bpu = await mod.BpuBackend.load([o.deployed], { classNames: refInfo.classNames });
      backends.push(bpu);
      depBackend = bpu;
      depInfo = bpu.model;
      if (avail.mode === 'test-double') {
        depNote = 'BPU test double (synthetic outputs): numbers are not a real BPU measurement';
        findings.push(finding('bpu-test-double', 'warning', `the BPU backend here is the hb_dnn test double (${avail.reason}): the deployed numbers are synthetic, not from a board`));
      }
    } else if (o.deployed) {
      depInfo = await loadInfo(o.deployed, { ...(o.deployedConfig ? { configPath: o.deployedConfig } : {}), ...(o.preprocessor ? { preprocessorPath: o.preprocessor } : {}) }, 'deployed model');
      // A segstream quantize model: a board-target one runs with exact Q/DQ arithmetic (a board simulation).
      const qdq = await readQdqSummary(depInfo.path);
      if (qdq) {
        depExecution = qdq.target === 'board' ? 'disabled' : 'all';
        depNote = describeQdq(qdq, depExecution);
      }
    } else {
      depInfo = refInfo;
    }

    // Does the comparison make sense?
    if (depInfo.output.classes !== refInfo.output.classes) {
      throw new VerifyInputError(
        finding('class-count-mismatch', 'error', `class-count mismatch: the reference outputs ${refInfo.output.classes} classes, the deployed model ${depInfo.output.classes}: they are not the same segmentation head, so class maps cannot be compared`, {
          subject: depPath,
          fix: 'compile/export the deployed model from the same fine-tuned checkpoint as the reference (same id2label)',
          data: { reference: refInfo.output.classes, deployed: depInfo.output.classes },
        }),
      );
    }
    if (depInfo.input.width !== refInfo.input.width || depInfo.input.height !== refInfo.input.height) {
      throw new VerifyInputError(
        finding('input-size-mismatch', 'error', `the reference takes ${refInfo.input.width}x${refInfo.input.height}, the deployed model ${depInfo.input.width}x${depInfo.input.height}: the preprocessing differs by a resize, so the paths are not comparable`, { subject: depPath, fix: 'compare models exported at the same input size' }),
      );
    }
    if (depInfo.input.kind === 'nv12' && deployedInput !== 'nv12') {
      throw new UsageError(`--deployed ${depPath} takes NV12 frames: add --deployed-input nv12 (with the camera's --source-range)`);
    }
    if (depInfo.output.kind !== 'logits' && (thresholds.minCosine !== undefined || thresholds.maxMeanDiff !== undefined || thresholds.maxAbsDiff !== undefined)) {
      throw new UsageError('--min-cosine/--max-mean-diff/--max-abs-diff need logits, but the deployed model outputs a class map (argmax inside): use --min-agreement / --min-miou');
    }
    const pr = refInfo.preprocess;
    const pd = depInfo.preprocess;
    if (depInfo !== refInfo && (pr.mean.some((m, i) => Math.abs(m - pd.mean[i]!) > 1e-6) || pr.std.some((s, i) => Math.abs(s - pd.std[i]!) > 1e-6))) {
      findings.push(finding('preprocess-config-differs', 'warning', `the deployed model's preprocessor config (mean ${pd.mean.join(' ')}, std ${pd.std.join(' ')}) differs from the reference's (mean ${pr.mean.join(' ')}, std ${pr.std.join(' ')}); the deployed path uses its own`, { subject: depPath }));
    }

    const threads = o.threads ?? 2;
    const refBackend = await OnnxBackend.load(refInfo, { threads });
    backends.push(refBackend);
    if (!depBackend) {
      depBackend = depInfo === refInfo ? refBackend : await OnnxBackend.load(depInfo, { threads, ...(depExecution ? { graphOptimization: depExecution } : {}) });
      if (depBackend !== refBackend) backends.push(depBackend);
    }

    const sourceColour = { matrix: o.sourceMatrix ?? 'bt601', range: o.sourceRange ?? 'full' } as const;
    const decodeColour = { matrix: o.decodeMatrix ?? sourceColour.matrix, range: o.decodeRange ?? sourceColour.range } as const;
    const deployedPathText = o.deployedTensors
      ? `your preprocessed files in ${o.deployedTensors}`
      : deployedInput === 'nv12'
        ? `camera NV12 (${sourceColour.matrix}, ${sourceColour.range} range) decoded as ${decodeColour.matrix} ${decodeColour.range} range by segstream's NV12 kernel`
        : 'the reference input tensor (same preprocessing)';
    let tensorFiles: string[] = [];
    if (o.deployedTensors) tensorFiles = await listTensorFiles(o.deployedTensors);

    const params = preprocessParams(refInfo);
    const depParams = preprocessParams(depInfo);
    const classes = refInfo.output.classes;
    const palette = makePalette(classes);
    const logitAcc = depInfo.output.kind === 'logits' ? new LogitAccumulator() : null;
    const mapAcc = new ClassMapAccumulator(classes);
    const preAcc = new DiffAccumulator();
    let preCount = 0;
    const images: VerifyImageResult[] = [];
    const pending: { card: Omit<HtmlImageCard, 'images'> & { images: { reference: string; deployed: string } }; diff: { cells: Float32Array | null; gw: number; gh: number; mismatch: Uint8Array; preview: Uint8Array; pw: number; ph: number } }[] = [];
    const progress = new Progress('verify', set.files.length, o.quiet ?? false);

    for (const src of set.files) {
      const img = await decodeImage(src.path, src.name);
      const imageFindings: Finding[] = [];
      const refTensor = rgbToTensor(img.rgb, img.width, img.height, params);
      const refOut = await refBackend.run({ dtype: 'float32', shape: [1, 3, params.height, params.width], data: refTensor });

      // The deployed input.
      let feed: DeployedFeed;
      if (o.deployedTensors) {
        const stem = path.parse(src.name).name;
        const match = tensorFiles.find((f) => {
          const b = path.basename(f);
          return b === stem || (b.startsWith(stem) && /[._-]/.test(b.charAt(stem.length)));
        });
        if (!match) throw new UsageError(`--deployed-tensors ${o.deployedTensors}: no file for image ${src.name} (expected ${stem}.bin or ${stem}.npy)`);
        const exp = deriveExpectation(depInfo, 'model-input');
        const analysis = analyseTensorFile(await readTensorFile(match), exp);
        imageFindings.push(...analysis.findings);
        if (!analysis.values || !analysis.interpretation || analysis.values.length !== 3 * depParams.width * depParams.height) {
          throw new UsageError(`--deployed-tensors ${match}: cannot be fed to the deployed model:\n${formatFindings(analysis.findings)}`);
        }
        // Fed exactly as the model would read the bytes; diagnosed as what the numbers really are.
        const domain = analysis.domain === 'normalised' || analysis.domain === 'unit-0-1' || analysis.domain === 'raw-0-255' || analysis.domain === 'int8-centred' ? analysis.domain : exp.domain === 'normalised' ? 'normalised' : 'raw-0-255';
        feed = {
          tensor: toModelTensor(depInfo, analysis.values, exp.layout),
          normalised: toNormalisedNchw(analysis.values, analysis.interpretation.layout, domain, depParams),
          findings: [],
        };
      } else if (deployedInput === 'nv12') {
        const ew = img.width - (img.width % 2);
        const eh = img.height - (img.height % 2);
        let rgb = img.rgb;
        if (ew !== img.width || eh !== img.height) {
          rgb = new Uint8Array(ew * eh * 3);
          for (let y = 0; y < eh; y++) rgb.set(img.rgb.subarray(y * img.width * 3, y * img.width * 3 + ew * 3), y * ew * 3);
        }
        const frame = rgbToNv12(rgb, ew, eh, sourceColour);
        const normalised = nv12ToTensor(frame, { ...depParams, color: decodeColour });
        if (depInfo.input.kind === 'nv12') {
          feed = { nv12: resizeNv12(frame, depInfo.input.width, depInfo.input.height), normalised, findings: [] };
        } else if (depInfo.input.dtype === 'uint8') {
          const pixels = nv12ToTensor(frame, { width: depParams.width, height: depParams.height, mean: [0, 0, 0], std: [1, 1, 1], rescale: 1, layout: depInfo.input.layout, channelOrder: depParams.channelOrder, color: decodeColour });
          feed = { tensor: toModelTensor(depInfo, pixels, depInfo.input.layout), normalised, findings: [] };
        } else {
          const t = depInfo.input.layout === 'NCHW' ? normalised : nv12ToTensor(frame, { ...depParams, layout: 'NHWC', color: decodeColour });
          feed = { tensor: toModelTensor(depInfo, t, depInfo.input.layout), normalised, findings: [] };
        }
      } else {
        // Same preprocessing: the reference tensor, in the deployed model's dtype and layout.
        if (depInfo.input.dtype === 'uint8') {
          const pixels = rgbToTensor(img.rgb, img.width, img.height, { ...depParams, mean: [0, 0, 0], std: [1, 1, 1], rescale: 1, layout: depInfo.input.layout });
          feed = { tensor: toModelTensor(depInfo, pixels, depInfo.input.layout), normalised: toNormalisedNchw(pixels, depInfo.input.layout, 'raw-0-255', depParams), findings: [] };
        } else {
          const t = depInfo.input.layout === 'NCHW' && depParams === params ? refTensor : rgbToTensor(img.rgb, img.width, img.height, { ...depParams, layout: depInfo.input.layout });
          feed = { tensor: toModelTensor(depInfo, t, depInfo.input.layout), normalised: depInfo.input.layout === 'NCHW' ? t : refTensor, findings: [] };
        }
      }

      const depOut = feed.nv12 && 'runNv12' in depBackend ? await (depBackend as unknown as { runNv12(i: Nv12Image): Promise<{ output: Tensor }> }).runNv12(feed.nv12) : await depBackend.run(feed.tensor!);

      // Preprocessing difference against the reference tensor (and its diagnosis when it is not zero).
      let preprocess: VerifyImageResult['preprocess'] = null;
      const pre = new DiffAccumulator().add(refTensor, feed.normalised);
      preAcc.add(refTensor, feed.normalised);
      preCount++;
      const lsb = Math.min(...params.std.map((s) => params.rescale / s));
      preprocess = { ...pre, lsb };
      if (pre.meanAbsDiff > 0.05 * lsb) {
        const d = diagnosePreprocessing(feed.normalised, prepareDiagnosis(img.rgb, img.width, img.height, params), src.name);
        preprocess.diagnosis = { verdict: d.verdict, code: d.finding.code, message: d.finding.message };
        imageFindings.push(d.finding);
      }

      // Logits and class maps.
      const refLogits = logitsNchw(refOut.output, refInfo)!;
      const depLogits = logitsNchw(depOut.output, depInfo);
      let logitStats: LogitStats | null = null;
      let cells: Float32Array | null = null;
      if (depLogits && logitAcc) {
        if (depLogits.height !== refLogits.height || depLogits.width !== refLogits.width) {
          imageFindings.push(finding('logit-grid-differs', 'warning', `reference logits are ${refLogits.width}x${refLogits.height}, deployed ${depLogits.width}x${depLogits.height}: logits are not compared, class maps are (at the image size)`, { subject: src.name }));
        } else {
          logitStats = logitAcc.add(refLogits.data, depLogits.data);
          cells = logitDiffMap(refLogits.data, depLogits.data, classes, refLogits.height, refLogits.width);
        }
      }
      const refMap = classMapOf(refOut.output, refInfo, refLogits, img.width, img.height, mode);
      const depMap = classMapOf(depOut.output, depInfo, depLogits, img.width, img.height, mode);
      const mapStats = mapAcc.add(refMap.data, depMap.data);

      // Thresholds.
      const failures: string[] = [];
      const t = thresholds;
      const check = (ok: boolean, text: string) => {
        if (!ok) failures.push(`${src.name}: ${text}`);
      };
      if (logitStats) {
        if (t.minCosine !== undefined) check(logitStats.cosine >= t.minCosine, `logits cosine ${logitStats.cosine.toFixed(5)} < ${t.minCosine}`);
        if (t.maxMeanDiff !== undefined) check(logitStats.meanAbsDiff <= t.maxMeanDiff, `mean |logit diff| ${logitStats.meanAbsDiff.toPrecision(4)} > ${t.maxMeanDiff}`);
        if (t.maxAbsDiff !== undefined) check(logitStats.maxAbsDiff <= t.maxAbsDiff, `max |logit diff| ${logitStats.maxAbsDiff.toPrecision(4)} > ${t.maxAbsDiff}`);
      } else if (t.minCosine !== undefined || t.maxMeanDiff !== undefined || t.maxAbsDiff !== undefined) {
        check(false, 'logits thresholds given but the logits could not be compared');
      }
      if (t.minAgreement !== undefined) check(mapStats.agreement >= t.minAgreement, `class-map agreement ${(mapStats.agreement * 100).toFixed(2)}% < ${(t.minAgreement * 100).toFixed(2)}%`);
      if (t.minMeanIoU !== undefined) check(mapStats.meanIoU >= t.minMeanIoU, `mean IoU ${mapStats.meanIoU.toFixed(4)} < ${t.minMeanIoU}`);
      if (t.maxPreprocessDiff !== undefined) check(pre.meanAbsDiff <= t.maxPreprocessDiff, `preprocessing mean |diff| ${pre.meanAbsDiff.toPrecision(4)} > ${t.maxPreprocessDiff}`);

      const named = mapStats.perClass.map((c) => ({ ...c, name: refInfo.classNames[c.classId] ?? `class ${c.classId}` }));
      images.push({
        image: src.name,
        width: img.width,
        height: img.height,
        logits: logitStats,
        classMap: { ...mapStats, perClass: named },
        preprocess,
        failures,
        findings: imageFindings,
      });

      // Report pictures (small previews; the heat map is drawn once the global scale is known).
      if (!o.noHtml) {
        const pw = Math.min(360, img.width);
        const ph = Math.max(1, Math.round((img.height * pw) / img.width));
        const preview = resizeRgb(img.rgb, img.width, img.height, pw, ph);
        const refSmall = resizeClassMap(refMap, pw, ph);
        const depSmall = resizeClassMap(depMap, pw, ph);
        const mismatch = new Uint8Array(pw * ph);
        for (let i = 0; i < mismatch.length; i++) mismatch[i] = refSmall.data[i] !== depSmall.data[i] ? 1 : 0;
        const refOverlay = overlayRgb(preview, pw, ph, refSmall, palette, { opacity: 0.55 }).rgb;
        const depOverlay = overlayRgb(preview, pw, ph, depSmall, palette, { opacity: 0.55 }).rgb;
        const rows: HtmlMetricRow[] = [];
        if (logitStats) {
          rows.push({ label: 'logits cosine', value: logitStats.cosine.toFixed(6), ...(t.minCosine !== undefined ? { pass: logitStats.cosine >= t.minCosine } : {}) });
          rows.push({ label: 'mean |logit diff|', value: logitStats.meanAbsDiff.toPrecision(4), ...(t.maxMeanDiff !== undefined ? { pass: logitStats.meanAbsDiff <= t.maxMeanDiff } : {}) });
          rows.push({ label: 'max |logit diff|', value: logitStats.maxAbsDiff.toPrecision(4), ...(t.maxAbsDiff !== undefined ? { pass: logitStats.maxAbsDiff <= t.maxAbsDiff } : {}) });
        }
        rows.push({ label: 'class-map agreement', value: `${(mapStats.agreement * 100).toFixed(2)}%`, ...(t.minAgreement !== undefined ? { pass: mapStats.agreement >= t.minAgreement } : {}) });
        rows.push({ label: 'mean IoU (deployed vs reference)', value: mapStats.meanIoU.toFixed(4), ...(t.minMeanIoU !== undefined ? { pass: mapStats.meanIoU >= t.minMeanIoU } : {}) });
        rows.push({ label: 'preprocessing mean |diff|', value: `${pre.meanAbsDiff.toPrecision(3)} (${(pre.meanAbsDiff / lsb).toFixed(2)} LSB), max ${pre.maxAbsDiff.toPrecision(3)}`, ...(t.maxPreprocessDiff !== undefined ? { pass: pre.meanAbsDiff <= t.maxPreprocessDiff } : {}) });
        const worstClasses = [...named].sort((a, b) => a.iou - b.iou).slice(0, 6);
        pending.push({
          card: {
            name: src.name,
            width: img.width,
            height: img.height,
            failed: failures.length > 0,
            metrics: rows,
            classes: worstClasses.map((c) => ({ name: c.name, color: [palette[c.classId * 3]!, palette[c.classId * 3 + 1]!, palette[c.classId * 3 + 2]!], iou: c.iou, referencePixels: c.referencePixels, deployedPixels: c.deployedPixels })),
            findings: imageFindings,
            images: { reference: await pngDataUri(refOverlay, pw, ph), deployed: await pngDataUri(depOverlay, pw, ph) },
          },
          diff: { cells, gw: refLogits.width, gh: refLogits.height, mismatch, preview, pw, ph },
        });
      }
      progress.tick(src.name);
    }

    const logits = logitAcc ? logitAcc.result() : null;
    const mapAll = mapAcc.result();
    const overall: VerifyReport['overall'] = {
      logits: logits && logits.count > 0 ? logits : null,
      classMap: { ...mapAll, perClass: mapAll.perClass.map((c) => ({ ...c, name: refInfo.classNames[c.classId] ?? `class ${c.classId}` })) },
      preprocess: preCount > 0 ? preAcc.result() : null,
      worstCosine: images.some((i) => i.logits) ? Math.min(...images.filter((i) => i.logits).map((i) => i.logits!.cosine)) : null,
      worstAgreement: Math.min(...images.map((i) => i.classMap.agreement)),
    };
    const failures = images.flatMap((i) => i.failures);
    // One finding per distinct preprocessing diagnosis code, for the summary.
    const seen = new Set<string>();
    for (const im of images) {
      for (const f of im.findings) {
        if (f.severity === 'info' || seen.has(f.code)) continue;
        seen.add(f.code);
        findings.push({ ...f, message: `${f.message} (first seen on ${im.image})` });
      }
    }
    // A named preprocessing mistake fails the run even without thresholds: it is a deployment bug.
    for (const f of findings) {
      if (f.severity !== 'error') continue;
      const text = f.message.replace(/ \((this tensor|first seen).*$/, '');
      failures.push(`[${f.code}] ${text.length > 160 ? `${text.slice(0, 157)}...` : text}`);
    }
    const passed = failures.length === 0;
    const outDir = o.out ?? 'segstream-verify';
    await fs.mkdir(outDir, { recursive: true });
    const jsonPath = path.join(outDir, 'report.json');
    const report: VerifyReport = {
      tool: 'segstream verify',
      createdAt: new Date().toISOString(),
      reference: { path: path.resolve(refInfo.path), name: refInfo.name, input: describeInput(refInfo), output: describeOutput(refInfo) },
      deployed: {
        path: o.deployedInt8Weights ? `${path.resolve(refInfo.path)} (int8 weights)` : path.resolve(depInfo.path),
        name: depInfo.name,
        kind: depBackend.kind,
        input: describeInput(depInfo),
        output: describeOutput(depInfo),
        ...(depNote ? { note: depNote } : {}),
      },
      deployedPath: deployedPathText,
      postprocess: mode,
      thresholds,
      overall,
      images,
      passed,
      failures,
      findings,
      jsonPath,
    };

    if (!o.noHtml) {
      const scale = Math.max(1e-12, ...pending.map((p) => (p.diff.cells ? p.diff.cells.reduce((m, v) => (v > m ? v : m), 0) : 0)));
      const cards: HtmlImageCard[] = [];
      for (const p of pending) {
        const { cells, gw, gh, mismatch, preview, pw, ph } = p.diff;
        const heat = new Uint8Array(pw * ph * 3);
        for (let y = 0; y < ph; y++) {
          for (let x = 0; x < pw; x++) {
            const i = y * pw + x;
            let rgb: [number, number, number];
            if (mismatch[i]) rgb = [0, 230, 255];
            else if (cells) rgb = heatColour(cells[Math.min(gh - 1, Math.floor((y * gh) / ph)) * gw + Math.min(gw - 1, Math.floor((x * gw) / pw))]! / scale);
            else {
              const g = Math.round((preview[i * 3]! + preview[i * 3 + 1]! + preview[i * 3 + 2]!) / 6);
              rgb = [g, g, g];
            }
            heat.set(rgb, i * 3);
          }
        }
        cards.push({ ...p.card, images: { ...p.card.images, diff: await pngDataUri(heat, pw, ph) } });
      }
      const order = images.map((im, i) => ({ i, key: im.classMap.agreement })).sort((a, b) => a.key - b.key);
      const sorted = order.map((x) => cards[x.i]!);
      const overallRows: HtmlMetricRow[] = [];
      const t = thresholds;
      if (overall.logits) {
        overallRows.push({ label: 'logits cosine (pooled / worst image)', value: `${overall.logits.cosine.toFixed(6)} / ${overall.worstCosine!.toFixed(6)}`, ...(t.minCosine !== undefined ? { pass: overall.worstCosine! >= t.minCosine } : {}) });
        overallRows.push({ label: 'mean |logit diff|', value: overall.logits.meanAbsDiff.toPrecision(4) });
        overallRows.push({ label: 'max |logit diff|', value: overall.logits.maxAbsDiff.toPrecision(4) });
      }
      overallRows.push({ label: 'class-map agreement (pooled / worst image)', value: `${(overall.classMap.agreement * 100).toFixed(2)}% / ${(overall.worstAgreement * 100).toFixed(2)}%`, ...(t.minAgreement !== undefined ? { pass: overall.worstAgreement >= t.minAgreement } : {}) });
      overallRows.push({ label: 'mean IoU over classes (pooled)', value: overall.classMap.meanIoU.toFixed(4) });
      if (overall.preprocess) overallRows.push({ label: 'preprocessing mean |diff| / max', value: `${overall.preprocess.meanAbsDiff.toPrecision(3)} / ${overall.preprocess.maxAbsDiff.toPrecision(3)}` });
      for (const f of failures) overallRows.push({ label: 'failed', value: f, pass: false });
      const html = renderHtmlReport({
        title: `segstream verify: ${refInfo.name} vs ${depInfo.name}`,
        generatedAt: report.createdAt,
        reference: `${report.reference.path} (${report.reference.input}; ${report.reference.output})`,
        deployed: `${report.deployed.path} (${report.deployed.kind}; ${report.deployed.input}; ${report.deployed.output})${depNote ? ` - ${depNote}` : ''}`,
        deployedPath: deployedPathText,
        verdict: passed ? 'pass' : 'fail',
        overall: overallRows,
        findings,
        cards: sorted,
        notes: [
          `Post-processing: ${mode}. Class maps compared at each image's own size. Heat map: mean |logit diff| over classes per logit cell, scaled to the largest cell of the run (${scale.toPrecision(3)}).`,
          refInfo.untrainedDemo ? 'The reference is segstream\'s untrained demo model: its masks are meaningless; the agreement numbers are still real.' : '',
        ].filter((n) => n !== ''),
      });
      report.htmlPath = path.join(outDir, 'report.html');
      await writeFileAtomic(report.htmlPath, html);
    }
    await writeFileAtomic(jsonPath, `${JSON.stringify(report, null, 2)}\n`);
    return report;
  } finally {
    for (const b of backends) await b.close().catch(() => {});
    await set.cleanup();
    for (const d of tmpDirs) await fs.rm(d, { recursive: true, force: true });
  }
}

export function formatVerifyReport(r: VerifyReport): string {
  let out = `reference: ${r.reference.path}\ndeployed:  ${r.deployed.path}${r.deployed.note ? `\n           ${r.deployed.note}` : ''}\ninput path: ${r.deployedPath}\n\n`;
  const head = 'image'.padEnd(28) + 'cosine'.padStart(10) + 'mean|d|'.padStart(10) + 'max|d|'.padStart(10) + 'agree%'.padStart(9) + 'mIoU'.padStart(8) + 'pre|d|'.padStart(10);
  out += `${head}\n`;
  const row = (name: string, l: LogitStats | null, agree: number, miou: number, pre: number | undefined) =>
    name.slice(0, 27).padEnd(28) +
    (l ? l.cosine.toFixed(5) : '-').padStart(10) +
    (l ? l.meanAbsDiff.toPrecision(3) : '-').padStart(10) +
    (l ? l.maxAbsDiff.toPrecision(3) : '-').padStart(10) +
    (agree * 100).toFixed(2).padStart(9) +
    miou.toFixed(3).padStart(8) +
    (pre === undefined ? '-' : pre.toPrecision(3)).padStart(10);
  for (const i of r.images) out += `${row(i.image, i.logits, i.classMap.agreement, i.classMap.meanIoU, i.preprocess?.meanAbsDiff)}\n`;
  out += `${row('overall (pooled)', r.overall.logits, r.overall.classMap.agreement, r.overall.classMap.meanIoU, r.overall.preprocess?.meanAbsDiff)}\n`;
  if (r.findings.length > 0) out += `\n${formatFindings(r.findings)}`;
  out += r.passed ? `\nPASS${Object.keys(r.thresholds).length === 0 ? ' (no thresholds given)' : ''}\n` : `\nFAIL:\n${r.failures.map((f) => `  ${f}`).join('\n')}\n`;
  out += `report: ${r.htmlPath ?? '(no html)'}  ${r.jsonPath}\n`;
  return out;
}

export async function main(argv: string[]): Promise<number> {
  const json = argv.includes('--json');
  return runCommand('verify', async () => {
    const { values } = parseCommandArgs('verify', argv, {
      reference: { type: 'string' },
      deployed: { type: 'string' },
      'deployed-int8-weights': { type: 'boolean' },
      'deployed-input': { type: 'string' },
      'source-range': { type: 'string' },
      'source-matrix': { type: 'string' },
      'decode-range': { type: 'string' },
      'decode-matrix': { type: 'string' },
      'deployed-tensors': { type: 'string' },
      images: { type: 'string' },
      preprocessor: { type: 'string' },
      'model-config': { type: 'string' },
      'deployed-config': { type: 'string' },
      postprocess: { type: 'string' },
      'min-cosine': { type: 'string' },
      'max-mean-diff': { type: 'string' },
      'max-abs-diff': { type: 'string' },
      'min-agreement': { type: 'string' },
      'min-miou': { type: 'string' },
      'max-preprocess-diff': { type: 'string' },
      out: { type: 'string' },
      'max-images': { type: 'string' },
      threads: { type: 'string' },
      quiet: { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    });
    if (values.help) {
      process.stdout.write(HELP);
      return EXIT_OK;
    }
    const num = (name: string) => parseNumber(name, optionalString(values, name));
    const thresholds: VerifyThresholds = {};
    const set = (key: keyof VerifyThresholds, name: string) => {
      const v = num(name);
      if (v !== undefined) thresholds[key] = v;
    };
    set('minCosine', 'min-cosine');
    set('maxMeanDiff', 'max-mean-diff');
    set('maxAbsDiff', 'max-abs-diff');
    set('minAgreement', 'min-agreement');
    set('minMeanIoU', 'min-miou');
    set('maxPreprocessDiff', 'max-preprocess-diff');
    const opt = (name: string) => optionalString(values, name);
    const deployedInput = parseChoice('deployed-input', opt('deployed-input'), ['reference', 'nv12'] as const);
    const sourceRange = parseChoice('source-range', opt('source-range'), ['full', 'limited'] as const);
    const decodeRange = parseChoice('decode-range', opt('decode-range'), ['full', 'limited'] as const);
    const sourceMatrix = parseChoice('source-matrix', opt('source-matrix'), ['bt601', 'bt709'] as const);
    const decodeMatrix = parseChoice('decode-matrix', opt('decode-matrix'), ['bt601', 'bt709'] as const);
    const postprocess = parseChoice('postprocess', opt('postprocess'), ['exact', 'boundary', 'lowres'] as const);
    const maxImages = parseNumber('max-images', opt('max-images'), { min: 1, integer: true });
    const threads = parseNumber('threads', opt('threads'), { min: 1, max: 64, integer: true });
    const strs: Partial<VerifyOptions> = {};
    for (const [k, name] of [
      ['deployed', 'deployed'],
      ['deployedTensors', 'deployed-tensors'],
      ['preprocessor', 'preprocessor'],
      ['modelConfig', 'model-config'],
      ['deployedConfig', 'deployed-config'],
      ['out', 'out'],
    ] as const) {
      const v = opt(name);
      if (v !== undefined) strs[k] = v;
    }
    const r = await runVerify({
      reference: requiredString(values, 'reference', 'the float ONNX model (the reference path)'),
      images: requiredString(values, 'images', 'a directory of images, an image or a video'),
      ...strs,
      ...(values['deployed-int8-weights'] ? { deployedInt8Weights: true } : {}),
      ...(deployedInput ? { deployedInput } : {}),
      ...(sourceRange ? { sourceRange } : {}),
      ...(decodeRange ? { decodeRange } : {}),
      ...(sourceMatrix ? { sourceMatrix } : {}),
      ...(decodeMatrix ? { decodeMatrix } : {}),
      ...(postprocess ? { postprocess } : {}),
      ...(maxImages ? { maxImages } : {}),
      ...(threads ? { threads } : {}),
      thresholds,
      quiet: values.quiet === true,
    }).catch((err: unknown) => {
      if (err instanceof VerifyInputError && json) printJson({ passed: false, findings: [err.finding] });
      throw err;
    });
    if (values.json) printJson(r);
    else process.stdout.write(formatVerifyReport(r));
    return r.passed ? EXIT_OK : EXIT_FAILED_CHECKS;
  });
}
