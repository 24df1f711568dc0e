/**
 * The measured precision choice as hb_mapper node_info, and the check of a YAML's node_info against it.
 * int16 nodes: {ON: BPU, InputType: int16, OutputType: int16}; nodes kept float: {ON: CPU}. Node names are
 * those of the float ONNX (the model hb_mapper compiles), which the QDQ model keeps.
 */
import { promises as fs } from 'node:fs';
import { createHash } from 'node:crypto';
import { finding, type Finding } from '../report/findings.ts';

export interface NodeInfoEntry {
  ON: 'BPU' | 'CPU';
  InputType?: 'int16';
  OutputType?: 'int16';
}

/** The part of a `segstream quantize` report that mapper-config reads. */
export interface MeasuredPrecision {
  file: string;
  modelSha256: string;
  modelPath: string;
  /** Whether the precision came from the measured search (vs chosen on the command line). */
  measured: boolean;
  /** What the measurement simulated: the board (exact QDQ) or ONNX Runtime on this CPU. */
  target: string;
  reached: boolean | null;
  targetAgreement: number | null;
  int16Nodes: string[];
  floatNodes: string[];
  /** Nodes of the choice without a name in the model (node_info cannot list them). */
  unnamedNodes: string[];
}

export function nodeInfoOf(int16Nodes: readonly string[], floatNodes: readonly string[]): Record<string, NodeInfoEntry> {
  const out: Record<string, NodeInfoEntry> = {};
  for (const n of int16Nodes) out[n] = { ON: 'BPU', InputType: 'int16', OutputType: 'int16' };
  for (const n of floatNodes) out[n] = { ON: 'CPU' };
  return out;
}

function strings(v: unknown, field: string, file: string): string[] {
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new Error(`${file}: ${field}: expected a list of node names`);
  return v as string[];
}

/** Reads the precision choice from a quantize report (quantize.json); errors name the file and field. */
export async function readMeasuredPrecision(file: string): Promise<MeasuredPrecision> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    throw new Error(`${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { cause: err });
  }
  let j: Record<string, unknown>;
  try {
    j = JSON.parse(text) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`${file}: not valid JSON (${(err as Error).message})`, { cause: err });
  }
  if (!j || j.tool !== 'segstream quantize') throw new Error(`${file}: not a segstream quantize report (expected "tool": "segstream quantize"; write one with segstream quantize --sensitivity)`);
  const model = j.model as Record<string, unknown> | undefined;
  const precision = j.precision as Record<string, unknown> | undefined;
  if (!model || typeof model.sha256 !== 'string') throw new Error(`${file}: model.sha256 is missing`);
  if (!precision) throw new Error(`${file}: precision is missing`);
  const search = j.search as Record<string, unknown> | undefined;
  return {
    file,
    modelSha256: model.sha256,
    modelPath: String(model.path ?? ''),
    measured: precision.source === 'sensitivity-search',
    target: typeof j.target === 'string' ? j.target : 'board',
    reached: search ? search.reached === true : null,
    targetAgreement: search && typeof search.target === 'number' ? search.target : null,
    int16Nodes: strings(precision.int16Nodes, 'precision.int16Nodes', file),
    floatNodes: strings(precision.floatNodes, 'precision.floatNodes', file),
    unnamedNodes: precision.unnamedNodes === undefined ? [] : strings(precision.unnamedNodes, 'precision.unnamedNodes', file),
  };
}

export async function sha256File(file: string): Promise<string> {
  return createHash('sha256').update(await fs.readFile(file)).digest('hex');
}

/** Throws when the report was measured on a different model file than `modelPath`. */
export async function checkSameModel(m: MeasuredPrecision, modelPath: string): Promise<void> {
  const sha = await sha256File(modelPath);
  if (sha !== m.modelSha256) {
    throw new Error(`${m.file} was measured on ${m.modelPath || 'another model'} (sha256 ${m.modelSha256.slice(0, 12)}...), not on ${modelPath} (sha256 ${sha.slice(0, 12)}...): run segstream quantize --sensitivity on this model`);
  }
}

/** What to know about a measurement before writing it into node_info. */
export function measuredFindings(m: MeasuredPrecision): Finding[] {
  const out: Finding[] = [];
  if (m.target !== 'board') {
    out.push(finding('measured-for-cpu', 'warning', `${m.file} was measured for --target ${m.target} (ONNX Runtime's integer kernels on this CPU, uint8 activations), not for the board's int8 arithmetic`, { fix: 'rerun segstream quantize --sensitivity --target board for the node_info of a board compile' }));
  }
  if (!m.measured) {
    out.push(finding('precision-not-searched', 'info', `${m.file} holds a precision chosen on the quantize command line, not one the sensitivity search found`));
  }
  if (m.unnamedNodes.length > 0) {
    out.push(finding('measured-unnamed-nodes', 'warning', `${m.unnamedNodes.length} nodes of the measured choice have no name in the model, so node_info cannot list them`, { fix: 're-export the model with node names' }));
  }
  if (m.reached === false) {
    out.push(finding('measured-target-missed', 'warning', `the measurement in ${m.file} did not reach its target agreement ${m.targetAgreement}: the choice is the best found, not a pass`));
  }
  return out;
}

/** Compares a YAML's node_info with the measured choice. */
export function checkNodeInfoAgainstMeasured(nodeInfo: Record<string, { ON?: string; InputType?: string; OutputType?: string }>, optimization: readonly string[], m: MeasuredPrecision): Finding[] {
  const out: Finding[] = [];
  const allInt16 = optimization.includes('set_all_nodes_int16');
  const missing16 = allInt16 ? [] : m.int16Nodes.filter((n) => nodeInfo[n]?.InputType !== 'int16' && nodeInfo[n]?.ON !== 'CPU');
  if (missing16.length > 0) {
    out.push(
      finding('measured-int16-missing', 'error', `${missing16.length} of the ${m.int16Nodes.length} nodes the measurement (${m.file}) needs in int16 are int8 in node_info, e.g. ${missing16.slice(0, 3).join(', ')}`, {
        subject: 'model_parameters.node_info',
        fix: `segstream mapper-config --sensitivity ${m.file} writes them`,
        data: { missing: missing16 },
      }),
    );
  }
  const missingFloat = m.floatNodes.filter((n) => nodeInfo[n]?.ON !== 'CPU');
  if (missingFloat.length > 0) {
    out.push(
      finding('measured-float-missing', 'error', `${missingFloat.length} nodes the measurement keeps float are not ON: CPU in node_info, e.g. ${missingFloat.slice(0, 3).join(', ')}`, {
        subject: 'model_parameters.node_info',
        fix: `segstream mapper-config --sensitivity ${m.file} writes them`,
        data: { missing: missingFloat },
      }),
    );
  }
  const measured = new Set([...m.int16Nodes, ...m.floatNodes]);
  const extra = Object.entries(nodeInfo).filter(([n, e]) => !measured.has(n) && (e?.InputType === 'int16' || e?.ON === 'CPU')).map(([n]) => n);
  if (extra.length > 0) {
    out.push(finding('beyond-measured', 'info', `${extra.length} node_info entries raise nodes the measurement found fine in int8 (slower on the board, no measured gain), e.g. ${extra.slice(0, 3).join(', ')}`, { subject: 'model_parameters.node_info' }));
  }
  if (out.every((f) => f.severity !== 'error')) {
    out.push(finding('node-info-measured', 'info', `node_info holds the measured choice from ${m.file}: ${m.int16Nodes.length} int16, ${m.floatNodes.length} float${m.measured ? '' : ' (chosen on the quantize command line, not searched)'}`));
  }
  return out;
}
