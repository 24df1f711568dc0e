/**
 * Step 3 of `segstream verify`: the reference path. The float ONNX runs on the exactly preprocessed tensor;
 * its logits (float32 NCHW) are what everything else is measured against.
 */
import type { Tensor } from '../../model/model-info.ts';
import type { VerifySide } from './load-models.ts';
import type { PreparedImage } from './prepare-images.ts';
import { logitsNchw, type LogitsNchw } from './model-output.ts';

export interface ReferenceResult {
  output: Tensor;
  logits: LogitsNchw;
}

export async function runReference(reference: VerifySide, prepared: PreparedImage): Promise<ReferenceResult> {
  const { info, backend } = reference;
  const out = await backend.run({ dtype: 'float32', shape: [1, 3, info.input.height, info.input.width], data: prepared.referenceTensor });
  const logits = logitsNchw(out.output, info);
  // load-models refuses a reference without logits; a runtime that returns something else is a bug.
  if (!logits) throw new Error(`${info.path}: the reference returned no logits`);
  return { output: out.output, logits };
}
