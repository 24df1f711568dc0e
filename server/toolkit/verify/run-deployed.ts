/**
 * Step 4 of `segstream verify`: the deployed path on the same frame. Its input is one of: the reference
 * tensor in the deployed model's dtype and layout; the camera path (RGB -> NV12 in the camera's colour
 * model, decoded by the stream's NV12 kernel with the colour model the deployed side assumes); or the
 * user's own preprocessed file for this image, read exactly as the model would read its bytes. Besides the
 * output, it returns the same input in the reference's units, for the preprocessing difference.
 */
import type { ModelInfo, Tensor } from '../../model/model-info.ts';
import type { Nv12Image } from '../../stages/frame-context.ts';
import { nv12ToTensor, resizeNv12, rgbToNv12, rgbToTensor } from '../../kernels/index.ts';
import { UsageError } from '../../cli/args.ts';
import { deriveExpectation } from '../diagnosis/input-expectation.ts';
import { toNormalisedNchw, type PreprocessParams } from '../diagnosis/preprocess-diagnosis.ts';
import { cropToEvenSize } from '../even-crop.ts';
import { formatFindings, type Finding } from '../report/findings.ts';
import { analyseTensorFile } from '../tensors/tensor-analysis.ts';
import { readTensorFile } from '../tensors/tensor-file.ts';
import type { VerifySide } from './load-models.ts';
import type { ResolvedVerifyOptions } from './request.ts';
import { preprocessParams, type PreparedImage, type VerifyImages } from './prepare-images.ts';
import { at } from '../../util/checked-access.ts';

export interface DeployedInput {
  /** What the deployed model is fed (a tensor, or an NV12 frame for a BPU nv12 model). */
  tensor?: Tensor;
  nv12?: Nv12Image;
  /** The same input in the reference's units (normalised NCHW) for the preprocessing difference. */
  normalised: Float32Array;
  /** What reading the user's file found (--deployed-tensors). */
  findings: Finding[];
}

export interface ColourPath {
  source: { matrix: 'bt601' | 'bt709'; range: 'full' | 'limited' };
  decode: { matrix: 'bt601' | 'bt709'; range: 'full' | 'limited' };
}

export function colourPath(o: ResolvedVerifyOptions): ColourPath {
  const source = { matrix: o.sourceMatrix ?? 'bt601', range: o.sourceRange ?? 'full' } as const;
  return { source, decode: { matrix: o.decodeMatrix ?? source.matrix, range: o.decodeRange ?? source.range } };
}

/** One line for the report: which deployed input path was compared. */
export function describeDeployedPath(o: ResolvedVerifyOptions): string {
  const c = colourPath(o);
  if (o.deployedTensors) return `your preprocessed files in ${o.deployedTensors}`;
  if (o.deployedInput === 'nv12') return `camera NV12 (${c.source.matrix}, ${c.source.range} range) decoded as ${c.decode.matrix} ${c.decode.range} range by segstream's NV12 kernel`;
  return 'the reference input tensor (same preprocessing)';
}

function toModelTensor(info: ModelInfo, values: Float32Array, layout: 'NCHW' | 'NHWC'): Tensor {
  const shape = layout === 'NCHW' ? [1, 3, info.input.height, info.input.width] : [1, info.input.height, info.input.width, 3];
  // float16 and quantised inputs take the normalised float32 tensor: the ONNX backend converts it.
  if (info.input.dtype === 'float32' || info.input.dtype === 'float16' || info.input.quantization) return { dtype: 'float32', shape, data: values };
  if (info.input.dtype === 'uint8') {
    const u = new Uint8Array(values.length);
    for (let i = 0; i < values.length; i++) u[i] = Math.max(0, Math.min(255, Math.round(at(values, i, 'values'))));
    return { dtype: 'uint8', shape, data: u };
  }
  throw new Error(`${info.path}: input ${info.input.name} is ${info.input.dtype}; verify feeds float32 or uint8 inputs`);
}

async function fromUserFile(file: string, dep: ModelInfo, params: PreprocessParams): Promise<DeployedInput> {
  const exp = deriveExpectation(dep, 'model-input');
  const analysis = analyseTensorFile(await readTensorFile(file), exp);
  if (!analysis.values || !analysis.interpretation || analysis.values.length !== 3 * params.width * params.height) {
    throw new UsageError(`--deployed-tensors ${file}: cannot be fed to the deployed model:\n${formatFindings(analysis.findings)}`);
  }
  // Fed exactly as the model would read the bytes; diagnosed as what the numbers really are.
  const d = analysis.domain;
  const domain = d === 'normalised' || d === 'unit-0-1' || d === 'raw-0-255' || d === 'int8-centred' ? d : exp.domain === 'normalised' ? 'normalised' : 'raw-0-255';
  return {
    tensor: toModelTensor(dep, analysis.values, exp.layout),
    normalised: toNormalisedNchw(analysis.values, analysis.interpretation.layout, domain, params),
    findings: analysis.findings,
  };
}

function fromCamera(prepared: PreparedImage, dep: ModelInfo, params: PreprocessParams, colour: ColourPath): DeployedInput {
  const even = cropToEvenSize(prepared.image.rgb, prepared.image.width, prepared.image.height);
  const frame = rgbToNv12(even.rgb, even.w, even.h, colour.source);
  const normalised = nv12ToTensor(frame, { ...params, color: colour.decode });
  if (dep.input.kind === 'nv12') return { nv12: resizeNv12(frame, dep.input.width, dep.input.height), normalised, findings: [] };
  if (dep.input.dtype === 'uint8' && !dep.input.quantization) {
    const pixels = nv12ToTensor(frame, { width: params.width, height: params.height, mean: [0, 0, 0], std: [1, 1, 1], rescale: 1, layout: dep.input.layout, channelOrder: params.channelOrder, color: colour.decode });
    return { tensor: toModelTensor(dep, pixels, dep.input.layout), normalised, findings: [] };
  }
  const t = dep.input.layout === 'NCHW' ? normalised : nv12ToTensor(frame, { ...params, layout: 'NHWC', color: colour.decode });
  return { tensor: toModelTensor(dep, t, dep.input.layout), normalised, findings: [] };
}

/** Same preprocessing as the reference, in the deployed model's dtype and layout. */
function fromReference(prepared: PreparedImage, dep: ModelInfo, params: PreprocessParams): DeployedInput {
  const { image: img, referenceTensor } = prepared;
  if (dep.input.dtype === 'uint8' && !dep.input.quantization) {
    const pixels = rgbToTensor(img.rgb, img.width, img.height, { ...params, mean: [0, 0, 0], std: [1, 1, 1], rescale: 1, layout: dep.input.layout });
    return { tensor: toModelTensor(dep, pixels, dep.input.layout), normalised: toNormalisedNchw(pixels, dep.input.layout, 'raw-0-255', params), findings: [] };
  }
  const t = rgbToTensor(img.rgb, img.width, img.height, { ...params, layout: dep.input.layout });
  return { tensor: toModelTensor(dep, t, dep.input.layout), normalised: dep.input.layout === 'NCHW' ? t : referenceTensor, findings: [] };
}

export async function deployedInput(o: ResolvedVerifyOptions, deployed: VerifySide, prepared: PreparedImage, images: VerifyImages): Promise<DeployedInput> {
  const params = preprocessParams(deployed.info);
  if (o.deployedTensors) return fromUserFile(images.tensorFileFor(prepared.name), deployed.info, params);
  if (o.deployedInput === 'nv12') return fromCamera(prepared, deployed.info, params, colourPath(o));
  return fromReference(prepared, deployed.info, params);
}

export interface DeployedResult {
  input: DeployedInput;
  output: Tensor;
}

export async function runDeployed(o: ResolvedVerifyOptions, deployed: VerifySide, prepared: PreparedImage, images: VerifyImages): Promise<DeployedResult> {
  const input = await deployedInput(o, deployed, prepared, images);
  const backend = deployed.backend;
  let out: { output: Tensor };
  if (input.nv12) {
    if (!('runNv12' in backend)) throw new Error(`${deployed.info.path}: takes NV12 but its backend (${backend.kind}) has no NV12 entry`);
    out = await (backend as unknown as { runNv12(i: Nv12Image): Promise<{ output: Tensor }> }).runNv12(input.nv12);
  } else {
    out = await backend.run(input.tensor!);
  }
  return { input, output: out.output };
}
