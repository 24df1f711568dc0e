/**
 * The normalisation signature on tensors we did not make: Hugging Face's SegFormer processor (PIL backend)
 * output for real photos sits on the 8-bit pixel lattice of its own channels; the same tensor with its
 * planes reversed, or normalised again, is named as such; data without a lattice gets no lattice verdict,
 * and constants that make channels indistinguishable give no claim at all.
 */
import { describe, expect, it } from 'vitest';
import { normalisationSignature, type NormalisationParams } from '../../../server/toolkit/tensors/normalisation-signature.ts';
import { loadF32, MEAN, STD } from '../../kernels/fixtures.ts';
import { at } from '../../../server/util/checked-access.ts';

const P: NormalisationParams = { mean: MEAN, std: STD, rescale: 1 / 255, width: 512, height: 512 };
const PHOTOS = ['chelsea', 'grass', 'coffee_1280x720', 'rocket_1920x1080'];

function reversePlanes(t: Float32Array): Float32Array {
  const plane = t.length / 3;
  const out = new Float32Array(t.length);
  for (let c = 0; c < 3; c++) out.set(t.subarray(c * plane, (c + 1) * plane), (2 - c) * plane);
  return out;
}

function normaliseAgain(t: Float32Array, mean: readonly number[], std: readonly number[]): Float32Array {
  const plane = t.length / 3;
  return t.map((v, i) => (v - at(mean, Math.floor(i / plane), 'mean')) / at(std, Math.floor(i / plane), 'std'));
}

describe('normalisationSignature on the Hugging Face processor\'s tensors', () => {
  for (const name of PHOTOS) {
    it(`${name}: plain normalisation, swapped planes and a second normalisation are told apart`, () => {
      const hf = loadF32(`${name}.pixel_values.f32.gz`);
      const plain = normalisationSignature(hf, P);
      expect(plain).toMatchObject({ kind: 'normalised', evidence: 'pixel-lattice', reversed: false });
      for (const f of plain!.planes) expect(f.residual).toBeLessThan(1e-3);
      const swapped = normalisationSignature(reversePlanes(hf), P);
      // grass is grey-green: its planes still differ, and the lattice tells the channels apart regardless.
      expect(swapped).toMatchObject({ kind: 'channels-reversed', evidence: 'pixel-lattice', reversed: true });
      expect(swapped!.planes.map((f) => f.channel)).toEqual([2, 1, 0]);
      const twice = normalisationSignature(normaliseAgain(hf, MEAN, STD), P);
      expect(twice).toMatchObject({ kind: 'normalised-twice', evidence: 'pixel-lattice' });
      expect(twice!.planes.every((f) => f.times === 2)).toBe(true);
    });
  }
});

describe('what it does not claim', () => {
  it('data off the lattice: no lattice verdict; twice-normalised off-lattice data by its ranges only', () => {
    const hf = loadF32('chelsea.pixel_values.f32.gz');
    const off = hf.map((v, i) => v + 0.003 * Math.cos(i * 1.3));
    expect(normalisationSignature(off, P)).toBeNull();
    expect(normalisationSignature(reversePlanes(off), P)).toBeNull();
    expect(normalisationSignature(normaliseAgain(off, MEAN, STD), P)).toMatchObject({ kind: 'normalised-twice', evidence: 'value-range' });
  });

  it('equal mean/std for every channel: a swap cannot be seen, so none is claimed', () => {
    const same: NormalisationParams = { ...P, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] };
    const hf = loadF32('chelsea.pixel_values.f32.gz');
    // Re-normalise the processor's pixels with the equal constants: (k/255 - 0.5)/0.5.
    const pixels = hf.map((v, i) => v * at(STD, Math.floor(i / (512 * 512)), 'STD') + at(MEAN, Math.floor(i / (512 * 512)), 'MEAN'));
    const t = pixels.map((x) => (Math.round(x * 255) / 255 - 0.5) / 0.5);
    expect(normalisationSignature(reversePlanes(t), same)).toBeNull();
  });

  it('random values and raw pixels are not a normalisation', () => {
    let s = 7;
    const noise = new Float32Array(3 * 512 * 512).map(() => {
      s = (s * 1103515245 + 12345) % 2147483648;
      return (s / 2147483648) * 4 - 2;
    });
    expect(normalisationSignature(noise, P)).toBeNull();
    const hf = loadF32('chelsea.pixel_values.f32.gz');
    const raw = hf.map((v, i) => Math.round((v * at(STD, Math.floor(i / (512 * 512)), 'STD') + at(MEAN, Math.floor(i / (512 * 512)), 'MEAN')) * 255));
    expect(normalisationSignature(raw, P)).toBeNull();
  });
});
