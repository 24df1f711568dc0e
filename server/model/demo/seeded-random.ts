/**
 * Deterministic pseudo-random numbers for the demo model's weights. Uses only 32-bit integer arithmetic and
 * additions (no Math.log/Math.cos), so the same seed gives bit-identical weights on every platform and Node
 * version.
 */
export class SeededRandom {
  private state: number;

  constructor(seed: number) {
    // Mix the seed so that nearby seeds (0, 1, 2) start far apart.
    this.state = (Math.imul(seed >>> 0, 0x9e3779b1) ^ 0x85ebca6b) >>> 0;
  }

  /** Uniform in [0, 1), 32 bits of resolution (a SplitMix32-style generator). */
  uniform(): number {
    this.state = (this.state + 0x9e3779b9) >>> 0;
    let z = this.state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    z = (z ^ (z >>> 16)) >>> 0;
    return z / 4294967296;
  }

  /**
   * Approximately standard normal (mean 0, variance 1), bounded to about +-3.46: the sum of four uniforms,
   * centred and scaled. The bound acts like the truncated normal that SegFormer's training code initialises with.
   */
  normal(): number {
    const s = this.uniform() + this.uniform() + this.uniform() + this.uniform();
    return (s - 2) * 1.7320508075688772;
  }

  /** A float32 array of `count` normals times `std`. */
  normalArray(count: number, std: number): Float32Array {
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) out[i] = this.normal() * std;
    return out;
  }
}
