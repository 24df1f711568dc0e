import { describe, expect, it } from 'vitest';
import { decodeFrameMessage, encodeFrameMessage } from '../../server/protocol/index.ts';

const header = {
  type: 'frame' as const,
  id: 7,
  captureTime: 1_700_000_000_123.5,
  width: 64,
  height: 48,
  overlaid: false,
  classMap: { width: 32, height: 24, bytesPerPixel: 1 as const, encoding: 'deflate-raw' as const },
  stages: { infer: 12.5 },
  classes: [[3, 700], [1, 68]] as [number, number][],
  dropped: { inferenceBusy: 1, renderBusy: 0 },
  smoothing: 0,
};

describe('frame message', () => {
  it('round-trips header and payloads at the offsets it states', () => {
    const jpeg = Uint8Array.from({ length: 1000 }, (_, i) => i & 255);
    const map = Uint8Array.from({ length: 99 }, (_, i) => 255 - i);
    const msg = encodeFrameMessage(header, jpeg, map);
    const decoded = decodeFrameMessage(msg);
    expect(decoded.header.id).toBe(7);
    expect(decoded.header.jpeg).toEqual({ offset: msg.length - 1099, length: 1000 });
    expect(decoded.header.classMap.offset).toBe(msg.length - 99);
    expect([...decoded.jpeg]).toEqual([...jpeg]);
    expect([...decoded.classMap]).toEqual([...map]);
    expect(decoded.header.classes).toEqual(header.classes);
  });

  it('keeps offsets right when the header length crosses a digit boundary', () => {
    for (let n = 0; n < 40; n++) {
      const jpeg = new Uint8Array(n * 37);
      const msg = encodeFrameMessage({ ...header, id: 10 ** (n % 9) }, jpeg, new Uint8Array(5));
      const d = decodeFrameMessage(msg);
      expect(d.jpeg.length).toBe(jpeg.length);
      expect(d.header.classMap.offset + 5).toBe(msg.length);
    }
  });

  it('rejects malformed messages with a reason', () => {
    expect(() => decodeFrameMessage(new Uint8Array(2))).toThrow(/too short/);
    const bad = new Uint8Array(8);
    new DataView(bad.buffer).setUint32(0, 100, true);
    expect(() => decodeFrameMessage(bad)).toThrow(/exceeds message/);
  });
});
