/** A model whose graph hides its output size and class count from shape propagation (for warm-up tests). */
import { OnnxGraphBuilder, attr } from '../../server/model/onnx/builder.ts';
import { OnnxElemType } from '../../server/model/onnx/reader.ts';

/**
 * pixel_values [1,3,H,W] (dynamic) -> Conv 4x4/4 (`classes` planes) -> identity Einsum (an operator segstream's
 * propagation does not follow) -> ArgMax keepdims 0 -> int64 `[batch, h, w]` with symbolic dims.
 */
export function hiddenClassMapModel(classes: number): Uint8Array {
  const b = new OnnxGraphBuilder({ opset: 17, producerName: 'segstream-test' });
  const x = b.input('pixel_values', OnnxElemType.FLOAT, [1, 3, 'height', 'width']);
  const w = b.initializer('w', { type: 'float32', dims: [classes, 3, 4, 4], data: Float32Array.from({ length: classes * 48 }, (_, i) => Math.sin(i * 1.7) * 0.3) });
  const c = b.node('Conv', [x, w], { kernel_shape: attr.ints([4, 4]), strides: attr.ints([4, 4]) }, { scope: '/head' });
  const e = b.node('Einsum', [c], { equation: attr.string('nchw->nchw') }, { scope: '/opaque' });
  b.node('ArgMax', [e], { axis: attr.int(1), keepdims: attr.int(0) }, { scope: '/argmax', outputs: ['labels'] });
  b.output('labels', OnnxElemType.INT64, ['batch', 'h', 'w']);
  return b.toBytes();
}
