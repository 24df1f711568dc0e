/**
 * The one argument layer of every `segstream` command, on node:util parseArgs. It parses strictly, turns every
 * mistake into a UsageError that names the flag as the user typed it, converts values (integers, choices, sizes)
 * with the shared message builder, and runs a command body with the exit-status convention:
 *
 *   0  done (and, for the toolkit, every check passed)
 *   1  the command ran and failed: a runtime failure, unusable input, or (toolkit) checks that failed
 *   2  the command was called wrongly: one line on stderr naming the flag, pointing to --help
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { EXIT_FAILURE, EXIT_USAGE, SegstreamError, UsageError } from '../util/errors.ts';
import { describe, expectedGot, integerRange, oneOfText } from '../util/validate.ts';
import { at } from '../util/checked-access.ts';
import { firstLine } from '../util/first-line.ts';

export { UsageError, EXIT_USAGE };
export const EXIT_OK = 0;
export const EXIT_FAILED_CHECKS = EXIT_FAILURE;

export type Options = NonNullable<ParseArgsConfig['options']>;
export type Values = Record<string, string | boolean | string[] | boolean[] | undefined>;

export interface ParsedArgs {
  values: Values;
  positionals: string[];
}

/** `--frames -5`, `--min-cosine -.5`: a negative number is a value, not an option. */
const NEGATIVE_NUMBER = /^-(\d|\.\d)/;

/**
 * Parses `argv` against `options`. Every failure is a UsageError whose message starts with the flag
 * (`--frames: expected a value`, `unknown option --jpegQuality (did you mean --jpeg-quality?)`).
 */
export function parseCommandArgs(command: string, argv: string[], options: Options, allowPositionals = false): ParsedArgs {
  const args = joinNegativeValues(argv, options);
  try {
    const parsed = parseArgs({ args, options, allowPositionals, strict: true });
    return { values: parsed.values as Values, positionals: parsed.positionals };
  } catch (err) {
    throw translateParseError(err as NodeJS.ErrnoException, options, command);
  }
}

/** Rewrites `--flag -5` as `--flag=-5`; reports `--flag --other` (a value forgotten) by name. */
function joinNegativeValues(argv: string[], options: Options): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = at(argv, i, 'command-line arguments');
    if (arg === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const name = optionName(arg, options);
    const next = argv[i + 1];
    if (name !== undefined && options[name]?.type === 'string' && !arg.includes('=')) {
      if (next === undefined) throw new UsageError(`${flagText(arg, name)}: expected a value`);
      if (next.startsWith('-') && next !== '-') {
        if (!NEGATIVE_NUMBER.test(next)) throw new UsageError(`${flagText(arg, name)}: expected a value, got the option ${next}`);
        out.push(`--${name}=${next}`);
        i++;
        continue;
      }
    }
    out.push(arg);
  }
  return out;
}

/** The option an argument names (`--size`, `-h`), or undefined. */
function optionName(arg: string, options: Options): string | undefined {
  if (arg.startsWith('--')) {
    const eq = arg.indexOf('=');
    const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
    return name in options ? name : undefined;
  }
  if (/^-[A-Za-z]$/.test(arg)) return Object.entries(options).find(([, o]) => o.short === arg[1])?.[0];
  return undefined;
}

function flagText(arg: string, name: string): string {
  return arg.startsWith('--') ? `--${name}` : arg;
}

function translateParseError(err: NodeJS.ErrnoException, options: Options, command: string): UsageError {
  const text = err.message ?? String(err);
  switch (err.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION': {
      const flag = /option '([^']+)'/i.exec(text)?.[1] ?? text;
      const hint = suggestOption(flag, Object.keys(options));
      return new UsageError(`unknown option ${flag}${hint ? ` (did you mean ${hint}?)` : ''}`);
    }
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': {
      const flag = /Option '(?:-\w, )?(--[\w-]+)/.exec(text)?.[1];
      if (flag && /does not take an argument/.test(text)) return new UsageError(`${flag}: takes no value`);
      if (flag) return new UsageError(`${flag}: expected a value`);
      return new UsageError(firstLine(text));
    }
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL': {
      const arg = /argument '([^']*)'/.exec(text)?.[1] ?? text;
      return new UsageError(`unexpected argument ${describe(arg)}: segstream ${command} takes options only`);
    }
    default:
      return new UsageError(firstLine(text));
  }
}

/** A known option the user probably meant: `--jpegQuality` -> `--jpeg-quality`, `--frmaes` -> `--frames`. */
export function suggestOption(flag: string, known: string[]): string | undefined {
  const norm = (s: string) => s.replace(/^-+/, '').replace(/[-_]/g, '').toLowerCase();
  const typed = norm(flag);
  if (typed.length === 0) return undefined;
  const exact = known.find((k) => norm(k) === typed);
  if (exact) return `--${exact}`;
  let best: { name: string; distance: number } | undefined;
  for (const k of known) {
    const d = editDistance(typed, norm(k));
    if (d <= Math.max(1, Math.floor(typed.length / 4)) && (!best || d < best.distance)) best = { name: k, distance: d };
  }
  if (best) return `--${best.name}`;
  // `--controlToken` -> `--token`: the config field's name ends with the flag's.
  const tail = known.filter((k) => k.length >= 4 && typed.endsWith(norm(k)));
  return tail.length === 1 ? `--${tail[0]}` : undefined;
}

/** Edits (insert, delete, substitute, swap two neighbours) that turn `a` into `b`. */
function editDistance(a: string, b: string): number {
  // Row-major (a.length + 1) x (b.length + 1) table in one array; cell(i, j) reads it checked.
  const width = b.length + 1;
  const d = Array.from({ length: (a.length + 1) * width }, (_, k) => {
    const i = Math.floor(k / width);
    const j = k % width;
    return i === 0 ? j : j === 0 ? i : 0;
  });
  const cell = (i: number, j: number) => at(d, i * width + j, 'edit distance table');
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(cell(i - 1, j) + 1, cell(i, j - 1) + 1, cell(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, cell(i - 2, j - 2) + 1);
      d[i * width + j] = v;
    }
  }
  return cell(a.length, b.length);
}

// ---- values -------------------------------------------------------------------------------------------------

export function optionalString(values: Values, name: string): string | undefined {
  const v = values[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new UsageError(`--${name}: ${expectedGot('a value', v)}`);
  if (v.trim() === '') throw new UsageError(`--${name}: expected a non-empty value`);
  return v;
}

export function requiredString(values: Values, name: string, what: string): string {
  const v = optionalString(values, name);
  if (v === undefined) throw new UsageError(`--${name} is required: ${what}`);
  return v;
}

export function parseChoice<T extends string>(name: string, raw: string | undefined, choices: readonly T[], fallback: T): T;
export function parseChoice<T extends string>(name: string, raw: string | undefined, choices: readonly T[]): T | undefined;
export function parseChoice<T extends string>(name: string, raw: string | undefined, choices: readonly T[], fallback?: T): T | undefined {
  if (raw === undefined) return fallback;
  if (!(choices as readonly string[]).includes(raw)) throw new UsageError(`--${name}: ${expectedGot(oneOfText(choices), raw)}`);
  return raw as T;
}

export interface NumberRule {
  min?: number;
  max?: number;
  integer?: boolean;
  /** Appended to the error, e.g. "cosine similarity lies in [-1, 1]". */
  why?: string;
}

/** A number flag: `--name: expected <rule>, got "<raw>"`. */
export function parseNumber(name: string, raw: string | undefined, rule: NumberRule = {}): number | undefined {
  if (raw === undefined) return undefined;
  const trimmed = raw.trim();
  const value = trimmed === '' ? Number.NaN : Number(trimmed);
  const why = rule.why ? ` (${rule.why})` : '';
  const kind = rule.integer ? 'an integer' : 'a number';
  let expected = kind;
  if (rule.min !== undefined && rule.max !== undefined) expected = rule.integer ? integerRange(rule.min, rule.max) : `a number from ${rule.min} to ${rule.max}`;
  else if (rule.min !== undefined) expected = `${kind} >= ${rule.min}`;
  else if (rule.max !== undefined) expected = `${kind} <= ${rule.max}`;
  const ok =
    Number.isFinite(value) &&
    (!rule.integer || /^[+-]?\d+$/.test(trimmed)) &&
    (rule.min === undefined || value >= rule.min) &&
    (rule.max === undefined || value <= rule.max);
  if (!ok) throw new UsageError(`--${name}: ${expectedGot(expected, raw)}${why}`);
  return value;
}

/** An integer flag within [min, max], or `fallback` when absent. */
export function integerFlag(values: Values, name: string, min: number, max: number): number | undefined;
export function integerFlag(values: Values, name: string, min: number, max: number, fallback: number): number;
export function integerFlag(values: Values, name: string, min: number, max: number, fallback?: number): number | undefined {
  return parseNumber(name, optionalString(values, name), { min, max, integer: true }) ?? fallback;
}

/** `--size WxH`. */
export function sizeFlag(values: Values, name: string): { width: number; height: number } | undefined {
  const raw = optionalString(values, name);
  if (raw === undefined) return undefined;
  const m = /^(\d{1,5})x(\d{1,5})$/.exec(raw);
  if (!m) throw new UsageError(`--${name}: ${expectedGot('WIDTHxHEIGHT such as 1280x720', raw)}`);
  return { width: Number(m[1]), height: Number(m[2]) };
}

/** A note on stderr for a spelling that still works but will go: `--source FILE is deprecated; use --file FILE`. */
export function deprecated(command: string, old: string, instead: string): void {
  process.stderr.write(`segstream ${command}: ${old} is deprecated; use ${instead}\n`);
}

// ---- running a command ------------------------------------------------------------------------------------

/** Prints an error the way every command reports it and returns the exit status it stands for. */
export function reportError(command: string, err: unknown): number {
  if (err instanceof UsageError) {
    const [first, ...rest] = err.message.split('\n');
    const pointer = `(see segstream ${command} --help)`;
    process.stderr.write(`segstream ${command}: ${first} ${pointer}\n${rest.map((l) => `${l}\n`).join('')}`);
    return EXIT_USAGE;
  }
  const e = err as Error;
  process.stderr.write(`segstream ${command}: ${e?.message ?? String(err)}\n`);
  if (process.env.SEGSTREAM_DEBUG) process.stderr.write(`${e?.stack ?? ''}\n`);
  return err instanceof SegstreamError ? err.exitCode : EXIT_FAILURE;
}

/** Runs a command body: usage errors exit 2 (one line, naming the flag), any other failure exits 1. */
export async function runCommand(command: string, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (err) {
    return reportError(command, err);
  }
}

export interface CommandSpec {
  /** As typed after `segstream`: `bench`, `model info`. */
  name: string;
  /** Flags besides -h/--help (added here). */
  options: Options;
  /** The full --help text: usage line, description, options, examples. */
  help: string;
  /** Positional arguments allowed: [min, max] and how the usage line names them. */
  positionals?: { min: number; max: number; what: string };
}

/**
 * Parses argv for `spec` and runs `body` with the result; `--help` prints the command's own help on stdout.
 * Every command of segstream goes through here or through parseCommandArgs + runCommand (the toolkit).
 */
export async function runCli(spec: CommandSpec, argv: string[], body: (args: ParsedArgs) => Promise<number>): Promise<number> {
  return runCommand(spec.name, async () => {
    const options: Options = { ...spec.options, help: { type: 'boolean', short: 'h' } };
    const args = parseCommandArgs(spec.name, argv, options, spec.positionals !== undefined);
    if (args.values.help) {
      process.stdout.write(spec.help);
      return EXIT_OK;
    }
    const p = spec.positionals;
    if (p) {
      if (args.positionals.length < p.min) throw new UsageError(`expected ${p.what}`);
      if (args.positionals.length > p.max) {
        throw new UsageError(`unexpected argument ${describe(args.positionals[p.max])}: expected ${p.what}`);
      }
    }
    return body(args);
  });
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
