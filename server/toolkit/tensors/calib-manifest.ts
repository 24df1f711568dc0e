/** The manifest `segstream calib` writes next to calibration files, and its reader. */
import { promises as fs } from 'node:fs';
import path from 'node:path';

export type CalibFormat = 'featuremap' | 'nv12' | 'rgb';

export interface CalibManifestFile {
  /** File name inside the output directory. */
  file: string;
  sha256: string;
  bytes: number;
  /** Absolute path of the source image (or video frame) it was made from. */
  source: string;
  sourceSha256: string;
  sourceWidth: number;
  sourceHeight: number;
  /** For --format nv12: the NV12 frame at model size the board would be fed (hrt_model_exec input). */
  runtimeInput?: { file: string; sha256: string; bytes: number };
}

export interface CalibManifest {
  tool: 'segstream calib';
  version: 1;
  createdAt: string;
  model: { path: string; sha256: string; inputName: string; inputShape: (number | string)[] };
  format: CalibFormat;
  dtype: 'float32' | 'uint8';
  layout: 'NCHW' | 'NHWC';
  shape: number[];
  fileFormat: 'raw' | 'npy';
  preprocessing: {
    description: string;
    size: { height: number; width: number };
    rescale: number;
    mean: number[];
    std: number[];
    /** Values in the files: normalised (featuremap) or 0-255 pixels (rgb / nv12). */
    values: 'normalised' | 'raw-0-255';
    channelOrder: 'rgb' | 'bgr';
    colour?: { matrix: 'bt601' | 'bt709'; range: 'full' | 'limited' };
  };
  files: CalibManifestFile[];
}

export const CALIB_MANIFEST = 'manifest.json';

/** Reads `<dir>/manifest.json` if it is a segstream calib manifest; undefined when there is none. */
export async function readCalibManifest(dir: string): Promise<CalibManifest | undefined> {
  let text: string;
  try {
    text = await fs.readFile(path.join(dir, CALIB_MANIFEST), 'utf8');
  } catch {
    return undefined;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new Error(`${path.join(dir, CALIB_MANIFEST)}: not valid JSON (${(err as Error).message})`, { cause: err });
  }
  const m = parsed as Partial<CalibManifest>;
  if (m.tool !== 'segstream calib' || !Array.isArray(m.files)) return undefined;
  return m as CalibManifest;
}

const TENSOR_EXT = new Set(['.bin', '.npy', '.raw', '.f32', '.u8', '.rgb', '.nv12', '.yuv', '.dat']);

/** Calibration-looking files in a directory (sorted), skipping manifests, hidden and temporary files. */
export async function listTensorFiles(dir: string): Promise<string[]> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch (err) {
    throw new Error(`${dir}: cannot list (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { cause: err });
  }
  return entries
    .filter((e) => e.isFile() && !e.name.startsWith('.') && TENSOR_EXT.has(path.extname(e.name).toLowerCase()))
    .map((e) => path.join(dir, e.name))
    .sort();
}
