/**
 * Step 5 of `segstream verify`: the numbers. Per image: the preprocessing difference against the reference
 * tensor (and, when it is not zero, which known mistake it is), logits cosine and |diff|, class maps at the
 * image's own size, pixel agreement and per-class IoU, and every threshold. Pooled over all images as well
 * (pooled = computed over all values, not an average of averages). A named preprocessing mistake fails the
 * run even without thresholds: it is a deployment bug.
 */
import type { ClassMap } from '../../stages/frame-context.ts';
import { finding, type Finding } from '../report/findings.ts';
import { diagnosePreprocessing, prepareDiagnosis } from '../diagnosis/preprocess-diagnosis.ts';
import { ClassMapAccumulator, DiffAccumulator, LogitAccumulator, logitDiffMap, type ClassMapStats, type DiffStats, type LogitStats } from './accuracy-metrics.ts';
import type { VerifyModels } from './load-models.ts';
import { classMapOf, logitsNchw } from './model-output.ts';
import type { ResolvedVerifyOptions, VerifyThresholds } from './request.ts';
import { preprocessParams, type PreparedImage } from './prepare-images.ts';
import type { ReferenceResult } from './run-reference.ts';
import type { DeployedResult } from './run-deployed.ts';

export type NamedClassMapStats = Omit<ClassMapStats, 'perClass'> & { perClass: (ClassMapStats['perClass'][number] & { name: string })[] };

export interface VerifyImageResult {
  image: string;
  width: number;
  height: number;
  logits: LogitStats | null;
  classMap: NamedClassMapStats;
  preprocess: (DiffStats & { lsb: number; diagnosis?: { verdict: string; code: string; message: string } }) | null;
  failures: string[];
  findings: Finding[];
}

/** What the report pictures of one image are drawn from. */
export interface ImageComparison {
  result: VerifyImageResult;
  referenceMap: ClassMap;
  deployedMap: ClassMap;
  /** Mean |logit diff| per logit cell (null when the logits were not compared). */
  diffCells: Float32Array | null;
  gridWidth: number;
  gridHeight: number;
}

export interface OverallResult {
  logits: LogitStats | null;
  classMap: NamedClassMapStats;
  preprocess: DiffStats | null;
  worstCosine: number | null;
  worstAgreement: number;
}

/** Failures of one image against the thresholds, as report lines. */
function thresholdFailures(name: string, t: VerifyThresholds, logits: LogitStats | null, map: ClassMapStats, pre: DiffStats): string[] {
  const failures: string[] = [];
  const check = (ok: boolean, text: string) => {
    if (!ok) failures.push(`${name}: ${text}`);
  };
  if (logits) {
    if (t.minCosine !== undefined) check(logits.cosine >= t.minCosine, `logits cosine ${logits.cosine.toFixed(5)} < ${t.minCosine}`);
    if (t.maxMeanDiff !== undefined) check(logits.meanAbsDiff <= t.maxMeanDiff, `mean |logit diff| ${logits.meanAbsDiff.toPrecision(4)} > ${t.maxMeanDiff}`);
    if (t.maxAbsDiff !== undefined) check(logits.maxAbsDiff <= t.maxAbsDiff, `max |logit diff| ${logits.maxAbsDiff.toPrecision(4)} > ${t.maxAbsDiff}`);
  } else if (t.minCosine !== undefined || t.maxMeanDiff !== undefined || t.maxAbsDiff !== undefined) {
    check(false, 'logits thresholds given but the logits could not be compared');
  }
  if (t.minAgreement !== undefined) check(map.agreement >= t.minAgreement, `class-map agreement ${(map.agreement * 100).toFixed(2)}% < ${(t.minAgreement * 100).toFixed(2)}%`);
  if (t.minMeanIoU !== undefined) check(map.meanIoU >= t.minMeanIoU, `mean IoU ${map.meanIoU.toFixed(4)} < ${t.minMeanIoU}`);
  if (t.maxPreprocessDiff !== undefined) check(pre.meanAbsDiff <= t.maxPreprocessDiff, `preprocessing mean |diff| ${pre.meanAbsDiff.toPrecision(4)} > ${t.maxPreprocessDiff}`);
  return failures;
}

/** Compares image after image and pools the numbers. */
export class VerifyComparison {
  private readonly logitAcc: LogitAccumulator | null;
  private readonly mapAcc: ClassMapAccumulator;
  private readonly preAcc = new DiffAccumulator();
  private preCount = 0;
  readonly images: VerifyImageResult[] = [];

  constructor(
    private readonly o: ResolvedVerifyOptions,
    private readonly models: VerifyModels,
  ) {
    this.logitAcc = models.deployed.info.output.kind === 'logits' ? new LogitAccumulator() : null;
    this.mapAcc = new ClassMapAccumulator(models.reference.info.output.classes);
  }

  private named(stats: ClassMapStats): NamedClassMapStats {
    const names = this.models.reference.info.classNames;
    return { ...stats, perClass: stats.perClass.map((c) => ({ ...c, name: names[c.classId] ?? `class ${c.classId}` })) };
  }

  add(prepared: PreparedImage, ref: ReferenceResult, dep: DeployedResult): ImageComparison {
    const { reference, deployed } = this.models;
    const img = prepared.image;
    const imageFindings: Finding[] = [...dep.input.findings];
    const params = preprocessParams(reference.info);

    // Preprocessing difference against the reference tensor (and its diagnosis when it is not zero).
    const pre = new DiffAccumulator().add(prepared.referenceTensor, dep.input.normalised);
    this.preAcc.add(prepared.referenceTensor, dep.input.normalised);
    this.preCount++;
    const lsb = Math.min(...params.std.map((s) => params.rescale / s));
    const preprocess: NonNullable<VerifyImageResult['preprocess']> = { ...pre, lsb };
    if (pre.meanAbsDiff > 0.05 * lsb) {
      const d = diagnosePreprocessing(dep.input.normalised, prepareDiagnosis(img.rgb, img.width, img.height, params), prepared.name);
      preprocess.diagnosis = { verdict: d.verdict, code: d.finding.code, message: d.finding.message };
      imageFindings.push(d.finding);
    }

    // Logits and class maps.
    const refLogits = ref.logits;
    const depLogits = logitsNchw(dep.output, deployed.info);
    let logitStats: LogitStats | null = null;
    let cells: Float32Array | null = null;
    if (depLogits && this.logitAcc) {
      if (depLogits.height !== refLogits.height || depLogits.width !== refLogits.width) {
        imageFindings.push(finding('logit-grid-differs', 'warning', `reference logits are ${refLogits.width}x${refLogits.height}, deployed ${depLogits.width}x${depLogits.height}: logits are not compared, class maps are (at the image size)`, { subject: prepared.name }));
      } else {
        logitStats = this.logitAcc.add(refLogits.data, depLogits.data);
        cells = logitDiffMap(refLogits.data, depLogits.data, refLogits.classes, refLogits.height, refLogits.width);
      }
    }
    const mode = this.o.postprocess;
    const referenceMap = classMapOf(ref.output, reference.info, refLogits, img.width, img.height, mode);
    const deployedMap = classMapOf(dep.output, deployed.info, depLogits, img.width, img.height, mode);
    const mapStats = this.mapAcc.add(referenceMap.data, deployedMap.data);

    const result: VerifyImageResult = {
      image: prepared.name,
      width: img.width,
      height: img.height,
      logits: logitStats,
      classMap: this.named(mapStats),
      preprocess,
      failures: thresholdFailures(prepared.name, this.o.thresholds, logitStats, mapStats, pre),
      findings: imageFindings,
    };
    this.images.push(result);
    return { result, referenceMap, deployedMap, diffCells: cells, gridWidth: refLogits.width, gridHeight: refLogits.height };
  }

  /** Pooled numbers, every failure, and the run's findings (one per distinct mistake, loading warnings first). */
  finish(): { overall: OverallResult; failures: string[]; findings: Finding[] } {
    const images = this.images;
    const logits = this.logitAcc ? this.logitAcc.result() : null;
    const overall: OverallResult = {
      logits: logits && logits.count > 0 ? logits : null,
      classMap: this.named(this.mapAcc.result()),
      preprocess: this.preCount > 0 ? this.preAcc.result() : null,
      worstCosine: images.some((i) => i.logits) ? Math.min(...images.filter((i) => i.logits).map((i) => i.logits!.cosine)) : null,
      worstAgreement: Math.min(...images.map((i) => i.classMap.agreement)),
    };
    const failures = images.flatMap((i) => i.failures);
    const findings = [...this.models.findings];
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
    return { overall, failures, findings };
  }
}
