import path from 'node:path';
import { checkFramerate, checkSize, nv12Tail, PipelineSpecError, quoteValue, type OutputSize } from './common.ts';

/**
 * `file`: a video file, a single image, or an image sequence (a printf pattern such as `frames/%05d.png`).
 * Videos loop by seeking back to the start on end-of-stream (the source runner does that when `loop` is true).
 */
export interface FileSourceSpec extends OutputSize {
  kind: 'file';
  path: string;
  loop?: boolean;
  /** Frame rate for images and image sequences. */
  framerate?: number;
  /** Play at the file's own rate (true) or as fast as frames are taken (false, for bench). */
  realtime?: boolean;
}

const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.bmp', '.webp', '.tif', '.tiff']);

export type FileKind = 'video' | 'image' | 'sequence';

export function fileKind(filePath: string): FileKind {
  if (/%0?\d*d/.test(path.basename(filePath))) return 'sequence';
  return IMAGE_EXTENSIONS.has(path.extname(filePath).toLowerCase()) ? 'image' : 'video';
}

export function fileLaunch(name: string, spec: FileSourceSpec): string {
  checkSize(name, spec);
  if (typeof spec.path !== 'string' || !path.isAbsolute(spec.path)) {
    throw new PipelineSpecError(name, 'path', `expected an absolute path (config paths are resolved against the config file), got ${JSON.stringify(spec.path)}`);
  }
  const location = quoteValue(name, 'path', spec.path);
  const rate = checkFramerate(name, spec.framerate ?? 10);
  const realtime = spec.realtime ?? true;
  switch (fileKind(spec.path)) {
    case 'image':
      // imagefreeze repeats the one decoded picture at the frame rate.
      return `filesrc location=${location} ! decodebin ! videoconvert ! imagefreeze is-live=${realtime} ! video/x-raw,framerate=${rate} ! ${nv12Tail(spec, { probeInput: true })}`;
    case 'sequence': {
      const ext = path.extname(spec.path).toLowerCase();
      const mime = ext === '.png' ? 'image/png' : ext === '.jpg' || ext === '.jpeg' ? 'image/jpeg' : null;
      if (!mime) throw new PipelineSpecError(name, 'path', `image sequences must be .png or .jpg, got ${JSON.stringify(ext)}`);
      return `multifilesrc location=${location} loop=${spec.loop ?? true} caps="${mime},framerate=${rate}" ! decodebin ! ${nv12Tail(spec, { realtime, probeInput: true })}`;
    }
    case 'video':
      return `filesrc location=${location} ! decodebin ! ${nv12Tail(spec, { realtime, probeInput: true })}`;
  }
}
