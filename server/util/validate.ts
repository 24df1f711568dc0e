/**
 * Small type predicates and the one message builder every validation in segstream uses (in the manner of
 * sharp's lib/is.js). A message always reads `<name>: expected <what>, got <describe(value)>`, where <name> is
 * what the user or caller wrote: a flag (`--jpeg-quality`), a config field (`stream.jpegQuality`), an argument
 * (`nv12ToTensor: image.width`).
 */
import { InvalidArgumentError, type SegstreamError } from './errors.ts';

export const is = {
  defined: <T>(v: T | undefined | null): v is T => v !== undefined && v !== null,
  /** A plain `{...}` object (not null, not an array). */
  object: (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v),
  bool: (v: unknown): v is boolean => typeof v === 'boolean',
  string: (v: unknown): v is string => typeof v === 'string',
  nonEmptyString: (v: unknown): v is string => typeof v === 'string' && v.length > 0,
  /** A finite number. */
  number: (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v),
  integer: (v: unknown): v is number => Number.isInteger(v),
  inRange: (v: number, min: number, max: number): boolean => v >= min && v <= max,
  inArray: <T>(v: unknown, list: readonly T[]): v is T => list.includes(v as T),
  typedArray: (v: unknown): v is ArrayBufferView & { length: number } => ArrayBuffer.isView(v) && !(v instanceof DataView),
};

const MAX_TEXT = 60;

/** How a value reads in an error message: short, unambiguous, never a dump. */
export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  switch (typeof value) {
    case 'number':
    case 'boolean':
      return String(value);
    case 'bigint':
      return `${value}n`;
    case 'string':
      return JSON.stringify(value.length > MAX_TEXT ? `${value.slice(0, MAX_TEXT - 3)}...` : value);
    case 'function':
      return 'a function';
    case 'symbol':
      return value.toString();
    default:
      break;
  }
  if (ArrayBuffer.isView(value)) {
    const type = value.constructor.name;
    const length = (value as unknown as { length?: number }).length ?? value.byteLength;
    return `${article(type)} ${type} of length ${length}`;
  }
  if (value instanceof ArrayBuffer) return `an ArrayBuffer of ${value.byteLength} bytes`;
  if (Array.isArray(value)) {
    // Short arrays show their content: `got an array of length 2 [0.5,0.5]` is what the user wrote.
    const json = value.length > 0 ? safeJson(value) : '';
    return `an array of length ${value.length}${json && json.length <= 40 ? ` ${json}` : ''}`;
  }
  const ctor = (value as object).constructor;
  if (ctor && ctor !== Object && ctor.name) return `${article(ctor.name)} ${ctor.name}`;
  const json = safeJson(value);
  return json && json.length <= MAX_TEXT ? `an object ${json}` : 'an object';
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? '';
  } catch {
    return ''; // circular: the shape is enough
  }
}

function article(word: string): 'a' | 'an' {
  return /^[AEIOaeio]/.test(word) ? 'an' : 'a';
}

/** `expected <what>, got <value>`: the tail of every validation message. */
export function expectedGot(expected: string, actual: unknown): string {
  return `expected ${expected}, got ${describe(actual)}`;
}

/** The error for a bad parameter: `<name>: expected <what>, got <value>`. */
export function invalidParameterError(name: string, expected: string, actual: unknown): InvalidArgumentError {
  return new InvalidArgumentError(`${name}: ${expectedGot(expected, actual)}`);
}

/** The same message as any error of the family (a UsageError for flags, an InputError for files). */
export function invalidValue<E extends SegstreamError>(
  ErrorType: new (message: string) => E,
  name: string,
  expected: string,
  actual: unknown,
): E {
  return new ErrorType(`${name}: ${expectedGot(expected, actual)}`);
}

/** `an integer from 1 to 100`, the range wording shared by every integer check. */
export function integerRange(min: number, max: number): string {
  return `an integer from ${min} to ${max}`;
}

/** `one of a, b, c`. */
export function oneOfText(options: readonly string[], separator = ', '): string {
  return `one of ${options.join(separator)}`;
}
