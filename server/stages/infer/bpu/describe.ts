/**
 * `segstream model info` for BPU models: what segstream reads from a .bin through hb_dnn, laid out like the
 * vendor's `hrt_model_exec model_info` (same field names, shapes as "(1,3,512,512,)") so the two can be compared
 * line by line on a board, followed by how segstream feeds and reads the model.
 */
import { BpuBackend } from '../bpu-backend.ts';
import { BPU_TENSOR_TYPES, type BpuTensorInfo } from './tensor-info.ts';
import type { BpuLoadOptions } from './validate.ts';

const IMAGE_TYPES = new Set(['Y', 'NV12', 'NV12_SEPARATE', 'YUV444', 'RGB', 'BGR']);

function enumName(t: BpuTensorInfo): string {
  const name = BPU_TENSOR_TYPES[t.tensorTypeCode];
  if (!name) return `unknown (${t.tensorTypeCode})`;
  return `${IMAGE_TYPES.has(name) ? 'HB_DNN_IMG_TYPE_' : 'HB_DNN_TENSOR_TYPE_'}${name}`;
}

function shape(values: readonly number[]): string {
  return `(${values.map((v) => `${v},`).join('')})`;
}

function tensorLines(label: string, t: BpuTensorInfo, inputSource?: string): string[] {
  const q = t.quantization;
  const lines = [
    `${label}:`,
    `name: ${t.name}`,
    ...(inputSource ? [`input source: HB_DNN_INPUT_FROM_${inputSource}`] : []),
    `valid shape: ${shape(t.validShape)}`,
    `aligned shape: ${shape(t.alignedShape)}`,
    `aligned byte size: ${t.alignedByteSize}`,
    `tensor type: ${enumName(t)}`,
    `tensor layout: HB_DNN_LAYOUT_${t.layout}`,
    `quanti type: ${q.type}`,
  ];
  if (q.type === 'SCALE') {
    lines.push(`quantize axis: ${q.axis ?? 'per tensor'}`, `scale data: ${q.scales.join(',')}`);
    if (q.zeroPoints.length) lines.push(`zero point data: ${q.zeroPoints.join(',')}`);
  } else if (q.type === 'SHIFT') {
    lines.push(`quantize axis: ${q.axis ?? 'per tensor'}`, `shift data: ${q.shifts.join(',')}`);
  }
  lines.push(`stride: ${shape(t.declaredStride)}`, '');
  return lines;
}

/** Loads `file` with the BPU backend and describes it (text, or the ModelInfo and tensor properties as JSON). */
export async function describeBpuModelFile(file: string, opts: Pick<BpuLoadOptions, 'modelName'> & { json?: boolean } = {}): Promise<string> {
  const bpu = await BpuBackend.load([file], { ...(opts.modelName ? { modelName: opts.modelName } : {}), rawIntOutput: true });
  try {
    if (opts.json) return `${JSON.stringify({ model: bpu.model, tensors: bpu.tensorInfo }, null, 2)}\n`;
    const d = bpu.model.details;
    const lines = [
      `model:        ${bpu.model.name} (${bpu.model.path})${d.hbDnnRuntime === 'test-double' ? '  [hb_dnn TEST DOUBLE: synthetic outputs, not a BPU]' : ''}`,
      `packed:       ${d.packedModels}`,
      '',
      ...bpu.tensorInfo.inputs.flatMap((t, i) => tensorLines(`input[${i}]`, t, String(d.inputSource))),
      ...bpu.tensorInfo.outputs.flatMap((t, i) => tensorLines(`output[${i}]`, t)),
      `segstream feeds input[0]: ${d.inputFeed}`,
      `segstream reads output[0]: ${bpu.model.output.kind} ${bpu.model.output.dtype} ${bpu.model.output.height}x${bpu.model.output.width}` +
        `${bpu.model.output.kind === 'logits' ? `, ${bpu.model.output.classes} classes` : ''} (${d.outputQuantization})`,
      '',
    ];
    return lines.join('\n');
  } finally {
    await bpu.close();
  }
}
