/**
 * float16 in the kernels, from TypeScript: the conversion against ONNX Runtime's own Cast (something we did not
 * write) on every half pattern and on random floats, SIMD = scalar, float16 logits in argmax = their float32
 * widening in every mode, quantisation as ONNX Runtime's QuantizeLinear computes it, and argument errors.
 */
import ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { argmax, float16ToFloat32, float32ToFloat16, quantizeTensor } from '../../server/kernels/index.ts';
import { OnnxGraphBuilder, attr } from '../../server/model/onnx/builder.ts';
import { OnnxElemType } from '../../server/model/onnx/reader.ts';
import { at } from '../../server/util/checked-access.ts';

/** A one-node model: Cast (or QuantizeLinear) from one element type to another, run by ONNX Runtime. */
function castModel(from: number, to: number): Uint8Array {
  const b = new OnnxGraphBuilder({ opset: 17 });
  const x = b.input('x', from, ['n']);
  b.node('Cast', [x], { to: attr.int(to) }, { outputs: ['y'] });
  b.output('y', to, ['n']);
  return b.toBytes();
}

let toHalf: ort.InferenceSession;
let toFloat: ort.InferenceSession;
beforeAll(async () => {
  toHalf = await ort.InferenceSession.create(castModel(OnnxElemType.FLOAT, OnnxElemType.FLOAT16));
  toFloat = await ort.InferenceSession.create(castModel(OnnxElemType.FLOAT16, OnnxElemType.FLOAT));
});

const isNanHalf = (h: number) => (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;

describe('float16 conversion', () => {
  it('widens every half pattern as ONNX Runtime does (NaNs stay NaNs), SIMD = scalar', async () => {
    const all = Uint16Array.from({ length: 65536 }, (_, i) => i);
    const ours = float16ToFloat32(all);
    const scalar = float16ToFloat32(all, { simd: false });
    const theirs = (await toFloat.run({ x: new ort.Tensor('float16', all, [all.length]) })).y!.data as Float32Array;
    let differ = 0;
    for (let i = 0; i < all.length; i++) {
      if (isNanHalf(i)) {
        if (!Number.isNaN(at(ours, i, 'ours'))) differ++;
      } else if (!Object.is(ours[i], theirs[i])) differ++;
    }
    expect(differ).toBe(0);
    expect(new Uint32Array(scalar.buffer)).toEqual(new Uint32Array(ours.buffer));
  });

  it('narrows random floats (all exponents, ties, subnormals, overflow) as ONNX Runtime does, SIMD = scalar', async () => {
    const n = 200_003; // an odd tail
    const bits = new Uint32Array(n);
    let s = 0x12345678;
    for (let i = 0; i < n; i++) {
      s = (s ^ (s << 13)) >>> 0;
      s = (s ^ (s >>> 17)) >>> 0;
      s = (s ^ (s << 5)) >>> 0;
      bits[i] = s;
    }
    const values = new Float32Array(bits.buffer);
    // Exact halfway points between neighbouring halves, and the overflow boundary.
    for (let i = 0; i < 2000; i++) values[i] = (1 + (2 * i + 1) / 2048) * 2 ** ((i % 30) - 14);
    values.set([65504, 65519.99, 65520, 2 ** -24, 2 ** -25, 3 * 2 ** -26, -0, Infinity, -Infinity], 2000);
    const ours = float32ToFloat16(values);
    const scalar = float32ToFloat16(values, { simd: false });
    const theirs = (await toHalf.run({ x: new ort.Tensor('float32', values, [n]) })).y!.data as Uint16Array;
    let differ = 0;
    for (let i = 0; i < n; i++) {
      if (Number.isNaN(at(values, i, 'values'))) {
        if (!isNanHalf(at(ours, i, 'ours'))) differ++;
      } else if (ours[i] !== theirs[i]) differ++;
    }
    expect(differ).toBe(0);
    expect(scalar).toEqual(ours);
  });

  it('refuses wrong types and sizes with the argument named', () => {
    expect(() => float32ToFloat16(new Uint16Array(4) as unknown as Float32Array)).toThrow(/float32ToFloat16: values must be a Float32Array/);
    expect(() => float32ToFloat16(new Float32Array(4), { out: new Uint16Array(3) })).toThrow('float32ToFloat16: opts.out: expected 4 elements (4 float16 values), got a Uint16Array of length 3');
    expect(() => float16ToFloat32(new Float32Array(2) as unknown as Uint16Array)).toThrow(/half-precision patterns/);
  });
});

describe('argmax of float16 logits', () => {
  it('equals argmax of the float32 widening in every mode, and needs the float16 flag', () => {
    const classes = 5;
    const h = 9;
    const w = 7;
    const values = Float32Array.from({ length: classes * h * w }, (_, i) => Math.sin(i * 0.7) * 3 + Math.cos(i * 0.13));
    const half = float32ToFloat16(values);
    const widened = float16ToFloat32(half);
    for (const mode of ['lowres', 'exact', 'boundary'] as const) {
      const a = argmax(half, { layout: 'NCHW', classes, height: h, width: w, mode, float16: true, outWidth: 31, outHeight: 23 });
      const b = argmax(widened, { layout: 'NCHW', classes, height: h, width: w, mode, outWidth: 31, outHeight: 23 });
      expect(a.classMap.data).toEqual(b.classMap.data);
      expect(a.histogram).toEqual(b.histogram);
    }
    expect(() => argmax(half, { layout: 'NCHW', classes, height: h, width: w, mode: 'lowres' })).toThrow(/logits is a Uint16Array: set opts.float16/);
    expect(() => argmax(widened, { layout: 'NCHW', classes, height: h, width: w, mode: 'lowres', float16: true })).toThrow(/opts.float16 needs the logits as a Uint16Array/);
  });
});

describe('quantizeTensor', () => {
  it('computes what ONNX Runtime\'s QuantizeLinear computes (round half to even, saturation)', async () => {
    for (const [dtype, elem, zp] of [['uint8', OnnxElemType.UINT8, 128], ['int8', OnnxElemType.INT8, -3]] as const) {
      const b = new OnnxGraphBuilder({ opset: 17 });
      const x = b.input('x', OnnxElemType.FLOAT, ['n']);
      const s = b.initializer('s', { type: 'float32', dims: [], data: Float32Array.of(0.02) });
      const z = dtype === 'uint8' ? b.initializer('z', { type: 'uint8', dims: [], data: Uint8Array.of(zp) }) : b.initializer('z', { type: 'int8', dims: [], data: Int8Array.of(zp) });
      b.node('QuantizeLinear', [x, s, z], {}, { outputs: ['y'] });
      b.output('y', elem, ['n']);
      const session = await ort.InferenceSession.create(b.toBytes());
      const values = Float32Array.from({ length: 4001 }, (_, i) => (i - 2000) * 0.005);
      values.set([0.01, 0.03, -0.01, 0.05, 1e9, -1e9], 0); // exact halves of the step, and saturation
      const theirs = (await session.run({ x: new ort.Tensor('float32', values, [values.length]) })).y!.data;
      const ours = quantizeTensor(values, { dtype, scale: 0.02, zeroPoint: zp });
      expect([...ours]).toEqual([...(theirs as Uint8Array)]);
      await session.release();
    }
    expect(() => quantizeTensor(new Float32Array(2), { dtype: 'int8', scale: 0, zeroPoint: 0 })).toThrow(/opts.scale must be a finite number > 0/);
    expect(() => quantizeTensor(new Float32Array(2), { dtype: 'uint8', scale: 1, zeroPoint: 300 })).toThrow('quantizeTensor: opts.zeroPoint: expected an integer from 0 to 255, got 300');
  });
});
