/** HUD numbers: the frame rate meter at fast and slow rates and in a stall, and how rates and framerates read. */
import { describe, expect, it } from 'vitest';
import { formatFramerate, formatRate, RateMeter } from '../../client/src/lib/stats.ts';

describe('RateMeter', () => {
  it('reads 30 at 30 events per second', () => {
    const meter = new RateMeter();
    for (let i = 0; i <= 120; i++) meter.note(i * (1000 / 30));
    expect(meter.rate(120 * (1000 / 30) + 10)).toBeCloseTo(30, 5);
  });

  it('reads a slow stream (one frame every 1.1 s, fewer than two in the window) at its rate, not 0', () => {
    const meter = new RateMeter();
    for (let i = 0; i <= 10; i++) meter.note(i * 1100);
    // Between frames: the two newest are kept although the older one left the 2 s window.
    expect(meter.rate(10 * 1100 + 900)).toBeCloseTo(1 / 1.1, 5);
    const slower = new RateMeter();
    for (let i = 0; i <= 5; i++) slower.note(i * 4000);
    expect(slower.rate(5 * 4000 + 100)).toBeCloseTo(0.25, 5);
  });

  it('falls toward 0 in a stall and reads 0 once the last frames are long gone', () => {
    const meter = new RateMeter();
    for (let i = 0; i <= 60; i++) meter.note(i * 33);
    expect(meter.rate(60 * 33 + 4000)).toBeCloseTo(0.5, 5); // 4 s without a frame
    expect(meter.rate(60 * 33 + 31_000)).toBe(0);
  });
});

describe('formatRate', () => {
  it('never reads 0.0 for a stream that runs', () => {
    expect(formatRate(30.2)).toBe('30');
    expect(formatRate(9.96)).toBe('10');
    expect(formatRate(1.04)).toBe('1.0');
    expect(formatRate(0.96)).toBe('0.96');
    expect(formatRate(0.04)).toBe('0.040');
    expect(formatRate(0)).toBe('–');
    expect(formatRate(Number.NaN)).toBe('–');
  });
});

describe('formatFramerate', () => {
  it('turns GStreamer fractions into fps', () => {
    expect(formatFramerate('30/1')).toBe('30 fps');
    expect(formatFramerate('30000/1001')).toBe('29.97 fps');
    expect(formatFramerate('25/2')).toBe('12.5 fps');
    expect(formatFramerate('0/1')).toBe('variable rate');
    expect(formatFramerate(' 15 / 1 ')).toBe('15 fps');
    expect(formatFramerate('unknown')).toBe('unknown');
  });
});
