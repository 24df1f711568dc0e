/**
 * What a segstream-quantized model says about itself (ModelProto.metadata_props `segstream_quantize`):
 * for verify's and bench's notes, and so verify runs a board-target model with exact Q/DQ arithmetic.
 */
import { promises as fs } from 'node:fs';
import { onnx } from './onnx-tensors.ts';
import { quantizeSummaryOf } from './qdq-writer.ts';

export interface QdqSummary extends Record<string, unknown> {
  target?: string;
  calibrator?: string;
  activations?: string;
  nodes?: { int8?: number; int16?: number; float?: number };
}

/** The summary of a segstream-quantized ONNX file; undefined for any other model (or an unreadable file). */
export async function readQdqSummary(file: string): Promise<QdqSummary | undefined> {
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(file);
  } catch {
    return undefined;
  }
  try {
    const m = onnx.ModelProto.decode(bytes);
    return quantizeSummaryOf(Object.fromEntries((m.metadataProps ?? []).map((p) => [p.key ?? '', p.value ?? '']))) as QdqSummary | undefined;
  } catch {
    return undefined;
  }
}

/** One line for a report: what the QDQ model is and how it is being run. */
export function describeQdq(s: QdqSummary, execution: 'all' | 'disabled'): string {
  const n = s.nodes ?? {};
  return `segstream quantize QDQ model (target ${s.target ?? '?'}, ${n.int8 ?? '?'} int8 / ${n.int16 ?? '?'} int16 / ${n.float ?? '?'} float nodes, calibrator ${s.calibrator ?? '?'}), run ${execution === 'disabled' ? 'with the Q/DQ arithmetic exactly as ONNX defines it (no ONNX Runtime kernel fusion: a board simulation)' : "with ONNX Runtime's integer kernels on this CPU"}`;
}
