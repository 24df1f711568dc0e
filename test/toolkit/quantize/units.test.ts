/**
 * Units on the SegFormer-shaped demo graph (the op layout torch.onnx.export produces): every count follows
 * from the architecture (tiny: 4 stages of one block, sequence-reduction ratios 8/4/2/1), with the whole
 * LayerNormalization at opset 17 and its ReduceMean/Sub/Pow/.../Add chain at opset 13.
 */
import { describe, expect, it } from 'vitest';
import { buildDemoModel } from '../../../server/model/demo/demo-model.ts';
import { collectStats } from '../../../server/toolkit/quantize/calibration.ts';
import { QuantGraph } from '../../../server/toolkit/quantize/graph.ts';
import { findUnits, type QuantUnit } from '../../../server/toolkit/quantize/units.ts';
import { at } from '../../../server/util/checked-access.ts';

async function unitsOf(opset: number): Promise<{ units: QuantUnit[]; g: QuantGraph }> {
  const g = QuantGraph.decode(buildDemoModel({ variant: 'tiny', size: 64, classes: 8, opset }), `tiny-${opset}.onnx`);
  const data = Float32Array.from({ length: 3 * 64 * 64 }, (_, i) => Math.cos(i * 0.07));
  const stats = await collectStats(g, [{ name: 'x', inputName: 'pixel_values', shape: [1, 3, 64, 64], data }], { quiet: true, histograms: false });
  return { units: findUnits(g, (v) => stats.has(v)), g };
}

function byKind(units: QuantUnit[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const u of units) out[u.kind] = (out[u.kind] ?? 0) + 1;
  return out;
}

// LayerNorms: per stage the patch embedding's, the block's before/after, the sequence reduction's (ratio > 1)
// and the stage's own: 5 + 5 + 5 + 4. Projections: q, k, v, o, fc1, fc2 per block + 4 decoder projections.
// Convs: 4 patch embeddings + 3 sequence reductions + 4 depth-wise + fuse + classifier. Elementwise: two
// attention scale Muls per block, 4 Resize, 1 Concat.
const EXPECTED = { layernorm: 19, gelu: 4, softmax: 4, 'attention-matmul': 8, projection: 28, conv: 13, 'residual-add': 8, elementwise: 13 };

describe('quantization units of a SegFormer graph', () => {
  it('opset 17: one unit per LayerNormalization, Erf-GELU chains, attention MatMuls, projections with their bias', async () => {
    const { units, g } = await unitsOf(17);
    expect(byKind(units)).toEqual(EXPECTED);
    // Every compute node on a float activation is in exactly one unit.
    const members = units.flatMap((u) => u.nodes);
    expect(new Set(members).size).toBe(members.length);
    const gelu = units.find((u) => u.kind === 'gelu')!;
    expect(gelu.nodes.map((n) => g.node(n)!.opType)).toEqual(['Div', 'Erf', 'Add', 'Mul', 'Mul']);
    const proj = units.find((u) => u.label.endsWith('/q_proj'))!;
    expect(proj.nodes.map((n) => g.node(n)!.opType)).toEqual(['MatMul', 'Add']);
    const att = units.filter((u) => u.kind === 'attention-matmul').map((u) => u.label);
    expect(att.every((l) => l.endsWith('/attention/MatMul') || l.endsWith('/attention/MatMul_1'))).toBe(true);
    expect(units.find((u) => at(u.nodes, 0, 'u.nodes').includes('linear_fuse'))!.nodes.map((n) => g.node(n)!.opType)).toEqual(['Conv', 'Relu']);
    // Shape arithmetic is in no unit.
    expect(members.some((n) => /Shape|Slice|Concat_output|Constant/.test(g.node(n)!.opType))).toBe(false);
  });

  it('opset 13: the decomposed LayerNorm chain is one unit of 9 nodes', async () => {
    const { units, g } = await unitsOf(13);
    expect(byKind(units)).toEqual(EXPECTED);
    const ln = units.filter((u) => u.kind === 'layernorm');
    for (const u of ln) expect(u.nodes.map((n) => g.node(n)!.opType)).toEqual(['ReduceMean', 'Sub', 'Pow', 'ReduceMean', 'Add', 'Sqrt', 'Div', 'Mul', 'Add']);
  });
});
