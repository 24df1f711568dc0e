/**
 * Input images for the tools: a directory of images (decoded with sharp to interleaved RGB), a single
 * image, or a video whose frames GStreamer extracts at a fixed rate (decodebin ! videoconvert ! videorate
 * ! pngenc) into a temporary directory.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { UsageError } from '../cli/args.ts';

export const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.webp', '.bmp', '.tif', '.tiff', '.gif']);
export const VIDEO_EXTENSIONS = new Set(['.mp4', '.mkv', '.mov', '.avi', '.webm', '.ts', '.h264', '.h265', '.mjpeg', '.m4v']);

export interface DecodedImage {
  path: string;
  /** Display name: the file name, or `video.mp4#frame-00003`. */
  name: string;
  rgb: Uint8Array;
  width: number;
  height: number;
  sha256: string;
}

export async function decodeImage(file: string, name = path.basename(file)): Promise<DecodedImage> {
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(file);
  } catch (err) {
    throw new UsageError(`${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  try {
    // ignoreIcc: PIL (and so the Hugging Face processor) ignores embedded colour profiles; converting through
    // the profile shifts pixel values by several LSB. rotate(): EXIF orientation, as transformers' load_image.
    const { data, info } = await sharp(bytes, { ignoreIcc: true }).rotate().removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels`);
    return {
      path: file,
      name,
      rgb: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
      width: info.width,
      height: info.height,
      sha256: createHash('sha256').update(bytes).digest('hex'),
    };
  } catch (err) {
    throw new UsageError(`${file}: not a readable image (${(err as Error).message})`);
  }
}

export interface ImageSet {
  /** Image files in name order. */
  files: { path: string; name: string }[];
  /** True when the frames come from a video (extracted to a temporary directory). */
  fromVideo: boolean;
  /** Removes temporary files (no-op for plain directories). */
  cleanup(): Promise<void>;
}

export interface ImageSetOptions {
  /** At most this many images/frames (default: all images; 16 video frames). */
  maxImages?: number;
  /** Video frames per second to extract (default 1). */
  videoFps?: number;
}

/** Resolves `--images`: a directory, one image, or a video file. */
export async function openImageSet(input: string, opts: ImageSetOptions = {}, optionName = '--images'): Promise<ImageSet> {
  let st: import('node:fs').Stats;
  try {
    st = await fs.stat(input);
  } catch {
    throw new UsageError(`${optionName} ${input}: no such file or directory`);
  }
  const none = async () => {};
  if (st.isDirectory()) {
    const entries = (await fs.readdir(input, { withFileTypes: true }))
      .filter((e) => e.isFile() && IMAGE_EXTENSIONS.has(path.extname(e.name).toLowerCase()))
      .map((e) => e.name)
      .sort();
    if (entries.length === 0) {
      throw new UsageError(`${optionName} ${input}: the directory holds no images (${[...IMAGE_EXTENSIONS].join(' ')})`);
    }
    const chosen = opts.maxImages ? entries.slice(0, opts.maxImages) : entries;
    return { files: chosen.map((n) => ({ path: path.join(input, n), name: n })), fromVideo: false, cleanup: none };
  }
  const ext = path.extname(input).toLowerCase();
  if (IMAGE_EXTENSIONS.has(ext)) return { files: [{ path: input, name: path.basename(input) }], fromVideo: false, cleanup: none };
  if (VIDEO_EXTENSIONS.has(ext)) return extractVideoFrames(input, opts, optionName);
  throw new UsageError(`${optionName} ${input}: expected a directory of images, an image (${[...IMAGE_EXTENSIONS].join(' ')}) or a video (${[...VIDEO_EXTENSIONS].join(' ')})`);
}

async function extractVideoFrames(video: string, opts: ImageSetOptions, optionName: string): Promise<ImageSet> {
  const fps = opts.videoFps ?? 1;
  const max = opts.maxImages ?? 16;
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'segstream-frames-'));
  const cleanup = () => fs.rm(dir, { recursive: true, force: true });
  const pattern = path.join(dir, 'frame-%05d.png');
  // gst-launch parses its own argv: each element and property is one argument; the location is quoted by execFile.
  const args = [
    '-q', 'filesrc', `location=${path.resolve(video)}`, '!', 'decodebin', '!', 'videoconvert', '!', 'videorate', '!',
    `video/x-raw,format=RGB,framerate=${Math.round(fps * 1000)}/1000`, '!', 'identity', `eos-after=${max}`, '!', 'pngenc', '!',
    'multifilesink', `location=${pattern}`,
  ];
  try {
    await new Promise<void>((resolve, reject) => {
      execFile('gst-launch-1.0', args, { timeout: 120_000 }, (err, _stdout, stderr) => {
        if (err) reject(new Error(stderr.trim().split('\n').slice(-2).join(' ') || err.message));
        else resolve();
      });
    });
  } catch (err) {
    await cleanup();
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') throw new UsageError(`${optionName} ${video}: reading videos needs GStreamer's gst-launch-1.0 (apt-get install gstreamer1.0-tools gstreamer1.0-plugins-good gstreamer1.0-libav), or pass a directory of images`);
    throw new UsageError(`${optionName} ${video}: GStreamer could not decode the video (${e.message})`);
  }
  const frames = (await fs.readdir(dir)).filter((n) => n.endsWith('.png')).sort().slice(0, max);
  if (frames.length === 0) {
    await cleanup();
    throw new UsageError(`${optionName} ${video}: GStreamer produced no frames`);
  }
  const base = path.basename(video);
  return { files: frames.map((f) => ({ path: path.join(dir, f), name: `${base}#${f.replace(/\.png$/, '')}` })), fromVideo: true, cleanup };
}
