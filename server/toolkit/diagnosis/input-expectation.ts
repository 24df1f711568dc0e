/**
 * What a calibration or runtime input file must look like, derived from the model (ONNX input,
 * preprocessing) and, when given, the hb_mapper config: dtype, layout, shape, byte size and value domain.
 */
import type { ModelInfo, TensorLayout } from '../../model/model-info.ts';
import { UsageError } from '../../cli/args.ts';
import { formatShape, groupDigits } from '../report/findings.ts';
import { IMAGE_RT_TYPES, type MapperConfigView } from '../hb-mapper/mapper-yaml.ts';
import { DTYPE_BYTES, type FileDType } from '../tensors/tensor-file.ts';
import type { ValueDomain } from '../tensors/tensor-stats.ts';

export type FileRole = 'model-input' | 'calibration' | 'runtime';

export interface InputExpectation {
  role: FileRole;
  kind: 'tensor' | 'nv12';
  dtype: FileDType;
  layout: TensorLayout;
  channels: number;
  height: number;
  width: number;
  domain: ValueDomain;
  channelOrder: 'rgb' | 'bgr';
  mean: [number, number, number];
  std: [number, number, number];
  rescale: number;
  /** Where the expectation comes from, as a phrase: "the model's rt input (input_type_rt: rgb)". */
  source: string;
  /** hb_mapper facts that matter for cross-checks. */
  rtType?: string;
  normType?: string;
  colourRange?: 'full' | 'limited';
}

export function expectedShape(e: Pick<InputExpectation, 'kind' | 'layout' | 'channels' | 'height' | 'width'>): number[] {
  if (e.kind === 'nv12') return [(e.height * 3) / 2, e.width];
  return e.layout === 'NCHW' ? [1, e.channels, e.height, e.width] : [1, e.height, e.width, e.channels];
}

export function expectedElements(e: InputExpectation): number {
  return expectedShape(e).reduce((a, b) => a * b, 1);
}

export function expectedBytes(e: InputExpectation): number {
  return expectedElements(e) * DTYPE_BYTES[e.dtype];
}

/** "uint8 NHWC [1,512,512,3] (786,432 bytes)" */
export function describeExpectation(e: InputExpectation): string {
  if (e.kind === 'nv12') return `NV12 ${e.width}x${e.height} (Y plane + interleaved UV, ${groupDigits(expectedBytes(e))} bytes)`;
  return `${e.dtype} ${e.layout} ${formatShape(expectedShape(e))} (${groupDigits(expectedBytes(e))} bytes)`;
}

function dtypeFromCal(v: string | undefined): FileDType {
  if (v === undefined) return 'float32';
  if (v === 'float32' || v === 'uint8') return v;
  throw new UsageError(`calibration_parameters.cal_data_type: expected float32 | uint8, got ${JSON.stringify(v)}`);
}

function layoutOf(v: string | undefined, key: string, fallback: TensorLayout): TensorLayout {
  if (v === undefined) return fallback;
  if (v === 'NCHW' || v === 'NHWC') return v;
  throw new UsageError(`${key}: expected NCHW | NHWC, got ${JSON.stringify(v)}`);
}

export interface ExpectationOverrides {
  /** Runtime input type when there is no hb_mapper config (`--rt`). */
  rtType?: string;
  rtLayout?: TensorLayout;
}

export function deriveExpectation(model: ModelInfo, role: FileRole, mapper?: MapperConfigView, over: ExpectationOverrides = {}): InputExpectation {
  const { input, preprocess } = model;
  const base = {
    channels: input.channels,
    height: input.height,
    width: input.width,
    mean: preprocess.mean,
    std: preprocess.std,
    rescale: preprocess.rescale,
    channelOrder: preprocess.channelOrder,
  };
  const normType = mapper?.input.normType;
  const rtType = over.rtType ?? mapper?.input.inputTypeRt;
  const range = mapper?.input.inputSpaceAndRange;
  const colourRange: 'full' | 'limited' | undefined = range === 'bt601_video' ? 'limited' : range === 'regular' ? 'full' : undefined;
  const extra = { ...(rtType ? { rtType } : {}), ...(normType ? { normType } : {}), ...(colourRange ? { colourRange } : {}) };

  if (role === 'model-input') {
    const floatInput = input.dtype === 'float32';
    return {
      ...base,
      ...extra,
      role,
      kind: input.kind,
      dtype: (input.dtype === 'int64' ? 'int64' : input.dtype) as FileDType,
      layout: input.layout,
      domain: floatInput ? 'normalised' : 'raw-0-255',
      source: `the ONNX model's input ${input.name}`,
    };
  }

  if (role === 'runtime') {
    if (!rtType) throw new UsageError('inspecting runtime input files needs the model\'s runtime input type: pass --config <hb_mapper.yaml> or --rt nv12|rgb|bgr|featuremap');
    const where = mapper && !over.rtType ? `the model's rt input (input_type_rt: ${rtType})` : `the model's rt input (${rtType})`;
    if (rtType === 'nv12' || rtType === 'nv12_separate') {
      return { ...base, ...extra, role, kind: 'nv12', dtype: 'uint8', layout: 'NCHW', domain: 'raw-0-255', source: where };
    }
    if (rtType === 'featuremap') {
      const layout = over.rtLayout ?? layoutOf(mapper?.input.inputLayoutRt, 'input_parameters.input_layout_rt', input.layout);
      const normalised = normType === undefined || normType === 'no_preprocess';
      return { ...base, ...extra, role, kind: 'tensor', dtype: 'float32', layout, domain: normalised ? 'normalised' : 'raw-0-255', source: where };
    }
    if (rtType === 'rgb' || rtType === 'bgr' || rtType === 'yuv444' || rtType === 'gray') {
      const layout = over.rtLayout ?? layoutOf(mapper?.input.inputLayoutRt, 'input_parameters.input_layout_rt', 'NHWC');
      return {
        ...base,
        ...extra,
        role,
        kind: 'tensor',
        dtype: 'uint8',
        layout,
        channels: rtType === 'gray' ? 1 : base.channels,
        channelOrder: rtType === 'bgr' ? 'bgr' : 'rgb',
        domain: 'raw-0-255',
        source: where,
      };
    }
    throw new UsageError(`input_type_rt: expected nv12 | rgb | bgr | yuv444 | gray | featuremap, got ${JSON.stringify(rtType)}`);
  }

  // Calibration: hb_mapper reads the files in input_type_train / input_layout_train, as cal_data_type.
  // When the rt input is an image the normalisation is compiled into the model, so the files hold pixels.
  const imageRt = rtType !== undefined && IMAGE_RT_TYPES.includes(rtType);
  const trainType = mapper?.input.inputTypeTrain;
  return {
    ...base,
    ...extra,
    role,
    kind: 'tensor',
    dtype: dtypeFromCal(mapper?.calDataType),
    layout: layoutOf(mapper?.input.inputLayoutTrain, 'input_parameters.input_layout_train', input.layout),
    channelOrder: trainType === 'bgr' ? 'bgr' : trainType === 'rgb' ? 'rgb' : base.channelOrder,
    domain: imageRt ? 'raw-0-255' : 'normalised',
    source: mapper
      ? `hb_mapper's calibration input (cal_data_type: ${mapper.calDataType ?? 'float32 (default)'}, input_layout_train: ${mapper.input.inputLayoutTrain ?? input.layout})`
      : `calibration data for the ONNX input ${input.name}`,
  };
}
