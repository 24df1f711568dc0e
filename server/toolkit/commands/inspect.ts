/**
 * `segstream inspect <file...> --model <onnx>`: checks calibration or runtime input files (.bin raw, .npy)
 * against what the model and the hb_mapper config expect - byte size vs shape x dtype, truncation, layout,
 * value domain, per-channel statistics, NaN/Inf - and, when the source image is known (--reference-image,
 * --reference-dir, or the manifest `segstream calib` writes), names the preprocessing mistake behind any
 * difference (BGR, missing antialiasing, wrong colour range, ...).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { TensorLayout } from '../../model/model-info.ts';
import { listTensorFiles, readCalibManifest, type CalibManifest } from '../tensors/calib-manifest.ts';
import {
  EXIT_FAILED_CHECKS,
  EXIT_OK,
  optionalString,
  parseChoice,
  printJson,
  requiredString,
  runCli,
  UsageError,
  type Options,
} from '../../cli/args.ts';
import { MODEL_FILE_OPTIONS, modelFileFlags } from './model-file-flags.ts';
import { deriveExpectation, describeExpectation, type FileRole, type InputExpectation } from '../diagnosis/input-expectation.ts';
import { finding, formatFindings, formatShape, groupDigits, type Finding } from '../report/findings.ts';
import { parseMapperYaml, type MapperConfigView } from '../hb-mapper/mapper-yaml.ts';
import { decodeImage, IMAGE_EXTENSIONS } from '../images.ts';
import { loadModelContext, type ModelContext } from '../model-context.ts';
import { diagnosePreprocessing, prepareDiagnosis, toNormalisedNchw, type DiagnosisReference, type HypothesisResult } from '../diagnosis/preprocess-diagnosis.ts';
import { analyseTensorFile, type FileAnalysis } from '../tensors/tensor-analysis.ts';
import { readTensorFile } from '../tensors/tensor-file.ts';
import { at } from '../../util/checked-access.ts';

export const HELP = `usage: segstream inspect <file|dir...> --model <onnx> [options]

Checks calibration or runtime input files (.bin raw bytes, .npy) against what the model expects:
byte size vs shape x dtype ("this file is 3,145,728 bytes = float32 [1,3,512,512]; the model's rt input
is uint8 NHWC: you are reading a float file as int8"), truncation, NCHW vs NHWC, value range (raw 0-255,
0-1, normalised), per-channel statistics, NaN/Inf. With the source image it also names preprocessing
mistakes: BGR vs RGB, missing antialiasing, nearest resize, wrong NV12 colour range or matrix.
Exit status 1 when any file has an error.

options:
  --model <onnx>             float ONNX model (required)
  --config <yaml>            hb_mapper YAML: gives the rt input type, layouts, cal_data_type, norm_type
  --role <r>                 calibration | runtime | model-input (default: runtime with --rt,
                             calibration with --config, else model-input = the ONNX input itself)
  --rt <type>                runtime input type without a YAML: nv12 | rgb | bgr | featuremap | yuv444 | gray
  --rt-layout <l>            NHWC | NCHW (rt layout; default NHWC for images)
  --preprocessor <json>      preprocessor_config.json (default: next to the model)
  --model-config <json>      config.json (default: next to the model)
  --reference-image <img>    the image the file(s) were made from
  --reference-dir <dir>      images matched to files by name (coffee.png <-> coffee.bin / coffee_0.npy)
  --json                     machine-readable output on stdout
  -h, --help                 this text

examples:
  segstream inspect calib/ --model model.onnx --config hb_mapper.yaml
  segstream inspect frame.nv12 --model model.onnx --rt nv12 --reference-image frame.png
  segstream inspect input.npy --model model.onnx --json
`;

export interface InspectOptions {
  files: string[];
  model: string;
  config?: string;
  role?: FileRole;
  rt?: string;
  rtLayout?: TensorLayout;
  preprocessor?: string;
  modelConfig?: string;
  referenceImage?: string;
  referenceDir?: string;
}

export interface ReferenceReport {
  image: string;
  verdict: string;
  referenceMeanAbsDiff: number;
  referenceMaxAbsDiff: number;
  lsb: number;
  hypotheses: Pick<HypothesisResult, 'id' | 'meanAbsDiff' | 'maxAbsDiff'>[];
}

export type InspectFileReport = Omit<FileAnalysis, 'values'> & { reference?: ReferenceReport };

export interface InspectResult {
  role: FileRole;
  expected: string;
  expectation: InputExpectation;
  files: InspectFileReport[];
  /** Findings about the set as a whole (e.g. a channel-order hint from statistics). */
  setFindings: Finding[];
  errors: number;
  warnings: number;
}

async function expandFiles(inputs: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const input of inputs) {
    let st: import('node:fs').Stats;
    try {
      st = await fs.stat(input);
    } catch {
      throw new UsageError(`${input}: no such file or directory`);
    }
    if (st.isDirectory()) {
      const files = await listTensorFiles(input);
      if (files.length === 0) throw new UsageError(`${input}: the directory holds no .bin/.npy/.raw/.nv12 files`);
      out.push(...files);
    } else out.push(input);
  }
  return out;
}

async function referenceIndex(dir: string): Promise<Map<string, string>> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    throw new UsageError(`--reference-dir ${dir}: cannot list the directory`);
  }
  const m = new Map<string, string>();
  for (const n of names) if (IMAGE_EXTENSIONS.has(path.extname(n).toLowerCase())) m.set(path.parse(n).name, path.join(dir, n));
  if (m.size === 0) throw new UsageError(`--reference-dir ${dir}: no images in it`);
  return m;
}

/** coffee.png matches coffee.bin, coffee.pixel_values.f32, coffee_0003.npy, coffee-rgb.bin (longest stem wins). */
function matchReference(file: string, index: Map<string, string>): string | undefined {
  const base = path.basename(file);
  let best: string | undefined;
  let bestLen = -1;
  for (const [stem, img] of index) {
    if (base === stem || (base.startsWith(stem) && /[._-]/.test(base.charAt(stem.length)))) {
      if (stem.length > bestLen) {
        best = img;
        bestLen = stem.length;
      }
    }
  }
  return best;
}

export async function inspectFiles(o: InspectOptions, ctx?: ModelContext): Promise<InspectResult> {
  if (o.files.length === 0) throw new UsageError('inspect: give at least one file or directory to inspect');
  const mc = ctx ?? (await loadModelContext(o.model, { ...(o.preprocessor ? { preprocessorPath: o.preprocessor } : {}), ...(o.modelConfig ? { configPath: o.modelConfig } : {}) }));
  let mapper: MapperConfigView | undefined;
  if (o.config) {
    let text: string;
    try {
      text = await fs.readFile(o.config, 'utf8');
    } catch (err) {
      throw new UsageError(`--config ${o.config}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
    mapper = parseMapperYaml(text, o.config);
  }
  const role: FileRole = o.role ?? (o.rt ? 'runtime' : mapper ? 'calibration' : 'model-input');
  if (o.rt && role !== 'runtime') throw new UsageError(`--rt describes the runtime input; it does not apply with --role ${role}`);
  const exp = deriveExpectation(mc.info, role, mapper, { ...(o.rt ? { rtType: o.rt } : {}), ...(o.rtLayout ? { rtLayout: o.rtLayout } : {}) });
  const files = await expandFiles(o.files);
  const refIndex = o.referenceDir ? await referenceIndex(o.referenceDir) : undefined;
  const manifests = new Map<string, CalibManifest | undefined>();
  const prepared = new Map<string, DiagnosisReference>();
  const params = { width: exp.width, height: exp.height, mean: exp.mean, std: exp.std, rescale: exp.rescale, channelOrder: exp.channelOrder };

  const reports: InspectFileReport[] = [];
  const channelMeans01: number[][] = [];
  for (const file of files) {
    let analysis: FileAnalysis;
    try {
      analysis = analyseTensorFile(await readTensorFile(file), exp);
    } catch (err) {
      if (err instanceof UsageError) throw err;
      // A malformed .npy header is a finding about that file, not a reason to stop.
      analysis = { path: file, bytes: 0, format: 'npy', expected: describeExpectation(exp), findings: [finding('unreadable-file', 'error', (err as Error).message, { subject: file })] };
    }
    const { values, ...rest } = analysis;
    const report: InspectFileReport = rest;
    reports.push(report);

    // Which image was this made from?
    const dir = path.dirname(file);
    if (!manifests.has(dir)) manifests.set(dir, await readCalibManifest(dir).catch(() => undefined));
    const fromManifest = manifests.get(dir)?.files.find((f) => f.file === path.basename(file))?.source;
    const image = o.referenceImage ?? (fromManifest && (await exists(fromManifest)) ? fromManifest : undefined) ?? (refIndex ? matchReference(file, refIndex) : undefined);

    const domain = analysis.domain;
    const convertible = domain === 'normalised' || domain === 'normalised-twice' || domain === 'unit-0-1' || domain === 'raw-0-255' || domain === 'int8-centred';
    if (values && convertible && exp.kind === 'tensor' && exp.channels === 3 && analysis.interpretation) {
      // Twice-normalised values are compared as they are: the diagnosis reproduces that mistake in the same units.
      const normalised = toNormalisedNchw(values, analysis.interpretation.layout, domain === 'normalised-twice' ? 'normalised' : domain, params);
      if (analysis.stats?.channels && domain !== 'normalised-twice') {
        channelMeans01.push(analysis.stats.channels.map((c, i) => (domain === 'normalised' ? c.mean * at(exp.std, i, 'exp.std') + at(exp.mean, i, 'exp.mean') : domain === 'unit-0-1' ? c.mean : domain === 'raw-0-255' ? c.mean * exp.rescale : (c.mean + 128) * exp.rescale)));
      }
      if (image) {
        let prep = prepared.get(image);
        if (!prep) {
          const img = await decodeImage(image);
          prep = prepareDiagnosis(img.rgb, img.width, img.height, params);
          prepared.set(image, prep);
        }
        const d = diagnosePreprocessing(normalised, prep, file);
        report.reference = {
          image,
          verdict: d.verdict,
          referenceMeanAbsDiff: d.reference.meanAbsDiff,
          referenceMaxAbsDiff: d.reference.maxAbsDiff,
          lsb: d.lsb,
          hypotheses: d.results.map((r) => ({ id: r.id, meanAbsDiff: r.meanAbsDiff, maxAbsDiff: r.maxAbsDiff })),
        };
        // The image confirms (or overrules) what the numbers alone said: one finding per mistake, the image's.
        if (d.verdict !== 'unexplained') report.findings = report.findings.filter((f) => f.code !== d.finding.code);
        report.findings.push(d.finding);
      }
    }
  }

  // Without a reference, the set's colour statistics still hint at BGR: photos average R > B.
  const setFindings: Finding[] = [];
  const referenced = reports.some((r) => r.reference);
  if (!referenced && channelMeans01.length >= 4) {
    const avg = [0, 1, 2].map((c) => channelMeans01.reduce((s, m) => s + at(m, c, 'm'), 0) / channelMeans01.length);
    const [first, , third] = avg as [number, number, number];
    const looksSwapped = exp.channelOrder === 'rgb' ? third - first > 0.04 : first - third > 0.04;
    if (looksSwapped) {
      setFindings.push(
        finding('channel-order-suspect', 'warning', `across ${channelMeans01.length} files the first channel averages ${first.toFixed(3)} and the third ${third.toFixed(3)} (0-1 units); photos average red above blue (ImageNet ${exp.mean[0]} vs ${exp.mean[2]}), so these look ${exp.channelOrder === 'rgb' ? 'BGR' : 'RGB'}. This is a statistical hint only`, {
          fix: 'confirm with --reference-dir <images> (which names the mistake exactly); cv2.imread returns BGR',
          data: { channelMeans: avg },
        }),
      );
    }
  }
  const all = [...reports.flatMap((r) => r.findings), ...setFindings];
  return {
    role,
    expected: `${exp.source}: ${describeExpectation(exp)}`,
    expectation: exp,
    files: reports,
    setFindings,
    errors: all.filter((f) => f.severity === 'error').length,
    warnings: all.filter((f) => f.severity === 'warning').length,
  };
}

async function exists(p: string): Promise<boolean> {
  try {
    await fs.access(p);
    return true;
  } catch {
    return false;
  }
}

export function formatInspectReport(r: InspectResult): string {
  let out = `expected (${r.role}): ${r.expected}\n`;
  for (const f of r.files) {
    out += `\n${f.path}: ${groupDigits(f.bytes)} bytes (${f.format})\n`;
    const i = f.interpretation;
    if (i) out += `  read as: ${i.dtype} ${i.layout} ${formatShape(i.shape)}${i.basis === 'npy-header' ? ' (from the .npy header)' : ' (from the file size)'}${i.complete ? '' : ', incomplete'}\n`;
    if (f.stats) {
      const s = f.stats;
      out += `  values: ${f.domain}, range ${s.min.toPrecision(4)}..${s.max.toPrecision(4)}, mean ${s.mean.toPrecision(4)}, std ${s.std.toPrecision(4)}${s.nan || s.inf ? `, ${s.nan} NaN, ${s.inf} Inf` : ''}\n`;
      if (s.channels) out += `  per channel (mean/std): ${s.channels.map((c, k) => `c${k} ${c.mean.toPrecision(4)}/${c.std.toPrecision(4)}`).join('  ')}\n`;
    }
    if (f.layoutGuess && f.layoutGuess.layout !== 'unknown') {
      out += `  layout from smoothness: ${f.layoutGuess.layout} (mean neighbour step NCHW ${f.layoutGuess.roughnessNchw.toPrecision(3)} vs NHWC ${f.layoutGuess.roughnessNhwc.toPrecision(3)})\n`;
    }
    if (f.signature && f.signature.kind !== 'normalised') out += `  normalisation from the numbers: ${f.signature.kind}${f.signature.reversed && f.signature.kind !== 'channels-reversed' ? ', channels reversed' : ''} (${f.signature.evidence})\n`;
    if (f.reference) out += `  reference image: ${f.reference.image} (${f.reference.verdict})\n`;
    out += formatFindings(f.findings);
  }
  if (r.setFindings.length > 0) out += `\nacross all files:\n${formatFindings(r.setFindings)}`;
  out += `\n${r.files.length} file(s): ${r.errors} error(s), ${r.warnings} warning(s)\n`;
  return out;
}

export async function main(argv: string[]): Promise<number> {
  const options = {
    model: { type: 'string' },
    config: { type: 'string' },
    role: { type: 'string' },
    rt: { type: 'string' },
    'rt-layout': { type: 'string' },
    ...MODEL_FILE_OPTIONS,
    'reference-image': { type: 'string' },
    'reference-dir': { type: 'string' },
    json: { type: 'boolean' },
  } as const satisfies Options;
  return runCli({ name: 'inspect', options, help: HELP, positionals: { min: 0, max: Infinity, what: 'the files (or directories) to inspect' } }, argv, async ({ values, positionals }) => {
    const model = requiredString(values, 'model', 'the float ONNX model the files are for');
    if (positionals.length === 0) throw new UsageError('expected the files (or directories) to inspect');
    const role = parseChoice('role', optionalString(values, 'role'), ['calibration', 'runtime', 'model-input'] as const);
    const rt = parseChoice('rt', optionalString(values, 'rt'), ['nv12', 'rgb', 'bgr', 'featuremap', 'yuv444', 'gray'] as const);
    const rtLayout = parseChoice('rt-layout', optionalString(values, 'rt-layout'), ['NHWC', 'NCHW'] as const);
    const referenceImage = optionalString(values, 'reference-image');
    const referenceDir = optionalString(values, 'reference-dir');
    if (referenceImage && referenceDir) throw new UsageError('--reference-image and --reference-dir are alternatives: give one');
    const config = optionalString(values, 'config');
    const r = await inspectFiles({
      files: positionals,
      model,
      ...(config ? { config } : {}),
      ...(role ? { role } : {}),
      ...(rt ? { rt } : {}),
      ...(rtLayout ? { rtLayout } : {}),
      ...modelFileFlags(values),
      ...(referenceImage ? { referenceImage } : {}),
      ...(referenceDir ? { referenceDir } : {}),
    });
    if (values.json) printJson(r);
    else process.stdout.write(formatInspectReport(r));
    return r.errors > 0 ? EXIT_FAILED_CHECKS : EXIT_OK;
  });
}

