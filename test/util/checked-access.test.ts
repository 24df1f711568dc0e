// Checked lookups: the value when it is there, and an error that names the lookup when it is not.
import { describe, expect, it } from 'vitest';
import { addAt, at, first, lookup } from '../../server/util/checked-access.ts';
import { InvalidArgumentError } from '../../server/util/errors.ts';

describe('at', () => {
  it('returns the element in range, from arrays and typed arrays alike', () => {
    expect(at(['a', 'b'], 1, 'letters')).toBe('b');
    expect(at(Float32Array.from([0.5, 0]), 1, 'weights')).toBe(0);
  });

  it('names the list and its range when the index is outside it', () => {
    expect(() => at([1, 2, 3], 3, 'stage sizes')).toThrow(InvalidArgumentError);
    expect(() => at([1, 2, 3], 3, 'stage sizes')).toThrow('stage sizes: index 3 is outside 0..2');
    expect(() => at([1, 2, 3], -1, 'stage sizes')).toThrow('stage sizes: index -1 is outside 0..2');
    expect(() => at(new Uint8Array(0), 0, 'pixels')).toThrow('pixels: index 0 is outside an empty list');
  });
});

describe('lookup', () => {
  it('returns the value of an own key, including falsy ones', () => {
    expect(lookup({ a: 1, b: 0 }, 'b', 'counts')).toBe(0);
    expect(lookup({ a: '' }, 'a', 'labels')).toBe('');
  });

  it('names the missing key and the known ones, and does not read inherited keys', () => {
    expect(() => lookup({ demo: 1, reference: 2 }, 'other', 'run results')).toThrow('run results: no entry for "other" (known: demo, reference)');
    expect(() => lookup({}, 'toString', 'run results')).toThrow('run results: no entry for "toString"');
  });
});

describe('first', () => {
  it('returns the first element, or says the list was empty', () => {
    expect(first([7, 8], 'outputs')).toBe(7);
    expect(() => first([], 'model outputs')).toThrow('model outputs: expected at least one, got none');
  });
});

describe('addAt', () => {
  it('adds in place in range, and refuses an index outside the list', () => {
    const counts = new Uint32Array(3);
    addAt(counts, 1, 2, 'counts');
    addAt(counts, 1, 1, 'counts');
    expect(Array.from(counts)).toEqual([0, 3, 0]);
    expect(() => addAt(counts, 3, 1, 'class counts')).toThrow('class counts: index 3 is outside 0..2');
  });
});
