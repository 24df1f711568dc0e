/**
 * The weight-only int8 rewriter: per-channel symmetric rounding within half a step of the original weight,
 * stored as int8 + DequantizeLinear (QDQ) or as rounded floats, both runnable in ONNX Runtime and equal.
 */
import ort from 'onnxruntime-node';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDemoModel } from '../../../server/model/demo/demo-model.ts';
import onnxProto from 'onnx-proto';
import { quantisePerChannel, quantizeWeightsPerChannel } from '../../../server/toolkit/verify/quantize-weights.ts';
import { tempDir } from '../helpers.ts';
import { at } from '../../../server/util/checked-access.ts';

/** The rewriter writes at the protobuf field level; onnx-proto's full decode reads the result independently. */
function decodeModel(b: Uint8Array, label: string) {
  const m = onnxProto.onnx.ModelProto.decode(b);
  if (!m.graph?.node?.length) throw new Error(`${label}: no graph nodes`);
  return m;
}

let bytes: Uint8Array;
let dir: string;

function floats(t: { rawData?: Uint8Array | null }): Float32Array {
  const raw = new Uint8Array(t.rawData!);
  return new Float32Array(raw.buffer, 0, raw.length / 4);
}

beforeAll(() => {
  dir = tempDir('quant');
  bytes = buildDemoModel({ variant: 'tiny', size: 64, classes: 8, seed: 4 });
});

afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('quantisePerChannel', () => {
  it('rounds each output channel with its own scale, within half a step', () => {
    // Two channels of very different magnitude: a per-tensor scale would flatten the small one to 0.
    const w = Float32Array.from([0.5, -1.0, 0.25, 0.01, -0.02, 0.005]);
    const { q, scales, dq } = quantisePerChannel(w, [2, 3], 0);
    expect(Array.from(scales)).toEqual([Math.fround(1 / 127), Math.fround(0.02 / 127)]);
    expect(q[1]).toBe(-127);
    expect(q[4]).toBe(-127);
    for (let i = 0; i < w.length; i++) expect(Math.abs(at(w, i, 'w') - at(dq, i, 'dq'))).toBeLessThanOrEqual(at(scales, Math.floor(i / 3), 'scales') / 2 + 1e-9);
  });
});

describe('quantizeWeightsPerChannel', () => {
  it('writes int8 weights + DequantizeLinear that reproduce the original within half a step', () => {
    const original = decodeModel(bytes, 'demo');
    const inits = new Map(original.graph!.initializer!.map((t) => [t.name!, t]));
    const r = quantizeWeightsPerChannel(bytes, { mode: 'qdq' });
    expect(r.mode).toBe('qdq');
    expect(r.tensors.length).toBeGreaterThan(10);
    const m = decodeModel(r.bytes, 'q');
    const dqNodes = m.graph!.node!.filter((n) => n.opType === 'DequantizeLinear');
    expect(dqNodes).toHaveLength(r.tensors.length);
    const qinits = new Map(m.graph!.initializer!.map((t) => [t.name!, t]));
    for (const rep of r.tensors) {
      const node = dqNodes.find((n) => n.output![0] === rep.name)!;
      const qt = qinits.get(node.input![0]!)!;
      const st = qinits.get(node.input![1]!)!;
      expect(qt.dataType).toBe(3); // INT8
      const q = new Int8Array(new Uint8Array(qt.rawData!).buffer);
      const s = floats(st);
      expect(s.length).toBe(rep.shape[rep.axis]);
      const w = floats(inits.get(rep.name)!);
      const inner = rep.shape.slice(rep.axis + 1).reduce((a, b) => a * b, 1);
      let maxErr = 0;
      let worstStepFraction = 0;
      let minQ = 0;
      for (let i = 0; i < w.length; i++) {
        const c = Math.floor(i / inner) % rep.channels;
        const err = Math.abs(at(w, i, 'w') - at(q, i, 'q') * at(s, c, 's'));
        worstStepFraction = Math.max(worstStepFraction, err / at(s, c, 's'));
        maxErr = Math.max(maxErr, err);
        minQ = Math.min(minQ, at(q, i, 'q'));
      }
      expect(minQ).toBeGreaterThanOrEqual(-127);
      expect(worstStepFraction).toBeLessThanOrEqual(0.5 + 1e-4);
      expect(rep.maxAbsError).toBeCloseTo(maxErr, 6);
    }
  });

  // ONNX Runtime's extended graph optimisations fuse DequantizeLinear+MatMul into kernels that also
  // quantise the activations, so the QDQ file is compared with basic optimisations: weights only.
  it('QDQ and fake-quantised copies run in ONNX Runtime and agree, and differ from the float model', async () => {
    const qdq = quantizeWeightsPerChannel(bytes, { mode: 'qdq' });
    const fake = quantizeWeightsPerChannel(bytes, { mode: 'fake' });
    expect(decodeModel(fake.bytes, 'f').graph!.node!.some((n) => n.opType === 'DequantizeLinear')).toBe(false);
    const files = { float: path.join(dir, 'f.onnx'), qdq: path.join(dir, 'q.onnx'), fake: path.join(dir, 'k.onnx') };
    await fs.writeFile(files.float, bytes);
    await fs.writeFile(files.qdq, qdq.bytes);
    await fs.writeFile(files.fake, fake.bytes);
    const x = new Float32Array(3 * 64 * 64).map((_, i) => Math.sin(i / 37) * 1.5);
    const out: Record<string, Float32Array> = {};
    for (const [k, f] of Object.entries(files)) {
      const s = await ort.InferenceSession.create(f, { intraOpNumThreads: 1, graphOptimizationLevel: 'basic' });
      out[k] = (await s.run({ pixel_values: new ort.Tensor('float32', x, [1, 3, 64, 64]) })).logits!.data as Float32Array;
      await s.release();
    }
    let qf = 0;
    let ff = 0;
    for (let i = 0; i < out.float!.length; i++) {
      qf = Math.max(qf, Math.abs(out.qdq![i]! - out.fake![i]!));
      ff = Math.max(ff, Math.abs(out.qdq![i]! - out.float![i]!));
    }
    expect(qf).toBeLessThan(1e-4);
    expect(ff).toBeGreaterThan(1e-4);
  });

  it('reads weights stored as float_data the same as raw_data', () => {
    const m = decodeModel(bytes, 'demo');
    for (const t of m.graph!.initializer!) {
      if (t.dataType !== 1 || !t.rawData || t.rawData.length === 0) continue;
      t.floatData = Array.from(floats(t));
      t.rawData = null;
    }
    const asFloatData = onnxProto.onnx.ModelProto.encode(m).finish();
    const a = quantizeWeightsPerChannel(bytes, { mode: 'fake' });
    const b = quantizeWeightsPerChannel(asFloatData, { mode: 'fake' });
    expect(b.tensors.length).toBe(a.tensors.length);
    expect(b.tensors).toEqual(a.tensors);
    expect(b.skipped).toEqual(a.skipped);
  });

  it('rewrites the Hugging Face export (made by torch.onnx) into a QDQ model ONNX Runtime loads', async () => {
    const hf = new Uint8Array(await fs.readFile(fileURLToPath(new URL('../../fixtures/models/segformer-b0-ade-random/model.onnx', import.meta.url))));
    const r = quantizeWeightsPerChannel(hf, { mode: 'qdq' });
    expect(r.tensors.length).toBeGreaterThan(50);
    const m = decodeModel(r.bytes, 'hf-qdq');
    expect(m.graph!.node!.filter((n) => n.opType === 'DequantizeLinear')).toHaveLength(r.tensors.length);
    // int8 weights: the file shrinks by about 3/4 of the quantised float bytes.
    const quantisedBytes = r.tensors.reduce((a, t) => a + 4 * t.shape.reduce((x, y) => x * y, 1), 0);
    expect(hf.length - r.bytes.length).toBeGreaterThan(0.7 * quantisedBytes);
    const s = await ort.InferenceSession.create(r.bytes, { intraOpNumThreads: 1, graphOptimizationLevel: 'basic' });
    try {
      expect([...s.inputNames]).toEqual(['pixel_values']);
      expect([...s.outputNames]).toEqual(['logits']);
    } finally {
      await s.release();
    }
  });
});
