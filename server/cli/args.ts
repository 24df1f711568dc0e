/**
 * Shared command-line plumbing for the toolkit commands: strict option parsing with errors that name the
 * argument, numeric/choice validation, and the exit-code convention:
 *   0 = ran and everything passed, 1 = ran and found errors / failed thresholds, 2 = bad usage or input.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

export const EXIT_OK = 0;
export const EXIT_FAILED_CHECKS = 1;
export const EXIT_USAGE = 2;

/** A mistake in how the command was called or in the files it was given: reported without a stack trace. */
export class UsageError extends Error {
  override name = 'UsageError';
}

type Options = NonNullable<ParseArgsConfig['options']>;

export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

export function parseCommandArgs(command: string, argv: string[], options: Options, allowPositionals = false): ParsedArgs {
  try {
    const parsed = parseArgs({ args: argv, options, allowPositionals, strict: true });
    return { values: parsed.values as ParsedArgs['values'], positionals: parsed.positionals };
  } catch (err) {
    throw new UsageError(`segstream ${command}: ${(err as Error).message} (see segstream ${command} --help)`);
  }
}

export function optionalString(values: ParsedArgs['values'], name: string): string | undefined {
  const v = values[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new UsageError(`--${name}: expected a value, got ${JSON.stringify(v)}`);
  if (v.trim() === '') throw new UsageError(`--${name}: expected a non-empty value`);
  return v;
}

export function requiredString(values: ParsedArgs['values'], name: string, what: string): string {
  const v = optionalString(values, name);
  if (v === undefined) throw new UsageError(`--${name} is required: ${what}`);
  return v;
}

export function parseChoice<T extends string>(name: string, raw: string | undefined, choices: readonly T[], fallback: T): T;
export function parseChoice<T extends string>(name: string, raw: string | undefined, choices: readonly T[]): T | undefined;
export function parseChoice<T extends string>(name: string, raw: string | undefined, choices: readonly T[], fallback?: T): T | undefined {
  if (raw === undefined) return fallback;
  if (!(choices as readonly string[]).includes(raw)) {
    throw new UsageError(`--${name}: expected one of ${choices.join(' | ')}, got ${JSON.stringify(raw)}`);
  }
  return raw as T;
}

export interface NumberRule {
  min?: number;
  max?: number;
  integer?: boolean;
  /** Appended to the error, e.g. "cosine similarity lies in [-1, 1]". */
  why?: string;
}

export function parseNumber(name: string, raw: string | undefined, rule: NumberRule = {}): number | undefined {
  if (raw === undefined) return undefined;
  const trimmed = raw.trim();
  const value = trimmed === '' ? Number.NaN : Number(trimmed);
  const why = rule.why ? ` (${rule.why})` : '';
  if (!Number.isFinite(value)) throw new UsageError(`--${name}: expected a number, got ${JSON.stringify(raw)}`);
  if (rule.integer && !Number.isInteger(value)) throw new UsageError(`--${name}: expected an integer, got ${raw}${why}`);
  if (rule.min !== undefined && value < rule.min) throw new UsageError(`--${name}: expected >= ${rule.min}, got ${raw}${why}`);
  if (rule.max !== undefined && value > rule.max) throw new UsageError(`--${name}: expected <= ${rule.max}, got ${raw}${why}`);
  return value;
}

/**
 * Runs a command body: prints usage errors briefly (exit 2) and unexpected errors with their message
 * (exit 2 as well: the command could not do its job), never throwing out of `main`.
 */
export async function runCommand(command: string, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`${err.message}\n`);
    } else {
      const e = err as Error;
      process.stderr.write(`segstream ${command}: ${e?.message ?? String(err)}\n`);
      if (process.env.SEGSTREAM_DEBUG) process.stderr.write(`${e?.stack ?? ''}\n`);
    }
    return EXIT_USAGE;
  }
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
