import { describe, expect, it } from 'vitest';
import { at } from '../../client/src/lib/checked.ts';

describe('client at()', () => {
  it('returns the element, including falsy ones', () => {
    expect(at([5, 0, 7], 1, 'list')).toBe(0);
    expect(at(new Uint8Array([9, 8]), 1, 'bytes')).toBe(8);
  });

  it('names what was read and the valid range when the index is outside it', () => {
    expect(() => at([1, 2, 3], 3, 'frame times')).toThrow(new RangeError('frame times: index 3 is outside 0..2'));
    expect(() => at([], 0, 'legend rows')).toThrow(new RangeError('legend rows: index 0 is outside an empty list'));
    expect(() => at([1], -1, 'palette')).toThrow(RangeError);
  });
});
