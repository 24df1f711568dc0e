/** Viewer-side rates and the one-minute history behind the HUD chart. */

/** Events per second over a sliding window of timestamps. */
export class RateMeter {
  private times: number[] = [];

  constructor(private readonly windowMs = 2000) {}

  note(now: number): void {
    this.times.push(now);
    this.trim(now);
  }

  rate(now: number): number {
    this.trim(now);
    if (this.times.length < 2) return 0;
    const span = Math.max(now - this.times[0], 1);
    // n events in the window: n-1 intervals between the first and the newest, plus the quiet time since.
    return ((this.times.length - 1) / span) * 1000;
  }

  reset(): void {
    this.times = [];
  }

  private trim(now: number): void {
    let drop = 0;
    while (drop < this.times.length && now - this.times[drop] > this.windowMs) drop++;
    if (drop > 0) this.times.splice(0, drop);
  }
}

export interface HistorySample {
  /** Wall-clock ms. */
  time: number;
  fpsReceived: number;
  fpsDrawn: number;
  /** Model latency, ms (null when unknown). */
  modelMs: number | null;
}

/** A fixed-length ring of samples (one per second for a minute by default). */
export class History {
  private samples: HistorySample[] = [];

  constructor(private readonly capacity = 60) {}

  push(sample: HistorySample): void {
    this.samples.push(sample);
    if (this.samples.length > this.capacity) this.samples.splice(0, this.samples.length - this.capacity);
  }

  values(): readonly HistorySample[] {
    return this.samples;
  }
}

/** Running mean of the last few values (per-stage timings are noisy frame to frame). */
export class RecentMean {
  private values: number[] = [];

  constructor(private readonly size = 15) {}

  add(value: number): void {
    this.values.push(value);
    if (this.values.length > this.size) this.values.shift();
  }

  mean(): number | null {
    if (this.values.length === 0) return null;
    let sum = 0;
    for (const v of this.values) sum += v;
    return sum / this.values.length;
  }

  reset(): void {
    this.values = [];
  }
}
