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
  | 'resizer-input'
  | 'runtime-stuck'
  | 'cancelled-task-memory'
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
const RECOMPILE = 'Recompile the ONNX model with the toolchain (hb_mapper, march: bayes-e).';

/**
 * The first of `files` that names the RDK X3's march ("bernoulli2" appears in the file; a heuristic, the .bin
 * layout is not documented), or null. Unreadable or huge files are skipped.
 */
export async function fileCompiledForX3(files: string[]): Promise<string | null> {
  for (const file of files) {
    try {
      const stat = await fs.stat(file);
      if (stat.size > SNIFF_LIMIT) continue;
      if ((await fs.readFile(file)).includes(X3_MARCH)) return file;
    } catch {
      // unreadable now: nothing to say about it
    }
  }
  return null;
}

function quoted(files: string[]): string {
  return files.map((f) => `'${f}'`).join(', ');
}

/**
 * After hbDNNInitializeFromFiles failed: names the file compiled for the RDK X3 or, failing that, passes on the
 * runtime's own "Incompatible Platform" verdict. Returns null when neither applies.
 */
export async function explainLoadFailure(err: BpuBackendError): Promise<BpuBackendError | null> {
  if (err.call !== 'hbDNNInitializeFromFiles') return null;
  const x3 = await fileCompiledForX3(err.files);
  if (x3) {
    return new BpuBackendError(
      `Incompatible Platform: '${x3}' was compiled for the RDK X3 (march bernoulli2); the RDK X5 BPU runs only ` +
        `models compiled for march bayes-e. ${RECOMPILE} Runtime said: ${err.message}`,
      'incompatible-platform',
      err.files,
      err.call,
      err.status,
      { cause: err },
    );
  }
  if (/incompatible platform/i.test(err.message)) {
    return new BpuBackendError(
      `Incompatible Platform: ${quoted(err.files)} was not compiled for this BPU (the RDK X5 needs ` +
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

/**
 * After hbDNNWaitTaskDone failed. A model built for another chip can load on the X5 and fail only here, the
 * runtime logging "Incompatible Platform" ([BPU_PLAT] lines) on its own output, which segstream cannot read: say
 * so. `x3File` is what fileCompiledForX3 found for the model (looked up once by the caller).
 */
export function explainRunFailure(err: BpuBackendError, x3File: string | null): BpuBackendError {
  if (err.call !== 'hbDNNWaitTaskDone') return err;
  if (x3File || /incompatible platform/i.test(err.message)) {
    const what = x3File
      ? `'${x3File}' was compiled for the RDK X3 (march bernoulli2)`
      : `${quoted(err.files)} was not compiled for this BPU (the RDK X5 needs march bayes-e)`;
    return new BpuBackendError(
      `Incompatible Platform: ${what}. The X5 runtime loaded it, but the BPU cannot run it: every inference fails at ` +
        `hbDNNWaitTaskDone. ${RECOMPILE} Runtime said: ${err.message}`,
      'incompatible-platform',
      err.files,
      err.call,
      err.status,
      { cause: err },
    );
  }
  return new BpuBackendError(
    `${err.message}. If the runtime logged "Incompatible Platform" ([BPU_PLAT] lines), the model was compiled for ` +
      `another chip: it loads, then every run fails here. ${RECOMPILE}`,
    err.reason,
    err.files,
    err.call,
    err.status,
    { cause: err },
  );
}
