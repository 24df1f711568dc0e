/**
 * Checked index reads for the viewer. With `noUncheckedIndexedAccess` every `list[i]` may be undefined; where
 * the caller knows it is not (a loop bound, a non-empty list), at() says so once and fails naming what was
 * read if that knowledge is ever wrong. The server has its own copy in server/util; the bundle must not
 * import server code. Per-pixel loops do not call this: they iterate with for-of or guard a local.
 */

/** `items[index]`, or a RangeError `<what>: index <i> is outside 0..<n-1>`. */
export function at<T>(items: ArrayLike<T>, index: number, what: string): T {
  const item = items[index];
  if (item === undefined) {
    const range = items.length === 0 ? 'an empty list' : `0..${items.length - 1}`;
    throw new RangeError(`${what}: index ${index} is outside ${range}`);
  }
  return item;
}
