/** `segstream quantize`: argument parsing and output (the work is in quantize.ts). */
import { EXIT_FAILED_CHECKS, EXIT_OK, optionalString, parseChoice, parseNumber, printJson, requiredString, runCli, UsageError, type Options } from '../../cli/args.ts';
import { MODEL_FILE_OPTIONS, modelFileFlags } from '../commands/model-file-flags.ts';
import { CALIBRATORS } from './calibrators.ts';
import { runQuantize, type QuantizeOptions } from './quantize.ts';
import { formatQuantizeReport, writeQuantizeReports } from './report.ts';
import { UNIT_KINDS } from './units.ts';

export const HELP = `usage: segstream quantize --model <float.onnx> (--images <dir|video> | --calib <dir>) --out <dir> [options]

Static post-training quantization of a float SegFormer ONNX into a QDQ ONNX that ONNX Runtime runs:
per-channel symmetric int8 weights, per-tensor activations calibrated on your data, a precision per node
(int8 / int16 / float). With --sensitivity it measures what quantizing each unit (LayerNorm, Softmax,
attention MatMul, GELU, projection, conv ...) costs against the float model and searches the smallest set
to raise to int16 (or keep float) that reaches the target class-map agreement.
Writes <out>/model.onnx (QDQ; same input and output names), config.json and preprocessor_config.json
copied from the float model, <out>/quantize.json (the numbers, and the node_info for
segstream mapper-config --sensitivity) and <out>/report.html.

calibration:
  --images <dir|video>     calibration images, run through the model's reference preprocessing
  --calib <dir>            or the output of segstream calib (any --format; read through its manifest.json)
  --max-images <n>         use at most n calibration inputs (default 16 images; all calib files)
  --calibrator <c>         ${CALIBRATORS.join(' | ')} (default max); kl applies to int8 values, int16 ones use max
  --percentile <p>         for --calibrator percentile: share of |x| inside the range (default 99.999)
  --target <t>             board (default): int8 symmetric activations, full-range int8 weights, scored
                           with the Q/DQ arithmetic exactly as ONNX defines it (a simulation that does
                           not depend on this CPU); its choice feeds mapper-config's node_info
                           cpu: uint8 asymmetric activations, 7-bit weights, scored as ONNX Runtime runs
                           it here (fused integer kernels): the model for the int8 CPU backend
precision (default: every unit int8):
  --int16 <list>           raise these to int16: comma-separated node names, unit ids, unit kinds
                           (${UNIT_KINDS.join(', ')}) or all
  --float <list>           keep these float (same forms)
  --precision-from <json>  the precision chosen in an earlier quantize.json of the same model
  --sensitivity            measure each unit's cost and search the smallest int16/float set
  --target-agreement <f>   with --sensitivity: class-map agreement every evaluation image must reach,
                           a fraction (default 0.995)
  --prune-limit <n>        with --sensitivity: most units tried for lowering again (default 32)
evaluation (the quantized model is always scored against the float one):
  --eval-images <dir>      held-out images (default: the first --max-eval-images calibration inputs)
  --max-eval-images <n>    default 4 (8 with --eval-images)
other:
  --out <dir>              output directory (required; created)
  --preprocessor <json>    preprocessor_config.json (default: next to the model)
  --model-config <json>    config.json (default: next to the model)
  --threads <n>            ONNX Runtime intra-op threads (default: runtime default)
  --top <n>                rows of the ranked table on stdout (default 20; all are in quantize.json)
  --no-html                skip report.html
  --quiet                  no progress output
  --json                   print quantize.json on stdout
  -h, --help               this text
`;

function list(v: string | undefined): string[] | undefined {
  if (v === undefined) return undefined;
  const items = v.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (items.length === 0) throw new UsageError('expected a comma-separated list of node names, unit ids or kinds');
  return items;
}

export async function main(argv: string[]): Promise<number> {
  const options = {
    model: { type: 'string' },
    images: { type: 'string' },
    calib: { type: 'string' },
    'max-images': { type: 'string' },
    calibrator: { type: 'string' },
    percentile: { type: 'string' },
    target: { type: 'string' },
    int16: { type: 'string' },
    float: { type: 'string' },
    'precision-from': { type: 'string' },
    sensitivity: { type: 'boolean' },
    'target-agreement': { type: 'string' },
    'prune-limit': { type: 'string' },
    'eval-images': { type: 'string' },
    'max-eval-images': { type: 'string' },
    out: { type: 'string' },
    ...MODEL_FILE_OPTIONS,
    threads: { type: 'string' },
    top: { type: 'string' },
    'no-html': { type: 'boolean' },
    quiet: { type: 'boolean' },
    json: { type: 'boolean' },
  } as const satisfies Options;
  return runCli({ name: 'quantize', options, help: HELP }, argv, async ({ values }) => {
    const opt = (name: string) => optionalString(values, name);
    const int = (name: string, min: number, max: number) => parseNumber(name, opt(name), { min, max, integer: true });
    const withList = (name: string) => {
      try {
        return list(opt(name));
      } catch (err) {
        throw new UsageError(`--${name}: ${(err as Error).message}`);
      }
    };
    const o: QuantizeOptions = {
      model: requiredString(values, 'model', 'the float ONNX export to quantize'),
      out: requiredString(values, 'out', 'the output directory for model.onnx, quantize.json and report.html'),
      calibrator: parseChoice('calibrator', opt('calibrator'), CALIBRATORS, 'max'),
      target: parseChoice('target', opt('target'), ['board', 'cpu'] as const, 'board'),
      quiet: values.quiet === true || values.json === true,
      ...(values.sensitivity ? { sensitivity: true } : {}),
      ...modelFileFlags(values),
    };
    const strings: [keyof QuantizeOptions, string][] = [
      ['images', 'images'],
      ['calib', 'calib'],
      ['evalImages', 'eval-images'],
      ['precisionFrom', 'precision-from'],
    ];
    for (const [k, name] of strings) {
      const v = opt(name);
      if (v !== undefined) (o as unknown as Record<string, unknown>)[k] = v;
    }
    const numbers: [keyof QuantizeOptions, number | undefined][] = [
      ['maxImages', int('max-images', 1, 100_000)],
      ['maxEvalImages', int('max-eval-images', 1, 10_000)],
      ['threads', int('threads', 1, 64)],
      ['pruneLimit', int('prune-limit', 0, 100_000)],
      ['percentile', parseNumber('percentile', opt('percentile'))],
      ['targetAgreement', parseNumber('target-agreement', opt('target-agreement'))],
    ];
    for (const [k, v] of numbers) if (v !== undefined) (o as unknown as Record<string, unknown>)[k] = v;
    const int16 = withList('int16');
    const float = withList('float');
    if (int16) o.int16 = int16;
    if (float) o.float = float;
    if (o.maxEvalImages !== undefined && !o.sensitivity && !o.evalImages && o.maxEvalImages > (o.maxImages ?? Infinity)) {
      throw new UsageError(`--max-eval-images ${o.maxEvalImages} is more than --max-images ${o.maxImages}: evaluation without --eval-images uses calibration inputs`);
    }
    if (o.pruneLimit !== undefined && !o.sensitivity) throw new UsageError('--prune-limit applies to --sensitivity');
    const top = int('top', 1, 100_000) ?? 20;
    const run = await runQuantize(o);
    await writeQuantizeReports(run, { noHtml: values['no-html'] === true });
    if (values.json) printJson(run.report);
    else process.stdout.write(formatQuantizeReport(run.report, top));
    return run.report.search && !run.report.search.reached ? EXIT_FAILED_CHECKS : EXIT_OK;
  });
}
