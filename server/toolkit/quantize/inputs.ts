/**
 * Model inputs for calibration and evaluation: images run through the reference preprocessing (the
 * model's training preprocessing, segstream's exact kernels), or a `segstream calib` output directory read
 * through its manifest (featuremap files are the normalised tensor; rgb/nv12 files hold 0-255 pixels and are
 * normalised here exactly as hb_mapper's data_mean_and_scale would).
 */
import path from 'node:path';
import type { ModelInfo } from '../../model/model-info.ts';
import { rgbToTensor } from '../../kernels/index.ts';
import { readCalibManifest, listTensorFiles } from '../tensors/calib-manifest.ts';
import { UsageError } from '../../cli/args.ts';
import { decodeImage, openImageSet } from '../images.ts';
import { toNormalisedNchw } from '../diagnosis/preprocess-diagnosis.ts';
import { decodeToFloat32, readTensorFile, type FileDType } from '../tensors/tensor-file.ts';
import { at } from '../../util/checked-access.ts';

export interface ModelFeed {
  name: string;
  inputName: string;
  /** In the model's input layout. */
  shape: number[];
  data: Float32Array;
  /** The source image when the feed was made from one (for report pictures). */
  image?: { rgb: Uint8Array; width: number; height: number };
}

function checkModelInput(info: ModelInfo, option: string): void {
  if (info.input.kind !== 'tensor' || info.input.dtype !== 'float32') {
    throw new UsageError(`${option}: the model's input ${info.input.name} is ${info.input.dtype} ${info.input.kind}; quantize takes the float ONNX export (float32 input)`);
  }
}

function toModelLayout(info: ModelInfo, nchw: Float32Array): { shape: number[]; data: Float32Array } {
  const { height: h, width: w } = info.input;
  if (info.input.layout === 'NCHW') return { shape: [1, 3, h, w], data: nchw };
  const plane = h * w;
  const out = new Float32Array(nchw.length);
  for (let c = 0; c < 3; c++) for (let i = 0; i < plane; i++) out[i * 3 + c] = at(nchw, c * plane + i, 'nchw');
  return { shape: [1, h, w, 3], data: out };
}

/** Images (a directory, one image or a video) through the reference preprocessing. */
export async function feedsFromImages(images: string, info: ModelInfo, o: { maxImages?: number; keepImages?: boolean; option?: string } = {}): Promise<ModelFeed[]> {
  const option = o.option ?? '--images';
  checkModelInput(info, option);
  const set = await openImageSet(images, o.maxImages ? { maxImages: o.maxImages } : {}, option);
  const p = info.preprocess;
  try {
    const feeds: ModelFeed[] = [];
    for (const f of set.files) {
      const img = await decodeImage(f.path, f.name);
      const nchw = rgbToTensor(img.rgb, img.width, img.height, { width: info.input.width, height: info.input.height, mean: p.mean, std: p.std, rescale: p.rescale, channelOrder: p.channelOrder });
      feeds.push({ name: f.name, inputName: info.input.name, ...toModelLayout(info, nchw), ...(o.keepImages ? { image: { rgb: img.rgb, width: img.width, height: img.height } } : {}) });
    }
    return feeds;
  } finally {
    await set.cleanup();
  }
}

/** The files of a `segstream calib` output directory, as normalised model inputs. */
export async function feedsFromCalibDir(dir: string, info: ModelInfo, o: { maxImages?: number; option?: string } = {}): Promise<ModelFeed[]> {
  const option = o.option ?? '--calib';
  checkModelInput(info, option);
  const manifest = await readCalibManifest(dir);
  const { height: h, width: w } = info.input;
  const count = 3 * h * w;
  let files: string[];
  let layout: 'NCHW' | 'NHWC';
  let domain: 'normalised' | 'raw-0-255';
  let dtype: FileDType;
  let pre: { mean: [number, number, number]; std: [number, number, number]; rescale: number } = { mean: info.preprocess.mean, std: info.preprocess.std, rescale: info.preprocess.rescale };
  if (manifest) {
    const [mh, mw] = [manifest.preprocessing.size.height, manifest.preprocessing.size.width];
    if (mh !== h || mw !== w) throw new UsageError(`${option} ${dir}: manifest.json says the files are ${mw}x${mh}, the model takes ${w}x${h}: write them with segstream calib --model <this model>`);
    files = manifest.files.map((f) => path.join(dir, f.file));
    layout = manifest.layout;
    domain = manifest.preprocessing.values === 'normalised' ? 'normalised' : 'raw-0-255';
    dtype = manifest.dtype;
    const triple = (v: number[], what: string): [number, number, number] => {
      if (v.length !== 3 || v.some((x) => !Number.isFinite(x))) throw new UsageError(`${option} ${dir}: manifest.json preprocessing.${what} must hold 3 numbers, got ${JSON.stringify(v)}`);
      return [at(v, 0, 'v'), at(v, 1, 'v'), at(v, 2, 'v')];
    };
    pre = { mean: triple(manifest.preprocessing.mean, 'mean'), std: triple(manifest.preprocessing.std, 'std'), rescale: manifest.preprocessing.rescale };
  } else {
    // Without a manifest only the unambiguous case: float32 tensors of exactly the model's input size.
    files = await listTensorFiles(dir);
    layout = info.input.layout;
    domain = 'normalised';
    dtype = 'float32';
  }
  if (files.length === 0) throw new UsageError(`${option} ${dir}: no calibration files (.bin/.npy) found: write them with segstream calib --format featuremap`);
  if (o.maxImages) files = files.slice(0, o.maxImages);
  const feeds: ModelFeed[] = [];
  for (const file of files) {
    const t = await readTensorFile(file);
    const fileDtype = t.npy?.dtype ?? dtype;
    const expectedBytes = count * (fileDtype === 'float32' ? 4 : fileDtype === 'uint8' || fileDtype === 'int8' ? 1 : 0);
    if (fileDtype !== 'float32' && fileDtype !== 'uint8') {
      throw new UsageError(`${file}: ${fileDtype} data; calibration files are float32 (or uint8 pixels)`);
    }
    if (t.payload.length !== expectedBytes) {
      const why = manifest ? `manifest.json says ${fileDtype} ${layout} [${manifest.shape.join(', ')}]` : `without a segstream calib manifest.json the files must be float32 normalised tensors of the model's input size [${info.input.shape.join(', ')}]`;
      throw new UsageError(`${file}: ${t.payload.length} bytes, expected ${expectedBytes} (${why})`);
    }
    const values = decodeToFloat32(t.payload, fileDtype, t.npy?.littleEndian ?? true, count);
    const nchw = toNormalisedNchw(values, layout, domain, { width: w, height: h, mean: pre.mean, std: pre.std, rescale: pre.rescale });
    feeds.push({ name: path.basename(file), inputName: info.input.name, ...toModelLayout(info, nchw) });
  }
  return feeds;
}
