/**
 * segstream's one error family. Every error a user can meet is a SegstreamError whose `kind` says whose mistake
 * it is, and so how the command line reports it:
 *
 *   usage     the command line is wrong (unknown flag, bad or missing value)      exit 2, one line + "see --help"
 *   input     a file or setting the user gave is wrong (config, model files)      exit 1
 *   argument  code called an API with bad arguments (a bug in the caller)         exit 1
 *   runtime   the environment failed (no display, camera gone, package missing)   exit 1
 *
 * Messages are complete sentences of their own: they name the flag, field or file, what was expected and what
 * was found (see util/validate.ts), and never need a stack trace to be understood.
 */

export type ErrorKind = 'usage' | 'input' | 'argument' | 'runtime';

/** Exit status of a command that ran and failed (runtime, input) and of one that was called wrongly (usage). */
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export abstract class SegstreamError extends Error {
  abstract readonly kind: ErrorKind;

  /** The process exit status this error ends a command with. */
  get exitCode(): number {
    return this.kind === 'usage' ? EXIT_USAGE : EXIT_FAILURE;
  }
}

/** A mistake in how a command was called: unknown flag, missing or malformed value, conflicting flags. */
export class UsageError extends SegstreamError {
  override name = 'UsageError';
  readonly kind = 'usage' as const;
}

/** A file or setting given by the user that cannot be used as it is (a config field, a model's side files). */
export class InputError extends SegstreamError {
  override name = 'InputError';
  readonly kind = 'input' as const;
}

/** An API called with arguments outside its contract (the caller's bug, not the user's). */
export class InvalidArgumentError extends SegstreamError {
  override name = 'InvalidArgumentError';
  readonly kind = 'argument' as const;
}

/** The environment does not allow the job: no display, no browser, a missing optional package, a lost device. */
export class RuntimeError extends SegstreamError {
  override name = 'RuntimeError';
  readonly kind = 'runtime' as const;
}

export function isSegstreamError(err: unknown): err is SegstreamError {
  return err instanceof SegstreamError;
}
