/**
 * The one ONNX reader against readers we did not write: on the real Hugging Face SegFormer-B0 export, its
 * summary agrees with onnx-proto's full decode (every node, every initializer's bytes at the offsets the
 * reader reports) and with ONNX Runtime's own view of the session inputs and outputs; the graph view links
 * producers and consumers consistently; weights stored as float_data are located as well as raw_data.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import onnxProto from 'onnx-proto';
import ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { ModelLoadError } from '../../../server/model/errors.ts';
import { buildGraphView } from '../../../server/model/onnx/graph.ts';
import { readOnnxModel, readOnnxModelFile, type OnnxModel } from '../../../server/model/onnx/reader.ts';
import { at } from '../../../server/util/checked-access.ts';

const HF_MODEL = fileURLToPath(new URL('../../fixtures/models/segformer-b0-ade-random/model.onnx', import.meta.url));
const { onnx } = onnxProto;

let bytes: Uint8Array;
let model: OnnxModel;
let reference: InstanceType<typeof onnx.ModelProto>;

beforeAll(async () => {
  bytes = new Uint8Array(await fs.readFile(HF_MODEL));
  model = readOnnxModel(bytes, HF_MODEL);
  reference = onnx.ModelProto.decode(bytes);
});

describe('readOnnxModel on the Hugging Face export', () => {
  it('lists the nodes onnx-proto decodes, in order, with their inputs, outputs and attributes', () => {
    const g = reference.graph!;
    expect(model.summary.nodes).toHaveLength(g.node!.length);
    expect(model.summary.nodes.length).toBeGreaterThan(500);
    for (const [i, n] of g.node!.entries()) {
      const mine = at(model.summary.nodes, i, 'model.summary.nodes');
      expect(mine.opType).toBe(n.opType);
      expect(mine.name).toBe(n.name);
      expect(mine.inputs).toEqual(n.input);
      expect(mine.outputs).toEqual(n.output);
      expect(mine.attributes.map((a) => a.name)).toEqual(n.attribute!.map((a) => a.name));
    }
  });

  it('locates every initializer payload: the bytes at its offset are the bytes onnx-proto decodes', () => {
    const g = reference.graph!;
    expect(model.summary.initializers).toHaveLength(g.initializer!.length);
    let located = 0;
    for (const [i, t] of g.initializer!.entries()) {
      const mine = at(model.summary.initializers, i, 'model.summary.initializers');
      expect(mine.name).toBe(t.name);
      expect(mine.dims).toEqual(t.dims!.map(Number));
      expect(mine.dataType).toBe(t.dataType);
      if (t.rawData && t.rawData.length > 0) {
        expect(mine.payload?.field).toBe('raw_data');
        expect(Buffer.from(bytes.subarray(mine.payload!.offset, mine.payload!.offset + mine.payload!.length)).equals(Buffer.from(t.rawData))).toBe(true);
        located++;
      }
    }
    expect(located).toBe(g.initializer!.filter((t) => t.rawData && t.rawData.length > 0).length);
    expect(located).toBeGreaterThan(50);
  });

  it('names the inputs and outputs, with the shapes, that ONNX Runtime reports for the session', async () => {
    const session = await ort.InferenceSession.create(HF_MODEL, { intraOpNumThreads: 1, graphOptimizationLevel: 'disabled' });
    try {
      const initNames = new Set(model.summary.initializers.map((t) => t.name));
      const inputs = model.summary.inputs.filter((i) => !initNames.has(i.name));
      expect(inputs.map((i) => i.name)).toEqual([...session.inputNames]);
      expect(model.summary.outputs.map((o) => o.name)).toEqual([...session.outputNames]);
      const shapeOf = (m: ort.InferenceSession.ValueMetadata) => (m.isTensor ? m.shape.map((d) => (typeof d === 'number' ? d : '?')) : null);
      expect(inputs.map((i) => i.dims?.map((d) => (typeof d === 'number' ? d : '?')))).toEqual(session.inputMetadata.map(shapeOf));
      expect(model.summary.outputs.map((o) => o.dims?.map((d) => (typeof d === 'number' ? d : '?')))).toEqual(session.outputMetadata.map(shapeOf));
    } finally {
      await session.release();
    }
  });

  it('builds a graph view whose producers and consumers agree with every node', () => {
    const { graph, summary } = model;
    expect(graph.nodes).toHaveLength(summary.nodes.length);
    for (const n of graph.nodes) {
      expect(graph.nodes[n.index]).toBe(n);
      for (const o of n.outputs) expect(graph.producers.get(o)).toBe(n);
      for (const i of n.inputs.filter(Boolean)) expect(graph.consumers.get(i)).toContain(n);
    }
    for (const t of summary.initializers) expect(graph.constants.has(t.name)).toBe(true);
    // The image input is an activation, never a constant; the op counts add up to the node count.
    expect(graph.constants.has('pixel_values')).toBe(false);
    expect(Object.values(graph.opCounts).reduce((a, b) => a + b, 0)).toBe(summary.nodes.length);
    expect(graph.opCounts.Softmax).toBeGreaterThan(0);
  });

  it('propagates constness through Constant and Identity nodes', () => {
    const g = buildGraphView({
      initializers: [{ name: 'w', dims: [1], dataType: 1, external: false, payload: null }],
      nodes: [
        { opType: 'Identity', domain: '', name: 'id', inputs: ['w'], outputs: ['w2'], attributes: [] },
        { opType: 'Constant', domain: '', name: 'c', inputs: [], outputs: ['k'], attributes: [] },
        { opType: 'Add', domain: '', name: 'add', inputs: ['x', 'k'], outputs: ['y'], attributes: [] },
      ],
    });
    expect([...g.constants].sort()).toEqual(['k', 'w', 'w2']);
    expect(g.consumers.get('k')!.map((n) => n.name)).toEqual(['add']);
  });
});

describe('weights stored as float_data', () => {
  it('are located as packed float_data and hold the same values as the raw_data original', () => {
    const m = onnx.ModelProto.decode(bytes);
    const t = m.graph!.initializer!.find((x) => x.dataType === 1 && x.rawData && x.rawData.length > 64)!;
    const copy = new Uint8Array(t.rawData!);
    const values = new Float32Array(copy.buffer, 0, copy.length / 4);
    t.floatData = Array.from(values);
    t.rawData = new Uint8Array(0);
    const reencoded = onnx.ModelProto.encode(m).finish();
    const mine = readOnnxModel(reencoded, 'float-data.onnx').summary.initializers.find((x) => x.name === t.name)!;
    expect(mine.payload?.field).toBe('float_data');
    expect(mine.payload!.length).toBe(values.length * 4);
    const view = new DataView(reencoded.buffer, reencoded.byteOffset + mine.payload!.offset, mine.payload!.length);
    for (let i = 0; i < values.length; i += 97) expect(view.getFloat32(i * 4, true)).toBe(values[i]);
  });
});

describe('readOnnxModelFile', () => {
  it('names a missing file and a file that is not ONNX', async () => {
    await expect(readOnnxModelFile(path.join(path.dirname(HF_MODEL), 'nope.onnx'))).rejects.toThrow(/nope\.onnx: model file not found/);
    const err = await readOnnxModelFile(path.join(path.dirname(HF_MODEL), 'config.json')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelLoadError);
    expect((err as Error).message).toContain('config.json: not an ONNX model: the file looks like a JSON/text file');
  });
});
