/**
 * Small hand-built ONNX graphs for the model-loading tests: odd layouts, dynamic sizes, class-map outputs and
 * deliberately broken shapes, made with the project's own ONNX builder.
 */
import { OnnxGraphBuilder, attr, type DimSpec } from '../../server/model/onnx/builder.ts';
import { OnnxElemType } from '../../server/model/onnx/reader.ts';

export const FLOAT = OnnxElemType.FLOAT;
export const INT64 = OnnxElemType.INT64;

function weights(count: number, seed: number): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = Math.sin(i * 12.9898 + seed) * 0.1;
  return out;
}

/** A 1x1 Conv "segmenter": NCHW [1,3,H,W] float -> [1,classes,H,W]; dims may be symbolic. */
export function convSegmenter(opts: {
  inputDims: DimSpec[];
  outputDims: DimSpec[];
  classes: number;
  inputName?: string;
  outputName?: string;
  inputType?: number;
  stride?: number;
  inChannels?: number;
  /** Pass the scores through an identity Einsum, an operator segstream's shape propagation does not follow. */
  opaque?: boolean;
}): Uint8Array {
  const b = new OnnxGraphBuilder({ opset: 17, producerName: 'segstream-test' });
  const stride = opts.stride ?? 1;
  const inC = opts.inChannels ?? 3;
  const x = b.input(opts.inputName ?? 'image', opts.inputType ?? FLOAT, opts.inputDims);
  const w = b.initializer('w', { type: 'float32', dims: [opts.classes, inC, stride, stride], data: weights(opts.classes * inC * stride * stride, 1) });
  const outName = opts.outputName ?? 'scores';
  const conv = b.node('Conv', [x, w], { kernel_shape: attr.ints([stride, stride]), strides: attr.ints([stride, stride]) }, { scope: '/head', ...(opts.opaque ? {} : { outputs: [outName] }) });
  if (opts.opaque) b.node('Einsum', [conv], { equation: attr.string('nchw->nchw') }, { scope: '/opaque', outputs: [outName] });
  b.output(outName, FLOAT, opts.outputDims);
  return b.toBytes();
}

/** NHWC in, NHWC logits out: [1,H,W,3] -> Transpose -> Conv k4/s4 -> Transpose -> [1,H/4,W/4,classes]. */
export function nhwcSegmenter(height: number, width: number, classes: number): Uint8Array {
  const b = new OnnxGraphBuilder({ opset: 17 });
  const x = b.input('input_rgb', FLOAT, [1, height, width, 3]);
  const t = b.node('Transpose', [x], { perm: attr.ints([0, 3, 1, 2]) }, { scope: '/in' });
  const w = b.initializer('w', { type: 'float32', dims: [classes, 3, 4, 4], data: weights(classes * 48, 2) });
  const c = b.node('Conv', [t, w], { kernel_shape: attr.ints([4, 4]), strides: attr.ints([4, 4]) }, { scope: '/head' });
  b.node('Transpose', [c], { perm: attr.ints([0, 2, 3, 1]) }, { scope: '/out', outputs: ['seg'] });
  b.output('seg', FLOAT, [1, height / 4, width / 4, classes]);
  return b.toBytes();
}

/**
 * A class-map model: Conv (classes planes) [-> an identity Einsum when `hideClassCount`] -> ArgMax over channels.
 * `keepdims` 1 gives [1,1,h,w], 0 gives [1,h,w]. With `hideClassCount` the graph does not reveal the count:
 * neither a classifier Conv right before the ArgMax nor an operator shape propagation follows.
 */
export function classMapSegmenter(opts: { size: number; classes: number; keepdims: 0 | 1; hideClassCount?: boolean }): Uint8Array {
  const b = new OnnxGraphBuilder({ opset: 17 });
  const x = b.input('pixel_values', FLOAT, [1, 3, opts.size, opts.size]);
  const w = b.initializer('classifier.weight', { type: 'float32', dims: [opts.classes, 3, 4, 4], data: weights(opts.classes * 48, 3) });
  let t = b.node('Conv', [x, w], { kernel_shape: attr.ints([4, 4]), strides: attr.ints([4, 4]) }, { scope: '/classifier' });
  if (opts.hideClassCount) t = b.node('Einsum', [t], { equation: attr.string('nchw->nchw') }, { scope: '/opaque' });
  b.node('ArgMax', [t], { axis: attr.int(1), keepdims: attr.int(opts.keepdims) }, { scope: '/argmax', outputs: ['labels'] });
  const h = opts.size / 4;
  b.output('labels', INT64, opts.keepdims ? [1, 1, h, h] : [1, h, h]);
  return b.toBytes();
}

/** A model with two image inputs (added together), to test the "one input" rule. */
export function twoInputModel(): Uint8Array {
  const b = new OnnxGraphBuilder({ opset: 17 });
  const a = b.input('left', FLOAT, [1, 3, 32, 32]);
  const c = b.input('right', FLOAT, [1, 3, 32, 32]);
  const s = b.node('Add', [a, c], {}, { scope: '/sum' });
  const w = b.initializer('w', { type: 'float32', dims: [4, 3, 1, 1], data: weights(12, 4) });
  b.node('Conv', [s, w], { kernel_shape: attr.ints([1, 1]) }, { scope: '/head', outputs: ['out'] });
  b.output('out', FLOAT, [1, 4, 32, 32]);
  return b.toBytes();
}
