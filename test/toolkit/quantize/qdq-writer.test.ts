/**
 * The QDQ writer against ONNX Runtime (which we did not write): the models it writes load and run, a small
 * MatMul gives exactly the hand-computed integer result, int16 pairs use the domain ONNX Runtime accepts
 * for the model's opset, names and the interface are kept, and models it cannot handle are refused.
 */
import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { buildDemoModel } from '../../../server/model/demo/demo-model.ts';
import { TensorStats } from '../../../server/toolkit/quantize/calibrators.ts';
import { collectStats } from '../../../server/toolkit/quantize/calibration.ts';
import { QuantGraph, QuantizeModelError } from '../../../server/toolkit/quantize/graph.ts';
import type { ModelFeed } from '../../../server/toolkit/quantize/inputs.ts';
import { DataType, intValues, onnx, type ModelProto, type TensorProto } from '../../../server/toolkit/quantize/onnx-tensors.ts';
import { QdqWriter, quantizeSummaryOf, type Precision } from '../../../server/toolkit/quantize/qdq-writer.ts';
import { findUnits } from '../../../server/toolkit/quantize/units.ts';
import { matmulModel, plantedLayerNormModel } from './models.ts';
import { at } from '../../../server/util/checked-access.ts';

const X = [127, -3.4, 10.6, 0.5];

/** `disabled`: Q/DQ arithmetic as ONNX defines it; `all`: ONNX Runtime's fused integer kernels. */
async function run(bytes: Uint8Array, feeds: Record<string, ort.Tensor>, level: 'all' | 'disabled' = 'disabled'): Promise<Record<string, ort.Tensor>> {
  const s = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: level });
  try {
    return await s.run(feeds);
  } finally {
    await s.release();
  }
}

function matmulWriter(opset: number): QdqWriter {
  const g = QuantGraph.decode(matmulModel(opset), 'matmul.onnx');
  const stats = new Map<string, TensorStats>();
  const s = new TensorStats(64);
  s.add(X);
  stats.set('x', s);
  return new QdqWriter(g, stats);
}

function decode(bytes: Uint8Array): ModelProto {
  return onnx.ModelProto.decode(bytes) as ModelProto;
}

describe('QDQ MatMul, by hand', () => {
  it('int8: x quantized with scale 1, weights per column, result exactly the integer computation', async () => {
    const r = matmulWriter(17).write({ calibrator: { kind: 'max' }, activations: 'symmetric', precision: new Map(), defaultPrecision: 'int8' });
    const m = decode(r.bytes);
    // The interface is unchanged.
    expect(m.graph!.input!.map((i) => i.name)).toEqual(['x']);
    expect(m.graph!.output!.map((o) => o.name)).toEqual(['y']);
    const ops = m.graph!.node!.map((n) => n.opType);
    expect(ops.filter((o) => o === 'QuantizeLinear')).toHaveLength(1);
    expect(ops.filter((o) => o === 'DequantizeLinear')).toHaveLength(2); // x and the weight
    const inits = new Map(m.graph!.initializer!.map((t) => [t.name!, t as TensorProto]));
    const wq = [...inits.values()].find((t) => t.dataType === DataType.INT8 && t.dims!.length === 2)!;
    expect(Array.from(intValues(wq))).toEqual([127, 32, 63, -127, -1, 2, 0, 16]);
    const y = (await run(r.bytes, { x: new ort.Tensor('float32', Float32Array.from(X), [1, 4]) })).y!.data as Float32Array;
    // x -> round(x / 1) = [127, -3, 11, 0] (0.5 rounds to even 0); weights: column 0 scale 1, column 1 scale 1/64.
    // y0 = 127*127 - 3*63 + 11*(-1) + 0 = 15929; y1 = (127*32 - 3*(-127) + 11*2 + 0) / 64 = 69.796875.
    expect(Array.from(y)).toEqual([15929, 69.796875]);
    // The float model gives 15900.72, so the test tells quantized from float.
    const yf = (await run(matmulModel(17), { x: new ort.Tensor('float32', Float32Array.from(X), [1, 4]) })).y!.data as Float32Array;
    expect(yf[0]).toBeCloseTo(15900.72, 1);
  });

  it('the CPU target (uint8 asymmetric x, 7-bit weights): ONNX Runtime\'s fused integer kernels give the hand result', async () => {
    const r = matmulWriter(17).write({ calibrator: { kind: 'max' }, activations: 'asymmetric', weightRange: 'reduced', precision: new Map(), defaultPrecision: 'int8' });
    const scale = Math.fround((127 + 3.4) / 255);
    const zp = Math.round(3.4 / scale); // 7
    expect(zp).toBe(7);
    const xq = X.map((v) => Math.max(0, Math.min(255, Math.round(v / scale) + zp)) - zp);
    // 7-bit weights: column 0 scale 127/63, column 1 scale (127/64)/63.
    const s0 = Math.fround(127 / 63);
    const s1 = Math.fround(1.984375 / 63);
    const w0 = [127, 63.4, -1.2, 0].map((w) => Math.round(w / s0));
    const w1 = [0.5, -1.984375, 0.03125, 0.25].map((w) => Math.round(w / s1));
    expect(w0).toEqual([63, 31, -1, 0]);
    expect(w1).toEqual([16, -63, 1, 8]);
    const expected = [xq.reduce((a, q, i) => a + q * at(w0, i, 'w0'), 0) * scale * s0, xq.reduce((a, q, i) => a + q * at(w1, i, 'w1'), 0) * scale * s1];
    const x = { x: new ort.Tensor('float32', Float32Array.from(X), [1, 4]) };
    for (const level of ['disabled', 'all'] as const) {
      const y = (await run(r.bytes, x, level)).y!.data as Float32Array;
      expect(y[0], level).toBeCloseTo(at(expected, 0, 'expected'), 1);
      expect(y[1], level).toBeCloseTo(at(expected, 1, 'expected'), 4);
    }
    const q = decode(r.bytes).graph!.node!.find((n) => n.opType === 'QuantizeLinear')!;
    const zpInit = decode(r.bytes).graph!.initializer!.find((t) => t.name === q.input![2])!;
    expect(zpInit.dataType).toBe(DataType.UINT8);
  });

  it('int16 below opset 21: com.microsoft QuantizeLinear/DequantizeLinear, int16 weights, runs in ONNX Runtime', async () => {
    const r = matmulWriter(17).write({ calibrator: { kind: 'max' }, activations: 'symmetric', precision: new Map([['/proj/MatMul', 'int16' as Precision]]), defaultPrecision: 'int8' });
    expect(r.int16Domain).toBe('com.microsoft');
    const m = decode(r.bytes);
    expect(m.opsetImport!.find((o) => o.domain === 'com.microsoft')).toBeTruthy();
    expect(Number(m.opsetImport!.find((o) => !o.domain)!.version)).toBe(17); // the opset is not raised
    const qdq = m.graph!.node!.filter((n) => n.opType === 'QuantizeLinear' || n.opType === 'DequantizeLinear');
    expect(qdq.every((n) => n.domain === 'com.microsoft')).toBe(true);
    // x scale = 127 / 32767, weights scale max|w| / 32767 per column: close to float, not to the int8 result.
    const y = (await run(r.bytes, { x: new ort.Tensor('float32', Float32Array.from(X), [1, 4]) })).y!.data as Float32Array;
    expect(Math.abs(at(y, 0, 'y') - 15900.72)).toBeLessThan(0.5);
  });

  it('int16 from opset 21: the ONNX domain', async () => {
    const r = matmulWriter(21).write({ calibrator: { kind: 'max' }, activations: 'symmetric', precision: new Map(), defaultPrecision: 'int16' });
    expect(r.int16Domain).toBe('');
    const m = decode(r.bytes);
    expect(m.opsetImport!.some((o) => o.domain === 'com.microsoft')).toBe(false);
    const q = m.graph!.node!.find((n) => n.opType === 'QuantizeLinear')!;
    expect(q.domain ?? '').toBe('');
    const zp = m.graph!.initializer!.find((t) => t.name === q.input![2])!;
    expect(zp.dataType).toBe(DataType.INT16);
    const y = (await run(r.bytes, { x: new ort.Tensor('float32', Float32Array.from(X), [1, 4]) })).y!.data as Float32Array;
    expect(Math.abs(at(y, 0, 'y') - 15900.72)).toBeLessThan(0.5);
  });

  it('float keeps the node and its weight float', async () => {
    const r = matmulWriter(17).write({ calibrator: { kind: 'max' }, activations: 'symmetric', precision: new Map(), defaultPrecision: 'float' });
    expect(decode(r.bytes).graph!.node!.map((n) => n.opType)).toEqual(['MatMul']);
    expect(r.counts.nodes).toEqual({ int8: 0, int16: 0, float: 1 });
  });
});

describe('QDQ SegFormer (tiny demo) in ONNX Runtime', () => {
  const bytes = buildDemoModel({ variant: 'tiny', size: 64, classes: 8, seed: 3 });
  const feeds: ModelFeed[] = [0, 1, 2].map((k) => ({
    name: `x${k}`,
    inputName: 'pixel_values',
    shape: [1, 3, 64, 64],
    data: Float32Array.from({ length: 3 * 64 * 64 }, (_, i) => Math.sin(i * 0.013 * (k + 1)) * 2),
  }));

  it('int8 / mixed / int16 models load and run, keep the interface, and stay close to float', async () => {
    const g = QuantGraph.decode(bytes, 'tiny.onnx');
    const stats = await collectStats(g, feeds, { quiet: true });
    // Every float activation has statistics; shape arithmetic (int64) has none.
    expect(stats.has('pixel_values')).toBe(true);
    expect([...stats.keys()].some((k) => k.includes('Shape'))).toBe(false);
    const units = findUnits(g, (v) => stats.has(v));
    const kinds = new Set(units.map((u) => u.kind));
    for (const k of ['layernorm', 'gelu', 'softmax', 'attention-matmul', 'projection', 'conv', 'residual-add']) expect(kinds.has(k as never)).toBe(true);
    const writer = new QdqWriter(g, stats);
    const lnNodes = units.filter((u) => u.kind === 'layernorm').flatMap((u) => u.nodes);
    const x = new ort.Tensor('float32', at(feeds, 0, 'feeds').data, at(feeds, 0, 'feeds').shape);
    const ref = (await run(bytes, { pixel_values: x })).logits!.data as Float32Array;
    const cos = (a: Float32Array, b: Float32Array) => {
      let d = 0;
      let na = 0;
      let nb = 0;
      for (let i = 0; i < a.length; i++) {
        d += at(a, i, 'a') * at(b, i, 'b');
        na += at(a, i, 'a') ** 2;
        nb += at(b, i, 'b') ** 2;
      }
      return d / Math.sqrt(na * nb);
    };
    const variants: [string, Map<string, Precision>, Precision][] = [
      ['int8', new Map(), 'int8'],
      ['layernorm int16', new Map(lnNodes.map((n) => [n, 'int16' as Precision])), 'int8'],
      ['int16', new Map(), 'int16'],
    ];
    const cosines: number[] = [];
    for (const [label, precision, def] of variants) {
      for (const calibrator of label === 'int8' ? (['max', 'percentile', 'kl'] as const) : (['max'] as const)) {
        const r = writer.write({ calibrator: { kind: calibrator }, activations: 'symmetric', precision, defaultPrecision: def });
        const m = decode(r.bytes);
        expect(m.graph!.input!.filter((i) => !m.graph!.initializer!.some((t) => t.name === i.name)).map((i) => i.name)).toEqual(['pixel_values']);
        expect(m.graph!.output!.map((o) => o.name)).toEqual(['logits']);
        const summary = quantizeSummaryOf(Object.fromEntries(m.metadataProps!.map((p) => [p.key!, p.value!])))!;
        expect(summary.calibrator).toBe(calibrator);
        const out = (await run(r.bytes, { pixel_values: x })).logits!;
        expect(out.type).toBe('float32');
        expect(out.dims).toEqual([1, 8, 16, 16]);
        const c = cos(ref, out.data as Float32Array);
        expect(c, `${label} ${calibrator}`).toBeGreaterThan(0.9);
        if (calibrator === 'max') cosines.push(c);
      }
    }
    // int16 is closer to float than int8.
    expect(at(cosines, 2, 'cosines')).toBeGreaterThan(at(cosines, 0, 'cosines'));
    expect(at(cosines, 2, 'cosines')).toBeGreaterThan(0.999);
  });
});

describe('models the quantizer refuses', () => {
  it('an already quantized model', () => {
    const g = QuantGraph.decode(matmulModel(17), 'm.onnx');
    const r = new QdqWriter(g, new Map([['x', Object.assign(new TensorStats(8), {})]]));
    const s = new TensorStats(8);
    s.add(X);
    const bytes = new QdqWriter(g, new Map([['x', s]])).write({ calibrator: { kind: 'max' }, activations: 'symmetric', precision: new Map(), defaultPrecision: 'int8' }).bytes;
    expect(r).toBeTruthy();
    expect(() => QuantGraph.decode(bytes, 'q.onnx')).toThrow(/already quantized/);
  });

  it('opset below 13 (no per-channel DequantizeLinear)', () => {
    const m = decode(plantedLayerNormModel({ opset: 17 }));
    m.opsetImport![0]!.version = 12;
    const bytes = onnx.ModelProto.encode(m).finish();
    expect(() => QuantGraph.decode(bytes, 'old.onnx')).toThrow(QuantizeModelError);
    expect(() => QuantGraph.decode(bytes, 'old.onnx')).toThrow(/opset 12.*needs opset 13/);
  });

  it('bytes that are not ONNX', () => {
    expect(() => QuantGraph.decode(new TextEncoder().encode('{"not": "onnx"}'), 'x.json')).toThrow(/x\.json/);
  });
});
