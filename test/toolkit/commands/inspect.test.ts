/**
 * `segstream inspect`: each seeded fault in a calibration/runtime file is reported with its own code and a
 * message that names it. The model is the tiny demo at 512x512 (only its description is read), so the byte
 * counts are the real SegFormer ones.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rgbToTensor } from '../../../server/kernels/index.ts';
import { inspectFiles, main, type InspectResult } from '../../../server/toolkit/commands/inspect.ts';
import { encodeNpy, rawBytes } from '../../../server/toolkit/tensors/tensor-file.ts';
import { transposeLayout } from '../../../server/toolkit/tensors/tensor-stats.ts';
import { capture, demoModel, syntheticRgb, tempDir, writePng } from '../helpers.ts';
import { at } from '../../../server/util/checked-access.ts';

const MEAN: [number, number, number] = [0.485, 0.456, 0.406];
const STD: [number, number, number] = [0.229, 0.224, 0.225];
let dir: string;
let model: string;
let featuremap: Float32Array;
let pixels: Float32Array;
let imagePath: string;

const codes = (r: InspectResult, i = 0) => at(r.files, i, 'r.files').findings.map((f) => f.code);
const byCode = (r: InspectResult, code: string) => r.files.flatMap((f) => f.findings).find((f) => f.code === code);

async function write(name: string, data: Uint8Array): Promise<string> {
  const p = path.join(dir, name);
  await fs.writeFile(p, data);
  return p;
}

beforeAll(async () => {
  dir = tempDir('inspect');
  model = (await demoModel(path.join(dir, 'model'), { size: 512 })).modelPath;
  const rgb = syntheticRgb(640, 480, 5);
  imagePath = await writePng(path.join(dir, 'images', 'scene.png'), rgb, 640, 480);
  featuremap = rgbToTensor(rgb, 640, 480, { width: 512, height: 512, mean: MEAN, std: STD });
  pixels = rgbToTensor(rgb, 640, 480, { width: 512, height: 512, mean: [0, 0, 0], std: [1, 1, 1], rescale: 1 });
});

afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('size and dtype', () => {
  it('names a float32 file fed to a uint8 rt input: "you are reading a float file as int8"', async () => {
    const file = await write('fm.bin', rawBytes(featuremap));
    const r = await inspectFiles({ files: [file], model, rt: 'rgb' });
    const f = byCode(r, 'float-read-as-int8');
    expect(f?.severity).toBe('error');
    expect(f?.message).toContain('this file is 3,145,728 bytes = float32 [1,3,512,512]');
    expect(f?.message).toContain('uint8 NHWC [1,512,512,3] (786,432 bytes)');
    expect(f?.message).toContain('you are reading a float file as int8');
    expect(f?.fix).toMatch(/featuremap/);
    expect(r.errors).toBeGreaterThan(0);
  });

  it('names a uint8 file where the model reads float32', async () => {
    const u8 = Uint8Array.from(pixels);
    const file = await write('pixels-u8.bin', u8);
    const r = await inspectFiles({ files: [file], model });
    const f = byCode(r, 'uint8-where-float-expected');
    expect(f?.severity).toBe('error');
    expect(f?.message).toContain('786,432 bytes = uint8');
    expect(f?.message).toContain('float32 NCHW [1,3,512,512] (3,145,728 bytes)');
  });

  it('reports a truncated raw file with the missing byte count', async () => {
    const file = await write('cut.bin', rawBytes(featuremap).subarray(0, 3_000_000));
    const r = await inspectFiles({ files: [file], model });
    const f = byCode(r, 'truncated-file');
    expect(f?.message).toContain('this file is 3,000,000 bytes');
    expect(f?.message).toContain('145,728 bytes (4.6%) are missing');
    expect(at(r.files, 0, 'r.files').stats).toBeUndefined();
  });

  it('reports a truncated .npy against its own header', async () => {
    const npy = encodeNpy(featuremap, [1, 3, 512, 512]);
    const file = await write('cut.npy', npy.subarray(0, npy.length - 1000));
    const r = await inspectFiles({ files: [file], model });
    expect(byCode(r, 'truncated-file')?.message).toMatch(/declares float32 \[1,3,512,512\] = 3,145,728 bytes .* 1,000 bytes .* missing/);
  });

  it('names float64 saved where float32 is expected (NumPy default)', async () => {
    const f64 = Float64Array.from(featuremap);
    const file = await write('fm64.bin', new Uint8Array(f64.buffer));
    const r = await inspectFiles({ files: [file], model });
    expect(codes(r)).toContain('float64-where-float32-expected');
  });
});

describe('layout and values', () => {
  it('detects an NHWC raw file where the model takes NCHW (from pixel smoothness)', async () => {
    const nhwc = transposeLayout(featuremap, 3, 512, 512, 'NCHW');
    const file = await write('nhwc.bin', rawBytes(nhwc));
    const r = await inspectFiles({ files: [file], model });
    const f = byCode(r, 'layout-swap');
    expect(f?.message).toContain('the file is NHWC');
    expect(f?.fix).toContain('transpose(0, 3, 1, 2)');
    expect(at(r.files, 0, 'r.files').layoutGuess?.layout).toBe('NHWC');
    // The correct layout is not flagged.
    const ok = await inspectFiles({ files: [await write('nchw.bin', rawBytes(featuremap))], model });
    expect(codes(ok)).not.toContain('layout-swap');
    expect(at(ok.files, 0, 'ok.files').layoutGuess?.layout).toBe('NCHW');
  });

  it('detects an NHWC .npy from its header shape', async () => {
    const file = await write('nhwc.npy', encodeNpy(transposeLayout(featuremap, 3, 512, 512, 'NCHW'), [1, 512, 512, 3]));
    const r = await inspectFiles({ files: [file], model });
    expect(byCode(r, 'layout-swap')?.message).toContain('NHWC [1,512,512,3]');
  });

  it('reports raw pixels and 0-1 values where normalised values are expected, and NaN', async () => {
    const raw = await write('raw.bin', rawBytes(pixels));
    const unit = await write('unit.bin', rawBytes(pixels.map((v) => v / 255)));
    const withNan = Float32Array.from(featuremap);
    withNan[12345] = Number.NaN;
    withNan[54321] = Number.POSITIVE_INFINITY;
    const nan = await write('nan.bin', rawBytes(withNan));
    const r = await inspectFiles({ files: [raw, unit, nan], model });
    expect(codes(r, 0)).toContain('raw-pixels-where-normalised-expected');
    expect(codes(r, 1)).toContain('rescaled-not-normalised');
    expect(byCode(r, 'nan-or-inf')?.message).toBe('1 NaN and 1 infinite values out of 786,432');
    expect(at(r.files, 0, 'r.files').stats?.channels).toHaveLength(3);
  });
});

describe('against the hb_mapper config', () => {
  it('flags normalised calibration data for an rgb model compiled with no_preprocess', async () => {
    const yaml = await write(
      'user.yaml',
      new TextEncoder().encode(
        ['model_parameters:', '  march: bayes-e', 'input_parameters:', '  input_type_rt: rgb', '  input_type_train: rgb', '  input_layout_train: NCHW', '  norm_type: no_preprocess', 'calibration_parameters:', '  cal_data_type: float32', ''].join('\n'),
      ),
    );
    const file = await write('hf-processor.bin', rawBytes(featuremap));
    const r = await inspectFiles({ files: [file], model, config: yaml });
    expect(r.role).toBe('calibration');
    const f = byCode(r, 'no-preprocess-with-normalised-calibration');
    expect(f?.severity).toBe('error');
    expect(f?.message).toContain('norm_type: no_preprocess');
    expect(f?.fix).toContain('data_mean_and_scale');
    // The same files as runtime input of that model: a float file read as int8.
    const rt = await inspectFiles({ files: [file], model, config: yaml, role: 'runtime' });
    expect(byCode(rt, 'float-read-as-int8')?.message).toContain("the model's rt input (input_type_rt: rgb)");
  });
});

describe('with the source image', () => {
  it('confirms an exact featuremap and names a BGR one', async () => {
    const good = await write('scene.bin', rawBytes(featuremap));
    const rgb = syntheticRgb(640, 480, 5);
    const swapped = new Uint8Array(rgb.length);
    for (let i = 0; i < rgb.length; i += 3) {
      swapped[i] = at(rgb, i + 2, 'rgb');
      swapped[i + 1] = at(rgb, i + 1, 'rgb');
      swapped[i + 2] = at(rgb, i, 'rgb');
    }
    const bgr = await write('scene_bgr.bin', rawBytes(rgbToTensor(swapped, 640, 480, { width: 512, height: 512, mean: MEAN, std: STD })));
    const r = await inspectFiles({ files: [good, bgr], model, referenceDir: path.dirname(imagePath) });
    expect(at(r.files, 0, 'r.files').reference?.image).toBe(imagePath);
    expect(codes(r, 0)).toContain('preprocessing-matches');
    expect(codes(r, 1)).toContain('channel-order-bgr');
    expect(at(r.files, 1, 'r.files').findings.find((f) => f.code === 'channel-order-bgr')?.message).toContain('red and blue are swapped');
  });
});

describe('command line', () => {
  it('prints JSON and exits 1 on errors, 2 on bad usage', async () => {
    const file = await write('fm2.bin', rawBytes(featuremap));
    const bad = await capture(() => main([file, '--model', model, '--rt', 'rgb', '--json']));
    expect(bad.code).toBe(1);
    const json = JSON.parse(bad.stdout) as InspectResult;
    expect(at(json.files, 0, 'json.files').findings.map((f) => f.code)).toContain('float-read-as-int8');
    const ok = await capture(() => main([file, '--model', model]));
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('read as: float32 NCHW [1,3,512,512]');
    const usage = await capture(() => main([file, '--model', model, '--rt', 'rgba']));
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--rt: expected one of nv12, rgb, bgr, featuremap, yuv444, gray, got "rgba"');
    const help = await capture(() => main(['--help']));
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('usage: segstream inspect');
  });
});

/** The normalised tensor with its channel planes reversed: a BGR featuremap made after normalising. */
function reversePlanes(t: Float32Array): Float32Array {
  const plane = t.length / 3;
  const out = new Float32Array(t.length);
  for (let c = 0; c < 3; c++) out.set(t.subarray(c * plane, (c + 1) * plane), (2 - c) * plane);
  return out;
}

/** (x - mean)/std once more, per channel, in float32 as NumPy would. */
function normaliseAgain(t: Float32Array): Float32Array {
  const plane = t.length / 3;
  return t.map((v, i) => (v - at(MEAN, Math.floor(i / plane), 'MEAN')) / at(STD, Math.floor(i / plane), 'STD'));
}

/** float32 -> IEEE half bits (round to nearest), for a genuine float16 file. */
function toHalf(values: Float32Array): Uint8Array {
  const out = new Uint16Array(values.length);
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  for (let i = 0; i < values.length; i++) {
    f[0] = at(values, i, 'values');
    const x = at(u, 0, 'u');
    const sign = (x >>> 16) & 0x8000;
    const exp = ((x >>> 23) & 0xff) - 127 + 15;
    const mant = x & 0x7fffff;
    if (exp <= 0) out[i] = sign;
    else out[i] = sign | (exp << 10) | Math.round(mant / 8192);
  }
  return new Uint8Array(out.buffer);
}

describe('seeded: a BGR featuremap (channels swapped after normalising)', () => {
  it('is named from the numbers alone, without the source image', async () => {
    const file = await write('swapped.bin', rawBytes(reversePlanes(featuremap)));
    const r = await inspectFiles({ files: [file], model });
    const f = byCode(r, 'channel-order-bgr');
    expect(f?.severity).toBe('error');
    expect(f?.message).toContain('the channel planes are in reverse order (BGR)');
    expect(f?.message).toContain("plane 0 with channel 2's mean/std (0.406/0.225)");
    expect(at(r.files, 0, 'r.files').signature).toMatchObject({ kind: 'channels-reversed', evidence: 'pixel-lattice' });
    expect(r.errors).toBeGreaterThan(0);
    // The correct tensor shows the plain normalisation and no channel finding.
    const ok = await inspectFiles({ files: [await write('straight.bin', rawBytes(featuremap))], model });
    expect(at(ok.files, 0, 'ok.files').signature?.kind).toBe('normalised');
    expect(codes(ok)).not.toContain('channel-order-bgr');
  });

  it('is named, not "unexplained", with --reference-image, once', async () => {
    const file = await write('swapped-ref.bin', rawBytes(reversePlanes(featuremap)));
    const r = await inspectFiles({ files: [file], model, referenceImage: imagePath });
    expect(codes(r)).not.toContain('preprocessing-unexplained');
    expect(codes(r).filter((c) => c === 'channel-order-bgr')).toHaveLength(1);
    expect(byCode(r, 'channel-order-bgr')?.message).toContain('the tensor was normalised as RGB and then its channel planes were reversed');
    expect(at(r.files, 0, 'r.files').reference?.verdict).toBe('fault');
  });

  it('is named across formats: an NHWC .npy of the swapped tensor', async () => {
    const file = await write('swapped.npy', encodeNpy(transposeLayout(reversePlanes(featuremap), 3, 512, 512, 'NCHW'), [1, 512, 512, 3]));
    const r = await inspectFiles({ files: [file], model });
    expect(codes(r)).toContain('layout-swap');
    expect(codes(r)).toContain('channel-order-bgr');
  });
});

describe('seeded: mean/std applied twice', () => {
  it('is proven by the pixel lattice without the image, and fails the run', async () => {
    const file = await write('twice.bin', rawBytes(normaliseAgain(featuremap)));
    const r = await inspectFiles({ files: [file], model });
    const f = byCode(r, 'normalised-twice');
    expect(f?.severity).toBe('error');
    expect(f?.message).toContain('mean/std was applied twice');
    expect(f?.message).toContain('the pixel lattice proves it');
    expect(at(r.files, 0, 'r.files').domain).toBe('normalised-twice');
    const cli = await capture(() => main([file, '--model', model]));
    expect(cli.code).toBe(1);
    expect(cli.stdout).toContain('[normalised-twice]');
  });

  it('is recognised by its statistical signature when the values are not on the 8-bit lattice', async () => {
    // A float pipeline (resize in float, no 8-bit rounding): the same tensor, a fraction of an LSB off the lattice.
    const offLattice = featuremap.map((v, i) => v + 0.004 * Math.sin(i * 0.7));
    const file = await write('twice-float.bin', rawBytes(normaliseAgain(offLattice)));
    const r = await inspectFiles({ files: [file], model });
    const f = byCode(r, 'normalised-twice');
    expect(f?.severity).toBe('error');
    expect(f?.message).toContain('its statistical signature');
    expect(f?.fix).toContain('--reference-image');
    expect(at(r.files, 0, 'r.files').signature?.evidence).toBe('value-range');
    // A single normalisation of the same float data is not mistaken for it.
    const once = await inspectFiles({ files: [await write('once-float.bin', rawBytes(offLattice))], model });
    expect(codes(once)).not.toContain('normalised-twice');
    expect(at(once.files, 0, 'once.files').domain).toBe('normalised');
  });

  it('is confirmed by the source image', async () => {
    const file = await write('twice-ref.bin', rawBytes(normaliseAgain(featuremap)));
    const r = await inspectFiles({ files: [file], model, referenceImage: imagePath });
    expect(codes(r).filter((c) => c === 'normalised-twice')).toHaveLength(1);
    expect(byCode(r, 'normalised-twice')?.message).toContain('these are (x - mean)/std values normalised again');
    expect(at(r.files, 0, 'r.files').reference?.verdict).toBe('fault');
  });
});

describe('seeded: a truncated file', () => {
  it('half a float32 file is "N of M bytes: truncated", not a float16 file full of NaN', async () => {
    const file = await write('half.bin', rawBytes(featuremap).subarray(0, 3_145_728 / 2));
    const r = await inspectFiles({ files: [file], model });
    const f = byCode(r, 'truncated-file');
    expect(f?.message.startsWith('1,572,864 of 3,145,728 bytes: truncated')).toBe(true);
    expect(f?.message).toContain('read as float32 like the first 50.0% of an image tensor');
    expect(f?.message).toMatch(/would also fit float16 \[1,3,512,512\], but read as float16 these bytes are not image data \([\d,]+ NaN\/Inf/);
    expect(codes(r)).toEqual(['truncated-file']);
    expect(at(r.files, 0, 'r.files').stats).toBeUndefined();
    expect(at(r.files, 0, 'r.files').interpretation).toMatchObject({ dtype: 'float32', complete: false });
  });

  it('a quarter of a float32 file is truncated too, not a uint8 file', async () => {
    const file = await write('quarter.bin', rawBytes(featuremap).subarray(0, 3_145_728 / 4));
    const r = await inspectFiles({ files: [file], model });
    expect(codes(r)).toEqual(['truncated-file']);
    expect(byCode(r, 'truncated-file')?.message).toContain('786,432 of 3,145,728 bytes: truncated');
  });

  it('a real float16 file of the same size is still named as float16 (the bytes support it)', async () => {
    const file = await write('half-precision.bin', toHalf(featuremap));
    const r = await inspectFiles({ files: [file], model });
    expect(codes(r)).not.toContain('truncated-file');
    expect(byCode(r, 'dtype-mismatch')?.message).toContain('float16 [1,3,512,512]');
    expect(at(r.files, 0, 'r.files').stats?.nan).toBe(0);
  });
});

describe('seeded: the reported case via --config, as runtime input', () => {
  it('says no_preprocess means the model does NOT normalise', async () => {
    const yaml = await write(
      'seed.yaml',
      new TextEncoder().encode(['model_parameters:', '  march: bayes-e', 'input_parameters:', '  input_type_rt: rgb', '  input_type_train: rgb', '  input_layout_train: NCHW', '  norm_type: no_preprocess', ''].join('\n')),
    );
    const file = await write('seed.bin', rawBytes(featuremap));
    const r = await inspectFiles({ files: [file], model, config: yaml, role: 'runtime' });
    const f = byCode(r, 'normalised-where-raw-expected');
    expect(f?.message).toContain('with norm_type: no_preprocess the compiled model does not normalise them');
    expect(f?.message).not.toContain('normalises them itself');
    expect(f?.fix).toContain('norm_type: data_mean_and_scale');
    const cli = await capture(() => main([file, '--model', model, '--config', yaml, '--role', 'runtime']));
    expect(cli.stdout).not.toContain('the model normalises them itself (norm_type no_preprocess)');
  });
});

