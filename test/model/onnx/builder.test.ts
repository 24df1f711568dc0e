/**
 * The ONNX builder: tensor bytes that ONNX Runtime reads back as the values given, and a node with no outputs
 * refused up front (ONNX Runtime refuses such a graph too, as the last test shows, but only at load time and
 * without saying which builder call made it).
 */
import onnxProto from 'onnx-proto';
import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { encodeNode, OnnxGraphBuilder } from '../../../server/model/onnx/builder.ts';
import { OnnxElemType } from '../../../server/model/onnx/reader.ts';
import { InvalidArgumentError } from '../../../server/util/errors.ts';

const { onnx } = onnxProto;

async function runAll(model: Uint8Array, feeds: Record<string, ort.Tensor> = {}): Promise<Record<string, ort.Tensor>> {
  const s = await ort.InferenceSession.create(model, { intraOpNumThreads: 1 });
  try {
    return (await s.run(feeds)) as Record<string, ort.Tensor>;
  } finally {
    await s.release();
  }
}

describe('OnnxGraphBuilder tensors', () => {
  it('writes float32, int32 and int64 initializers that ONNX Runtime reads back unchanged', async () => {
    const b = new OnnxGraphBuilder({ opset: 17 });
    const f32 = Float32Array.from([1.5, -2.25, 3e-8, 65504]);
    const i32 = Int32Array.from([7, -1, 2147483647, -2147483648]);
    const i64 = BigInt64Array.from([1n, -1n, 9007199254740993n, -(2n ** 62n)]);
    b.initializer('f', { type: 'float32', dims: [4], data: f32 });
    b.initializer('i', { type: 'int32', dims: [4], data: i32 });
    b.initializer('l', { type: 'int64', dims: [4], data: i64 });
    for (const [name, type] of [['f', OnnxElemType.FLOAT], ['i', OnnxElemType.INT32], ['l', OnnxElemType.INT64]] as const) {
      b.node('Identity', [name], {}, { outputs: [`${name}_out`] });
      b.output(`${name}_out`, type, [4]);
    }
    const out = await runAll(b.toBytes());
    expect(Array.from(out.f_out?.data as Float32Array)).toEqual(Array.from(f32));
    expect(Array.from(out.i_out?.data as Int32Array)).toEqual(Array.from(i32));
    expect(Array.from(out.l_out?.data as BigInt64Array)).toEqual(Array.from(i64));
  });
});

describe('a node with no outputs', () => {
  it('is refused by node() with the node named, and the builder is left as it was', async () => {
    const b = new OnnxGraphBuilder({ opset: 17 });
    const x = b.input('x', OnnxElemType.FLOAT, [2]);
    const call = () => b.node('Relu', [x], {}, { scope: '/act', outputs: [] });
    expect(call).toThrow(InvalidArgumentError);
    expect(call).toThrow('ONNX node "/act/Relu" (Relu): expected at least one output name, got none');
    // The refused call took no name: the next Relu in the scope is still the first one.
    const y = b.node('Relu', [x], {}, { scope: '/act' });
    expect(y).toBe('/act/Relu_output_0');
    b.output(y, OnnxElemType.FLOAT, [2]);
    const bytes = b.toBytes();
    expect(onnx.ModelProto.decode(bytes).graph?.node?.map((n) => n.name)).toEqual(['/act/Relu']);
    const out = await runAll(bytes, { x: new ort.Tensor('float32', Float32Array.from([-1, 2]), [2]) });
    expect(Array.from(out[y]?.data as Float32Array)).toEqual([0, 2]);
  });

  it('is refused by encodeNode', () => {
    expect(() => encodeNode({ name: 'dead', opType: 'Relu', inputs: ['x'], outputs: [] })).toThrow(
      'ONNX node "dead" (Relu): expected at least one output name, got none',
    );
    expect(encodeNode({ name: 'live', opType: 'Relu', inputs: ['x'], outputs: ['y'] }).length).toBeGreaterThan(0);
  });

  it('is refused by ONNX Runtime too when written without the builder', async () => {
    const valueInfo = (name: string) => ({ name, type: { tensorType: { elemType: OnnxElemType.FLOAT, shape: { dim: [{ dimValue: 2 }] } } } });
    const model = (deadOutputs: string[]) =>
      onnx.ModelProto.encode(
        onnx.ModelProto.create({
          irVersion: 8,
          opsetImport: [{ domain: '', version: 17 }],
          graph: {
            name: 'g',
            input: [valueInfo('x')],
            output: [valueInfo('y')],
            node: [
              { name: 'dead', opType: 'Relu', input: ['x'], output: deadOutputs },
              { name: 'id', opType: 'Identity', input: ['x'], output: ['y'] },
            ],
          },
        }),
      ).finish();
    // The same graph with one output name on the extra node loads, so the empty output list is what ORT refuses.
    await expect(runAll(model(['unused']), { x: new ort.Tensor('float32', Float32Array.from([1, 2]), [2]) })).resolves.toHaveProperty('y');
    await expect(ort.InferenceSession.create(model([]))).rejects.toThrow(/output size 0/);
  });
});
