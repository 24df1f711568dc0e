/**
 * `segstream quantize` end to end on the planted model: the measured choice lands in quantize.json and in
 * the QDQ model; the QDQ model loads where serve and bench load models and runs in ONNX Runtime; the
 * node_info mapper-config writes from it passes `mapper-config --check`, and a YAML that leaves the
 * measured node int8 does not; verify takes the QDQ model as the deployed model; bad calls are refused
 * with the argument named, and nothing is written for them.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBackend } from '../../../server/stages/infer/load-backend.ts';
import { loadModelInfo } from '../../../server/model/load.ts';
import { main as quantizeMain } from '../../../server/toolkit/quantize/quantize-cli.ts';
import type { QuantizeReport } from '../../../server/toolkit/quantize/quantize.ts';
import { readQdqSummary } from '../../../server/toolkit/quantize/qdq-model-info.ts';
import { main as mapperMain } from '../../../server/toolkit/commands/mapper-config.ts';
import { main as verifyMain, type VerifyReport } from '../../../server/toolkit/commands/verify.ts';
import { tempDir } from '../../helpers/media.ts';
import { capture } from '../helpers.ts';
import { plantedLayerNormModel, writePatchImages } from './models.ts';

let dir: string;
let model: string;
let images: string;
let out: string;
let report: QuantizeReport;

beforeAll(async () => {
  dir = tempDir('quantize-cli');
  model = path.join(dir, 'float', 'model.onnx');
  await fs.mkdir(path.dirname(model), { recursive: true });
  await fs.writeFile(model, plantedLayerNormModel());
  await fs.writeFile(path.join(dir, 'float', 'config.json'), JSON.stringify({ id2label: { 0: 'red', 1: 'green', 2: 'blue', 3: 'bright' } }));
  images = await writePatchImages(path.join(dir, 'images'), 4);
  out = path.join(dir, 'q');
  const r = await capture(() => quantizeMain(['--model', model, '--images', images, '--out', out, '--sensitivity', '--calibrator', 'percentile', '--percentile', '99.99']));
  expect(r.stderr).toMatch(/sensitivity: 3\/3/); // progress goes to stderr
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/rank\s+kind/);
  report = JSON.parse(await fs.readFile(path.join(out, 'quantize.json'), 'utf8')) as QuantizeReport;
});

afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('segstream quantize --sensitivity', () => {
  it('writes the QDQ model, its config files, quantize.json and report.html', async () => {
    for (const f of ['model.onnx', 'config.json', 'quantize.json', 'report.html']) expect((await fs.stat(path.join(out, f))).size).toBeGreaterThan(0);
    expect(report.target).toBe('board');
    expect(report.calibration).toMatchObject({ calibrator: 'percentile', percentile: 99.99, activations: 'symmetric' });
    expect(report.sensitivity!.ranked[0]!.kind).toBe('layernorm');
    expect(report.search!.reached).toBe(true);
    expect(report.precision).toEqual({ source: 'sensitivity-search', int16Nodes: ['/norm/LayerNormalization'], floatNodes: [], unnamedNodes: [] });
    expect(report.nodeInfo).toEqual({ '/norm/LayerNormalization': { ON: 'BPU', InputType: 'int16', OutputType: 'int16' } });
    expect(report.score.worstAgreement).toBeGreaterThanOrEqual(0.995);
    const html = await fs.readFile(path.join(out, 'report.html'), 'utf8');
    expect(html).toContain('<svg');
    expect(html).toContain('/norm');
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
  });

  it('the QDQ model carries its summary and loads where serve and bench load models', async () => {
    const qdq = path.join(out, 'model.onnx');
    expect(await readQdqSummary(qdq)).toMatchObject({ tool: 'segstream quantize', target: 'board', nodes: { int8: 2, int16: 1, float: 0 } });
    expect(await readQdqSummary(model)).toBeUndefined();
    const info = await loadModelInfo(qdq);
    expect(info.input.name).toBe('pixel_values');
    expect(info.output).toMatchObject({ name: 'logits', kind: 'logits', dtype: 'float32', classes: 4 });
    expect(info.classNames).toEqual(['red', 'green', 'blue', 'bright']); // config.json copied next to it
    const backend = await loadBackend({ backend: 'onnx', files: [qdq], name: 'q' }, { threads: 1 });
    try {
      const r = await backend.run({ dtype: 'float32', shape: [1, 3, 16, 16], data: new Float32Array(3 * 16 * 16).fill(0.5) });
      expect(r.output.shape).toEqual([1, 4, 16, 16]);
      expect(Array.from(r.output.data as Float32Array).every(Number.isFinite)).toBe(true);
    } finally {
      await backend.close();
    }
  });

  it('--precision-from reproduces the measured choice without measuring again', async () => {
    const again = path.join(dir, 'again');
    const r = await capture(() => quantizeMain(['--model', model, '--images', images, '--out', again, '--precision-from', path.join(out, 'quantize.json'), '--quiet']));
    expect(r.code).toBe(0);
    const rep = JSON.parse(await fs.readFile(path.join(again, 'quantize.json'), 'utf8')) as QuantizeReport;
    expect(rep.precision.source).toBe('report');
    expect(rep.precision.int16Nodes).toEqual(['/norm/LayerNormalization']);
    expect(rep.sensitivity).toBeUndefined();
  });
});

describe('mapper-config with the measured node_info', () => {
  it('writes it, says so, and the YAML passes --check against the measurement', async () => {
    const yamlPath = path.join(dir, 'x5.yaml');
    const quantizeJson = path.join(out, 'quantize.json');
    const w = await capture(() => mapperMain(['--model', model, '--input', 'featuremap', '--sensitivity', quantizeJson, '--out', yamlPath]));
    expect(w.code).toBe(0);
    expect(w.stderr).toMatch(/measured node_info: 1 nodes int16/);
    const text = await fs.readFile(yamlPath, 'utf8');
    expect(text).toMatch(/node_info: measured by segstream quantize/);
    expect(YAML.parse(text).model_parameters.node_info).toEqual({ '/norm/LayerNormalization': { ON: 'BPU', InputType: 'int16', OutputType: 'int16' } });
    const c = await capture(() => mapperMain(['--check', yamlPath, '--model', model, '--sensitivity', quantizeJson, '--json']));
    expect(c.code).toBe(0);
    const findings = (JSON.parse(c.stdout) as { findings: { code: string; severity: string }[] }).findings;
    expect(findings.filter((f) => f.severity === 'error')).toEqual([]);
    expect(findings.map((f) => f.code)).toContain('node-info-measured');
    expect(findings.map((f) => f.code)).not.toContain('sensitive-nodes-int8');
    // Plain --check (no measurement given) passes too.
    expect((await capture(() => mapperMain(['--check', yamlPath, '--model', model]))).code).toBe(0);
  });

  it('a YAML that leaves the measured node int8 fails the check', async () => {
    const yamlPath = path.join(dir, 'heuristic-none.yaml');
    expect((await capture(() => mapperMain(['--model', model, '--input', 'featuremap', '--int16', 'none', '--out', yamlPath]))).code).toBe(0);
    const c = await capture(() => mapperMain(['--check', yamlPath, '--model', model, '--sensitivity', path.join(out, 'quantize.json'), '--json']));
    expect(c.code).toBe(1);
    const f = (JSON.parse(c.stdout) as { findings: { code: string; severity: string; message: string }[] }).findings.find((x) => x.code === 'measured-int16-missing')!;
    expect(f.severity).toBe('error');
    expect(f.message).toContain('/norm/LayerNormalization');
  });

  it('the default (heuristic) node_info says it is a heuristic', async () => {
    const r = await capture(() => mapperMain(['--model', model, '--input', 'featuremap', '--json']));
    const j = JSON.parse(r.stdout) as { yaml: string; findings: { code: string; message: string }[] };
    expect(j.yaml).toMatch(/node_info chosen by op pattern \(a heuristic, not measured on this model\)/);
    expect(j.findings.find((f) => f.code === 'int16-heuristic')!.message).toMatch(/1 nodes as int16 by op type.*heuristic, not a measurement/);
  });

  it('refuses a measurement of another model', async () => {
    const other = path.join(dir, 'other', 'model.onnx');
    await fs.mkdir(path.dirname(other), { recursive: true });
    await fs.writeFile(other, plantedLayerNormModel({ outlier: 1 }));
    const r = await capture(() => mapperMain(['--model', other, '--input', 'featuremap', '--sensitivity', path.join(out, 'quantize.json')]));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--sensitivity: .*quantize\.json was measured on .*float\/model\.onnx.*not on .*other\/model\.onnx/);
  });
});

describe('verify with the QDQ model as the deployed model', () => {
  it('compares float vs quantized with the usual metrics, runs a board model with exact Q/DQ arithmetic', async () => {
    const vout = path.join(dir, 'verify');
    const r = await capture(() => verifyMain(['--reference', model, '--deployed', path.join(out, 'model.onnx'), '--images', images, '--out', vout, '--min-agreement', '0.99', '--quiet', '--json']));
    expect(r.code).toBe(0);
    const v = JSON.parse(r.stdout) as VerifyReport;
    expect(v.deployed.note).toMatch(/segstream quantize QDQ model \(target board, 2 int8 \/ 1 int16 \/ 0 float nodes.*exactly as ONNX defines it/);
    expect(v.overall.classMap.agreement).toBeGreaterThanOrEqual(0.99);
    expect(v.overall.logits!.cosine).toBeGreaterThan(0.99);
    expect(v.overall.logits!.cosine).toBeLessThan(1);
  });
});

describe('refused calls', () => {
  const cases: [string, string[], RegExp][] = [
    ['no calibration data', [], /calibration data is required: --images <dir\|video> .* or --calib/],
    ['a percentage as target', ['--sensitivity', '--target-agreement', '99.5'], /--target-agreement 99.5: expected a fraction .* use 0.995/],
    ['an unknown node', ['--int16', '/norm/Nope'], /--int16 \/norm\/Nope: no node, unit or kind of that name/],
    ['a data-movement node', ['--int16', '/tokens/Transpose'], /--int16 \/tokens\/Transpose: node .* is a Transpose .*moves data/],
    ['the same node twice', ['--int16', 'layernorm', '--float', '/norm/LayerNormalization'], /--int16 and --float both name \/norm\/LayerNormalization/],
    ['--sensitivity with a choice', ['--sensitivity', '--int16', 'layernorm'], /--sensitivity searches the precision itself/],
    ['an unknown calibrator', ['--calibrator', 'entropy'], /--calibrator: expected one of max, percentile, kl, got "entropy"/],
    ['--percentile without the percentile calibrator', ['--percentile', '99'], /--percentile applies to --calibrator percentile/],
    ['an unknown target', ['--target', 'gpu'], /--target: expected one of board, cpu/],
  ];
  for (const [what, extra, message] of cases) {
    it(what, async () => {
      const o = path.join(dir, 'refused', what.replace(/\W+/g, '-'));
      const args = ['--model', model, '--out', o, ...(what === 'no calibration data' ? [] : ['--images', images]), ...extra];
      const r = await capture(() => quantizeMain(args));
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
      await expect(fs.stat(o)).rejects.toThrow(); // nothing written
    });
  }

  it('a model that outputs a class map (nothing to score against)', async () => {
    const { buildDemoModel } = await import('../../../server/model/demo/demo-model.ts');
    const cm = path.join(dir, 'classmap.onnx');
    await fs.writeFile(cm, buildDemoModel({ variant: 'tiny', size: 64, classes: 8, output: 'classmap' }));
    const r = await capture(() => quantizeMain(['--model', cm, '--images', images, '--out', path.join(dir, 'cm-out')]));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--model .*classmap\.onnx: output classmap is a int64 classmap; quantize needs float logits/);
  });
});
