/**
 * Plain JavaScript references used by tests to check the stream's output independently of the native kernels'
 * post-processing: bilinear upsampling of NCHW logits (align_corners=False, as PyTorch/Hugging Face) then argmax.
 */
import { at } from '../../server/util/checked-access.ts';
export function upsampleArgmaxReference(logits: Float32Array, classes: number, h: number, w: number, outH: number, outW: number): Uint8Array | Uint16Array {
  const out = classes <= 256 ? new Uint8Array(outW * outH) : new Uint16Array(outW * outH);
  const sy = h / outH;
  const sx = w / outW;
  for (let y = 0; y < outH; y++) {
    const fy = Math.max(0, (y + 0.5) * sy - 0.5);
    const y0 = Math.min(Math.floor(fy), h - 1);
    const y1 = Math.min(y0 + 1, h - 1);
    const wy = fy - y0;
    for (let x = 0; x < outW; x++) {
      const fx = Math.max(0, (x + 0.5) * sx - 0.5);
      const x0 = Math.min(Math.floor(fx), w - 1);
      const x1 = Math.min(x0 + 1, w - 1);
      const wx = fx - x0;
      let best = 0;
      let bestV = -Infinity;
      for (let c = 0; c < classes; c++) {
        const p = logits.subarray(c * h * w, (c + 1) * h * w);
        const v = (1 - wy) * ((1 - wx) * at(p, y0 * w + x0, 'p') + wx * at(p, y0 * w + x1, 'p')) + wy * ((1 - wx) * at(p, y1 * w + x0, 'p') + wx * at(p, y1 * w + x1, 'p'));
        if (v > bestV) {
          bestV = v;
          best = c;
        }
      }
      out[y * outW + x] = best;
    }
  }
  return out;
}

/** Fraction of positions where two class maps agree. */
export function agreement(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`class maps differ in size: ${a.length} vs ${b.length}`);
  let same = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
  return same / a.length;
}
