import { buildDemoModel } from '../../../server/model/demo-model.ts';
import { decodeModel, summariseGraph, findTransformerSensitiveNodes, normalisationInsideGraph } from '../../../server/tools/onnx-graph.ts';
for (const opset of [17, 13]) {
  const b = buildDemoModel({ variant: 'tiny', opset, size: 64 });
  const s = summariseGraph(decodeModel(b, 'x'));
  const r = findTransformerSensitiveNodes(s);
  const by: Record<string, number> = {};
  for (const n of r.nodes) by[n.reason] = (by[n.reason] ?? 0) + 1;
  console.log(opset, b.length, s.opCounts, by, r.unnamed, s.inputs, s.outputs, normalisationInsideGraph(s, s.inputs[0].name));
}
