/**
 * A graph view over the reader's summary: who produces and who consumes each value, which values are
 * constant, and op counts - what graph analyses (sensitive-node finding, normalisation-inside-graph
 * detection, weight rewriting) walk. Built in one pass; nothing is decoded again.
 */
import type { OnnxNodeSummary, OnnxSummary } from './reader.ts';
import { countOps } from './reader.ts';

/** A node with its position in the graph (ONNX stores nodes topologically sorted). */
export interface GraphNode extends OnnxNodeSummary {
  index: number;
}

export interface OnnxGraph {
  nodes: GraphNode[];
  /** Values with a fixed value: initializers, Constant outputs, and Identity/Cast/DequantizeLinear of either. */
  constants: Set<string>;
  /** value name -> nodes that read it */
  consumers: Map<string, GraphNode[]>;
  /** value name -> node that writes it */
  producers: Map<string, GraphNode>;
  /** Node counts per op type (domain-qualified outside the default domain), as countOps gives them. */
  opCounts: Record<string, number>;
}

export function buildGraphView(summary: Pick<OnnxSummary, 'nodes' | 'initializers'>): OnnxGraph {
  const nodes: GraphNode[] = summary.nodes.map((n, index) => ({ ...n, index }));
  const constants = new Set(summary.initializers.map((t) => t.name));
  const consumers = new Map<string, GraphNode[]>();
  const producers = new Map<string, GraphNode>();
  for (const n of nodes) {
    for (const o of n.outputs) producers.set(o, n);
    for (const i of n.inputs) {
      if (!i) continue;
      const list = consumers.get(i);
      if (list) list.push(n);
      else consumers.set(i, [n]);
    }
  }
  // Nodes come topologically sorted, so one pass propagates constness through Constant/Identity/casts.
  for (const n of nodes) {
    if (n.opType === 'Constant') n.outputs.forEach((o) => constants.add(o));
    else if ((n.opType === 'Identity' || n.opType === 'Cast' || n.opType === 'DequantizeLinear') && n.inputs[0] && constants.has(n.inputs[0])) {
      n.outputs.forEach((o) => constants.add(o));
    }
  }
  return { nodes, constants, consumers, producers, opCounts: countOps(summary) };
}
