/** Reconnect backoff: exponential, capped, jittered within bounds, and strict about its arguments. */
import { describe, expect, it } from 'vitest';
import { backoffDelay, DEFAULT_BACKOFF } from '../../client/src/lib/backoff.ts';

describe('backoffDelay', () => {
  const noJitter = { ...DEFAULT_BACKOFF, jitter: 0 };

  it('doubles from the base and stops at the cap', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 50].map((n) => backoffDelay(n, noJitter))).toEqual([500, 1000, 2000, 4000, 8000, 10_000, 10_000, 10_000]);
  });

  it('keeps jitter within +-20 % and never above the cap', () => {
    expect(backoffDelay(2, DEFAULT_BACKOFF, () => 0)).toBe(1600);
    expect(backoffDelay(2, DEFAULT_BACKOFF, () => 1)).toBe(2400);
    expect(backoffDelay(10, DEFAULT_BACKOFF, () => 1)).toBe(10_000);
  });

  it('rejects bad arguments with the argument named', () => {
    expect(() => backoffDelay(-1)).toThrow(/attempt: expected an integer >= 0, got -1/);
    expect(() => backoffDelay(1.5)).toThrow(/attempt/);
    expect(() => backoffDelay(0, { baseMs: 100, capMs: 50, jitter: 0 })).toThrow(/baseMs <= capMs/);
    expect(() => backoffDelay(0, { baseMs: 100, capMs: 500, jitter: 1 })).toThrow(/jitter/);
  });
});
