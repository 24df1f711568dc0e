/**
 * Errors of the BPU backend, and the checks that turn the runtime's generic failures into specific messages:
 * a missing model file, and a model compiled for another BPU (the RDK X3's bernoulli2 on the X5's bayes-e).
 */
import { promises as fs } from 'node:fs';
import { SegstreamError, type ErrorKind } from '../../../util/errors.ts';
import type { NativeBpuError } from './native.ts';

export type BpuErrorReason =
  | 'missing-file'
  | 'incompatible-platform'
  | 'hb-call'
  | 'unsupported-input-type'
  | 'unsupported-output-type'
  | 'unsupported-model'
  | 'model-not-found'
  | 'invalid-properties'
  | 'invalid-argument'
  | 'closed'
  | 'unavailable'
  | 'internal';

export class BpuBackendError extends SegstreamError {
  override readonly name = 'BpuBackendError';
  /** Bad arguments are the caller's mistake; a missing or foreign model file is the user's; the rest is the runtime's. */
  get kind(): ErrorKind {
    if (this.reason === 'invalid-argument') return 'argument';
    if (this.reason === 'missing-file' || this.reason === 'incompatible-platform' || this.reason === 'model-not-found') return 'input';
    return 'runtime';
  }
  constructor(
    message: string,
    readonly reason: BpuErrorReason,
    /** The model files concerned. */
    readonly files: string[],
    /** For `hb-call`: the hb_dnn / hb_sys function that failed and the code it returned. */
    readonly call?: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Wraps an error from the addon, keeping its message, call and status. */
export function fromNative(err: unknown, files: string[]): BpuBackendError {
  if (err instanceof BpuBackendError) return err;
  const e = err as NativeBpuError;
  const reason = (e?.reason ?? 'internal') as BpuErrorReason;
  return new BpuBackendError(e?.message ?? String(err), reason, files, e?.call, e?.status, { cause: err });
}

/** Throws a specific error for a model file that does not exist or is not a readable file. */
export async function checkModelFiles(files: string[]): Promise<void> {
  for (const file of files) {
    let stat;
    try {
      stat = await fs.stat(file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') throw new BpuBackendError(`BPU model file not found: '${file}'`, 'missing-file', files);
      throw new BpuBackendError(`BPU model file '${file}' cannot be read: ${(err as Error).message}`, 'missing-file', files);
    }
    if (!stat.isFile()) throw new BpuBackendError(`BPU model file '${file}' is not a file`, 'missing-file', files);
    try {
      await fs.access(file, fs.constants.R_OK);
    } catch (err) {
      throw new BpuBackendError(`BPU model file '${file}' is not readable: ${(err as Error).message}`, 'missing-file', files);
    }
  }
}

const X3_MARCH = Buffer.from('bernoulli2');
const SNIFF_LIMIT = 256 * 1024 * 1024;

/**
 * After hbDNNInitializeFromFiles failed: names the file compiled for the RDK X3 (its march string "bernoulli2"
 * appears in the file; a heuristic, the .bin layout is not documented) or, failing that, passes on the runtime's
 * own "Incompatible Platform" verdict. Returns null when neither applies.
 */
export async function explainLoadFailure(err: BpuBackendError): Promise<BpuBackendError | null> {
  if (err.call !== 'hbDNNInitializeFromFiles') return null;
  for (const file of err.files) {
    try {
      const stat = await fs.stat(file);
      if (stat.size > SNIFF_LIMIT) continue;
      const bytes = await fs.readFile(file);
      if (bytes.includes(X3_MARCH)) {
        return new BpuBackendError(
          `Incompatible Platform: '${file}' was compiled for the RDK X3 (march bernoulli2); the RDK X5 BPU runs only ` +
            `models compiled for march bayes-e. Recompile the ONNX model with the toolchain (hb_mapper, march: bayes-e). ` +
            `Runtime said: ${err.message}`,
          'incompatible-platform',
          err.files,
          err.call,
          err.status,
          { cause: err },
        );
      }
    } catch {
      // unreadable now: fall through to the runtime's own words
    }
  }
  if (/incompatible platform/i.test(err.message)) {
    return new BpuBackendError(
      `Incompatible Platform: ${err.files.map((f) => `'${f}'`).join(', ')} was not compiled for this BPU (the RDK X5 needs ` +
        `march bayes-e). Runtime said: ${err.message}`,
      'incompatible-platform',
      err.files,
      err.call,
      err.status,
      { cause: err },
    );
  }
  return null;
}
