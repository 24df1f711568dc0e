/**
 * `segstream calib`: writes calibration files exactly as the model's input expects them at the last moment
 * of preprocessing, through the same kernels the stream uses, plus a manifest (sha256, shapes, dtypes,
 * source images, preprocessing):
 *   featuremap - the normalised float tensor the ONNX takes (PIL-exact resize, /255, mean/std);
 *   rgb        - the resized RGB pixels (0-255) before normalisation, for image-input models whose
 *                normalisation hb_mapper compiles in (data_mean_and_scale);
 *   nv12       - the RGB pixels (0-255) the BPU reconstructs from the camera's NV12 frame (colour range and
 *                chroma subsampling included), plus the NV12 frames themselves in runtime-nv12/.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { ModelInfo } from '../../model/model-info.ts';
import { nv12ToTensor, resizeNv12, rgbToNv12, rgbToTensor } from '../../kernels/index.ts';
import { writeFileAtomic } from '../../util/atomic-write.ts';
import { Progress } from '../../util/progress.ts';
import { CALIB_MANIFEST, listTensorFiles, type CalibFormat, type CalibManifest, type CalibManifestFile } from '../tensors/calib-manifest.ts';
import { EXIT_OK, optionalString, parseChoice, parseNumber, printJson, requiredString, runCli, UsageError, type Options } from '../../cli/args.ts';
import { MODEL_FILE_OPTIONS, modelFileFlags } from './model-file-flags.ts';
import { finding, formatFindings, type Finding } from '../report/findings.ts';
import { cropToEvenSize } from '../even-crop.ts';
import { decodeImage, openImageSet } from '../images.ts';
import { loadModelContext, type ModelContext } from '../model-context.ts';
import { encodeNpy, rawBytes } from '../tensors/tensor-file.ts';
import type { Nv12Image } from '../../stages/frame-context.ts';
import { at } from '../../util/checked-access.ts';

export const HELP = `usage: segstream calib --model <onnx> --images <dir|video> --out <dir> --format featuremap|nv12|rgb [options]

Writes one calibration file per image exactly as the model input expects it at the last moment of
preprocessing, through the kernels the stream uses, and a manifest.json (sha256, shape, dtype, source
images, preprocessing). Point hb_mapper's cal_data_dir at --out; segstream mapper-config --calib-dir <out>
reads the manifest so cal_data_type matches.

  featuremap  normalised float32 tensor = what the float ONNX takes (input_type_rt: featuremap)
  rgb         resized RGB pixels 0-255 (norm compiled into the model: input_type_rt rgb/bgr)
  nv12        RGB pixels 0-255 as the BPU rebuilds them from the camera's NV12 frame (input_type_rt nv12),
              plus the NV12 frames themselves in <out>/runtime-nv12/ (inputs for hrt_model_exec)

options:
  --model <onnx>          float ONNX model (required)
  --images <dir|video>    calibration images (a directory, one image, or a video: 1 frame/s)
  --out <dir>             output directory (created)
  --format <f>            featuremap | nv12 | rgb (required)
  --dtype <t>             float32 (default) | uint8 (rgb/nv12 only) - must equal cal_data_type
  --layout <l>            NCHW | NHWC (default: the model's input layout = input_layout_train)
  --file-format <f>       raw (default; what hb_mapper reads) | npy
  --source-range <r>      nv12: the camera's range, full (default) | limited
  --source-matrix <m>     nv12: bt601 (default) | bt709
  --preprocessor <json>   preprocessor_config.json (default: next to the model)
  --max-images <n>        use at most n images
  --quiet                 no progress bar
  --json                  print the manifest on stdout
  -h, --help              this text

examples:
  segstream calib --model model.onnx --images photos/ --out calib/ --format featuremap
  segstream calib --model model.onnx --images clip.mp4 --out calib-nv12/ --format nv12 --source-range limited
`;

export interface CalibOptions {
  model: string;
  images: string;
  out: string;
  format: CalibFormat;
  dtype?: 'float32' | 'uint8';
  layout?: 'NCHW' | 'NHWC';
  fileFormat?: 'raw' | 'npy';
  sourceRange?: 'full' | 'limited';
  sourceMatrix?: 'bt601' | 'bt709';
  preprocessor?: string;
  modelConfig?: string;
  maxImages?: number;
  quiet?: boolean;
}

export interface CalibResult {
  manifest: CalibManifest;
  manifestPath: string;
  findings: Finding[];
}

const ZERO: [number, number, number] = [0, 0, 0];
const ONE: [number, number, number] = [1, 1, 1];

function packNv12(img: Nv12Image): Uint8Array {
  const { width: w, height: h } = img;
  if (img.strideY === w && img.strideUV === w && img.offsetUV === w * h && img.data.length === (w * h * 3) / 2) return img.data;
  const out = new Uint8Array((w * h * 3) / 2);
  for (let y = 0; y < h; y++) out.set(img.data.subarray(y * img.strideY, y * img.strideY + w), y * w);
  for (let y = 0; y < h / 2; y++) out.set(img.data.subarray(img.offsetUV + y * img.strideUV, img.offsetUV + y * img.strideUV + w), w * h + y * w);
  return out;
}

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The calibration tensor for one image (float32 values; NCHW or NHWC as asked). */
export function calibrationTensor(
  rgb: Uint8Array,
  width: number,
  height: number,
  info: Pick<ModelInfo, 'input' | 'preprocess'>,
  o: { format: CalibFormat; layout: 'NCHW' | 'NHWC'; sourceRange: 'full' | 'limited'; sourceMatrix: 'bt601' | 'bt709' },
): { tensor: Float32Array; nv12?: Uint8Array } {
  const size = { width: info.input.width, height: info.input.height, layout: o.layout, channelOrder: info.preprocess.channelOrder };
  if (o.format === 'featuremap') {
    return { tensor: rgbToTensor(rgb, width, height, { ...size, mean: info.preprocess.mean, std: info.preprocess.std, rescale: info.preprocess.rescale }) };
  }
  if (o.format === 'rgb') {
    return { tensor: rgbToTensor(rgb, width, height, { ...size, mean: ZERO, std: ONE, rescale: 1 }) };
  }
  // nv12: the camera frame at full size, then the stream's NV12 path to the model size (0-255 pixels).
  const even = cropToEvenSize(rgb, width, height);
  const frame = rgbToNv12(even.rgb, even.w, even.h, { matrix: o.sourceMatrix, range: o.sourceRange });
  const tensor = nv12ToTensor(frame, { ...size, mean: ZERO, std: ONE, rescale: 1, color: { matrix: o.sourceMatrix, range: o.sourceRange } });
  const runtime = packNv12(resizeNv12(frame, info.input.width, info.input.height));
  return { tensor, nv12: runtime };
}

export async function writeCalibration(o: CalibOptions, ctx?: ModelContext): Promise<CalibResult> {
  const findings: Finding[] = [];
  const mc = ctx ?? (await loadModelContext(o.model, { ...(o.preprocessor ? { preprocessorPath: o.preprocessor } : {}), ...(o.modelConfig ? { configPath: o.modelConfig } : {}) }));
  const { info } = mc;
  if (info.input.dtype !== 'float32') throw new UsageError(`--model ${o.model}: input ${info.input.name} is ${info.input.dtype}; calibration data is made for the float ONNX model`);
  const dtype = o.dtype ?? 'float32';
  if (o.format === 'featuremap' && dtype === 'uint8') throw new UsageError('--dtype uint8 cannot hold normalised featuremap values (about -2.1..2.6): use float32, or --format rgb for pixels');
  if (o.format !== 'nv12' && (o.sourceRange || o.sourceMatrix)) throw new UsageError(`--source-range/--source-matrix describe an NV12 camera; they do not apply to --format ${o.format}`);
  if (o.format === 'nv12' && (info.input.width % 2 !== 0 || info.input.height % 2 !== 0)) {
    throw new UsageError(`--format nv12: the model input is ${info.input.width}x${info.input.height}; NV12 needs even sizes`);
  }
  const layout = o.layout ?? info.input.layout;
  const fileFormat = o.fileFormat ?? 'raw';
  const sourceRange = o.sourceRange ?? 'full';
  const sourceMatrix = o.sourceMatrix ?? 'bt601';
  if (o.format === 'nv12' && !o.sourceRange) {
    findings.push(finding('source-range-assumed', 'warning', 'no --source-range: assumed a full-range camera (input_space_and_range: regular); use the range your camera really delivers', {}));
  }

  const set = await openImageSet(o.images, o.maxImages ? { maxImages: o.maxImages } : {});
  try {
    await fs.mkdir(o.out, { recursive: true });
    const rtDir = path.join(o.out, 'runtime-nv12');
    if (o.format === 'nv12') await fs.mkdir(rtDir, { recursive: true });
    const shape = layout === 'NCHW' ? [1, 3, info.input.height, info.input.width] : [1, info.input.height, info.input.width, 3];
    const ext = fileFormat === 'npy' ? '.npy' : '.bin';
    const used = new Set<string>();
    const files: CalibManifestFile[] = [];
    const progress = new Progress('calib', set.files.length, o.quiet ?? false);
    for (const src of set.files) {
      const img = await decodeImage(src.path, src.name);
      const { tensor, nv12 } = calibrationTensor(img.rgb, img.width, img.height, info, { format: o.format, layout, sourceRange, sourceMatrix });
      let data: Float32Array | Uint8Array = tensor;
      if (dtype === 'uint8') {
        const u = new Uint8Array(tensor.length);
        for (let i = 0; i < tensor.length; i++) u[i] = Math.max(0, Math.min(255, Math.round(at(tensor, i, 'tensor'))));
        data = u;
      }
      let stem = path.parse(src.name.replace(/[#/\\]/g, '_')).name;
      for (let k = 1; used.has(stem); k++) stem = `${path.parse(src.name).name}_${k}`;
      used.add(stem);
      const name = `${stem}${ext}`;
      const bytes = fileFormat === 'npy' ? encodeNpy(data, shape) : rawBytes(data);
      await writeFileAtomic(path.join(o.out, name), bytes);
      const entry: CalibManifestFile = {
        file: name,
        sha256: sha256(bytes),
        bytes: bytes.length,
        source: path.resolve(src.path),
        sourceSha256: img.sha256,
        sourceWidth: img.width,
        sourceHeight: img.height,
      };
      if (nv12) {
        const rtName = `runtime-nv12/${stem}.nv12`;
        await writeFileAtomic(path.join(o.out, rtName), nv12);
        entry.runtimeInput = { file: rtName, sha256: sha256(nv12), bytes: nv12.length };
      }
      files.push(entry);
      progress.tick(src.name);
    }
    if (set.fromVideo) {
      findings.push(finding('video-frames', 'info', `${files.length} frames were taken from the video at 1 frame/s; their source paths in the manifest point at a temporary directory that is removed`, {}));
    }
    // hb_mapper reads every file in cal_data_dir: files that are not ours would be calibrated on too.
    const ours = new Set(files.map((f) => f.file));
    const stale = (await listTensorFiles(o.out)).map((f) => path.basename(f)).filter((f) => !ours.has(f));
    if (stale.length > 0) {
      findings.push(finding('stale-calibration-files', 'warning', `${o.out} also holds ${stale.length} file(s) this run did not write (${stale.slice(0, 3).join(', ')}${stale.length > 3 ? ', ...' : ''}); hb_mapper would calibrate on them too`, { fix: 'write calibration sets into an empty directory' }));
    }
    const modelBytes = await fs.readFile(info.path);
    const pre = info.preprocess;
    const description =
      o.format === 'featuremap'
        ? `PIL bilinear resize (antialiased) to ${info.input.width}x${info.input.height}, x*${pre.rescale.toPrecision(6)}, (x - mean)/std, ${pre.channelOrder.toUpperCase()}, ${layout} float32`
        : o.format === 'rgb'
          ? `PIL bilinear resize (antialiased) to ${info.input.width}x${info.input.height}, ${pre.channelOrder.toUpperCase()} pixels 0-255, ${layout} ${dtype}; hb_mapper applies mean/scale (data_mean_and_scale)`
          : `camera frame encoded to NV12 (${sourceMatrix}, ${sourceRange} range, 4:2:0), decoded and resized to ${info.input.width}x${info.input.height} by the stream's NV12 kernel, ${pre.channelOrder.toUpperCase()} pixels 0-255, ${layout} ${dtype}; hb_mapper applies mean/scale`;
    const manifest: CalibManifest = {
      tool: 'segstream calib',
      version: 1,
      createdAt: new Date().toISOString(),
      model: { path: path.resolve(info.path), sha256: sha256(modelBytes), inputName: info.input.name, inputShape: info.input.shape },
      format: o.format,
      dtype,
      layout,
      shape,
      fileFormat,
      preprocessing: {
        description,
        size: { height: info.input.height, width: info.input.width },
        rescale: pre.rescale,
        mean: [...pre.mean],
        std: [...pre.std],
        values: o.format === 'featuremap' ? 'normalised' : 'raw-0-255',
        channelOrder: pre.channelOrder,
        ...(o.format === 'nv12' ? { colour: { matrix: sourceMatrix, range: sourceRange } } : {}),
      },
      files,
    };
    const manifestPath = path.join(o.out, CALIB_MANIFEST);
    await writeFileAtomic(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
    return { manifest, manifestPath, findings };
  } finally {
    await set.cleanup();
  }
}

export async function main(argv: string[]): Promise<number> {
  const options = {
    model: { type: 'string' },
    images: { type: 'string' },
    out: { type: 'string' },
    format: { type: 'string' },
    dtype: { type: 'string' },
    layout: { type: 'string' },
    'file-format': { type: 'string' },
    'source-range': { type: 'string' },
    'source-matrix': { type: 'string' },
    ...MODEL_FILE_OPTIONS,
    'max-images': { type: 'string' },
    quiet: { type: 'boolean' },
    json: { type: 'boolean' },
  } as const satisfies Options;
  return runCli({ name: 'calib', options, help: HELP }, argv, async ({ values }) => {
    const model = requiredString(values, 'model', 'the float ONNX model to calibrate');
    const images = requiredString(values, 'images', 'a directory of calibration images (or a video)');
    const out = requiredString(values, 'out', 'the directory to write calibration files into');
    const format = parseChoice('format', requiredString(values, 'format', 'featuremap | nv12 | rgb'), ['featuremap', 'nv12', 'rgb'] as const)!;
    const dtype = parseChoice('dtype', optionalString(values, 'dtype'), ['float32', 'uint8'] as const);
    const layout = parseChoice('layout', optionalString(values, 'layout'), ['NCHW', 'NHWC'] as const);
    const fileFormat = parseChoice('file-format', optionalString(values, 'file-format'), ['raw', 'npy'] as const);
    const sourceRange = parseChoice('source-range', optionalString(values, 'source-range'), ['full', 'limited'] as const);
    const sourceMatrix = parseChoice('source-matrix', optionalString(values, 'source-matrix'), ['bt601', 'bt709'] as const);
    const maxImages = parseNumber('max-images', optionalString(values, 'max-images'), { min: 1, integer: true });
    const r = await writeCalibration({
      model,
      images,
      out,
      format,
      ...(dtype ? { dtype } : {}),
      ...(layout ? { layout } : {}),
      ...(fileFormat ? { fileFormat } : {}),
      ...(sourceRange ? { sourceRange } : {}),
      ...(sourceMatrix ? { sourceMatrix } : {}),
      ...modelFileFlags(values),
      ...(maxImages ? { maxImages } : {}),
      quiet: values.quiet === true,
    });
    if (values.json) printJson({ manifestPath: r.manifestPath, manifest: r.manifest, findings: r.findings });
    else {
      const m = r.manifest;
      process.stdout.write(`wrote ${m.files.length} ${m.format} calibration file(s) (${m.dtype} ${m.layout} [${m.shape.join(',')}], ${m.fileFormat}) and ${r.manifestPath}\n`);
      process.stdout.write(`hb_mapper: cal_data_dir: ${out}  cal_data_type: ${m.dtype}   (segstream mapper-config --calib-dir ${out} sets both)\n`);
      if (r.findings.length > 0) process.stderr.write(formatFindings(r.findings));
    }
    return EXIT_OK;
  });
}
