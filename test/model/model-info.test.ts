// Per-tensor quantization is read as one scale and one zero point; anything else is refused, not truncated.
import { describe, expect, it } from 'vitest';
import { perTensorQuantization } from '../../server/model/model-info.ts';

describe('perTensorQuantization', () => {
  it('returns the one scale and zero point, with 0 when the zero point is omitted', () => {
    expect(perTensorQuantization({ scales: Float32Array.of(0.5), zeroPoints: Int32Array.of(-3) }, 'input')).toEqual({ scale: 0.5, zeroPoint: -3 });
    expect(perTensorQuantization({ scales: Float32Array.of(0.25) }, 'input')).toEqual({ scale: 0.25, zeroPoint: 0 });
  });

  it('refuses per-channel and empty quantization instead of using the first scale', () => {
    expect(() => perTensorQuantization({ scales: Float32Array.of(0.5, 0.25, 1), axis: 1 }, 'model input')).toThrow(
      'model input: expected per-tensor quantization (one scale, at most one zero point), got 3 scales and 0 zero points',
    );
    expect(() => perTensorQuantization({ scales: new Float32Array(0) }, 'model input')).toThrow('got 0 scales');
    expect(() => perTensorQuantization({ scales: Float32Array.of(1), zeroPoints: Int32Array.of(0, 1) }, 'model input')).toThrow('got 1 scales and 2 zero points');
  });
});
