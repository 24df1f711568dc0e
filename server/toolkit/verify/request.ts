/**
 * What `segstream verify` is asked to do, and the checks that refuse a request that cannot make sense
 * (before any model is loaded): options that contradict each other, thresholds outside their range.
 */
import { UsageError } from '../../cli/args.ts';
import type { Finding } from '../report/findings.ts';

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

/** A request with its defaults filled in. */
export interface ResolvedVerifyOptions extends VerifyOptions {
  thresholds: VerifyThresholds;
  deployedInput: 'reference' | 'nv12';
  postprocess: 'exact' | 'boundary' | 'lowres';
  threads: number;
}

/** Refuses contradictory or pointless requests; fills in the defaults. */
export function resolveVerifyOptions(o: VerifyOptions): ResolvedVerifyOptions {
  const thresholds = o.thresholds ?? {};
  validateThresholds(thresholds);
  const deployedInput = o.deployedInput ?? 'reference';
  if (deployedInput !== 'nv12' && (o.sourceRange || o.sourceMatrix || o.decodeRange || o.decodeMatrix)) {
    throw new UsageError('--source-range/--source-matrix/--decode-range/--decode-matrix describe the NV12 camera path: add --deployed-input nv12');
  }
  if (o.deployedTensors && deployedInput === 'nv12') throw new UsageError('--deployed-tensors and --deployed-input nv12 are alternatives: the files already are the deployed input');
  if (o.deployed && o.deployedInt8Weights) throw new UsageError('--deployed and --deployed-int8-weights are alternatives: the int8-weight copy is made from --reference');
  if (!o.deployed && !o.deployedInt8Weights && deployedInput === 'reference' && !o.deployedTensors) {
    throw new UsageError('nothing differs from the reference: give --deployed <model>, --deployed-int8-weights, --deployed-input nv12 or --deployed-tensors <dir>');
  }
  if (o.threads !== undefined && (!Number.isInteger(o.threads) || o.threads < 1 || o.threads > 64)) throw new UsageError(`--threads ${o.threads}: expected an integer from 1 to 64`);
  return { ...o, thresholds, deployedInput, postprocess: o.postprocess ?? 'exact', threads: o.threads ?? 2 };
}
