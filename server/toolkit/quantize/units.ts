/**
 * Quantization units: the patterns whose precision is chosen together and whose sensitivity is measured
 * together. Each compute node that touches a float activation belongs to exactly one unit:
 *   layernorm        LayerNormalization, or the ReduceMean/Sub/Pow/ReduceMean/Add/Sqrt/Div(/Mul/Add) chain
 *                    older opsets export;
 *   gelu             Gelu, or the Erf form: x / sqrt(2) -> Erf -> + 1 -> * x -> * 0.5;
 *   softmax          Softmax;
 *   attention-matmul a MatMul whose two operands are activations (Q.K^T, attn.V);
 *   projection       a MatMul/Gemm with a weight, with the bias Add that follows it;
 *   conv             a Conv (with a ReLU that only it feeds);
 *   residual-add     an Add of two activations;
 *   elementwise      any other compute node (a scale Mul, Resize, Concat, an activation ...).
 */
import type { GraphNode, QuantGraph } from './graph.ts';
import { at } from '../../util/checked-access.ts';

export type UnitKind = 'layernorm' | 'gelu' | 'softmax' | 'attention-matmul' | 'projection' | 'conv' | 'residual-add' | 'elementwise';
export const UNIT_KINDS: readonly UnitKind[] = ['layernorm', 'gelu', 'softmax', 'attention-matmul', 'projection', 'conv', 'residual-add', 'elementwise'];

export interface QuantUnit {
  /** Stable id: `<kind>:<first node name>`. */
  id: string;
  kind: UnitKind;
  /** A readable name: the node's name, or the scope a multi-node unit's nodes share. */
  label: string;
  /** Node names, in graph order. */
  nodes: string[];
  /** False when a node has no name in the model (node_info cannot list it). */
  named: boolean;
}

function commonScope(names: string[]): string {
  if (names.length === 0) return '';
  if (names.length === 1) return at(names, 0, 'names');
  const parts = names.map((n) => n.split('/'));
  const first = at(parts, 0, 'parts');
  let k = 0;
  while (k < first.length - 1 && parts.every((p) => p.length > k + 1 && p[k] === first[k])) k++;
  const scope = first.slice(0, k).join('/');
  return scope.length > 1 ? scope : at(names, 0, 'names');
}

/**
 * Groups the graph's compute nodes into units. `isActivation(value)` says which values are float
 * activations (calibrated); nodes touching none (shape arithmetic) belong to no unit.
 */
export function findUnits(g: QuantGraph, isActivation: (value: string) => boolean): QuantUnit[] {
  const taken = new Map<GraphNode, QuantUnit>();
  const units: QuantUnit[] = [];
  const touchesActivation = (n: GraphNode) => n.inputs.some((i) => i && isActivation(i)) || n.outputs.some((o) => o && isActivation(o));
  const soleConsumer = (value: string | undefined, op: string): GraphNode | undefined => {
    if (!value) return undefined;
    const cons = g.consumers.get(value) ?? [];
    return cons.length === 1 && at(cons, 0, 'cons').opType === op && !taken.has(at(cons, 0, 'cons')) ? cons[0] : undefined;
  };
  const consumerOf = (value: string | undefined, op: string): GraphNode | undefined =>
    value ? (g.consumers.get(value) ?? []).find((c) => c.opType === op && !taken.has(c)) : undefined;
  const add = (kind: UnitKind, members: (GraphNode | undefined)[]) => {
    const nodes = members.filter((n): n is GraphNode => !!n && n.role === 'compute' && !taken.has(n));
    if (nodes.length === 0 || !nodes.some(touchesActivation)) return;
    nodes.sort((a, b) => a.index - b.index);
    const names = nodes.map((n) => n.name);
    const unit: QuantUnit = { id: `${kind}:${names[0]}`, kind, label: commonScope(names), nodes: names, named: nodes.every((n) => n.named) };
    for (const n of nodes) taken.set(n, unit);
    units.push(unit);
  };
  const isConstOperand = (v: string | undefined) => !!v && g.isConstant(v);

  // Multi-node patterns first, so their members are not taken as single nodes.
  for (const n of g.nodes) {
    if (taken.has(n)) continue;
    if (n.opType === 'ReduceMean') {
      // mean = ReduceMean(x); d = x - mean; var = ReduceMean(d^2); y = d / Sqrt(var + eps) [* gamma + beta]
      const sub = (g.consumers.get(n.outputs[0] ?? '') ?? []).find((c) => c.opType === 'Sub' && c.inputs[0] === n.inputs[0]);
      if (!sub) continue;
      const pow = consumerOf(sub.outputs[0], 'Pow') ?? consumerOf(sub.outputs[0], 'Mul');
      const mean2 = soleConsumer(pow?.outputs[0], 'ReduceMean');
      const addEps = soleConsumer(mean2?.outputs[0], 'Add');
      const sqrt = soleConsumer(addEps?.outputs[0], 'Sqrt');
      const div = consumerOf(sqrt?.outputs[0], 'Div');
      if (!pow || !mean2 || !sqrt || !div) continue;
      const gamma = soleConsumer(div.outputs[0], 'Mul');
      const beta = gamma && gamma.inputs.some(isConstOperand) ? soleConsumer(gamma.outputs[0], 'Add') : undefined;
      const affine = gamma && gamma.inputs.some(isConstOperand) ? [gamma, beta && beta.inputs.some(isConstOperand) ? beta : undefined] : [];
      add('layernorm', [n, sub, pow, mean2, addEps, sqrt, div, ...affine]);
    } else if (n.opType === 'Erf') {
      const pre = g.producers.get(n.inputs[0] ?? '');
      const scaled = pre && (pre.opType === 'Div' || pre.opType === 'Mul') && pre.inputs.some(isConstOperand) ? pre : undefined;
      const plus1 = soleConsumer(n.outputs[0], 'Add');
      const mulX = soleConsumer(plus1?.outputs[0], 'Mul');
      const half = mulX ? soleConsumer(mulX.outputs[0], 'Mul') : undefined;
      add('gelu', [scaled, n, plus1, mulX, half && half.inputs.some(isConstOperand) ? half : undefined]);
    }
  }
  for (const n of g.nodes) {
    if (taken.has(n) || n.role !== 'compute') continue;
    const [a, b] = n.inputs;
    switch (n.opType) {
      case 'LayerNormalization':
        add('layernorm', [n]);
        break;
      case 'Gelu':
        add('gelu', [n]);
        break;
      case 'Softmax':
        add('softmax', [n]);
        break;
      case 'MatMul':
      case 'Gemm': {
        if (n.opType === 'MatMul' && a && b && !g.isConstant(a) && !g.isConstant(b)) {
          add('attention-matmul', [n]);
          break;
        }
        const bias = soleConsumer(n.outputs[0], 'Add');
        add('projection', [n, bias && bias.inputs.some(isConstOperand) ? bias : undefined]);
        break;
      }
      case 'Conv':
      case 'ConvTranspose':
        add('conv', [n, soleConsumer(n.outputs[0], 'Relu')]);
        break;
      case 'Add':
        add(a && b && !g.isConstant(a) && !g.isConstant(b) ? 'residual-add' : 'elementwise', [n]);
        break;
      default:
        add('elementwise', [n]);
    }
  }
  return units.sort((x, y) => g.node(at(x.nodes, 0, 'x.nodes'))!.index - g.node(at(y.nodes, 0, 'y.nodes'))!.index);
}
