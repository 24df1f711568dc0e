/**
 * Field-level edits of an ONNX file: an empty edit gives back the same bytes; dropping and adding
 * initializers and prepending nodes gives a model that onnx-proto decodes and ONNX Runtime runs with the
 * same result as the model built directly; patches never change the length or run past the end.
 */
import onnxProto from 'onnx-proto';
import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { ModelLoadError } from '../../../server/model/errors.ts';
import { attr, encodeNode, encodeTensor, OnnxGraphBuilder } from '../../../server/model/onnx/builder.ts';
import { OnnxElemType, readOnnxModel } from '../../../server/model/onnx/reader.ts';
import { editGraph, patchPayloads } from '../../../server/model/onnx/rewrite.ts';

const W = Float32Array.from([1, 2, 3, 4, 5, 6]);

/** y = x @ w with w [3,2] an initializer; x [1,3]. */
function matmulModel(): Uint8Array {
  const b = new OnnxGraphBuilder({ opset: 17 });
  const x = b.input('x', OnnxElemType.FLOAT, [1, 3]);
  const w = b.initializer('w', { type: 'float32', dims: [3, 2], data: W });
  b.node('MatMul', [x, w], {}, { outputs: ['y'] });
  b.output('y', OnnxElemType.FLOAT, [1, 2]);
  return b.toBytes();
}

/** Basic optimisations only: with 'all', ORT fuses DequantizeLinear+MatMul and quantises the activations too. */
async function run(model: Uint8Array): Promise<number[]> {
  const s = await ort.InferenceSession.create(model, { intraOpNumThreads: 1, graphOptimizationLevel: 'basic' });
  try {
    const out = await s.run({ x: new ort.Tensor('float32', Float32Array.from([1, 10, 100]), [1, 3]) });
    return Array.from(out.y!.data as Float32Array);
  } finally {
    await s.release();
  }
}

describe('editGraph', () => {
  it('returns the same bytes for an empty edit', () => {
    const m = matmulModel();
    expect(Buffer.from(editGraph(m, {})).equals(Buffer.from(m))).toBe(true);
  });

  it('replaces an initializer by a node that computes it; ONNX Runtime gives the same result', async () => {
    const m = matmulModel();
    const edited = editGraph(m, {
      dropInitializers: new Set(['w']),
      appendInitializers: [encodeTensor('w_half', { type: 'float32', dims: [3, 2], data: W.map((v) => v / 2) }), encodeTensor('two', { type: 'float32', dims: [], data: Float32Array.of(2) })],
      prependNodes: [encodeNode({ name: 'restore', opType: 'Mul', inputs: ['w_half', 'two'], outputs: ['w'] })],
    });
    const decoded = onnxProto.onnx.ModelProto.decode(edited);
    expect(decoded.graph!.node!.map((n) => n.name)).toEqual(['restore', '/MatMul']);
    expect(decoded.graph!.initializer!.map((t) => t.name)).toEqual(['w_half', 'two']);
    expect(await run(edited)).toEqual(await run(m));
    expect(await run(m)).toEqual([531, 642]);
  });

  it('encodes int8 tensors and attributes that DequantizeLinear accepts', async () => {
    const m = matmulModel();
    const edited = editGraph(m, {
      dropInitializers: new Set(['w']),
      appendInitializers: [
        encodeTensor('wq', { type: 'int8', dims: [3, 2], data: Int8Array.from([1, 2, 3, 4, 5, 6]) }),
        encodeTensor('ws', { type: 'float32', dims: [2], data: Float32Array.of(1, 1) }),
        encodeTensor('wz', { type: 'int8', dims: [2], data: new Int8Array(2) }),
      ],
      prependNodes: [encodeNode({ name: 'dq', opType: 'DequantizeLinear', inputs: ['wq', 'ws', 'wz'], outputs: ['w'], attributes: { axis: attr.int(1) } })],
    });
    expect(readOnnxModel(edited, 'edited').summary.initializers.find((t) => t.name === 'wq')?.dataType).toBe(OnnxElemType.INT8);
    expect(await run(edited)).toEqual([531, 642]);
  });

  it('names the file when the bytes are not protobuf', () => {
    expect(() => editGraph(Uint8Array.from([0x0a, 0x05, 0x01]), {}, 'broken.onnx')).toThrow(ModelLoadError);
    expect(() => editGraph(Uint8Array.from([0x0a, 0x05, 0x01]), {}, 'broken.onnx')).toThrow(/broken\.onnx: not a valid ONNX model/);
  });
});

describe('patchPayloads', () => {
  it('writes over the payload the reader located, in a copy', async () => {
    const m = matmulModel();
    const w = readOnnxModel(m, 'm').summary.initializers[0]!;
    const doubled = new Uint8Array(W.map((v) => v * 2).buffer);
    const patched = patchPayloads(m, [{ offset: w.payload!.offset, bytes: doubled }]);
    expect(patched.length).toBe(m.length);
    expect(await run(patched)).toEqual([1062, 1284]);
    expect(await run(m)).toEqual([531, 642]);
  });

  it('refuses a patch that runs past the end', () => {
    expect(() => patchPayloads(new Uint8Array(10), [{ offset: 8, bytes: new Uint8Array(4) }])).toThrow('4 bytes at offset 8 run past the model\'s 10 bytes');
  });
});
