/** A token bucket: `ratePerSecond` on average, bursts of up to `burst`. */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(ratePerSecond > 0) || !(burst >= 1)) throw new RangeError(`TokenBucket: expected ratePerSecond > 0 and burst >= 1, got ${ratePerSecond} and ${burst}`);
    this.tokens = burst;
    this.last = this.now();
  }

  /** Takes one token if there is one. */
  take(): boolean {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.ratePerSecond);
    this.last = t;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/** Counts events in a sliding window of `windowMs` (at most `limit` remembered): "more than N in T". */
export class WindowCounter {
  private readonly times: number[] = [];

  constructor(
    private readonly windowMs: number,
    private readonly limit: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Records one event; true when more than `limit` happened within the window. */
  hit(): boolean {
    const t = this.now();
    this.times.push(t);
    for (let oldest = this.times[0]; oldest !== undefined && t - oldest > this.windowMs; oldest = this.times[0]) this.times.shift();
    if (this.times.length > this.limit) {
      this.times.splice(0, this.times.length - this.limit - 1);
      return true;
    }
    return false;
  }
}
