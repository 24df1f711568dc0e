/**
 * `segstream mapper-config`: the written hb_mapper YAML matches the model's preprocessing and lists the
 * transformer-sensitive nodes as int16; `--check` names what disagrees in a user's YAML, starting with the
 * reported case (rgb + no_preprocess + normalised float calibration).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import onnxProto from 'onnx-proto';
import YAML from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rgbToTensor } from '../../../server/kernels/index.ts';
import { checkMapperConfigFile, generateMapperConfig, main } from '../../../server/toolkit/commands/mapper-config.ts';
import { explainNodePrecisions, nodeInfoFromChoices, type NodePrecisionChoice } from '../../../server/toolkit/hb-mapper/node-info.ts';
import { buildMapperYaml } from '../../../server/toolkit/hb-mapper/mapper-yaml.ts';
import { readOnnxModelFile } from '../../../server/model/onnx/reader.ts';
import { rawBytes } from '../../../server/toolkit/tensors/tensor-file.ts';
import { capture, demoModel, syntheticRgb, tempDir } from '../helpers.ts';
import { at } from '../../../server/util/checked-access.ts';

let dir: string;
let model: string;
let model13: string;

const base = {
  model_parameters: { onnx_model: 'model.onnx', march: 'bayes-e', working_dir: 'out', output_model_file_prefix: 'seg' },
  input_parameters: {
    input_name: 'pixel_values',
    input_type_rt: 'nv12',
    input_type_train: 'rgb',
    input_layout_train: 'NCHW',
    input_shape: '1x3x64x64',
    norm_type: 'data_mean_and_scale',
    mean_value: '123.675 116.28 103.53',
    scale_value: '0.0171248 0.017507 0.0174292',
    input_space_and_range: 'regular',
  },
  calibration_parameters: { cal_data_dir: './cal', cal_data_type: 'float32', calibration_type: 'default', optimization: 'set_all_nodes_int16' },
};

async function writeYaml(name: string, patch: (c: typeof base) => void): Promise<string> {
  const c = structuredClone(base);
  patch(c);
  const p = path.join(dir, name);
  await fs.writeFile(p, YAML.stringify(c));
  return p;
}

const codesOf = (fs_: { code: string }[]) => fs_.map((f) => f.code);

beforeAll(async () => {
  dir = tempDir('mapper');
  model = (await demoModel(path.join(dir, 'm17'))).modelPath;
  model13 = (await demoModel(path.join(dir, 'm13'), { opset: 13 })).modelPath;
});

afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('writing a config', () => {
  it('derives the input section from the preprocessing and the camera range', async () => {
    const out = path.join(dir, 'gen', 'nv12.yaml');
    const r = await generateMapperConfig({ model, input: 'nv12', sourceRange: 'limited', int16: 'auto', out });
    const y = YAML.parse(r.yaml);
    expect(y.model_parameters.march).toBe('bayes-e');
    const ip = y.input_parameters;
    expect(ip.input_type_rt).toBe('nv12');
    expect(ip.input_type_train).toBe('rgb');
    expect(ip.input_shape).toBe('1x3x64x64');
    expect(ip.norm_type).toBe('data_mean_and_scale');
    expect(ip.input_space_and_range).toBe('bt601_video');
    const mean = String(ip.mean_value).split(' ').map(Number);
    const scale = String(ip.scale_value).split(' ').map(Number);
    [0.485, 0.456, 0.406].forEach((m, i) => expect(mean[i]).toBeCloseTo(255 * m, 6));
    [0.229, 0.224, 0.225].forEach((s, i) => expect(scale[i]).toBeCloseTo(1 / (255 * s), 6));
    expect(r.findings.filter((f) => f.severity === 'error')).toEqual([]);
    // The YAML written by the tool passes its own checker.
    await fs.mkdir(path.dirname(out), { recursive: true });
    await fs.writeFile(out, r.yaml);
    const check = await checkMapperConfigFile({ yamlPath: out, model, sourceRange: 'limited' });
    expect(check.findings.filter((f) => f.severity === 'error')).toEqual([]);
  });

  it('lists every Softmax, LayerNorm, GELU and attention MatMul as int16 on the BPU', async () => {
    const r = await generateMapperConfig({ model, input: 'rgb', int16: 'auto' });
    const ni = YAML.parse(r.yaml).model_parameters.node_info as Record<string, { ON: string; InputType: string }>;
    const g = (await readOnnxModelFile(model)).graph;
    const named = (op: string) => g.nodes.filter((n) => n.opType === op).map((n) => n.name);
    for (const n of [...named('Softmax'), ...named('LayerNormalization'), ...named('Erf')]) expect(ni[n]).toEqual({ ON: 'BPU', InputType: 'int16', OutputType: 'int16' });
    const attention = g.nodes.filter((n) => n.opType === 'MatMul' && !n.inputs.some((i) => g.constants.has(i)));
    expect(attention.length).toBeGreaterThan(0);
    for (const n of attention) expect(ni[n.name]).toBeDefined();
    // Weight MatMuls (one constant input) stay int8.
    const weightMatMul = g.nodes.find((n) => n.opType === 'MatMul' && n.inputs.some((i) => g.constants.has(i)))!;
    expect(ni[weightMatMul.name]).toBeUndefined();
    expect(YAML.parse(r.yaml).input_parameters.input_layout_rt).toBe('NHWC');
  });

  it('finds the decomposed LayerNorm of an opset-13 export', async () => {
    const r = await generateMapperConfig({ model: model13, input: 'nv12', sourceRange: 'full', int16: 'auto' });
    const ni = YAML.parse(r.yaml).model_parameters.node_info as Record<string, unknown>;
    const g = (await readOnnxModelFile(model13)).graph;
    expect(g.opCounts.LayerNormalization ?? 0).toBe(0);
    for (const n of g.nodes.filter((x) => x.opType === 'Sqrt' || x.opType === 'ReduceMean')) expect(ni[n.name]).toBeDefined();
  });

  it('--int16 all sets set_all_nodes_int16; none lists nothing', async () => {
    const all = YAML.parse((await generateMapperConfig({ model, input: 'featuremap', int16: 'all' })).yaml);
    expect(all.calibration_parameters.optimization).toBe('set_all_nodes_int16');
    expect(all.model_parameters.node_info).toBeUndefined();
    expect(all.input_parameters.norm_type).toBe('no_preprocess');
    const none = YAML.parse((await generateMapperConfig({ model, input: 'rgb', int16: 'none' })).yaml);
    expect(none.model_parameters.node_info).toBeUndefined();
    expect(none.calibration_parameters.optimization).toBeUndefined();
  });

  it('warns when the camera range is assumed', async () => {
    const r = await generateMapperConfig({ model, input: 'nv12', int16: 'none' });
    expect(codesOf(r.findings)).toContain('source-range-assumed');
  });
});

describe('checking a user config', () => {
  it('flags rgb + no_preprocess + normalised float calibration (the reported case)', async () => {
    const cal = path.join(dir, 'user-cal');
    await fs.mkdir(cal, { recursive: true });
    const t = rgbToTensor(syntheticRgb(200, 150, 2), 200, 150, { width: 64, height: 64, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] });
    await fs.writeFile(path.join(cal, 'img0.bin'), rawBytes(t));
    const yaml = await writeYaml('user.yaml', (c) => {
      c.input_parameters.input_type_rt = 'rgb';
      c.input_parameters.norm_type = 'no_preprocess';
      c.calibration_parameters.cal_data_dir = './user-cal';
    });
    const r = await checkMapperConfigFile({ yamlPath: yaml, model });
    const codes = codesOf(r.findings);
    expect(codes).toContain('no-preprocess-image-input');
    expect(codes).toContain('no-preprocess-with-normalised-calibration');
    const f = r.findings.find((x) => x.code === 'no-preprocess-image-input')!;
    expect(f.message).toContain('input_type_rt: rgb with norm_type: no_preprocess');
    expect(f.fix).toContain('mean_value: 123.675 116.28 103.53');
  });

  it('names wrong march, mean/scale units and order, colour range and int8 Softmax', async () => {
    const cases: [string, (c: typeof base) => void, string, { sourceRange?: 'full' | 'limited' }?][] = [
      ['x3.yaml', (c) => (c.model_parameters.march = 'bernoulli2'), 'march-mismatch'],
      ['mean01.yaml', (c) => (c.input_parameters.mean_value = '0.485 0.456 0.406'), 'mean-value-units'],
      ['meanbgr.yaml', (c) => (c.input_parameters.mean_value = '103.53 116.28 123.675'), 'mean-order-bgr'],
      ['scalestd.yaml', (c) => (c.input_parameters.scale_value = '0.229 0.224 0.225'), 'scale-is-std'],
      ['bgrtrain.yaml', (c) => (c.input_parameters.input_type_train = 'bgr'), 'channel-order-mismatch'],
      ['range.yaml', () => {}, 'colour-range-mismatch', { sourceRange: 'limited' }],
      ['shape.yaml', (c) => (c.input_parameters.input_shape = '1x3x512x512'), 'input-shape-mismatch'],
      ['int8.yaml', (c) => delete (c.calibration_parameters as Partial<typeof c.calibration_parameters>).optimization, 'sensitive-nodes-int8'],
    ];
    for (const [name, patch, code, extra] of cases) {
      const r = await checkMapperConfigFile({ yamlPath: await writeYaml(name, patch), model, ...(extra ?? {}) });
      expect(codesOf(r.findings), name).toContain(code);
    }
    // The untouched base passes (only the missing calibration directory is mentioned).
    const ok = await checkMapperConfigFile({ yamlPath: await writeYaml('ok.yaml', () => {}), model, sourceRange: 'full' });
    expect(ok.findings.filter((f) => f.severity === 'error')).toEqual([]);
  });

  it('catches float32 calibration files under cal_data_type: uint8 (read as int8)', async () => {
    const cal = path.join(dir, 'float-cal');
    await fs.mkdir(cal, { recursive: true });
    const pixels = rgbToTensor(syntheticRgb(160, 120, 3), 160, 120, { width: 64, height: 64, mean: [0, 0, 0], std: [1, 1, 1], rescale: 1 });
    await fs.writeFile(path.join(cal, 'a.bin'), rawBytes(pixels));
    const yaml = await writeYaml('u8.yaml', (c) => {
      c.calibration_parameters.cal_data_dir = './float-cal';
      c.calibration_parameters.cal_data_type = 'uint8';
    });
    const r = await checkMapperConfigFile({ yamlPath: yaml, model, sourceRange: 'full' });
    const f = r.findings.find((x) => x.code === 'float-read-as-int8')!;
    expect(f.message).toContain('49,152 bytes = float32 [1,3,64,64]');
    expect(f.message).toContain('you are reading a float file as int8');
  });

  it('command line: exit 1 with findings, 2 on nonsense options', async () => {
    const yaml = await writeYaml('cli.yaml', (c) => (c.model_parameters.march = 'bernoulli2'));
    const r = await capture(() => main(['--check', yaml, '--model', model, '--json']));
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).findings.map((f: { code: string }) => f.code)).toContain('march-mismatch');
    const bad = await capture(() => main(['--model', model, '--input', 'rgb', '--source-range', 'limited']));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--source-range applies to --input nv12 only');
    const out = path.join(dir, 'cli-out.yaml');
    const ok = await capture(() => main(['--model', model, '--input', 'nv12', '--source-range', 'full', '--out', out]));
    expect(ok.code).toBe(0);
    expect(YAML.parse(await fs.readFile(out, 'utf8')).input_parameters.input_space_and_range).toBe('regular');
  });
});

describe('write mode explains node_info', () => {
  it('prints how many nodes are int16, per pattern with every name, and says it is a heuristic', async () => {
    const out = path.join(dir, 'explained.yaml');
    const r = await capture(() => main(['--model', model, '--input', 'nv12', '--source-range', 'full', '--out', out]));
    expect(r.code).toBe(0);
    const ni = YAML.parse(await fs.readFile(out, 'utf8')).model_parameters.node_info as Record<string, unknown>;
    const names = Object.keys(ni);
    expect(r.stderr).toContain(`node_info: ${names.length} node(s) int16 on the BPU - a HEURISTIC: chosen by op pattern`);
    expect(r.stderr).toContain('not measured on this model');
    for (const n of names) expect(r.stderr).toContain(n);
    // Per-pattern counts match the graph, counted here from onnx-proto's own decode of the file.
    const g = onnxProto.onnx.ModelProto.decode(await fs.readFile(model)).graph!;
    const softmax = g.node!.filter((n) => n.opType === 'Softmax').length;
    const layerNorm = g.node!.filter((n) => n.opType === 'LayerNormalization').length;
    expect(softmax).toBeGreaterThan(0);
    expect(r.stderr).toContain(`int16 x${softmax} (softmax): Softmax: attention probabilities`);
    expect(r.stderr).toContain(`int16 x${layerNorm} (layernorm): LayerNormalization`);
    expect(r.stderr).toMatch(/int16 x\d+ \(attention-matmul\): attention MatMul with two activation operands/);
    // The YAML says so too.
    const text = await fs.readFile(out, 'utf8');
    expect(text).toContain('# node_info chosen by op pattern (a heuristic, not measured on this model): ');
    expect(text).toContain(`${softmax} x int16 softmax`);
  });

  it('prints the explanation next to the YAML on stdout, and in JSON', async () => {
    const r = await capture(() => main(['--model', model, '--input', 'rgb']));
    expect(YAML.parse(r.stdout).input_parameters.input_type_rt).toBe('rgb');
    expect(r.stderr).toContain('a HEURISTIC');
    const j = await capture(() => main(['--model', model, '--input', 'rgb', '--json']));
    const parsed = JSON.parse(j.stdout) as { nodePrecisions: NodePrecisionChoice[]; int16Nodes: number };
    expect(parsed.nodePrecisions).toHaveLength(parsed.int16Nodes);
    expect(parsed.nodePrecisions.every((c) => c.basis === 'heuristic' && c.precision === 'int16')).toBe(true);
    const all = await capture(() => main(['--model', model, '--input', 'rgb', '--int16', 'all']));
    expect(all.stderr).toContain('every node int16 (calibration_parameters.optimization: set_all_nodes_int16)');
  });

  it('on the Hugging Face export: every Softmax and LayerNorm of the torch.onnx graph is listed', async () => {
    const hf = fileURLToPath(new URL('../../fixtures/models/segformer-b0-ade-random/model.onnx', import.meta.url));
    const r = await generateMapperConfig({ model: hf, input: 'nv12', sourceRange: 'full', int16: 'auto' });
    const g = onnxProto.onnx.ModelProto.decode(await fs.readFile(hf)).graph!;
    const ni = YAML.parse(r.yaml).model_parameters.node_info as Record<string, unknown>;
    for (const n of g.node!.filter((x) => x.opType === 'Softmax' || x.opType === 'LayerNormalization')) expect(ni[n.name!], n.name!).toBeDefined();
    expect(r.precisionExplanation).toContain(`int16 x${g.node!.filter((x) => x.opType === 'Softmax').length} (softmax)`);
  });
});

describe('the node_info seam (a measured list in, node_info out)', () => {
  const measured: NodePrecisionChoice[] = [
    { node: '/a/Softmax', precision: 'int16', reason: 'cosine drop 0.012 when int8', basis: 'measured' },
    { node: '/b/MatMul', precision: 'int8', reason: 'cosine drop 0.0001 when int8', basis: 'measured' },
  ];

  it('writes exactly the given precisions and explains them as measured', () => {
    expect(nodeInfoFromChoices(measured)).toEqual({
      '/a/Softmax': { ON: 'BPU', InputType: 'int16', OutputType: 'int16' },
      '/b/MatMul': { ON: 'BPU', InputType: 'int8', OutputType: 'int8' },
    });
    const text = explainNodePrecisions(measured, 'auto');
    expect(text).toContain('node_info: 1 node(s) int16 on the BPU, 1 pinned to int8 - measured per-node sensitivity');
    expect(text).not.toContain('HEURISTIC');
    expect(text).toContain('int16 x1 (cosine drop 0.012 when int8)');
    const { yaml } = buildMapperYaml({
      onnxModel: 'm.onnx', inputName: 'x', inputShape: [1, 3, 64, 64], layoutTrain: 'NCHW', preprocess: { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], rescale: 1 / 255, channelOrder: 'rgb' },
      input: 'nv12', sourceRange: 'full', int16: 'auto', nodePrecisions: measured, calDataDir: './c', calDataType: 'uint8', outputPrefix: 'm', workingDir: 'w',
    });
    expect(yaml).toContain('# node_info from a per-node sensitivity measurement');
    expect(YAML.parse(yaml).model_parameters.node_info['/b/MatMul']).toEqual({ ON: 'BPU', InputType: 'int8', OutputType: 'int8' });
  });

  it('refuses a list it cannot write, naming the entry', () => {
    expect(() => nodeInfoFromChoices([at(measured, 0, 'measured'), at(measured, 0, 'measured')])).toThrow('choices[1].node: /a/Softmax is listed twice');
    expect(() => nodeInfoFromChoices([{ ...measured[0]!, precision: 'float' as 'int8' }])).toThrow('choices[0].precision: expected int8 | int16, got "float"');
    expect(() => nodeInfoFromChoices([{ ...measured[0]!, node: '' }])).toThrow('choices[0].node: expected a node name');
    expect(() => nodeInfoFromChoices(measured, new Set(['/a/Softmax']))).toThrow('choices[1].node: /b/MatMul is not a node of this model');
  });
});

