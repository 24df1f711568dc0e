/**
 * `segstream calib`: files hold exactly what the model input takes at the last moment of preprocessing
 * (checked against the kernels directly), the manifest describes them truthfully, and the other tools read
 * them back without findings.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nv12ToTensor, rgbToNv12, rgbToTensor } from '../../../server/kernels/index.ts';
import { main, writeCalibration } from '../../../server/toolkit/commands/calib.ts';
import { inspectFiles } from '../../../server/toolkit/commands/inspect.ts';
import { checkMapperConfigFile, generateMapperConfig } from '../../../server/toolkit/commands/mapper-config.ts';
import { makeClip } from '../../helpers/media.ts';
import { capture, demoModel, syntheticRgb, tempDir, writeImageSet } from '../helpers.ts';
import { at } from '../../../server/util/checked-access.ts';

const MEAN: [number, number, number] = [0.485, 0.456, 0.406];
const STD: [number, number, number] = [0.229, 0.224, 0.225];
const SIZES: [number, number][] = [[200, 150], [97, 63], [64, 64]];
let dir: string;
let model: string;
let images: string;

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const f32 = (b: Buffer) => new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));

beforeAll(async () => {
  dir = tempDir('calib');
  model = (await demoModel(path.join(dir, 'model'))).modelPath;
  images = path.join(dir, 'images');
  await writeImageSet(images, SIZES, 21);
});

afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('calib', () => {
  it('featuremap: the exact normalised tensor, with a truthful manifest', async () => {
    const out = path.join(dir, 'fm');
    const r = await writeCalibration({ model, images, out, format: 'featuremap', quiet: true });
    const m = r.manifest;
    expect(m.files).toHaveLength(3);
    expect(m).toMatchObject({ format: 'featuremap', dtype: 'float32', layout: 'NCHW', shape: [1, 3, 64, 64], fileFormat: 'raw' });
    expect(m.preprocessing.values).toBe('normalised');
    for (let i = 0; i < SIZES.length; i++) {
      const [w, h] = at(SIZES, i, 'SIZES');
      const entry = m.files.find((f) => f.file === `img-${i}.bin`)!;
      const bytes = await fs.readFile(path.join(out, entry.file));
      expect(entry.sha256).toBe(sha(bytes));
      expect(entry.bytes).toBe(3 * 64 * 64 * 4);
      expect([entry.sourceWidth, entry.sourceHeight]).toEqual([w, h]);
      const expected = rgbToTensor(syntheticRgb(w, h, 21 + i), w, h, { width: 64, height: 64, mean: MEAN, std: STD });
      expect(Buffer.from(f32(bytes).buffer).equals(Buffer.from(expected.buffer))).toBe(true);
    }
    expect((await fs.readdir(out)).filter((n) => n.includes('.tmp'))).toEqual([]);
    // inspect finds the source images through the manifest and confirms every file.
    const check = await inspectFiles({ files: [out], model });
    expect(check.errors).toBe(0);
    for (const f of check.files) expect(f.findings.map((x) => x.code)).toContain('preprocessing-matches');
  });

  it('rgb uint8: rounded resized pixels; mapper-config takes cal_data_type from the manifest', async () => {
    const nhwc = path.join(dir, 'rgb-nhwc');
    const r = await writeCalibration({ model, images, out: nhwc, format: 'rgb', dtype: 'uint8', layout: 'NHWC', fileFormat: 'npy', quiet: true });
    expect(r.manifest).toMatchObject({ dtype: 'uint8', layout: 'NHWC', shape: [1, 64, 64, 3], fileFormat: 'npy' });
    const bytes = await fs.readFile(path.join(nhwc, 'img-0.npy'));
    const payload = bytes.subarray(bytes.length - 64 * 64 * 3);
    const expected = rgbToTensor(syntheticRgb(200, 150, 21), 200, 150, { width: 64, height: 64, mean: [0, 0, 0], std: [1, 1, 1], rescale: 1, layout: 'NHWC' });
    expect(Array.from(payload)).toEqual(Array.from(expected, (v) => Math.round(v)));
    // NHWC files for an NCHW model: hb_mapper would read them in input_layout_train NCHW.
    const wrong = await generateMapperConfig({ model, input: 'rgb', int16: 'none', calibDir: nhwc });
    expect(wrong.findings.map((f) => f.code)).toContain('calibration-layout-mismatch');

    const out = path.join(dir, 'rgb');
    await writeCalibration({ model, images, out, format: 'rgb', dtype: 'uint8', quiet: true });
    const yamlPath = path.join(dir, 'rgb.yaml');
    const gen = await generateMapperConfig({ model, input: 'rgb', int16: 'auto', calibDir: out, out: yamlPath });
    const y = YAML.parse(gen.yaml);
    expect(y.calibration_parameters.cal_data_type).toBe('uint8');
    expect(y.calibration_parameters.cal_data_dir).toBe('./rgb');
    await fs.writeFile(yamlPath, gen.yaml);
    const check = await checkMapperConfigFile({ yamlPath, model });
    expect(check.calibration?.totalFiles).toBe(3);
    expect(check.findings.filter((f) => f.severity !== 'info')).toEqual([]);
  });

  it('nv12: pixels through the camera path and the NV12 frames the board is fed', async () => {
    const out = path.join(dir, 'nv12');
    const r = await writeCalibration({ model, images, out, format: 'nv12', sourceRange: 'limited', quiet: true });
    expect(r.manifest.preprocessing.colour).toEqual({ matrix: 'bt601', range: 'limited' });
    const entry = r.manifest.files.find((f) => f.file === 'img-0.bin')!;
    expect(entry.runtimeInput?.bytes).toBe((64 * 64 * 3) / 2);
    const frame = rgbToNv12(syntheticRgb(200, 150, 21), 200, 150, { matrix: 'bt601', range: 'limited' });
    const expected = nv12ToTensor(frame, { width: 64, height: 64, mean: [0, 0, 0], std: [1, 1, 1], rescale: 1, color: { matrix: 'bt601', range: 'limited' } });
    expect(Buffer.from(f32(await fs.readFile(path.join(out, 'img-0.bin'))).buffer).equals(Buffer.from(expected.buffer))).toBe(true);
    // The odd-sized image was cropped to even for NV12 and still produced a file.
    expect(r.manifest.files.find((f) => f.file === 'img-1.bin')).toBeDefined();
    // The runtime frames pass inspect as nv12 rt input; mapper-config follows the manifest's range.
    const rt = await inspectFiles({ files: [path.join(out, 'runtime-nv12')], model, rt: 'nv12' });
    expect(rt.errors).toBe(0);
    const gen = await generateMapperConfig({ model, input: 'nv12', int16: 'none', calibDir: out });
    expect(YAML.parse(gen.yaml).input_parameters.input_space_and_range).toBe('bt601_video');
  });

  it('extracts frames from a video with GStreamer', async () => {
    const clip = makeClip(path.join(dir, 'clip.avi'), 90, 160, 120);
    const r = await writeCalibration({ model, images: clip, out: path.join(dir, 'video'), format: 'featuremap', maxImages: 2, quiet: true });
    expect(r.manifest.files).toHaveLength(2);
    expect(r.findings.map((f) => f.code)).toContain('video-frames');
  });

  it('rejects inputs that make no sense', async () => {
    await expect(writeCalibration({ model, images, out: path.join(dir, 'x'), format: 'featuremap', dtype: 'uint8' })).rejects.toThrow(/uint8 cannot hold normalised featuremap values/);
    await expect(writeCalibration({ model, images, out: path.join(dir, 'x'), format: 'rgb', sourceRange: 'limited' })).rejects.toThrow(/do not apply to --format rgb/);
    const empty = path.join(dir, 'empty');
    await fs.mkdir(empty, { recursive: true });
    await expect(writeCalibration({ model, images: empty, out: path.join(dir, 'x'), format: 'rgb' })).rejects.toThrow(/holds no images/);
    const r = await capture(() => main(['--model', model, '--images', images, '--out', path.join(dir, 'y')]));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--format is required');
  });
});
