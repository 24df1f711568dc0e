/**
 * Cross-checks an existing hb_mapper YAML against the model, its training preprocessing, the camera's
 * colour range and the calibration files it points at. Each disagreement is a finding that names the key,
 * what the model needs, what the YAML says, and the fix.
 */
import type { ModelInfo } from '../../model/model-info.ts';
import { finding, formatShape, type Finding } from '../report/findings.ts';
import { fmt, hbMeanScale, IMAGE_RT_TYPES, type MapperConfigView } from './mapper-yaml.ts';
import type { OnnxGraph } from '../../model/onnx/graph.ts';
import { findTransformerSensitiveNodes, normalisationInsideGraph } from './sensitive-nodes.ts';
import type { FileAnalysis } from '../tensors/tensor-analysis.ts';
import { at } from '../../util/checked-access.ts';

export interface CalibrationEvidence {
  dir: string;
  /** Analyses of a sample of the files (as calibration files under the YAML's own expectations). */
  files: FileAnalysis[];
  /** dtype/format recorded by `segstream calib`, when its manifest.json is there. */
  manifest?: { format: string; dtype: string; layout: string };
  totalFiles: number;
  /** False when the directory does not exist (checked elsewhere, e.g. on the build machine). */
  exists: boolean;
}

export interface MapperCheckContext {
  model: ModelInfo;
  graph: OnnxGraph;
  /** The camera's colour range, when known (--source-range). */
  sourceRange?: 'full' | 'limited';
  calibration?: CalibrationEvidence;
}

const close = (a: number, b: number, rel: number) => Math.abs(a - b) <= rel * Math.max(Math.abs(a), Math.abs(b), 1e-9);
const allClose = (a: readonly number[], b: readonly number[], rel: number) => a.length === b.length && a.every((v, i) => close(v, at(b, i, 'b'), rel));
const list = (v: readonly number[]) => v.map((x) => fmt(x)).join(' ');

export function checkMapperConfig(cfg: MapperConfigView, ctx: MapperCheckContext): Finding[] {
  const out: Finding[] = [];
  const { model, graph } = ctx;
  const inp = cfg.input;
  const rt = inp.inputTypeRt;
  const imageRt = rt !== undefined && IMAGE_RT_TYPES.includes(rt);
  const normInside = normalisationInsideGraph(graph, model.input.name).inside;
  const expected = hbMeanScale(model.preprocess);
  const order = model.preprocess.channelOrder;
  const meanValues = expected.mean;

  // march
  if (!cfg.march) {
    out.push(finding('missing-key', 'error', 'model_parameters.march is not set', { subject: 'model_parameters.march', fix: 'set march: bayes-e for the RDK X5' }));
  } else if (cfg.march !== 'bayes-e') {
    const x3 = cfg.march === 'bernoulli2' ? ' (bernoulli2 is the X3: the X5 refuses such a .bin with "Incompatible Platform")' : '';
    out.push(finding('march-mismatch', 'error', `model_parameters.march is ${cfg.march}${x3}, but the RDK X5 BPU is bayes-e`, { subject: 'model_parameters.march', fix: 'set march: bayes-e and recompile' }));
  }

  // input name and shape
  if (inp.inputName && inp.inputName !== model.input.name) {
    out.push(finding('input-name-mismatch', 'error', `input_parameters.input_name is ${inp.inputName}, but the model's input is ${model.input.name}`, { subject: 'input_parameters.input_name', fix: `set input_name: ${model.input.name}` }));
  }
  const modelShape = model.input.layout === 'NCHW' ? [1, model.input.channels, model.input.height, model.input.width] : [1, model.input.height, model.input.width, model.input.channels];
  if (inp.inputShape && formatShape(inp.inputShape) !== formatShape(modelShape)) {
    out.push(finding('input-shape-mismatch', 'error', `input_parameters.input_shape is ${inp.inputShape.join('x')}, but the model's input ${model.input.name} is ${modelShape.join('x')}`, { subject: 'input_parameters.input_shape', fix: `set input_shape: ${modelShape.join('x')}` }));
  }
  if (inp.inputLayoutTrain && inp.inputLayoutTrain !== model.input.layout) {
    out.push(finding('layout-train-mismatch', 'error', `input_parameters.input_layout_train is ${inp.inputLayoutTrain}, but the ONNX input is ${model.input.layout}`, { subject: 'input_parameters.input_layout_train', fix: `set input_layout_train: ${model.input.layout}` }));
  }

  // rt / train types
  if (!rt) {
    out.push(finding('missing-key', 'error', 'input_parameters.input_type_rt is not set', { subject: 'input_parameters.input_type_rt', fix: 'set input_type_rt: nv12 for a camera (or featuremap to feed float tensors)' }));
  }
  const train = inp.inputTypeTrain;
  if (imageRt && train && train !== 'rgb' && train !== 'bgr' && train !== 'yuv444' && train !== 'gray') {
    out.push(finding('train-type-mismatch', 'error', `input_type_rt: ${rt} needs an image input_type_train (rgb/bgr), got ${train}`, { subject: 'input_parameters.input_type_train', fix: `set input_type_train: ${order}` }));
  } else if (imageRt && (train === 'rgb' || train === 'bgr') && train !== order) {
    out.push(finding('channel-order-mismatch', 'error', `input_type_train is ${train}, but the model was trained on ${order.toUpperCase()} (preprocessor_config): the BPU would hand it ${train.toUpperCase()} and red and blue swap`, { subject: 'input_parameters.input_type_train', fix: `set input_type_train: ${order}` }));
  }

  // normalisation
  const norm = inp.normType;
  if (imageRt && norm === 'no_preprocess' && !normInside) {
    out.push(
      finding('no-preprocess-image-input', 'error', `input_type_rt: ${rt} with norm_type: no_preprocess: the board feeds raw 0-255 pixels, and nothing in the model applies the training normalisation (x/255 - mean)/std`, {
        subject: 'input_parameters.norm_type',
        fix: `set norm_type: data_mean_and_scale, mean_value: ${list(meanValues)}, scale_value: ${list(expected.scale)} (segstream mapper-config writes this)`,
      }),
    );
  } else if (imageRt && (norm === 'data_mean_and_scale' || norm === 'data_mean' || norm === 'data_scale')) {
    if (normInside) {
      out.push(finding('double-normalisation', 'error', `norm_type: ${norm}, but the ONNX graph already normalises its input: the pixels get normalised twice`, { subject: 'input_parameters.norm_type', fix: 'set norm_type: no_preprocess' }));
    } else {
      out.push(...checkMeanScale(cfg, norm, expected, order));
    }
  } else if (imageRt && !norm) {
    out.push(finding('missing-key', 'error', 'input_parameters.norm_type is not set', { subject: 'input_parameters.norm_type', fix: `set norm_type: data_mean_and_scale, mean_value: ${list(meanValues)}, scale_value: ${list(expected.scale)}` }));
  } else if (rt === 'featuremap' && norm && norm !== 'no_preprocess') {
    out.push(finding('featuremap-normalised-twice', 'warning', `input_type_rt: featuremap with norm_type: ${norm}: the model will normalise again whatever tensor you feed; usual featuremap deployments feed the normalised tensor with no_preprocess`, { subject: 'input_parameters.norm_type' }));
  }

  // colour range (nv12)
  if (rt === 'nv12' || rt === 'nv12_separate') {
    const space = inp.inputSpaceAndRange ?? 'regular';
    const cfgRange = space === 'bt601_video' ? 'limited' : 'full';
    if (space !== 'regular' && space !== 'bt601_video') {
      out.push(finding('colour-range-invalid', 'error', `input_space_and_range: ${space} is not one of regular | bt601_video`, { subject: 'input_parameters.input_space_and_range' }));
    } else if (ctx.sourceRange && ctx.sourceRange !== cfgRange) {
      out.push(
        finding('colour-range-mismatch', 'error', `input_space_and_range: ${space}${inp.inputSpaceAndRange ? '' : ' (the default)'} decodes NV12 as ${cfgRange} range, but the camera delivers ${ctx.sourceRange} range: colours ${ctx.sourceRange === 'limited' ? 'lose contrast (black at 16, white at 235)' : 'clip and saturate'}`, {
          subject: 'input_parameters.input_space_and_range',
          fix: `set input_space_and_range: ${ctx.sourceRange === 'limited' ? 'bt601_video' : 'regular'}`,
        }),
      );
    } else if (!ctx.sourceRange) {
      out.push(finding('colour-range-unverified', 'info', `input_space_and_range: ${space} assumes a ${cfgRange}-range camera; pass --source-range (segstream serve logs the source's colorimetry) to check it`, { subject: 'input_parameters.input_space_and_range' }));
    }
  }

  // int16 for the transformer nodes
  const known = new Set(graph.nodes.map((n) => n.name).filter((n) => n));
  for (const name of Object.keys(cfg.nodeInfo)) {
    if (!known.has(name)) out.push(finding('node-info-unknown-node', 'warning', `model_parameters.node_info names ${name}, which is not a node of this model (hb_mapper will ignore or reject it)`, { subject: 'model_parameters.node_info' }));
  }
  if (!cfg.optimization.includes('set_all_nodes_int16')) {
    const sensitive = findTransformerSensitiveNodes(graph).nodes;
    const missing = sensitive.filter((n) => cfg.nodeInfo[n.name]?.InputType !== 'int16');
    if (missing.length > 0) {
      const counts: Record<string, number> = {};
      for (const n of missing) counts[n.reason] = (counts[n.reason] ?? 0) + 1;
      out.push(
        finding('sensitive-nodes-int8', 'warning', `${missing.length} of ${sensitive.length} transformer-sensitive nodes stay int8 (${Object.entries(counts).map(([k, v]) => `${v} ${k}`).join(', ')}); Softmax falls back to the CPU unless node_info puts it on the BPU, and SegFormer loses accuracy in int8 LayerNorm/GELU/attention`, {
          subject: 'model_parameters.node_info',
          fix: 'segstream mapper-config --int16 auto lists them as int16 on the BPU (or --int16 all sets optimization: set_all_nodes_int16); verify the result with segstream verify',
          data: { missing: missing.length, total: sensitive.length, byReason: counts },
        }),
      );
    }
  }

  // calibration
  const ctype = cfg.calibrationType;
  if (ctype === 'skip') {
    out.push(finding('calibration-skipped', 'warning', 'calibration_type: skip uses random calibration: fine for a speed test, meaningless for accuracy', { subject: 'calibration_parameters.calibration_type', fix: 'use default (or kl / max) with real calibration images' }));
  }
  if (!cfg.calDataDir && ctype !== 'skip' && ctype !== 'load') {
    out.push(finding('missing-key', 'error', 'calibration_parameters.cal_data_dir is not set', { subject: 'calibration_parameters.cal_data_dir', fix: 'point it at the output of segstream calib' }));
  }
  if (cfg.calDataType && cfg.calDataType !== 'float32' && cfg.calDataType !== 'uint8') {
    out.push(finding('cal-data-type-invalid', 'error', `cal_data_type: ${cfg.calDataType} is not float32 | uint8`, { subject: 'calibration_parameters.cal_data_type' }));
  }
  const cal = ctx.calibration;
  if (cal) {
    if (!cal.exists) {
      out.push(finding('calibration-missing', 'warning', `cal_data_dir ${cal.dir} does not exist here: the calibration data was not checked`, { subject: 'calibration_parameters.cal_data_dir', fix: 'pass --calib-dir to check the files, or write them with segstream calib' }));
    } else if (cal.totalFiles === 0) {
      out.push(finding('calibration-empty', 'error', `cal_data_dir ${cal.dir} holds no calibration files`, { subject: 'calibration_parameters.cal_data_dir', fix: 'segstream calib --model <onnx> --images <dir> --out <cal_data_dir>' }));
    }
    if (cal.manifest && cfg.calDataType && cal.manifest.dtype !== cfg.calDataType) {
      out.push(finding('cal-data-type-mismatch', 'error', `the calibration files in ${cal.dir} were written as ${cal.manifest.dtype} (manifest.json), but cal_data_type: ${cfg.calDataType} makes hb_mapper read them as ${cfg.calDataType}`, { subject: 'calibration_parameters.cal_data_type', fix: `set cal_data_type: ${cal.manifest.dtype}` }));
    }
    if (cal.manifest) {
      const trainLayout = inp.inputLayoutTrain ?? model.input.layout;
      if (cal.manifest.layout !== trainLayout) {
        out.push(finding('calibration-layout-mismatch', 'error', `the calibration files in ${cal.dir} are ${cal.manifest.layout} (manifest.json), but hb_mapper reads them as input_layout_train: ${trainLayout}`, { subject: 'calibration_parameters.cal_data_dir', fix: `segstream calib --layout ${trainLayout}` }));
      }
      const fmtWanted = imageRt ? ['rgb', 'nv12'] : ['featuremap'];
      if (!fmtWanted.includes(cal.manifest.format)) {
        out.push(finding('calibration-format-mismatch', 'error', `the calibration files were written with --format ${cal.manifest.format}, but input_type_rt: ${rt} needs ${fmtWanted.join(' or ')}`, { subject: 'calibration_parameters.cal_data_dir', fix: `segstream calib --format ${fmtWanted[0]}` }));
      }
    }
    // The per-file findings (size/dtype/domain) already carry the right codes; report each code once.
    const seen = new Set<string>(out.map((f) => f.code));
    for (const fa of cal.files) {
      for (const f of fa.findings) {
        if (f.severity === 'info' || seen.has(f.code)) continue;
        seen.add(f.code);
        out.push({ ...f, message: `${f.message} (${fa.path}${cal.files.length > 1 ? `, first of the sampled files showing it` : ''})`, subject: 'calibration_parameters.cal_data_dir' });
      }
    }
  }
  return out;
}

function checkMeanScale(cfg: MapperConfigView, norm: string, expected: { mean: number[]; scale: number[] }, order: 'rgb' | 'bgr'): Finding[] {
  const out: Finding[] = [];
  const mean = cfg.input.meanValue;
  const scale = cfg.input.scaleValue;
  const reversed = (v: number[]) => [...v].reverse();
  const wantMean = norm !== 'data_scale';
  const wantScale = norm !== 'data_mean';
  if (wantMean) {
    if (!mean) {
      out.push(finding('missing-key', 'error', `norm_type: ${norm} needs mean_value`, { subject: 'input_parameters.mean_value', fix: `mean_value: ${list(expected.mean)}` }));
    } else if (mean.length === 1 && expected.mean.some((m) => !close(m, at(mean, 0, 'mean'), 0.01))) {
      out.push(finding('mean-value-mismatch', 'error', `mean_value ${list(mean)} is one value for all channels, but the training mean is per channel: ${list(expected.mean)}`, { subject: 'input_parameters.mean_value', fix: `mean_value: ${list(expected.mean)}` }));
    } else if (!allClose(mean.length === 1 ? [at(mean, 0, 'mean'), at(mean, 0, 'mean'), at(mean, 0, 'mean')] : mean, expected.mean, 0.005)) {
      const unit = expected.mean.map((m) => m / 255);
      let code = 'mean-value-mismatch';
      let why = '';
      if (allClose(mean, unit, 0.01)) {
        code = 'mean-value-units';
        why = ': these are 0-1 units; hb_mapper subtracts mean_value from 0-255 pixels, so it needs 255 * mean';
      } else if (allClose(mean, reversed(expected.mean), 0.005)) {
        code = 'mean-order-bgr';
        why = `: that is the ${order === 'rgb' ? 'BGR' : 'RGB'} order, but input_type_train is ${cfg.input.inputTypeTrain ?? order}`;
      }
      out.push(finding(code, 'error', `mean_value is ${list(mean)}, expected ${list(expected.mean)} (255 * the training mean)${why}`, { subject: 'input_parameters.mean_value', fix: `mean_value: ${list(expected.mean)}` }));
    }
  }
  if (wantScale) {
    if (!scale) {
      out.push(finding('missing-key', 'error', `norm_type: ${norm} needs scale_value`, { subject: 'input_parameters.scale_value', fix: `scale_value: ${list(expected.scale)}` }));
    } else if (!allClose(scale.length === 1 ? [at(scale, 0, 'scale'), at(scale, 0, 'scale'), at(scale, 0, 'scale')] : scale, expected.scale, 0.005)) {
      const std = expected.scale.map((s) => 1 / (255 * s));
      let code = 'scale-value-mismatch';
      let why = '';
      if (allClose(scale, std, 0.01)) {
        code = 'scale-is-std';
        why = ': these are the std values; hb_mapper multiplies by scale_value, so it needs 1 / (255 * std)';
      } else if (allClose(scale, std.map((s) => 1 / s), 0.01)) {
        code = 'scale-value-units';
        why = ': this is 1/std for 0-1 inputs; for 0-255 pixels it needs 1 / (255 * std)';
      } else if (scale.length === 1 && close(at(scale, 0, 'scale'), 1 / 255, 0.01)) {
        code = 'scale-missing-std';
        why = ': only the /255 rescale; the division by std is missing';
      } else if (allClose(scale, reversed(expected.scale), 0.005)) {
        code = 'scale-order-bgr';
        why = ': that is the reversed channel order';
      }
      out.push(finding(code, 'error', `scale_value is ${list(scale)}, expected ${list(expected.scale)} (1 / (255 * std))${why}`, { subject: 'input_parameters.scale_value', fix: `scale_value: ${list(expected.scale)}` }));
    }
  }
  return out;
}
