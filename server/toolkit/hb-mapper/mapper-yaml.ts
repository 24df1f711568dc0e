/**
 * hb_mapper (Horizon OpenExplorer, march bayes-e for the RDK X5) YAML: a typed view of the keys segstream
 * cares about, and the generator for a config whose input section matches the model's preprocessing.
 * Key names and meanings: ../shared/notes/rdk-x5-runtime.md (collected from public D-Robotics docs).
 */
import YAML from 'yaml';
import type { PreprocessSpec } from '../../model/model-info.ts';
import { nodeInfoFromChoices, type NodePrecisionChoice } from './node-info.ts';

export type RtInputType = 'nv12' | 'rgb' | 'bgr' | 'yuv444' | 'gray' | 'featuremap';
export const IMAGE_RT_TYPES: readonly string[] = ['nv12', 'rgb', 'bgr', 'yuv444', 'gray', 'nv12_separate'];

export interface MapperInputParams {
  inputName?: string;
  inputTypeRt?: string;
  inputLayoutRt?: string;
  inputTypeTrain?: string;
  inputLayoutTrain?: string;
  inputShape?: number[];
  normType?: string;
  meanValue?: number[];
  scaleValue?: number[];
  inputSpaceAndRange?: string;
}

export interface NodeInfoEntry {
  ON?: string;
  InputType?: string;
  OutputType?: string;
}

export interface MapperConfigView {
  march?: string;
  onnxModel?: string;
  nodeInfo: Record<string, NodeInfoEntry>;
  input: MapperInputParams;
  calDataDir?: string;
  calDataType?: string;
  calibrationType?: string;
  optimization: string[];
  raw: Record<string, unknown>;
}

/** hb_mapper separates per-input values with ';' - segstream models have one input, so take the first. */
function firstOf(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  const s = String(v).replace(/;.*$/s, '').trim();
  return s === '' ? undefined : s;
}

function numberList(v: unknown, key: string): number[] | undefined {
  if (v === undefined || v === null) return undefined;
  const parts = Array.isArray(v) ? v.map(String) : String(firstOf(v) ?? '').split(/[\s,]+/);
  const nums = parts.filter((p) => p.trim() !== '').map(Number);
  if (nums.some((n) => !Number.isFinite(n))) throw new Error(`${key}: expected numbers separated by spaces, got ${JSON.stringify(v)}`);
  return nums;
}

function section(raw: Record<string, unknown>, name: string): Record<string, unknown> {
  const s = raw[name];
  return s && typeof s === 'object' && !Array.isArray(s) ? (s as Record<string, unknown>) : {};
}

export function parseMapperYaml(text: string, label: string): MapperConfigView {
  let raw: unknown;
  try {
    raw = YAML.parse(text);
  } catch (err) {
    throw new Error(`${label}: not valid YAML (${(err as Error).message.split('\n')[0]})`, { cause: err });
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new Error(`${label}: expected a YAML mapping with model_parameters / input_parameters / calibration_parameters`);
  const r = raw as Record<string, unknown>;
  const model = section(r, 'model_parameters');
  const input = section(r, 'input_parameters');
  const calib = section(r, 'calibration_parameters');
  let nodeInfo: Record<string, NodeInfoEntry> = {};
  const ni = model.node_info;
  if (typeof ni === 'string' && ni.trim() !== '') {
    // Written as a flow mapping inside a string in some vendor samples.
    const parsed = YAML.parse(ni);
    if (parsed && typeof parsed === 'object') nodeInfo = parsed as Record<string, NodeInfoEntry>;
  } else if (ni && typeof ni === 'object') {
    nodeInfo = ni as Record<string, NodeInfoEntry>;
  }
  const shapeText = firstOf(input.input_shape);
  const inputShape = shapeText ? shapeText.split('x').map((d) => Number(d.trim())) : undefined;
  if (inputShape && inputShape.some((d) => !Number.isInteger(d) || d <= 0)) {
    throw new Error(`${label}: input_parameters.input_shape: expected e.g. 1x3x512x512, got ${JSON.stringify(input.input_shape)}`);
  }
  const optimization = String(calib.optimization ?? '')
    .split(/[;,\s]+/)
    .filter((s) => s !== '');
  const view: MapperConfigView = {
    nodeInfo,
    input: {
      inputName: firstOf(input.input_name),
      inputTypeRt: firstOf(input.input_type_rt),
      inputLayoutRt: firstOf(input.input_layout_rt),
      inputTypeTrain: firstOf(input.input_type_train),
      inputLayoutTrain: firstOf(input.input_layout_train),
      inputShape,
      normType: firstOf(input.norm_type),
      meanValue: numberList(input.mean_value, `${label}: input_parameters.mean_value`),
      scaleValue: numberList(input.scale_value, `${label}: input_parameters.scale_value`),
      inputSpaceAndRange: firstOf(input.input_space_and_range),
    },
    optimization,
    raw: r,
  };
  const march = firstOf(model.march);
  if (march) view.march = march;
  const onnxModel = firstOf(model.onnx_model);
  if (onnxModel) view.onnxModel = onnxModel;
  const calDir = firstOf(calib.cal_data_dir);
  if (calDir) view.calDataDir = calDir;
  const calType = firstOf(calib.cal_data_type);
  if (calType) view.calDataType = calType;
  const ct = firstOf(calib.calibration_type);
  if (ct) view.calibrationType = ct;
  return view;
}

/** mean_value / scale_value in hb_mapper units (0-255 pixels): mean*255 and 1/(255*std), per channel. */
export function hbMeanScale(pre: Pick<PreprocessSpec, 'mean' | 'std' | 'rescale'>): { mean: number[]; scale: number[] } {
  const unit = 1 / pre.rescale; // 255 for the usual 1/255 rescale
  return {
    mean: pre.mean.map((m) => m * unit),
    scale: pre.std.map((s) => 1 / (unit * s)),
  };
}

export function fmt(n: number, digits = 6): string {
  return Number(n.toPrecision(digits)).toString();
}

export interface MapperGenerateOptions {
  onnxModel: string;
  inputName: string;
  /** [N,C,H,W] or [N,H,W,C] as the ONNX declares it. */
  inputShape: number[];
  layoutTrain: 'NCHW' | 'NHWC';
  preprocess: Pick<PreprocessSpec, 'mean' | 'std' | 'rescale' | 'channelOrder'>;
  input: 'nv12' | 'rgb' | 'featuremap';
  /** Camera range for nv12 input: full -> `regular`, limited -> `bt601_video`. */
  sourceRange: 'full' | 'limited';
  int16: 'auto' | 'all' | 'none' | 'measured';
  /** node_info for --int16 auto: the heuristic's choices (see node-info.ts). */
  nodePrecisions: NodePrecisionChoice[];
  /** int16: 'measured': node_info from `segstream quantize --sensitivity` (replaces the op-type heuristic). */
  measuredNodeInfo?: Record<string, NodeInfoEntry>;
  calDataDir: string;
  calDataType: 'float32' | 'uint8';
  outputPrefix: string;
  workingDir: string;
  march?: string;
}

/** Builds the YAML text (with comments explaining each derived value) and the plain object behind it. */
export function buildMapperYaml(o: MapperGenerateOptions): { yaml: string; config: Record<string, unknown> } {
  const { mean, scale } = hbMeanScale(o.preprocess);
  const order = o.preprocess.channelOrder;
  const imageInput = o.input !== 'featuremap';
  const modelParameters: Record<string, unknown> = {
    onnx_model: o.onnxModel,
    march: o.march ?? 'bayes-e',
    layer_out_dump: false,
    working_dir: o.workingDir,
    output_model_file_prefix: o.outputPrefix,
  };
  if (o.int16 === 'auto' && o.nodePrecisions.length > 0) modelParameters.node_info = nodeInfoFromChoices(o.nodePrecisions);
  if (o.int16 === 'measured' && o.measuredNodeInfo && Object.keys(o.measuredNodeInfo).length > 0) modelParameters.node_info = o.measuredNodeInfo;
  const inputParameters: Record<string, unknown> = {
    input_name: o.inputName,
    input_type_rt: o.input === 'featuremap' ? 'featuremap' : o.input === 'rgb' ? order : 'nv12',
    input_type_train: imageInput ? order : 'featuremap',
    input_layout_train: o.layoutTrain,
    input_shape: o.inputShape.join('x'),
  };
  if (o.input === 'rgb') inputParameters.input_layout_rt = 'NHWC';
  if (o.input === 'featuremap') inputParameters.input_layout_rt = o.layoutTrain;
  if (imageInput) {
    inputParameters.norm_type = 'data_mean_and_scale';
    inputParameters.mean_value = mean.map((m) => fmt(m)).join(' ');
    inputParameters.scale_value = scale.map((s) => fmt(s)).join(' ');
  } else {
    inputParameters.norm_type = 'no_preprocess';
  }
  if (o.input === 'nv12') inputParameters.input_space_and_range = o.sourceRange === 'limited' ? 'bt601_video' : 'regular';
  const calibrationParameters: Record<string, unknown> = {
    cal_data_dir: o.calDataDir,
    cal_data_type: o.calDataType,
    calibration_type: 'default',
  };
  if (o.int16 === 'all') calibrationParameters.optimization = 'set_all_nodes_int16';
  const config = {
    model_parameters: modelParameters,
    input_parameters: inputParameters,
    calibration_parameters: calibrationParameters,
    compiler_parameters: { compile_mode: 'latency', optimize_level: 'O3', core_num: 1, debug: false },
  };

  const doc = new YAML.Document(config);
  doc.commentBefore =
    ' hb_mapper config written by `segstream mapper-config` for the RDK X5 (march bayes-e).\n' +
    ` Model input ${o.inputName} ${o.inputShape.join('x')} (${o.layoutTrain}); trained on ${order.toUpperCase()} with` +
    ` x*${fmt(o.preprocess.rescale)} then (x - mean)/std, mean ${o.preprocess.mean.join(' ')}, std ${o.preprocess.std.join(' ')}.`;
  // One line per node, as vendor samples write node_info.
  const nodeInfoNode = (doc.get('model_parameters', true) as YAML.YAMLMap).get('node_info', true) as YAML.YAMLMap | undefined;
  if (nodeInfoNode) for (const item of nodeInfoNode.items) (item.value as YAML.YAMLMap).flow = true;
  const nodeInfoPair = (doc.get('model_parameters', true) as YAML.YAMLMap).items.find((p) => (p.key as YAML.Scalar).value === 'node_info');
  if (nodeInfoPair) {
    if (o.int16 === 'measured') {
      (nodeInfoPair.key as YAML.Scalar).commentBefore =
        ' node_info: measured by segstream quantize --sensitivity (the smallest int16/float set that kept the class maps within its target)';
    } else {
      const counts = new Map<string, number>();
      for (const c of o.nodePrecisions) counts.set(`${c.precision} ${c.reason}`, (counts.get(`${c.precision} ${c.reason}`) ?? 0) + 1);
      const basis = o.nodePrecisions.some((c) => c.basis === 'heuristic') ? 'chosen by op pattern (a heuristic, not measured on this model)' : 'from a per-node sensitivity measurement';
      (nodeInfoPair.key as YAML.Scalar).commentBefore = ` node_info ${basis}: ${[...counts].map(([k, v]) => `${v} x ${k}`).join(', ')}`;
    }
  }
  const inputNode = doc.get('input_parameters', true) as YAML.YAMLMap;
  const note = (key: string, text: string) => {
    const pair = inputNode.items.find((p) => (p.key as YAML.Scalar).value === key);
    if (pair) (pair.key as YAML.Scalar).commentBefore = text;
  };
  if (imageInput) {
    note('mean_value', ' mean_value = 255 * mean; scale_value = 1 / (255 * std): the BPU computes (pixel - mean_value) * scale_value');
  } else {
    note('norm_type', ' featuremap input: feed exactly the normalised float tensor (segstream calib --format featuremap)');
  }
  if (o.input === 'nv12') {
    note('input_space_and_range', ` camera delivers ${o.sourceRange} range NV12: regular = BT.601 full (0-255), bt601_video = limited (16-235)`);
  }
  const calNode = doc.get('calibration_parameters', true) as YAML.YAMLMap;
  const calPair = calNode.items.find((p) => (p.key as YAML.Scalar).value === 'cal_data_type');
  if (calPair) (calPair.key as YAML.Scalar).commentBefore = ' must match the dtype the calibration files were written in (see their manifest.json)';
  return { yaml: doc.toString({ lineWidth: 0 }), config };
}
