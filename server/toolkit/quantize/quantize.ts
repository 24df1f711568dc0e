/**
 * `segstream quantize`, the programmatic side: calibrate a float SegFormer ONNX, choose a precision per
 * node (given on the command line, taken from an earlier report, or measured by the sensitivity search),
 * write the QDQ model next to copies of its config files, score it against the float model, and write
 * quantize.json (+ report.html). The CLI is quantize-cli.ts.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ModelInfo } from '../../model/model-info.ts';
import { loadModelInfo } from '../../model/load.ts';
import { ModelLoadError } from '../../model/errors.ts';
import { UsageError } from '../../cli/args.ts';
import { writeFileAtomic } from '../../util/atomic-write.ts';
import { DEFAULT_PERCENTILE, type CalibratorKind } from './calibrators.ts';
import { collectStats } from './calibration.ts';
import { Evaluator, type Execution, type Score, type ScoredImage } from './evaluate.ts';
import { QuantGraph, QuantizeModelError } from './graph.ts';
import { feedsFromCalibDir, feedsFromImages, type ModelFeed } from './inputs.ts';
import { checkSameModel, nodeInfoOf, readMeasuredPrecision, type NodeInfoEntry } from './node-info.ts';
import { QdqWriter, type ActivationScheme, type Precision, type QdqResult } from './qdq-writer.ts';
import { DEFAULT_TARGET, SensitivityLab, type SearchResult, type UnitCost } from './sensitivity.ts';
import { findUnits, UNIT_KINDS, type QuantUnit, type UnitKind } from './units.ts';

export interface QuantizeOptions {
  /** The float ONNX export. */
  model: string;
  preprocessor?: string;
  modelConfig?: string;
  /** Calibration images (reference preprocessing) ... */
  images?: string;
  /** ... or a `segstream calib` output directory. */
  calib?: string;
  maxImages?: number;
  /** Evaluation images (default: the calibration inputs). */
  evalImages?: string;
  maxEvalImages?: number;
  calibrator: CalibratorKind;
  percentile?: number;
  /** What the model is for (see TARGETS). */
  target: QuantizeTarget;
  /** Explicit choice: node names, unit ids, unit kinds, or `all`. */
  int16?: string[];
  float?: string[];
  /** Reuse the precision of an earlier quantize.json (same model). */
  precisionFrom?: string;
  /** Measure sensitivity and search for the smallest int16/float set reaching `targetAgreement`. */
  sensitivity?: boolean;
  targetAgreement?: number;
  pruneLimit?: number;
  /** Output directory: model.onnx (QDQ), config files, quantize.json, report.html. */
  out: string;
  threads?: number;
  quiet?: boolean;
  noHtml?: boolean;
}

export type QuantizeTarget = 'board' | 'cpu';

/**
 * board: int8 symmetric activations (zero point 0) and full-range int8 weights, scored with the QDQ
 *        arithmetic exactly as ONNX defines it (no kernel fusion): a simulation of integer inference that
 *        does not depend on this CPU's kernels; its choice feeds mapper-config's node_info.
 * cpu:   uint8 asymmetric activations and 7-bit weights, scored as ONNX Runtime runs it here (fused integer
 *        kernels): the model for the int8 CPU backend. uint8 is what ONNX Runtime fuses into QLinearAdd/Mul
 *        and every QLinearMatMul on x86; 7-bit weights avoid the int16 saturation of its uint8 x int8 kernel
 *        on CPUs without VNNI.
 */
export const TARGETS: Record<QuantizeTarget, { activations: ActivationScheme; weightRange: 'full' | 'reduced'; execution: Execution }> = {
  board: { activations: 'symmetric', weightRange: 'full', execution: 'disabled' },
  cpu: { activations: 'asymmetric', weightRange: 'reduced', execution: 'all' },
};

export interface PrecisionChoice {
  source: 'all-int8' | 'command-line' | 'report' | 'sensitivity-search';
  int16Nodes: string[];
  floatNodes: string[];
  unnamedNodes: string[];
}

export interface QuantizeReport {
  tool: 'segstream quantize';
  version: 1;
  createdAt: string;
  model: { path: string; sha256: string; name: string; opset: number; untrainedDemo: boolean; classes: number; logits: string };
  output: { dir: string; model: string; int16Domain: string; counts: QdqResult['counts']; weights: number };
  target: QuantizeTarget;
  calibration: { source: string; inputs: string[]; calibrator: CalibratorKind; percentile?: number; activations: ActivationScheme; weights: string; seconds: number };
  evaluation: { inputs: string[]; classMaps: string; grid: { width: number; height: number }; execution: string; target: number | null };
  units: { total: number; byKind: Record<string, number> };
  sensitivity?: { seconds: number; evaluations: number; ranked: UnitCost[] };
  search?: SearchResult;
  precision: PrecisionChoice;
  nodeInfo: Record<string, NodeInfoEntry>;
  score: Score;
  images: ScoredImage[];
  machine: { cpus: number; loadAverageStart: number[]; loadAverageEnd: number[] };
  notes: string[];
  jsonPath: string;
  htmlPath?: string;
}

export interface QuantizeRun {
  report: QuantizeReport;
  /** For the HTML report (not serialised). */
  pictures?: { feeds: ModelFeed[]; refMaps: (Uint8Array | Uint16Array)[]; maps: (Uint8Array | Uint16Array)[] };
}

function validate(o: QuantizeOptions): void {
  if (!o.images && !o.calib) throw new UsageError('calibration data is required: --images <dir|video> (reference preprocessing) or --calib <segstream calib output>');
  if (o.images && o.calib) throw new UsageError('--images and --calib are alternatives: give one calibration source');
  if (o.sensitivity && (o.int16?.length || o.float?.length || o.precisionFrom)) {
    throw new UsageError('--sensitivity searches the precision itself: drop --int16/--float/--precision-from (or drop --sensitivity to use them)');
  }
  if (o.precisionFrom && (o.int16?.length || o.float?.length)) throw new UsageError('--precision-from and --int16/--float are alternatives');
  const t = o.targetAgreement;
  if (t !== undefined && !o.sensitivity) throw new UsageError('--target-agreement applies to --sensitivity');
  if (t !== undefined) {
    if (t > 1 && t <= 100) throw new UsageError(`--target-agreement ${t}: expected a fraction from 0 to 1; ${t} looks like a percentage - use ${t / 100}`);
    if (!(t > 0 && t <= 1)) throw new UsageError(`--target-agreement ${t}: expected a fraction in (0, 1]`);
  }
  if (!(o.target in TARGETS)) throw new UsageError(`--target: expected board or cpu, got ${JSON.stringify(o.target)}`);
  if (o.percentile !== undefined && o.calibrator !== 'percentile') throw new UsageError('--percentile applies to --calibrator percentile');
  if (o.percentile !== undefined && !(o.percentile > 0 && o.percentile <= 100)) throw new UsageError(`--percentile ${o.percentile}: expected a number in (0, 100], e.g. 99.999`);
}

/** Resolves --int16/--float entries (node names, unit ids, unit kinds, `all`) to node names. */
export function resolveSelection(entries: readonly string[], units: readonly QuantUnit[], g: QuantGraph, option: string): string[] {
  const out = new Set<string>();
  for (const raw of entries) {
    const e = raw.trim();
    if (e === '') continue;
    if (e === 'all') {
      for (const u of units) u.nodes.forEach((n) => out.add(n));
      continue;
    }
    if ((UNIT_KINDS as readonly string[]).includes(e)) {
      for (const u of units) if (u.kind === (e as UnitKind)) u.nodes.forEach((n) => out.add(n));
      continue;
    }
    const unit = units.find((u) => u.id === e);
    if (unit) {
      unit.nodes.forEach((n) => out.add(n));
      continue;
    }
    const node = g.node(e);
    if (node && node.role === 'compute') {
      out.add(node.name);
      continue;
    }
    if (node) throw new UsageError(`${option} ${e}: node ${e} is a ${node.opType} (${node.role === 'passthrough' ? 'moves data, takes its neighbours\' precision' : 'never quantized'}); name a compute node, a unit id or a kind`);
    const near = units.flatMap((u) => u.nodes).filter((n) => n.includes(e.split('/').pop() ?? e)).slice(0, 3);
    throw new UsageError(`${option} ${e}: no node, unit or kind of that name in the model (kinds: ${UNIT_KINDS.join(', ')}${near.length ? `; similar nodes: ${near.join(', ')}` : ''})`);
  }
  return [...out];
}

async function copyIfPresent(from: string | undefined, to: string): Promise<void> {
  if (!from) return;
  try {
    await writeFileAtomic(to, await fs.readFile(from));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

async function loadFloatModel(o: QuantizeOptions): Promise<ModelInfo> {
  let info: ModelInfo;
  try {
    info = await loadModelInfo(o.model, { ...(o.modelConfig ? { configPath: o.modelConfig } : {}), ...(o.preprocessor ? { preprocessorPath: o.preprocessor } : {}) });
  } catch (err) {
    if (err instanceof ModelLoadError) throw new UsageError(`--model: ${err.message}`);
    throw err;
  }
  if (info.input.dtype !== 'float32' || info.input.kind !== 'tensor') throw new UsageError(`--model ${o.model}: input ${info.input.name} is ${info.input.dtype}; quantize takes the float export (float32 input)`);
  if (info.output.kind !== 'logits' || info.output.dtype !== 'float32') {
    throw new UsageError(`--model ${o.model}: output ${info.output.name} is a ${info.output.dtype} ${info.output.kind}; quantize needs float logits to score against (export without the final ArgMax)`);
  }
  if (info.input.dynamic) throw new UsageError(`--model ${o.model}: input ${info.input.name} has a dynamic size ${JSON.stringify(info.input.shape)}; export with a fixed size (the calibration and the board both need one)`);
  return info;
}

export async function runQuantize(o: QuantizeOptions): Promise<QuantizeRun> {
  validate(o);
  const loadStart = os.loadavg();
  const notes: string[] = [];
  const info = await loadFloatModel(o);
  const bytes = await fs.readFile(info.path);
  let g: QuantGraph;
  try {
    g = QuantGraph.decode(bytes, info.path);
  } catch (err) {
    if (err instanceof QuantizeModelError) throw new UsageError(err.message);
    throw err;
  }

  // Calibration (and evaluation) inputs.
  const calFeeds = o.calib
    ? await feedsFromCalibDir(o.calib, info, { ...(o.maxImages ? { maxImages: o.maxImages } : {}), option: '--calib' })
    : await feedsFromImages(o.images!, info, { maxImages: o.maxImages ?? 16, keepImages: true });
  const evalFeeds = o.evalImages
    ? await feedsFromImages(o.evalImages, info, { maxImages: o.maxEvalImages ?? 8, keepImages: true, option: '--eval-images' })
    : calFeeds.slice(0, o.maxEvalImages ?? 4);
  if (!o.evalImages) notes.push(`Evaluated on ${evalFeeds.length} of the calibration inputs: a model scores a little better on the data it was calibrated on; pass --eval-images for held-out images.`);

  const t0 = performance.now();
  const stats = await collectStats(g, calFeeds, { ...(o.threads ? { threads: o.threads } : {}), histograms: o.calibrator !== 'max', quiet: o.quiet ?? false });
  const calSeconds = (performance.now() - t0) / 1000;
  const units = findUnits(g, (v) => stats.has(v));
  if (units.length === 0) throw new UsageError(`--model ${o.model}: no quantizable node reads a float activation (is this already an integer model?)`);
  const byKind: Record<string, number> = {};
  for (const u of units) byKind[u.kind] = (byKind[u.kind] ?? 0) + 1;

  const writer = new QdqWriter(g, stats);
  const target = TARGETS[o.target];
  const qdqBase = {
    calibrator: { kind: o.calibrator, ...(o.calibrator === 'percentile' ? { percentile: o.percentile ?? DEFAULT_PERCENTILE } : {}) },
    activations: target.activations,
    weightRange: target.weightRange,
    summary: { target: o.target },
  };
  const shape = { classes: info.output.classes, height: info.output.height, width: info.output.width, layout: info.output.layout };
  const evaluator = await Evaluator.create(bytes, evalFeeds, info.output.name, shape, o.threads, target.execution);

  // The precision choice.
  let precision = new Map<string, Precision>();
  let choice: PrecisionChoice = { source: 'all-int8', int16Nodes: [], floatNodes: [], unnamedNodes: [] };
  let sensitivity: QuantizeReport['sensitivity'];
  let search: SearchResult | undefined;
  if (o.sensitivity) {
    const t1 = performance.now();
    const lab = new SensitivityLab(writer, evaluator, units, { qdq: qdqBase, ...(o.targetAgreement !== undefined ? { target: o.targetAgreement } : {}), ...(o.pruneLimit !== undefined ? { pruneLimit: o.pruneLimit } : {}), quiet: o.quiet ?? false });
    const ranked = await lab.measure();
    search = await lab.search(ranked);
    sensitivity = { seconds: (performance.now() - t1) / 1000, evaluations: lab.evaluationCount, ranked };
    precision = lab.precisionOf(search);
    choice = { source: 'sensitivity-search', int16Nodes: [], floatNodes: [], unnamedNodes: [] };
  } else if (o.precisionFrom) {
    let m;
    try {
      m = await readMeasuredPrecision(o.precisionFrom);
      await checkSameModel(m, info.path);
    } catch (err) {
      throw new UsageError(`--precision-from: ${(err as Error).message}`);
    }
    for (const n of m.int16Nodes) precision.set(n, 'int16');
    for (const n of m.floatNodes) precision.set(n, 'float');
    choice = { source: 'report', int16Nodes: [], floatNodes: [], unnamedNodes: [] };
  } else if (o.int16?.length || o.float?.length) {
    const i16 = resolveSelection(o.int16 ?? [], units, g, '--int16');
    const fl = resolveSelection(o.float ?? [], units, g, '--float');
    const both = i16.filter((n) => fl.includes(n));
    if (both.length > 0) throw new UsageError(`--int16 and --float both name ${both.slice(0, 3).join(', ')}${both.length > 3 ? ` and ${both.length - 3} more` : ''}: choose one precision per node`);
    for (const n of i16) precision.set(n, 'int16');
    for (const n of fl) precision.set(n, 'float');
    choice = { source: 'command-line', int16Nodes: [], floatNodes: [], unnamedNodes: [] };
  }
  for (const u of units) {
    for (const n of u.nodes) {
      const p = precision.get(n);
      if (p === 'int16') choice.int16Nodes.push(n);
      else if (p === 'float') choice.floatNodes.push(n);
      if (p && p !== 'int8' && !g.node(n)!.named) choice.unnamedNodes.push(n);
    }
  }
  const named = (n: string) => g.node(n)?.named ?? false;

  // The model.
  const result = writer.write({ ...qdqBase, precision, defaultPrecision: 'int8' });
  const outDir = path.resolve(o.out);
  await fs.mkdir(outDir, { recursive: true });
  const modelOut = path.join(outDir, 'model.onnx');
  if (path.resolve(info.path) === modelOut) throw new UsageError(`--out ${o.out}: would overwrite the float model ${info.path}; choose another directory`);
  await writeFileAtomic(modelOut, result.bytes);
  const floatDir = path.dirname(info.path);
  await copyIfPresent(o.modelConfig ?? path.join(floatDir, 'config.json'), path.join(outDir, 'config.json'));
  await copyIfPresent(o.preprocessor ?? path.join(floatDir, 'preprocessor_config.json'), path.join(outDir, 'preprocessor_config.json'));

  const final = await evaluator.score(result.bytes, true);
  if (info.untrainedDemo) notes.push('The float model is an untrained demo model: its logits have tiny margins between classes, so class maps flip far more easily than a trained model\'s; the sensitivity ranking describes this model, not SegFormer in general.');
  if (result.int16Domain === 'com.microsoft' && result.counts.int16Values > 0) {
    notes.push(`int16 QuantizeLinear/DequantizeLinear use the com.microsoft domain (ONNX Runtime's): the model's opset ${g.opset} has no int16 QuantizeLinear (ONNX added it in opset 21).`);
  }
  const report: QuantizeReport = {
    tool: 'segstream quantize',
    version: 1,
    createdAt: new Date().toISOString(),
    model: { path: info.path, sha256: g.sha256, name: info.name, opset: g.opset, untrainedDemo: info.untrainedDemo, classes: info.output.classes, logits: `${info.output.name} [${info.output.shape.join(', ')}]` },
    output: { dir: outDir, model: modelOut, int16Domain: result.int16Domain || 'ai.onnx', counts: result.counts, weights: result.weights.length },
    target: o.target,
    calibration: {
      source: o.calib ? `segstream calib directory ${path.resolve(o.calib)}` : `images ${path.resolve(o.images!)} (reference preprocessing)`,
      inputs: calFeeds.map((f) => f.name),
      calibrator: o.calibrator,
      ...(o.calibrator === 'percentile' ? { percentile: o.percentile ?? DEFAULT_PERCENTILE } : {}),
      activations: target.activations,
      weights: target.weightRange === 'reduced' ? 'int8 per-channel symmetric, 7-bit (-63..63)' : 'int8 per-channel symmetric (-127..127)',
      seconds: calSeconds,
    },
    evaluation: { inputs: evalFeeds.map((f) => f.name), classMaps: `argmax on the ${info.output.width}x${info.output.height} logit grid`, grid: { width: info.output.width, height: info.output.height }, execution: target.execution === 'all' ? 'ONNX Runtime with all optimisations (its fused integer kernels, as the CPU backend runs)' : 'ONNX Runtime without graph optimisations (Q/DQ arithmetic exactly as ONNX defines it)', target: o.sensitivity ? (o.targetAgreement ?? DEFAULT_TARGET) : null },
    units: { total: units.length, byKind },
    ...(sensitivity ? { sensitivity } : {}),
    ...(search ? { search } : {}),
    precision: choice,
    nodeInfo: nodeInfoOf(choice.int16Nodes.filter(named), choice.floatNodes.filter(named)),
    score: final.score,
    images: final.images,
    machine: { cpus: os.cpus().length, loadAverageStart: loadStart, loadAverageEnd: os.loadavg() },
    notes,
    jsonPath: path.join(outDir, 'quantize.json'),
  };
  return {
    report,
    pictures: { feeds: evalFeeds, refMaps: evalFeeds.map((_, i) => evaluator.referenceMap(i)), maps: final.maps ?? [] },
  };
}
