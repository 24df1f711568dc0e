/**
 * Calibration inputs: `segstream calib` output (featuremap, rgb and nv12 formats, read through the
 * manifest) gives the model the tensors the reference preprocessing gives (exactly for featuremap and rgb;
 * within the NV12 floor for nv12), and files that do not fit are refused with the file named.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelInfo } from '../../../server/model/model-info.ts';
import { loadModelInfo } from '../../../server/model/load.ts';
import { feedsFromCalibDir, feedsFromImages } from '../../../server/toolkit/quantize/inputs.ts';
import { writeCalibration } from '../../../server/toolkit/commands/calib.ts';
import { demoModel, tempDir, writeImageSet } from '../helpers.ts';
import { at } from '../../../server/util/checked-access.ts';

let dir: string;
let model: string;
let images: string;
let info: ModelInfo;

beforeAll(async () => {
  dir = tempDir('quantize-inputs');
  model = (await demoModel(path.join(dir, 'model'))).modelPath;
  info = await loadModelInfo(model);
  images = path.join(dir, 'images');
  await writeImageSet(images, [[120, 90], [64, 64], [200, 100]], 11);
});

afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

function diff(a: Float32Array, b: Float32Array): { max: number; mean: number } {
  let m = 0;
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(at(a, i, 'a') - at(b, i, 'b'));
    m = Math.max(m, d);
    sum += d;
  }
  return { max: m, mean: sum / a.length };
}

describe('calibration inputs', () => {
  it('featuremap and rgb calib files give the reference tensors; nv12 stays near them', async () => {
    const ref = await feedsFromImages(images, info);
    expect(ref.map((f) => f.name)).toEqual(['img-0.png', 'img-1.png', 'img-2.png']);
    // nv12: RGB rebuilt from 4:2:0 chroma differs at colour edges (these images have 2 px stripes at model
    // size): compared on the mean; read in the wrong domain (pixels not normalised) it would be off by ~100.
    for (const [format, dtype, tolerance] of [['featuremap', 'float32', 1e-6], ['rgb', 'uint8', 1e-5], ['nv12', 'float32', 0.2]] as const) {
      const out = path.join(dir, `calib-${format}`);
      await writeCalibration({ model, images, out, format, dtype, quiet: true });
      const feeds = await feedsFromCalibDir(out, info);
      expect(feeds).toHaveLength(3);
      for (let i = 0; i < 3; i++) {
        expect(at(feeds, i, 'feeds').shape).toEqual([1, 3, 64, 64]);
        const d = diff(at(feeds, i, 'feeds').data, at(ref, i, 'ref').data);
        expect(format === 'nv12' ? d.mean : d.max, `${format} ${i}`).toBeLessThanOrEqual(tolerance);
        if (format === 'nv12') expect(d.mean).toBeGreaterThan(0); // it is the camera path, not a copy
      }
    }
  });

  it('refuses files of the wrong size, naming the file', async () => {
    const bad = path.join(dir, 'bad');
    await fs.mkdir(bad, { recursive: true });
    await fs.writeFile(path.join(bad, 'a.bin'), Buffer.alloc(100));
    await expect(feedsFromCalibDir(bad, info)).rejects.toThrow(/a\.bin: 100 bytes, expected 49152 .*without a segstream calib manifest\.json/);
    await expect(feedsFromCalibDir(path.join(dir, 'images'), info)).rejects.toThrow(/no calibration files/);
  });
});
