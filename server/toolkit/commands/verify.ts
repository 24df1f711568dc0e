/**
 * `segstream verify`: runs the reference path (training preprocessing through the exact kernels, float ONNX
 * in ONNX Runtime) and a deployed path (another model - QDQ/int8 ONNX, a weight-rounded copy, a BPU .bin -
 * and/or another input path - NV12 from a camera colour range, or the user's own preprocessed files) on the
 * same frames, and reports per image and pooled: logits cosine similarity, max/mean |diff|, class-map pixel
 * agreement, per-class IoU (deployed vs reference) and the preprocessing difference against the reference
 * tensor (with the mistake named when it is a known one). Writes report.html (self-contained) and
 * report.json; exits 1 when a threshold given on the command line fails.
 *
 * The work is done in named steps under ../verify/: load-models, prepare-images, run-reference,
 * run-deployed, compare, report. This module strings them together and is the command-line entry.
 */
import {
  EXIT_FAILED_CHECKS,
  EXIT_OK,
  optionalString,
  parseChoice,
  parseNumber,
  printJson,
  requiredString,
  runCli,
  type Options,
} from '../../cli/args.ts';
import { MODEL_FILE_OPTIONS, modelFileFlags } from './model-file-flags.ts';
import { Progress } from '../../util/progress.ts';
import { VerifyComparison } from '../verify/compare.ts';
import { loadVerifyModels } from '../verify/load-models.ts';
import { resolveVerifyOptions, VerifyInputError, type VerifyOptions, type VerifyThresholds } from '../verify/request.ts';
import { openVerifyImages, preprocessParams, prepareImage } from '../verify/prepare-images.ts';
import { formatVerifyReport, VerifyReportWriter, type VerifyReport } from '../verify/report.ts';
import { runReference } from '../verify/run-reference.ts';
import { describeDeployedPath, runDeployed } from '../verify/run-deployed.ts';

export { validateThresholds, VerifyInputError, type VerifyOptions, type VerifyThresholds } from '../verify/request.ts';
export type { VerifyImageResult } from '../verify/compare.ts';
export { formatVerifyReport, type VerifyReport } from '../verify/report.ts';

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

examples:
  segstream verify --reference model.onnx --deployed-int8-weights --images photos/ --min-agreement 0.95
  segstream verify --reference model.onnx --deployed-input nv12 --source-range limited --images clip.mp4
  segstream verify --reference model.onnx --deployed model_qdq.onnx --images photos/ --out report/
`;

export async function runVerify(options: VerifyOptions): Promise<VerifyReport> {
  const o = resolveVerifyOptions(options);
  const models = await loadVerifyModels(o);
  try {
    const images = await openVerifyImages(o);
    try {
      const params = preprocessParams(models.reference.info);
      const comparison = new VerifyComparison(o, models);
      const report = new VerifyReportWriter(o, models, describeDeployedPath(o));
      const progress = new Progress('verify', images.set.files.length, o.quiet ?? false);
      for (const src of images.set.files) {
        const prepared = await prepareImage(src, params);
        const reference = await runReference(models.reference, prepared);
        const deployed = await runDeployed(o, models.deployed, prepared, images);
        await report.addImage(prepared, comparison.add(prepared, reference, deployed));
        progress.tick(src.name);
      }
      const { overall, failures, findings } = comparison.finish();
      return await report.write(comparison.images, overall, failures, findings);
    } finally {
      await images.set.cleanup();
    }
  } finally {
    await models.close();
  }
}

export async function main(argv: string[]): Promise<number> {
  const json = argv.includes('--json');
  const options = {
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
    ...MODEL_FILE_OPTIONS,
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
  } as const satisfies Options;
  return runCli({ name: 'verify', options, help: HELP }, argv, async ({ values }) => {
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
      ...modelFileFlags(values),
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
