/**
 * Quantization parameters against hand computations on small tensors (values chosen so every scale is an
 * exact binary fraction and the expected integers can be worked out on paper).
 */
import { describe, expect, it } from 'vitest';
import { quantisePerChannel } from '../../../server/toolkit/verify/quantize-weights.ts';
import {
  asymmetricParams,
  dequantizeValue,
  quantizeBias,
  quantizeConstant,
  quantizePerChannel,
  quantizeValue,
  roundHalfEven,
  symmetricParams,
} from '../../../server/toolkit/quantize/qparams.ts';
import { at } from '../../../server/util/checked-access.ts';

describe('symmetric activation parameters', () => {
  it('int8: scale = T / 127, zero point 0, saturating at -128..127', () => {
    const p = symmetricParams(63.5, 'int8');
    expect(p).toEqual({ type: 'int8', scale: 0.5, zeroPoint: 0 });
    // 1.0 / 0.5 = 2; -70 / 0.5 = -140 -> saturates at -128; 200 -> 127.
    expect(quantizeValue(1.0, p)).toBe(2);
    expect(quantizeValue(-70, p)).toBe(-128);
    expect(quantizeValue(200, p)).toBe(127);
    expect(dequantizeValue(-3, p)).toBe(-1.5);
  });

  it('int16: scale = T / 32767', () => {
    const p = symmetricParams(32767 / 4, 'int16');
    expect(p.scale).toBe(0.25);
    expect(quantizeValue(1000.1, p)).toBe(4000);
    expect(quantizeValue(-9000, p)).toBe(-32768);
  });

  it('rounds halves to even, as QuantizeLinear does', () => {
    const p = symmetricParams(63.5, 'int8'); // scale 0.5
    expect(quantizeValue(0.75, p)).toBe(2); // 1.5 -> 2
    expect(quantizeValue(1.25, p)).toBe(2); // 2.5 -> 2
    expect(quantizeValue(-0.75, p)).toBe(-2); // -1.5 -> -2
    expect(quantizeValue(-1.25, p)).toBe(-2); // -2.5 -> -2
    expect([roundHalfEven(3.5), roundHalfEven(4.5), roundHalfEven(-3.5), roundHalfEven(2.4)]).toEqual([4, 4, -4, 2]);
  });

  it('an all-zero tensor gets scale 1 (DequantizeLinear stays defined)', () => {
    expect(symmetricParams(0, 'int8')).toEqual({ type: 'int8', scale: 1, zeroPoint: 0 });
    expect(() => symmetricParams(Number.NaN, 'int8')).toThrow(/finite/);
  });
});

describe('asymmetric (uint8) parameters', () => {
  it('scale = (hi - lo) / 255 and zero point = round(-lo / scale)', () => {
    // [-1, 3]: scale 4/255, zero point round(255/4) = round(63.75) = 64.
    const p = asymmetricParams(-1, 3);
    expect(p.type).toBe('uint8');
    expect(p.scale).toBe(Math.fround(4 / 255));
    expect(p.zeroPoint).toBe(64);
    expect(quantizeValue(0, p)).toBe(64);
    expect(quantizeValue(3, p)).toBe(255);
    expect(quantizeValue(-2, p)).toBe(0);
  });

  it('widens the range to contain 0', () => {
    // [2, 4.55] -> [0, 4.55]: scale 4.55/255, zero point 0.
    const p = asymmetricParams(2, 4.55);
    expect(p.zeroPoint).toBe(0);
    expect(p.scale).toBe(Math.fround(4.55 / 255));
    expect(() => asymmetricParams(3, 1)).toThrow(/lo <= hi/);
  });
});

describe('per-channel symmetric weights', () => {
  it('each output channel gets max|w| / 127 (hand computation)', () => {
    // MatMul weight [4, 2], channels along axis 1: column 0 max 127 -> scale 1; column 1 max 127/64 -> 1/64.
    const w = Float32Array.from([127, 0.5, 63.4, -1.984375, -1.2, 0.03125, 0, 0.25]);
    const { q, scales } = quantizePerChannel(w, [4, 2], 1, 'int8');
    expect(Array.from(scales)).toEqual([1, 1 / 64]);
    expect(Array.from(q)).toEqual([127, 32, 63, -127, -1, 2, 0, 16]);
  });

  it('int16 weights: max|w| / 32767', () => {
    const w = Float32Array.from([32767 / 8, -1, 2, 0]);
    const { q, scales } = quantizePerChannel(w, [2, 2], 0, 'int16');
    // channel 0 = [4095.875, -1]: scale 0.125 -> [32767, -8]; channel 1 = [2, 0]: scale 2/32767 -> [32767, 0].
    expect(scales[0]).toBe(0.125);
    expect(Array.from(q)).toEqual([32767, -8, 32767, 0]);
  });

  it('int8 is the same rounding as the weight-only rewriter (server/tools/quantize-weights.ts)', () => {
    const w = Float32Array.from({ length: 6 * 5 * 3 }, (_, i) => Math.sin(i * 1.7) * (1 + (i % 5)));
    const mine = quantizePerChannel(w, [6, 5, 3], 0, 'int8');
    const theirs = quantisePerChannel(w, [6, 5, 3], 0);
    expect(Array.from(mine.scales)).toEqual(Array.from(theirs.scales));
    expect(Array.from(mine.q)).toEqual(Array.from(theirs.q));
  });
});

describe('constants and biases', () => {
  it('a constant operand is quantized per tensor in the node precision', () => {
    // sqrt(2) alone: scale sqrt(2)/127 and q = 127, so the constant is reproduced exactly.
    const { params, q } = quantizeConstant(Float32Array.of(Math.SQRT2), 'int8');
    expect(Array.from(q)).toEqual([127]);
    expect(dequantizeValue(at(q, 0, 'q'), params)).toBeCloseTo(Math.SQRT2, 6);
  });

  it('an int8 Conv bias is int32 with scale = input scale x weight scale of its channel', () => {
    const r = quantizeBias(Float32Array.of(1, -0.75), 0.5, Float32Array.of(0.25, 0.125))!;
    // channel 0: 1 / (0.5*0.25) = 8; channel 1: -0.75 / (0.5*0.125) = -12.
    expect(Array.from(r.scales)).toEqual([0.125, 0.0625]);
    expect(Array.from(r.q)).toEqual([8, -12]);
    expect(quantizeBias(Float32Array.of(1e6), 1e-6, Float32Array.of(1e-6))).toBeUndefined();
  });
});
