/** Viewer-side rates and the one-minute history behind the HUD chart. */

import { at } from './checked.ts';

/**
 * Events per second over a sliding window of timestamps. The window always keeps the two newest events (up to
 * `keepMs` old), so a slow stream (1 frame/s or less) still reads its true rate instead of 0.
 */
export class RateMeter {
  private times: number[] = [];

  constructor(
    private readonly windowMs = 2000,
    private readonly keepMs = 30_000,
  ) {}

  note(now: number): void {
    this.times.push(now);
    this.trim(now);
  }

  rate(now: number): number {
    this.trim(now);
    const n = this.times.length;
    if (n < 2) return 0;
    const first = at(this.times, 0, 'frame times');
    const last = at(this.times, n - 1, 'frame times');
    const interval = Math.max(last - first, 1) / (n - 1);
    // A silence longer than two intervals pulls the rate down (a stall reads as one), shorter gaps are jitter.
    return 1000 / Math.max(interval, (now - last) / 2);
  }

  reset(): void {
    this.times = [];
  }

  private trim(now: number): void {
    let drop = 0;
    const keepAtLeast = this.times.length - 2;
    for (const time of this.times) {
      const stale = now - time > this.windowMs && (drop < keepAtLeast || now - time > this.keepMs);
      if (!stale) break;
      drop++;
    }
    if (drop > 0) this.times.splice(0, drop);
  }
}

/** A rate for the HUD: whole numbers from 10/s, one decimal from 1/s, two significant digits below, "–" for none. */
export function formatRate(perSecond: number): string {
  if (!Number.isFinite(perSecond) || perSecond <= 0) return '–';
  if (perSecond >= 9.95) return perSecond.toFixed(0);
  if (perSecond >= 0.995) return perSecond.toFixed(1);
  return perSecond.toPrecision(2);
}

/**
 * A GStreamer framerate fraction ("30/1", "30000/1001", "0/1") as people say it: "30 fps", "29.97 fps",
 * "variable rate". Anything else is shown as given.
 */
export function formatFramerate(fraction: string): string {
  const match = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(fraction);
  if (match === null) return fraction.trim();
  const numerator = Number(match[1]);
  const denominator = Number(match[2]);
  if (numerator === 0 || denominator === 0) return 'variable rate';
  const rate = numerator / denominator;
  // Two decimals only where they say something (29.97), none for whole rates.
  const text = Number.isInteger(rate) ? String(rate) : rate.toFixed(2).replace(/0+$/, '').replace(/\.$/, '');
  return `${text} fps`;
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
