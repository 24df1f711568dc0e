/** Percentiles and a bounded sample window, shared by the stream's frame-age tracking and the benchmark. */
import { at } from './checked-access.ts';

/** Nearest-rank percentile (p in 0..100) of unsorted values; NaN for no values. */
export function percentile(values: ArrayLike<number>, p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.ceil((p / 100) * sorted.length);
  return at(sorted, Math.min(sorted.length - 1, Math.max(0, rank - 1)), 'percentile values');
}

export interface Summary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

export function summarize(values: ArrayLike<number>): Summary {
  if (values.length === 0) return { count: 0, p50: NaN, p90: NaN, p99: NaN, max: NaN, mean: NaN };
  let sum = 0;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = at(values, i, 'summarize values');
    sum += v;
    if (v > max) max = v;
  }
  return { count: values.length, p50: percentile(values, 50), p90: percentile(values, 90), p99: percentile(values, 99), max, mean: sum / values.length };
}

/** Keeps the last `capacity` samples. */
export class SampleWindow {
  private readonly buf: Float64Array;
  private next = 0;
  private filled = 0;

  constructor(readonly capacity: number) {
    this.buf = new Float64Array(capacity);
  }

  push(v: number): void {
    this.buf[this.next] = v;
    this.next = (this.next + 1) % this.capacity;
    if (this.filled < this.capacity) this.filled++;
  }

  clear(): void {
    this.next = 0;
    this.filled = 0;
  }

  get size(): number {
    return this.filled;
  }

  values(): Float64Array {
    return this.filled < this.capacity ? this.buf.slice(0, this.filled) : this.buf.slice();
  }

  last(): number {
    return this.filled === 0 ? NaN : at(this.buf, (this.next + this.capacity - 1) % this.capacity, 'sample window');
  }
}

/** Events per second over a sliding window of timestamps. */
export class RateMeter {
  private readonly times: number[] = [];

  constructor(private readonly windowMs = 2000) {}

  mark(now = performance.now()): void {
    this.times.push(now);
    this.trim(now);
  }

  rate(now = performance.now()): number {
    this.trim(now);
    const [oldest] = this.times;
    if (oldest === undefined || this.times.length < 2) return 0;
    const span = now - oldest;
    return span > 0 ? ((this.times.length - 1) * 1000) / span : 0;
  }

  private trim(now: number): void {
    for (let oldest = this.times[0]; oldest !== undefined && now - oldest > this.windowMs; oldest = this.times[0]) this.times.shift();
  }
}
