/**
 * The one error type of model loading. It always names the file it is about and, where one field is at fault,
 * that field, with what was expected and what was found, so a user can fix their export or config without
 * reading our code.
 */
import { InputError } from '../util/errors.ts';

export class ModelLoadError extends InputError {
  override readonly name = 'ModelLoadError';
  /** The file at fault (model, config.json or preprocessor_config.json). */
  readonly file: string;
  /** The field at fault, e.g. `input.shape`, `id2label`, `image_mean`; absent for whole-file problems. */
  readonly field?: string;
  readonly expected?: string;
  readonly found?: string;

  constructor(
    file: string,
    problem: string,
    detail: { field?: string; expected?: string; found?: string; cause?: unknown } = {},
  ) {
    const parts = [`${file}: `];
    if (detail.field) parts.push(`${detail.field}: `);
    parts.push(problem);
    if (detail.expected !== undefined) parts.push(`; expected ${detail.expected}`);
    if (detail.found !== undefined) parts.push(`, found ${detail.found}`);
    super(parts.join(''), detail.cause === undefined ? undefined : { cause: detail.cause });
    this.file = file;
    if (detail.field !== undefined) this.field = detail.field;
    if (detail.expected !== undefined) this.expected = detail.expected;
    if (detail.found !== undefined) this.found = detail.found;
  }
}
