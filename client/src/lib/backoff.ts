/** Capped exponential backoff with jitter, so many kiosks do not reconnect in lockstep after a server restart. */
export interface BackoffOptions {
  /** First delay, ms. */
  baseMs: number;
  /** Largest delay, ms. */
  capMs: number;
  /** Relative jitter, 0..1 (0.2 = +-20%). */
  jitter: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 500, capMs: 10_000, jitter: 0.2 };

/** Delay before reconnect attempt number `attempt` (0-based). `random` is injectable for tests. */
export function backoffDelay(attempt: number, options: BackoffOptions = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  if (!Number.isInteger(attempt) || attempt < 0) throw new RangeError(`attempt: expected an integer >= 0, got ${attempt}`);
  const { baseMs, capMs, jitter } = options;
  if (!(baseMs > 0) || !(capMs >= baseMs)) throw new RangeError(`backoff: expected 0 < baseMs <= capMs, got baseMs=${baseMs} capMs=${capMs}`);
  if (!(jitter >= 0 && jitter < 1)) throw new RangeError(`backoff.jitter: expected 0 <= jitter < 1, got ${jitter}`);
  // 2^attempt overflows nothing here: the exponent is clamped before Math.pow grows past the cap.
  const exponent = Math.min(attempt, 30);
  const nominal = Math.min(capMs, baseMs * 2 ** exponent);
  const factor = 1 + jitter * (2 * random() - 1);
  return Math.round(Math.min(capMs, nominal * factor));
}
