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
