import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildDemoModel,
  demoModelKey,
  ensureDemoModel,
  resolveDemoOptions,
  type DemoModelOptions,
} from '../../server/model/demo/demo-model.ts';
import { loadModelInfo } from '../../server/model/load.ts';
import { countOps, readOnnxSummary, type OnnxSummary } from '../../server/model/onnx/reader.ts';
import { at, first, lookup } from '../../server/util/checked-access.ts';

let tmp: string;
beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'segstream-demo-'));
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

/** A deterministic, spatially varying test image in NCHW float. */
function image(h: number, w: number, phase = 0): Float32Array {
  const out = new Float32Array(3 * h * w);
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) out[(c * h + y) * w + x] = Math.sin(0.3 * x + 0.7 * y + c + phase) * 2;
  return out;
}

/** The largest |a[i] - b[i]|; NaN if any difference is NaN, so a NaN output never passes as close. */
function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(b.length).toBe(a.length);
  let max = 0;
  for (const [i, v] of a.entries()) max = Math.max(max, Math.abs(v - at(b, i, 'second output')));
  return max;
}

function nchwToNhwc(src: Float32Array, h: number, w: number): Float32Array {
  const out = new Float32Array(src.length);
  for (const [j, v] of src.entries()) out[(j % (h * w)) * 3 + Math.floor(j / (h * w))] = v;
  return out;
}

async function run(bytes: Uint8Array, input: ort.Tensor): Promise<ort.Tensor> {
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  try {
    const out = await session.run({ [first(session.inputNames, 'model inputs')]: input });
    return lookup(out, first(session.outputNames, 'model outputs'), 'run results');
  } finally {
    await session.release();
  }
}

function convAttrs(summary: OnnxSummary): { kernel: number; stride: number; group: number }[] {
  const num = (v: unknown) => (typeof v === 'number' ? v : Number(String(v)));
  return summary.nodes
    .filter((n) => n.opType === 'Conv')
    .map((n) => {
      const get = (name: string) => n.attributes.find((a) => a.name === name);
      return {
        kernel: num(get('kernel_shape')?.ints?.[0]),
        stride: num(get('strides')?.ints?.[0]),
        group: num(get('group')?.i ?? 1),
      };
    });
}

describe('buildDemoModel', () => {
  it('is deterministic: same options, same bytes; another seed, other weights', () => {
    const a = buildDemoModel({ variant: 'tiny', seed: 7 });
    const b = buildDemoModel({ variant: 'tiny', seed: 7 });
    const c = buildDemoModel({ variant: 'tiny', seed: 8 });
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    expect(c.length).toBe(a.length);
    expect(Buffer.from(a).equals(Buffer.from(c))).toBe(false);
  });

  it('b0 has SegFormer-B0 shapes and the required op mix', () => {
    const s = readOnnxSummary(buildDemoModel(), 'demo-b0');
    expect(s.inputs.map((i) => [i.name, i.dims])).toEqual([['pixel_values', [1, 3, 512, 512]]]);
    expect(s.outputs.map((o) => [o.name, o.dims])).toEqual([['logits', [1, 150, 128, 128]]]);
    expect(s.opsets).toEqual([{ domain: '', version: 17 }]);
    expect(s.metadata.segstream_demo).toBe('true');
    expect(s.docString).toContain('untrained');

    const ops = countOps(s);
    // 4 stages x 2 blocks: 8 attentions (Softmax) and 8 Mix-FFNs (Erf-GELU).
    expect(ops.Softmax).toBe(8);
    expect(ops.Erf).toBe(8);
    // 4 patch-embedding norms + 2 per block + 3 spatial-reduction norms per stage with sr>1 (x2 blocks) + 4 stage norms
    expect(ops.LayerNormalization).toBe(4 + 16 + 6 + 4);
    // 4 patch embeddings + 6 spatial reductions + 8 depth-wise + fuse + classifier
    expect(ops.Conv).toBe(20);
    expect(ops.Resize).toBe(4);
    expect(ops.Relu).toBe(1);
    for (const op of ['MatMul', 'Add', 'Mul', 'Div', 'Concat', 'Transpose', 'Reshape']) expect(ops[op]).toBeGreaterThan(0);

    const convs = convAttrs(s);
    expect(convs.filter((c) => c.kernel === 7 && c.stride === 4)).toHaveLength(1); // stage-1 patch embedding
    expect(convs.filter((c) => c.kernel === 3 && c.stride === 2)).toHaveLength(3); // stages 2-4
    for (const sr of [8, 4, 2]) expect(convs.filter((c) => c.kernel === sr && c.stride === sr)).toHaveLength(2);
    // depth-wise 3x3 convs with group = 4 x hidden size
    expect(convs.filter((c) => c.kernel === 3 && c.stride === 1).map((c) => c.group)).toEqual([128, 128, 256, 256, 640, 640, 1024, 1024]);

    const resize = s.nodes.find((n) => n.opType === 'Resize');
    const mode = resize?.attributes.find((a) => a.name === 'mode')?.s;
    expect(mode && Buffer.from(mode).toString()).toBe('linear');
    const concatAll = s.nodes.filter((n) => n.opType === 'Concat' && n.inputs.every((i) => i.includes('Resize')));
    expect(concatAll).toHaveLength(1);
    expect(first(concatAll, 'Concat of the resized stages').inputs).toHaveLength(4);
  });

  it('b0 widths run in ONNX Runtime at a small size with the right output shape', async () => {
    const bytes = buildDemoModel({ size: 128, classes: 21 });
    const out = await run(bytes, new ort.Tensor('float32', image(128, 128), [1, 3, 128, 128]));
    expect(out.dims).toEqual([1, 21, 32, 32]);
    expect((out.data as Float32Array).every(Number.isFinite)).toBe(true);
  });

  it('tiny runs in ONNX Runtime; its output depends on the image', async () => {
    const bytes = buildDemoModel({ variant: 'tiny' });
    const a = await run(bytes, new ort.Tensor('float32', image(64, 64), [1, 3, 64, 64]));
    const b = await run(bytes, new ort.Tensor('float32', image(64, 64, 1.5), [1, 3, 64, 64]));
    expect(a.dims).toEqual([1, 8, 16, 16]);
    const da = a.data as Float32Array;
    const db = b.data as Float32Array;
    expect(da.every(Number.isFinite)).toBe(true);
    expect(maxAbsDiff(da, db)).toBeGreaterThan(1e-4);
  });

  it('custom size and classes (non-square)', async () => {
    const bytes = buildDemoModel({ variant: 'tiny', size: { height: 96, width: 64 }, classes: 5 });
    const out = await run(bytes, new ort.Tensor('float32', image(96, 64), [1, 3, 96, 64]));
    expect(out.dims).toEqual([1, 5, 24, 16]);
  });

  it('opset 13 decomposes LayerNorm and computes the same logits as opset 17', async () => {
    const opts: DemoModelOptions = { variant: 'tiny', seed: 3 };
    const v13 = buildDemoModel({ ...opts, opset: 13 });
    const ops = countOps(readOnnxSummary(v13, 'v13'));
    expect(ops.LayerNormalization).toBeUndefined();
    expect(ops.ReduceMean).toBeGreaterThan(0);
    const input = new ort.Tensor('float32', image(64, 64), [1, 3, 64, 64]);
    const a = (await run(v13, input)).data as Float32Array;
    const b = (await run(buildDemoModel({ ...opts, opset: 17 }), input)).data as Float32Array;
    expect(maxAbsDiff(a, b)).toBeLessThan(1e-4);
  });

  it('NHWC input gives the same logits as NCHW for the same image', async () => {
    const nchw = image(64, 64);
    const a = (await run(buildDemoModel({ variant: 'tiny' }), new ort.Tensor('float32', nchw, [1, 3, 64, 64]))).data as Float32Array;
    const nhwc = buildDemoModel({ variant: 'tiny', inputLayout: 'NHWC' });
    const b = (await run(nhwc, new ort.Tensor('float32', nchwToNhwc(nchw, 64, 64), [1, 64, 64, 3]))).data as Float32Array;
    expect(maxAbsDiff(a, b)).toBeLessThan(1e-5);
  });

  it('class-map output equals the argmax of the logits', async () => {
    const input = new ort.Tensor('float32', image(64, 64), [1, 3, 64, 64]);
    const logits = await run(buildDemoModel({ variant: 'tiny' }), input);
    const map = await run(buildDemoModel({ variant: 'tiny', output: 'classmap' }), input);
    expect(map.type).toBe('int64');
    expect(map.dims).toEqual([1, 1, 16, 16]);
    const l = logits.data as Float32Array;
    const m = map.data as BigInt64Array;
    const plane = 16 * 16;
    const seen = new Set<number>();
    for (let p = 0; p < plane; p++) {
      let best = 0;
      const logit = (c: number) => at(l, c * plane + p, 'logits');
      for (let c = 1; c < 8; c++) if (logit(c) > logit(best)) best = c;
      expect(Number(at(m, p, 'class map'))).toBe(best);
      seen.add(best);
    }
    // Untrained, but not constant: the map varies over the image.
    expect(seen.size).toBeGreaterThan(1);
  });

  it('rejects bad options with the option named', () => {
    expect(() => buildDemoModel({ size: 16 })).toThrow(/DemoModelOptions\.size: expected an integer from 32 to 4096, got 16/);
    expect(() => buildDemoModel({ classes: 1 })).toThrow(/DemoModelOptions\.classes/);
    expect(() => buildDemoModel({ variant: 'b7' as 'b0' })).toThrow(/DemoModelOptions\.variant/);
    expect(() => buildDemoModel({ opset: 11 })).toThrow(/DemoModelOptions\.opset/);
    expect(() => buildDemoModel({ seed: -1 })).toThrow(/DemoModelOptions\.seed/);
    expect(() => buildDemoModel({ size: { height: 64, width: 20 } })).toThrow(/size\.width/);
    expect(() => buildDemoModel({ inputName: 'x', outputName: 'x' })).toThrow(/outputName/);
    expect(resolveDemoOptions({ variant: 'tiny' })).toMatchObject({ height: 64, width: 64, classes: 8, opset: 17 });
    expect(resolveDemoOptions()).toMatchObject({ height: 512, width: 512, classes: 150, variant: 'b0' });
  });
});

describe('ensureDemoModel', () => {
  it('writes model, config and preprocessor config once, then reuses them', async () => {
    const cache = path.join(tmp, 'cache');
    const opts: DemoModelOptions = { variant: 'tiny', classes: 4, seed: 11 };
    const files = await ensureDemoModel(cache, opts);
    expect(path.dirname(files.modelPath)).toBe(path.join(cache, demoModelKey(opts)));
    const config = JSON.parse(await fs.readFile(files.configPath, 'utf8'));
    expect(config.segstream_demo).toBe(true);
    expect(config.id2label).toEqual({ '0': 'wall', '1': 'building', '2': 'sky', '3': 'floor' });
    const prep = JSON.parse(await fs.readFile(files.preprocessorPath, 'utf8'));
    expect(prep.size).toEqual({ height: 64, width: 64 });
    expect(Buffer.from(await fs.readFile(files.modelPath)).equals(Buffer.from(buildDemoModel(opts)))).toBe(true);
    // No temporary files left behind.
    expect((await fs.readdir(path.dirname(files.modelPath))).sort()).toEqual(['config.json', 'model.onnx', 'preprocessor_config.json']);

    const before = (await fs.stat(files.modelPath)).mtimeMs;
    await new Promise((r) => setTimeout(r, 20));
    const again = await ensureDemoModel(cache, opts);
    expect(again).toEqual(files);
    expect((await fs.stat(files.modelPath)).mtimeMs).toBe(before);

    const info = await loadModelInfo(files.modelPath);
    expect(info.untrainedDemo).toBe(true);
    expect(info.output.classes).toBe(4);
    expect(info.preprocess.origin).toBe('preprocessor_config');
  });

  it('completes a folder left incomplete, and different options get different folders', async () => {
    const cache = path.join(tmp, 'cache2');
    const files = await ensureDemoModel(cache, { variant: 'tiny' });
    await fs.rm(files.configPath);
    await ensureDemoModel(cache, { variant: 'tiny' });
    expect(JSON.parse(await fs.readFile(files.configPath, 'utf8')).segstream_demo).toBe(true);
    expect(demoModelKey({ variant: 'tiny', seed: 1 })).not.toBe(demoModelKey({ variant: 'tiny', seed: 2 }));
    expect(demoModelKey({ variant: 'tiny' })).toBe(demoModelKey({ variant: 'tiny', size: 64, classes: 8, seed: 0 }));
  });

  it('rejects an empty cache dir', async () => {
    await expect(ensureDemoModel('')).rejects.toThrow(/cacheDir/);
  });
});
