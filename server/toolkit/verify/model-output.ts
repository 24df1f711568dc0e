/**
 * What a model's output means, for comparing two models: logits as float32 NCHW (dequantised when a BPU
 * hands over raw integers with their scales), and the class map at the image's own size (argmax after
 * the chosen post-processing, or the model's own class map resized nearest).
 */
import type { ModelInfo, Tensor } from '../../model/model-info.ts';
import type { ClassMap } from '../../stages/frame-context.ts';
import { argmax, float16ToFloat32, resizeClassMap } from '../../kernels/index.ts';
import { at } from '../../util/checked-access.ts';

export interface LogitsNchw {
  data: Float32Array;
  classes: number;
  height: number;
  width: number;
}

/** Logits as float32 NCHW, or null for a class-map output. */
export function logitsNchw(t: Tensor, m: ModelInfo): LogitsNchw | null {
  if (m.output.kind !== 'logits') return null;
  const shape = t.shape;
  const layout = m.output.layout;
  const classes = layout === 'NCHW' ? at(shape, 1, 'shape') : at(shape, 3, 'shape');
  const height = layout === 'NCHW' ? at(shape, 2, 'shape') : at(shape, 1, 'shape');
  const width = layout === 'NCHW' ? at(shape, 3, 'shape') : at(shape, 2, 'shape');
  let values: Float32Array;
  if (t.data instanceof Float32Array) values = t.data;
  else if (t.dtype === 'float16' && t.data instanceof Uint16Array) values = float16ToFloat32(t.data);
  else if (m.output.quantization) {
    const q = m.output.quantization;
    values = new Float32Array(t.data.length);
    const axisLen = classes;
    const plane = height * width;
    for (let i = 0; i < values.length; i++) {
      const c = q.scales.length === 1 ? 0 : layout === 'NCHW' ? Math.floor(i / plane) % axisLen : i % axisLen;
      const zp = q.zeroPoints ? at(q.zeroPoints, q.zeroPoints.length === 1 ? 0 : c, 'q.zeroPoints') : 0;
      values[i] = (Number(at<number | bigint>(t.data, i, 't.data')) - zp) * at(q.scales, c, 'q.scales');
    }
  } else {
    throw new Error(`${m.path}: output ${m.output.name} is ${t.dtype} without quantisation scales; cannot compare logits`);
  }
  if (layout === 'NHWC') {
    const out = new Float32Array(values.length);
    const plane = height * width;
    for (let p = 0; p < plane; p++) for (let c = 0; c < classes; c++) out[c * plane + p] = at(values, p * classes + c, 'values');
    values = out;
  }
  return { data: values, classes, height, width };
}

export function classMapOf(t: Tensor, m: ModelInfo, logits: LogitsNchw | null, outW: number, outH: number, mode: 'exact' | 'boundary' | 'lowres'): ClassMap {
  if (logits) {
    return argmax(logits.data, { layout: 'NCHW', classes: logits.classes, height: logits.height, width: logits.width, mode, outWidth: outW, outHeight: outH }).classMap;
  }
  // Argmax inside the model: [1,1,h,w] / [1,h,w,1] / [1,h,w] integer ids.
  const h = m.output.height || at(t.shape, t.shape.length - 2, 't.shape');
  const w = m.output.width || at(t.shape, t.shape.length - 1, 't.shape');
  const n = t.data.length;
  const data = m.output.classes > 255 ? new Uint16Array(n) : new Uint8Array(n);
  for (let i = 0; i < n; i++) data[i] = Number(at<number | bigint>(t.data, i, 't.data'));
  const map: ClassMap = { data, width: w, height: h };
  return resizeClassMap(map, outW, outH);
}
