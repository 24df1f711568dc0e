/**
 * hb_mapper's model_parameters.node_info: which nodes run at which precision on the BPU, and why.
 *
 * The seam: `nodeInfoFromChoices` writes node_info from any list of {node, precision, reason}. Today the list
 * comes from `heuristicInt16Choices` (op patterns that are known to lose accuracy in int8: a heuristic, not
 * a measurement); a per-node sensitivity measurement can hand its own list to the same function.
 */
import type { NodeInfoEntry } from './mapper-yaml.ts';
import type { SensitiveNode, SensitiveReason } from './sensitive-nodes.ts';

export type NodePrecision = 'int8' | 'int16';

export interface NodePrecisionChoice {
  /** Node name as in the ONNX graph. */
  node: string;
  precision: NodePrecision;
  /** Why, in a few words (shown to the user, and kept in JSON output). */
  reason: string;
  /** Where the choice came from: `heuristic` (op pattern) or `measured`. */
  basis: 'heuristic' | 'measured';
}

/** Why each op pattern is put to int16 (hb_mapper runs int8 unless node_info says otherwise). */
export const HEURISTIC_REASONS: Record<SensitiveReason, string> = {
  softmax: 'Softmax: attention probabilities are mostly tiny values that int8 rounds to 0 (and Softmax runs on the CPU unless node_info puts it on the BPU)',
  layernorm: 'LayerNormalization: divides by a per-token standard deviation; int8 activations lose the spread it normalises',
  'layernorm-decomposed': 'part of a LayerNorm exported as ReduceMean/Sub/Pow/Sqrt/Div (opsets before 17): the same sensitivity, spread over the chain',
  gelu: 'Erf-GELU (Div, Erf, Add, Mul): the curve around 0 collapses to a few int8 steps',
  'attention-matmul': 'attention MatMul with two activation operands (Q.K^T or attn.V): both sides are quantised, so errors multiply',
};

/** The op-pattern heuristic: every transformer-sensitive node int16, with its pattern as the reason. */
export function heuristicInt16Choices(nodes: readonly SensitiveNode[]): NodePrecisionChoice[] {
  return nodes.map((n) => ({ node: n.name, precision: 'int16', reason: n.reason, basis: 'heuristic' }));
}

/**
 * node_info entries (`{ON: BPU, InputType, OutputType}`) for the given choices. Throws a RangeError naming
 * the entry for an empty or repeated node name, a precision other than int8/int16, or (when `knownNodes` is
 * given) a node that is not in the model.
 */
export function nodeInfoFromChoices(choices: readonly NodePrecisionChoice[], knownNodes?: ReadonlySet<string>): Record<string, NodeInfoEntry> {
  if (!Array.isArray(choices)) throw new TypeError(`nodeInfoFromChoices: choices: expected an array of {node, precision, reason}, got ${JSON.stringify(choices)}`);
  const out: Record<string, NodeInfoEntry> = {};
  choices.forEach((c, i) => {
    const at = `nodeInfoFromChoices: choices[${i}]`;
    if (typeof c?.node !== 'string' || c.node === '') throw new RangeError(`${at}.node: expected a node name, got ${JSON.stringify(c?.node)}`);
    if (c.precision !== 'int8' && c.precision !== 'int16') throw new RangeError(`${at}.precision: expected int8 | int16, got ${JSON.stringify(c.precision)}`);
    if (typeof c.reason !== 'string' || c.reason === '') throw new RangeError(`${at}.reason: expected a reason, got ${JSON.stringify(c.reason)}`);
    if (Object.hasOwn(out, c.node)) throw new RangeError(`${at}.node: ${c.node} is listed twice`);
    if (knownNodes && !knownNodes.has(c.node)) throw new RangeError(`${at}.node: ${c.node} is not a node of this model`);
    out[c.node] = { ON: 'BPU', InputType: c.precision, OutputType: c.precision };
  });
  return out;
}

function reasonText(reason: string): string {
  return (HEURISTIC_REASONS as Record<string, string>)[reason] ?? reason;
}

/** Wraps `names` into lines of at most `width` characters, each starting with `indent`. */
function wrapNames(names: readonly string[], indent: string, width = 110): string[] {
  const lines: string[] = [];
  let line = '';
  for (const n of names) {
    if (line && indent.length + line.length + 2 + n.length > width) {
      lines.push(indent + line);
      line = '';
    }
    line = line ? `${line}, ${n}` : n;
  }
  if (line) lines.push(indent + line);
  return lines;
}

/**
 * The text `mapper-config` prints in write mode: how many nodes get int16 and why, per reason with the count
 * and every node name, and whether the choice was measured or is a heuristic.
 */
export function explainNodePrecisions(choices: readonly NodePrecisionChoice[], mode: 'auto' | 'all' | 'none', unnamed = 0): string {
  if (mode === 'all') return 'precision: every node int16 (calibration_parameters.optimization: set_all_nodes_int16); node_info is not written\n';
  if (mode === 'none') return 'precision: every node int8 (--int16 none); node_info is not written\n';
  const int16 = choices.filter((c) => c.precision === 'int16');
  const heuristic = choices.some((c) => c.basis === 'heuristic');
  let out = `node_info: ${int16.length} node(s) int16 on the BPU`;
  if (choices.length > int16.length) out += `, ${choices.length - int16.length} pinned to int8`;
  out += heuristic
    ? ' - a HEURISTIC: chosen by op pattern (nodes known to lose accuracy in int8 in transformers), not measured on this model. A per-node sensitivity measurement can replace this list; check the result with segstream verify.\n'
    : ' - measured per-node sensitivity.\n';
  if (choices.length === 0) return `${out}  (no Softmax / LayerNorm / GELU / attention MatMul nodes found)\n`;
  const groups = new Map<string, NodePrecisionChoice[]>();
  for (const c of choices) {
    const key = `${c.precision}\u0000${c.reason}`;
    const list = groups.get(key);
    if (list) list.push(c);
    else groups.set(key, [c]);
  }
  for (const [key, list] of groups) {
    const [precision, reason] = key.split('\u0000') as [string, string];
    out += `  ${precision} x${list.length} (${reason}): ${reasonText(reason)}\n`;
    out += `${wrapNames(list.map((c) => c.node), '      ').join('\n')}\n`;
  }
  if (unnamed > 0) out += `  ${unnamed} more sensitive node(s) have no name and cannot be listed (use --int16 all, or re-export with node names)\n`;
  return out;
}
