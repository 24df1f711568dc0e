import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A fresh temporary folder for one test file. */
export function tempDir(prefix: string): string {
  return mkdtempSync(path.join(os.tmpdir(), `segstream-${prefix}-`));
}

/** Makes a short MJPEG/AVI clip with GStreamer (no network, no fixtures in git). */
export function makeClip(file: string, frames = 20, width = 320, height = 240): string {
  execFileSync('gst-launch-1.0', [
    '-q',
    'videotestsrc', `num-buffers=${frames}`, 'pattern=ball', '!',
    `video/x-raw,width=${width},height=${height},framerate=30/1`, '!',
    'jpegenc', '!', 'avimux', '!', 'filesink', `location=${file}`,
  ]);
  return file;
}

/** Grey level of the background and the disc in makeDiscPng (full-range 8-bit). */
export const DISC_PNG = { background: 128, disc: 255 } as const;

/**
 * A greyscale PNG: a white disc of `radius` centred on a mid-grey background, so a letterbox bar (black) and a
 * stretched disc (an ellipse) both show in the decoded frame. Encoded by GStreamer's pngenc.
 */
export function makeDiscPng(file: string, width: number, height: number, radius: number): string {
  // rawvideoparse expects GStreamer's default layout: rows padded to a multiple of 4 bytes.
  const stride = Math.ceil(width / 4) * 4;
  const gray = Buffer.alloc(stride * height, DISC_PNG.background);
  const [cx, cy] = [width / 2, height / 2];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if ((x + 0.5 - cx) ** 2 + (y + 0.5 - cy) ** 2 <= radius * radius) gray[y * stride + x] = DISC_PNG.disc;
    }
  }
  execFileSync(
    'gst-launch-1.0',
    ['-q', 'fdsrc', '!', 'rawvideoparse', `width=${width}`, `height=${height}`, 'format=gray8', 'framerate=1/1', '!', 'videoconvert', '!', 'pngenc', '!', 'filesink', `location=${file}`],
    { input: gray },
  );
  return file;
}

/** A short MJPEG/AVI clip of a still picture file (e.g. from makeDiscPng), at the picture's own size. */
export function makeStillClip(file: string, picture: string, frames = 10): string {
  execFileSync('gst-launch-1.0', [
    '-q', 'filesrc', `location=${picture}`, '!', 'decodebin', '!', 'videoconvert', '!',
    'imagefreeze', `num-buffers=${frames}`, '!', 'video/x-raw,framerate=30/1', '!', 'videoconvert', '!', 'jpegenc', '!', 'avimux', '!', 'filesink', `location=${file}`,
  ]);
  return file;
}
