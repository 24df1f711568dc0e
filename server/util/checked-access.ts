/**
 * Index and key lookups that either return a value or throw an error naming what was looked up. With
 * `noUncheckedIndexedAccess` every `arr[i]` and `record[key]` may be undefined; where the caller knows it
 * is not (a loop bound, a table covering a union), these say so once and fail with a specific message if
 * that knowledge is ever wrong, instead of a `!` that would let undefined travel on.
 */
import { InvalidArgumentError } from './errors.ts';

/** `items[index]`, or an error `<what>: index <i> is outside 0..<n-1>`. */
export function at<T>(items: ArrayLike<T>, index: number, what: string): T {
  const item = items[index];
  if (item === undefined) {
    const range = items.length === 0 ? 'an empty list' : `0..${items.length - 1}`;
    throw new InvalidArgumentError(`${what}: index ${index} is outside ${range}`);
  }
  return item;
}

/** `record[key]`, or an error `<what>: no entry for <key> (known: a, b)`. */
export function lookup<V>(record: Readonly<Partial<Record<string, V>>>, key: string, what: string): V {
  const value = Object.hasOwn(record, key) ? record[key] : undefined;
  if (value === undefined) {
    const known = Object.keys(record);
    throw new InvalidArgumentError(`${what}: no entry for ${JSON.stringify(key)}${known.length > 0 ? ` (known: ${known.join(', ')})` : ''}`);
  }
  return value;
}

/** The first element of a list that must not be empty, or an error `<what>: expected at least one, got none`. */
export function first<T>(items: ArrayLike<T>, what: string): T {
  if (items.length === 0) throw new InvalidArgumentError(`${what}: expected at least one, got none`);
  return at(items, 0, what);
}

/** `items[index] += delta`, or the same error as at() when the index is outside the list. */
export function addAt(items: { [index: number]: number; readonly length: number }, index: number, delta: number, what: string): void {
  items[index] = at(items, index, what) + delta;
}
