/**
 * `segstream verify`: the numbers it reports for the demo model vs a copy with int8-rounded weights equal a
 * direct computation here (ONNX Runtime run by the test, plain-JS metrics and class maps); a deployed path
 * with the wrong colour range or BGR input is named; inputs and thresholds that make no sense are refused.
 */
import ort from 'onnxruntime-node';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rgbToTensor } from '../../../server/kernels/index.ts';
import { at } from '../../../server/util/checked-access.ts';
import { quantizeWeightsPerChannel } from '../../../server/toolkit/verify/quantize-weights.ts';
import { main, runVerify, VerifyInputError, type VerifyReport } from '../../../server/toolkit/commands/verify.ts';
import { rawBytes } from '../../../server/toolkit/tensors/tensor-file.ts';
import { upsampleArgmaxReference } from '../../helpers/reference.ts';
import { capture, demoModel, tempDir, writeImageSet } from '../helpers.ts';

const MEAN: [number, number, number] = [0.485, 0.456, 0.406];
const STD: [number, number, number] = [0.229, 0.224, 0.225];
let dir: string;
let model: string;
let quantised: string;
let images: string;

beforeAll(async () => {
  dir = tempDir('verify');
  model = (await demoModel(path.join(dir, 'model'), { classes: 8 })).modelPath;
  quantised = path.join(dir, 'int8w', 'model.onnx');
  await fs.mkdir(path.dirname(quantised), { recursive: true });
  await fs.writeFile(quantised, quantizeWeightsPerChannel(await fs.readFile(model), { mode: 'fake' }).bytes);
  images = path.join(dir, 'images');
  await writeImageSet(images, [[160, 120], [64, 64], [130, 90]], 31);
});

afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

async function directComputation() {
  const opts = { executionProviders: ['cpu'], graphOptimizationLevel: 'all' as const, intraOpNumThreads: 1, interOpNumThreads: 1 };
  const a = await ort.InferenceSession.create(model, opts);
  const b = await ort.InferenceSession.create(quantised, opts);
  const perImage: { name: string; cosine: number; mean: number; max: number; agreement: number }[] = [];
  let dot = 0, na = 0, nb = 0, sum = 0, n = 0, max = 0, agree = 0, pixels = 0;
  const inter = new Float64Array(8), union = new Float64Array(8);
  for (const name of (await fs.readdir(images)).sort()) {
    const { data, info } = await sharp(path.join(images, name)).raw().toBuffer({ resolveWithObject: true });
    const x = rgbToTensor(new Uint8Array(data), info.width, info.height, { width: 64, height: 64, mean: MEAN, std: STD });
    const feeds = { pixel_values: new ort.Tensor('float32', x, [1, 3, 64, 64]) };
    const ya = (await a.run(feeds)).logits!.data as Float32Array;
    const yb = (await b.run(feeds)).logits!.data as Float32Array;
    expect(yb.length).toBe(ya.length);
    let d = 0, sa = 0, sb = 0, s = 0, m = 0;
    for (const [i, va] of ya.entries()) {
      const vb = at(yb, i, 'deployed logits');
      d += va * vb;
      sa += va ** 2;
      sb += vb ** 2;
      s += Math.abs(va - vb);
      m = Math.max(m, Math.abs(va - vb));
    }
    const ma = upsampleArgmaxReference(ya, 8, 16, 16, info.height, info.width);
    const mb = upsampleArgmaxReference(yb, 8, 16, 16, info.height, info.width);
    const bump = (counts: Float64Array, c: number, what: string) => (counts[c] = at(counts, c, what) + 1);
    let same = 0;
    for (const [i, ca] of ma.entries()) {
      const cb = at(mb, i, 'deployed class map');
      if (ca === cb) {
        same++;
        bump(inter, ca, 'intersections');
        bump(union, ca, 'unions');
      } else {
        bump(union, ca, 'unions');
        bump(union, cb, 'unions');
      }
    }
    perImage.push({ name, cosine: d / Math.sqrt(sa * sb), mean: s / ya.length, max: m, agreement: same / ma.length });
    dot += d; na += sa; nb += sb; sum += s; n += ya.length; max = Math.max(max, m); agree += same; pixels += ma.length;
  }
  await a.release();
  await b.release();
  const present = [...union.keys()].filter((c) => at(union, c, 'union') > 0);
  const meanIoU = present.reduce((acc, c) => acc + at(inter, c, 'inter') / at(union, c, 'union'), 0) / present.length;
  return { perImage, cosine: dot / Math.sqrt(na * nb), mean: sum / n, max, agreement: agree / pixels, meanIoU };
}

describe('verify: int8-rounded weights', () => {
  let report: VerifyReport;
  let direct: Awaited<ReturnType<typeof directComputation>>;

  beforeAll(async () => {
    report = await runVerify({ reference: model, deployed: quantised, images, out: path.join(dir, 'r1'), noHtml: true, threads: 1, quiet: true });
    direct = await directComputation();
  });

  it('reports the logits numbers a direct computation gives', () => {
    expect(report.images.map((i) => i.image)).toEqual(direct.perImage.map((i) => i.name));
    for (const [k, img] of report.images.entries()) {
      const d = at(direct.perImage, k, 'direct.perImage');
      expect(img.logits!.cosine).toBeCloseTo(d.cosine, 9);
      expect(img.logits!.meanAbsDiff).toBeCloseTo(d.mean, 9);
      expect(img.logits!.maxAbsDiff).toBeCloseTo(d.max, 9);
      // The rounding really changed the model.
      expect(img.logits!.cosine).toBeLessThan(1);
      expect(img.logits!.maxAbsDiff).toBeGreaterThan(1e-4);
      expect(img.preprocess!.meanAbsDiff).toBe(0);
    }
    expect(report.overall.logits!.cosine).toBeCloseTo(direct.cosine, 9);
    expect(report.overall.logits!.meanAbsDiff).toBeCloseTo(direct.mean, 9);
    expect(report.overall.logits!.maxAbsDiff).toBeCloseTo(direct.max, 9);
  });

  it('reports the class-map agreement and IoU of an independent upsample + argmax', () => {
    for (const [k, img] of report.images.entries()) expect(img.classMap.agreement).toBeCloseTo(at(direct.perImage, k, 'direct.perImage').agreement, 6);
    expect(report.overall.classMap.agreement).toBeCloseTo(direct.agreement, 6);
    expect(report.overall.classMap.meanIoU).toBeCloseTo(direct.meanIoU, 6);
    // Rounded weights move some boundary pixels: agreement is high but not perfect.
    expect(direct.agreement).toBeLessThan(1);
    expect(report.passed).toBe(true);
  });

  it('--deployed-int8-weights makes the same copy itself', async () => {
    const r = await runVerify({ reference: model, deployedInt8Weights: true, images, out: path.join(dir, 'r2'), noHtml: true, threads: 1, quiet: true });
    expect(r.overall.logits!.cosine).toBeCloseTo(report.overall.logits!.cosine, 12);
    expect(r.deployed.note).toMatch(/rounded to int8 per output channel/);
    const json = JSON.parse(await fs.readFile(r.jsonPath, 'utf8')) as VerifyReport;
    expect(json.overall.classMap.agreement).toBe(r.overall.classMap.agreement);
  });

  it('fails the thresholds it is given and exits 1', async () => {
    const tight = report.overall.logits!.cosine + (1 - report.overall.logits!.cosine) / 2;
    const r = await capture(() => main(['--reference', model, '--deployed', quantised, '--images', images, '--out', path.join(dir, 'r3'), '--min-cosine', String(tight), '--threads', '1', '--quiet']));
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/FAIL:\n {2}img-\d\.png: logits cosine 0\.\d+ < /);
    const ok = await capture(() => main(['--reference', model, '--deployed', quantised, '--images', images, '--out', path.join(dir, 'r4'), '--min-cosine', '0.9', '--min-agreement', '0.5', '--threads', '1', '--quiet']));
    expect(ok.code).toBe(0);
  });
});

describe('verify: deployed input paths', () => {
  it('names a limited-range camera decoded as full range; the right range passes at the NV12 floor', async () => {
    const wrong = await runVerify({ reference: model, deployedInput: 'nv12', sourceRange: 'limited', decodeRange: 'full', images, out: path.join(dir, 'n1'), noHtml: true, threads: 1, quiet: true });
    expect(wrong.findings.map((f) => f.code)).toContain('colour-range-limited-as-full');
    expect(wrong.passed).toBe(false);
    expect(at(wrong.images, 0, 'wrong.images').preprocess!.diagnosis?.code).toBe('colour-range-limited-as-full');
    const right = await runVerify({ reference: model, deployedInput: 'nv12', sourceRange: 'limited', images, out: path.join(dir, 'n2'), noHtml: true, threads: 1, quiet: true });
    expect(right.passed).toBe(true);
    expect(right.images.every((i) => i.preprocess!.diagnosis?.code === 'nv12-floor')).toBe(true);
    expect(right.overall.preprocess!.meanAbsDiff).toBeLessThan(wrong.overall.preprocess!.meanAbsDiff);
  });

  it('runs the deployed model on the user\'s own files and names BGR', async () => {
    const tensors = path.join(dir, 'user-tensors');
    await fs.mkdir(tensors, { recursive: true });
    for (const name of await fs.readdir(images)) {
      const { data, info } = await sharp(path.join(images, name)).raw().toBuffer({ resolveWithObject: true });
      const bgr = Buffer.from(data);
      for (let i = 0; i < bgr.length; i += 3) [bgr[i], bgr[i + 2]] = [at(bgr, i + 2, 'bgr'), at(bgr, i, 'bgr')];
      const t = rgbToTensor(new Uint8Array(bgr), info.width, info.height, { width: 64, height: 64, mean: MEAN, std: STD });
      await fs.writeFile(path.join(tensors, `${path.parse(name).name}.bin`), rawBytes(t));
    }
    const r = await runVerify({ reference: model, deployedTensors: tensors, images, out: path.join(dir, 'b1'), noHtml: true, threads: 1, quiet: true });
    expect(r.findings.map((f) => f.code)).toContain('channel-order-bgr');
    expect(r.images.every((i) => i.preprocess!.meanAbsDiff > 0)).toBe(true);
    expect(r.passed).toBe(false);
  });
});

describe('verify: a BPU .bin through the app\'s backend loader', () => {
  it('runs the hb_dnn test double on the camera path and says its numbers are synthetic', async () => {
    // The stream demo description: 512x512 NV12 in, an 8-class class map out (argmax folded into the model).
    const bin = path.join(dir, 'bpu', 'stream.bin');
    await fs.mkdir(path.dirname(bin), { recursive: true });
    await fs.copyFile(fileURLToPath(new URL('../../fixtures/bpu/stream-demo.json', import.meta.url)), bin);
    const ref512 = (await demoModel(path.join(dir, 'model512'), { size: 512, classes: 8 })).modelPath;
    const r = await runVerify({ reference: ref512, deployed: bin, deployedInput: 'nv12', sourceRange: 'limited', images, out: path.join(dir, 'bpu-r'), noHtml: true, threads: 1, quiet: true, thresholds: { minAgreement: 0 } });
    expect(r.deployed.kind).toBe('bpu');
    expect(r.deployed.output).toContain('classmap');
    expect(r.deployed.output).toContain('8 classes');
    expect(r.deployed.note).toContain('BPU test double');
    expect(r.findings.map((f) => f.code)).toContain('bpu-test-double');
    // A class map has no logits to compare; the class maps are compared at every image's size.
    expect(r.overall.logits).toBeNull();
    expect(r.images).toHaveLength(3);
    for (const im of r.images) expect(im.classMap.agreement).toBeGreaterThanOrEqual(0);
    // Logit thresholds cannot apply to a class-map model.
    const err = await runVerify({ reference: ref512, deployed: bin, deployedInput: 'nv12', images, out: path.join(dir, 'bpu-x'), quiet: true, thresholds: { minCosine: 0.9 } }).catch((e: unknown) => e);
    expect((err as Error).message).toContain('--min-cosine/--max-mean-diff/--max-abs-diff need logits');
  });
});

describe('verify: inputs and thresholds that make no sense', () => {
  it('refuses a class-count mismatch between the models', async () => {
    const other = (await demoModel(path.join(dir, 'c5'), { classes: 5 })).modelPath;
    const err = await runVerify({ reference: model, deployed: other, images, out: path.join(dir, 'x'), quiet: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VerifyInputError);
    expect((err as VerifyInputError).finding.code).toBe('class-count-mismatch');
    expect((err as VerifyInputError).finding.message).toContain('the reference outputs 8 classes, the deployed model 5');
  });

  it('refuses a config.json whose class names do not match the model', async () => {
    const cfg = JSON.parse(await fs.readFile(path.join(path.dirname(model), 'config.json'), 'utf8'));
    cfg.id2label = Object.fromEntries(Array.from({ length: 150 }, (_, i) => [String(i), `c${i}`]));
    cfg.label2id = Object.fromEntries(Array.from({ length: 150 }, (_, i) => [`c${i}`, i]));
    const wrongCfg = path.join(dir, 'ade-config.json');
    await fs.writeFile(wrongCfg, JSON.stringify(cfg));
    const err = await runVerify({ reference: model, deployed: quantised, deployedConfig: wrongCfg, images, out: path.join(dir, 'x'), quiet: true }).catch((e: unknown) => e);
    expect((err as VerifyInputError).finding?.code).toBe('class-count-mismatch');
  });

  it('explains nonsense thresholds and options', async () => {
    const run = (args: string[]) => capture(() => main(['--reference', model, '--deployed', quantised, '--images', images, ...args]));
    const cases: [string[], string][] = [
      [['--min-agreement', '95'], '95 looks like a percentage - use 0.95'],
      [['--min-cosine', '1.5'], 'cosine similarity lies in -1..1'],
      [['--max-mean-diff', '0.1', '--max-abs-diff', '0.01'], 'a maximum can never be below the mean'],
      [['--max-mean-diff', 'abc'], '--max-mean-diff: expected a number, got "abc"'],
      [['--source-range', 'limited'], 'add --deployed-input nv12'],
      [['--deployed-int8-weights'], '--deployed and --deployed-int8-weights are alternatives'],
    ];
    for (const [args, text] of cases) {
      const r = await run(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toContain(text);
    }
    const same = await capture(() => main(['--reference', model, '--images', images]));
    expect(same.stderr).toContain('nothing differs from the reference');
  });
});
