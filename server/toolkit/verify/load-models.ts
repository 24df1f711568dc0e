/**
 * Step 1 of `segstream verify`: the two models. Each is described first (server/model/load.ts, cheap: no
 * runtime), so a reference that is not a float logits model or a pair that cannot be compared is refused
 * before ONNX Runtime loads anything; then both run through the app's own backend loader
 * (stages/infer/load-backend.ts), exactly as `serve` would load them. The deployed side is another ONNX,
 * the reference with int8-rounded weights (a temporary file), a BPU .bin, or the reference itself.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Backend } from '../../stages/infer/backend.ts';
import type { ModelInfo } from '../../model/model-info.ts';
import { loadBackend } from '../../stages/infer/load-backend.ts';
import { describeQdq, readQdqSummary } from '../quantize/qdq-model-info.ts';
import type { ModelRef } from '../../stages/infer/worker-protocol.ts';
import { loadModelInfo } from '../../model/load.ts';
import { ModelLoadError } from '../../model/errors.ts';
import { UsageError } from '../../cli/args.ts';
import { finding, type Finding } from '../report/findings.ts';
import { quantizeWeightsPerChannel } from './quantize-weights.ts';
import { VerifyInputError, type ResolvedVerifyOptions } from './request.ts';
import { at } from '../../util/checked-access.ts';

export interface VerifySide {
  info: ModelInfo;
  backend: Backend;
}

export interface VerifyModels {
  reference: VerifySide;
  deployed: VerifySide & {
    /** The file the deployed side runs (a temporary copy for --deployed-int8-weights). */
    path: string;
    /** How the report names it. */
    displayPath: string;
    /** What the deployed side is, when that is not obvious from its path. */
    note?: string;
  };
  /** Warnings found while loading (BPU test double, a different preprocessor config). */
  findings: Finding[];
  /** Releases the runtimes and removes temporary files. */
  close(): Promise<void>;
}

export function describeInput(m: ModelInfo): string {
  const i = m.input;
  return `${i.name} ${i.kind === 'nv12' ? 'NV12' : `${i.dtype} ${i.layout}`} ${i.height}x${i.width}`;
}

export function describeOutput(m: ModelInfo): string {
  const o = m.output;
  return `${o.name} ${o.kind} ${o.dtype} ${o.layout} ${o.classes} classes ${o.height}x${o.width}`;
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

/** A model's description; a file or config problem becomes a usage error that says which model. */
async function describeModel(ref: ModelRef, what: string): Promise<ModelInfo> {
  try {
    return await loadModelInfo(at(ref.files, 0, 'ref.files'), { ...(ref.configPath ? { configPath: ref.configPath } : {}), ...(ref.preprocessorPath ? { preprocessorPath: ref.preprocessorPath } : {}) });
  } catch (err) {
    if (err instanceof ModelLoadError) throw classCountFinding(err, what) ?? new UsageError(`${what}: ${err.message}`);
    throw err;
  }
}

/** The side files of a model given explicitly, else found next to it (a temporary copy has none of its own). */
async function sideFile(explicit: string | undefined, modelPath: string, name: string): Promise<string | undefined> {
  if (explicit) return explicit;
  const p = path.join(path.dirname(modelPath), name);
  return (await isFile(p)) ? p : undefined;
}

function checkComparable(ref: ModelInfo, dep: ModelInfo, depPath: string, o: ResolvedVerifyOptions, findings: Finding[]): void {
  if (dep.output.classes !== ref.output.classes) {
    throw new VerifyInputError(
      finding('class-count-mismatch', 'error', `class-count mismatch: the reference outputs ${ref.output.classes} classes, the deployed model ${dep.output.classes}: they are not the same segmentation head, so class maps cannot be compared`, {
        subject: depPath,
        fix: 'compile/export the deployed model from the same fine-tuned checkpoint as the reference (same id2label)',
        data: { reference: ref.output.classes, deployed: dep.output.classes },
      }),
    );
  }
  if (dep.input.width !== ref.input.width || dep.input.height !== ref.input.height) {
    throw new VerifyInputError(
      finding('input-size-mismatch', 'error', `the reference takes ${ref.input.width}x${ref.input.height}, the deployed model ${dep.input.width}x${dep.input.height}: the preprocessing differs by a resize, so the paths are not comparable`, { subject: depPath, fix: 'compare models exported at the same input size' }),
    );
  }
  if (dep.input.kind === 'nv12' && o.deployedInput !== 'nv12') {
    throw new UsageError(`--deployed ${depPath} takes NV12 frames: add --deployed-input nv12 (with the camera's --source-range)`);
  }
  const t = o.thresholds;
  if (dep.output.kind !== 'logits' && (t.minCosine !== undefined || t.maxMeanDiff !== undefined || t.maxAbsDiff !== undefined)) {
    throw new UsageError('--min-cosine/--max-mean-diff/--max-abs-diff need logits, but the deployed model outputs a class map (argmax inside): use --min-agreement / --min-miou');
  }
  const pr = ref.preprocess;
  const pd = dep.preprocess;
  if (dep !== ref && (pr.mean.some((m, i) => Math.abs(m - at(pd.mean, i, 'pd.mean')) > 1e-6) || pr.std.some((s, i) => Math.abs(s - at(pd.std, i, 'pd.std')) > 1e-6))) {
    findings.push(finding('preprocess-config-differs', 'warning', `the deployed model's preprocessor config (mean ${pd.mean.join(' ')}, std ${pd.std.join(' ')}) differs from the reference's (mean ${pr.mean.join(' ')}, std ${pr.std.join(' ')}); the deployed path uses its own`, { subject: depPath }));
  }
}

/** Checks that a BPU .bin can run here at all; returns the warning to attach when it runs on the test double. */
async function bpuPrecheck(file: string): Promise<{ note?: string; finding?: Finding }> {
  let mod: typeof import('../../stages/infer/bpu-backend.ts');
  try {
    mod = await import('../../stages/infer/bpu-backend.ts');
  } catch (err) {
    throw new UsageError(`--deployed ${file}: the BPU backend could not be loaded here (${(err as Error).message}); run verify on the RDK X5, or compare against a QDQ ONNX`);
  }
  const avail = mod.bpuAvailability();
  if (!avail.available) throw new UsageError(`--deployed ${file}: the BPU backend is not available here: ${avail.reason}`);
  if (avail.mode !== 'test-double') return {};
  return {
    note: 'BPU test double (synthetic outputs): numbers are not a real BPU measurement',
    finding: finding('bpu-test-double', 'warning', `the BPU backend here is the hb_dnn test double (${avail.reason}): the deployed numbers are synthetic, not from a board`),
  };
}

export async function loadVerifyModels(o: ResolvedVerifyOptions): Promise<VerifyModels> {
  const findings: Finding[] = [];
  const tmpDirs: string[] = [];
  const backends: Backend[] = [];
  const close = async () => {
    for (const b of backends) await b.close().catch(() => {});
    for (const d of tmpDirs) await fs.rm(d, { recursive: true, force: true });
  };
  try {
    const refRef: ModelRef = { backend: 'onnx', files: [o.reference], ...(o.modelConfig ? { configPath: o.modelConfig } : {}), ...(o.preprocessor ? { preprocessorPath: o.preprocessor } : {}) };
    const refInfo = await describeModel(refRef, 'reference model');
    if (refInfo.format !== 'onnx' || refInfo.input.dtype !== 'float32' || refInfo.input.kind !== 'tensor') {
      throw new UsageError(`--reference ${o.reference}: the reference must be the float ONNX model (float32 input), got ${describeInput(refInfo)}`);
    }
    if (refInfo.output.kind !== 'logits') throw new UsageError(`--reference ${o.reference}: the reference must output logits (got a class map): export the model without the final ArgMax`);

    // The deployed side: what to load, and (for ONNX) its description before any runtime starts.
    let depRef: ModelRef | undefined;
    let depInfo: ModelInfo | undefined;
    let depPath = o.deployed ?? o.reference;
    let displayPath: string | undefined;
    let note: string | undefined;
    let depGraphOptimization: 'all' | 'disabled' | undefined;
    if (o.deployedInt8Weights) {
      const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'segstream-verify-'));
      tmpDirs.push(tmp);
      // Rounded float weights, not QDQ: ONNX Runtime's optimiser would also quantise activations of a
      // DequantizeLinear+MatMul pair, and this option promises weight rounding only.
      const q = quantizeWeightsPerChannel(await fs.readFile(refInfo.path), { mode: 'fake' });
      depPath = path.join(tmp, 'int8-weights.onnx');
      await fs.writeFile(depPath, q.bytes);
      displayPath = `${path.resolve(refInfo.path)} (int8 weights)`;
      const cfg = await sideFile(o.modelConfig, refInfo.path, 'config.json');
      const pre = await sideFile(o.preprocessor, refInfo.path, 'preprocessor_config.json');
      depRef = { backend: 'onnx', files: [depPath], ...(cfg ? { configPath: cfg } : {}), ...(pre ? { preprocessorPath: pre } : {}) };
      depInfo = await describeModel(depRef, 'int8-weight copy');
      note = `the reference with ${q.tensors.length} weight tensors rounded to int8 per output channel (${q.mode === 'qdq' ? 'DequantizeLinear nodes' : 'rounded float weights'}); activations stay float`;
    } else if (o.deployed && path.extname(o.deployed).toLowerCase() === '.bin') {
      const pre = await bpuPrecheck(o.deployed);
      note = pre.note;
      if (pre.finding) findings.push(pre.finding);
      // A .bin carries no class names: the reference's config.json gives them (and a class map's count).
      const cfg = await sideFile(o.deployedConfig ?? o.modelConfig, refInfo.path, 'config.json');
      depRef = { backend: 'bpu', files: [o.deployed], ...(cfg ? { configPath: cfg } : {}) };
    } else if (o.deployed) {
      depRef = { backend: 'onnx', files: [o.deployed], ...(o.deployedConfig ? { configPath: o.deployedConfig } : {}), ...(o.preprocessor ? { preprocessorPath: o.preprocessor } : {}) };
      depInfo = await describeModel(depRef, 'deployed model');
      // A segstream quantize model: a board-target one runs with exact Q/DQ arithmetic (a board simulation).
      const qdq = await readQdqSummary(depInfo.path);
      if (qdq) {
        depGraphOptimization = qdq.target === 'board' ? 'disabled' : 'all';
        note = describeQdq(qdq, depGraphOptimization);
      }
    }
    if (depInfo) checkComparable(refInfo, depInfo, depPath, o, findings);

    const reference = await loadBackend(refRef, { threads: o.threads });
    backends.push(reference);
    let deployed = reference;
    if (depRef) {
      deployed = await loadBackend(depRef, { threads: o.threads, ...(depGraphOptimization ? { graphOptimization: depGraphOptimization } : {}) });
      backends.push(deployed);
    }
    // A BPU model describes itself only once loaded.
    if (!depInfo) checkComparable(refInfo, deployed.model, depPath, o, findings);
    return {
      reference: { info: reference.model, backend: reference },
      deployed: { info: deployed.model, backend: deployed, path: depPath, displayPath: displayPath ?? path.resolve(deployed.model.path), ...(note ? { note } : {}) },
      findings,
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
