import { describe, expect, it } from 'vitest';
import { ModelBufferHolder, pairModelBuffer, type TimedModelBuffer } from '../../../server/stages/source/model-input-pairing.ts';
import { packedNv12 } from '../../../server/stages/frame-context.ts';
import { frameIntervalNs } from '../../../server/stages/source/gst-source.ts';

const INTERVAL = 33_333_333;
function buf(timestampNs: number): TimedModelBuffer {
  return { timestampNs, image: packedNv12(new Uint8Array(6), 2, 2) };
}

describe('pairModelBuffer', () => {
  it('takes the buffer with the same timestamp, even when a newer one is held', () => {
    const held = [buf(0), buf(INTERVAL), buf(2 * INTERVAL)];
    expect(pairModelBuffer(INTERVAL, held, INTERVAL)).toBe(held[1]);
  });

  it('without a match, takes the newest buffer not newer than the frame from at most one capture before', () => {
    const held = [buf(100), buf(1_000_000), buf(INTERVAL + 5)];
    expect(pairModelBuffer(2_000_000, held, INTERVAL)).toBe(held[1]);
  });

  it('never pairs a buffer newer than the frame', () => {
    expect(pairModelBuffer(INTERVAL, [buf(INTERVAL + 1)], INTERVAL)).toBeNull();
  });

  it('pairs the previous capture (one interval older, up to rounding and jitter), never an older one (stale): none', () => {
    // At 15/1 GStreamer's PTS steps are 66666667 ns, a little over the interval of 66666666.7 ns.
    expect(pairModelBuffer(66_666_667, [buf(0)], 1e9 / 15)?.timestampNs).toBe(0);
    expect(pairModelBuffer(INTERVAL + INTERVAL / 4, [buf(0)], INTERVAL)?.timestampNs).toBe(0);
    expect(pairModelBuffer(2 * INTERVAL, [buf(0)], INTERVAL)).toBeNull();
    expect(pairModelBuffer(3 * INTERVAL, [buf(0), buf(INTERVAL)], INTERVAL)).toBeNull();
  });

  it('none when nothing is held', () => {
    expect(pairModelBuffer(0, [], INTERVAL)).toBeNull();
  });
});

describe('ModelBufferHolder', () => {
  it('keeps only the newest buffers; taking one drops the older ones and keeps it for a frame that comes early', () => {
    const holder = new ModelBufferHolder(2);
    holder.add(buf(0));
    holder.add(buf(INTERVAL));
    holder.add(buf(2 * INTERVAL));
    expect(holder.size).toBe(2);
    // The first capture fell out of the holder: its frame goes without.
    expect(holder.take(0, INTERVAL)).toBeNull();
    expect(holder.take(INTERVAL, INTERVAL)?.timestampNs).toBe(INTERVAL);
    expect(holder.size).toBe(2);
    // The exact match wins over the kept older buffer, which then goes.
    expect(holder.take(2 * INTERVAL, INTERVAL)?.timestampNs).toBe(2 * INTERVAL);
    expect(holder.size).toBe(1);
    // The next capture's frame, before its own buffer is there, gets the previous one; a later frame gets none.
    expect(holder.take(3 * INTERVAL, INTERVAL)?.timestampNs).toBe(2 * INTERVAL);
    expect(holder.take(4 * INTERVAL, INTERVAL)).toBeNull();
  });
});

describe('frameIntervalNs', () => {
  it('is one frame of the caps framerate, 1/30 s when the caps give none or a variable rate (0/1)', () => {
    expect(frameIntervalNs('15/1')).toBe(1e9 / 15);
    expect(frameIntervalNs('30000/1001')).toBeCloseTo(33_366_667, 0);
    expect(frameIntervalNs('0/1')).toBe(1e9 / 30);
    expect(frameIntervalNs('')).toBe(1e9 / 30);
  });
});
