/** Facts about a configured source that do not need a pipeline: which device it opens, and what it reads. */
import { accessSync, constants as fsConstants } from 'node:fs';
import { letterboxRect, type SourceSpec } from '../../../pipelines/index.ts';
import type { SourceCaps } from './gst-source.ts';
import { withoutCredentials } from '../../util/redact.ts';

/** The camera device node a source opens, if it is a camera (defaults as in pipelines/usb.ts and x5-mipi.ts). */
export function cameraDevice(spec: SourceSpec): string | null {
  if (spec.kind === 'usb') return spec.device ?? '/dev/video0';
  if (spec.kind === 'x5-mipi') return spec.device ?? '/dev/video8';
  return null;
}

/** Why a camera device node cannot be opened, or null when it can. */
export function deviceProblem(device: string): string | null {
  try {
    accessSync(device, fsConstants.R_OK | fsConstants.W_OK);
    return null;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return `camera device ${device} not found (unplugged?)`;
    if (code === 'EACCES') return `no permission to open camera device ${device} (is the user in the "video" group?)`;
    return `camera device ${device} cannot be opened: ${code ?? (err as Error).message}`;
  }
}

/** What a source reads, for status messages that every viewer sees (so without URL credentials). */
export function describeInput(spec: SourceSpec): string {
  switch (spec.kind) {
    case 'test':
      return 'test pattern';
    case 'file':
      return spec.path;
    case 'usb':
    case 'x5-mipi':
      return cameraDevice(spec) ?? spec.kind;
    case 'rtsp':
      return withoutCredentials(spec.url);
  }
}

/**
 * The source's own picture when the spec alone says it: a USB camera asked for another capture size than the
 * frame (v4l2src delivers exactly the size its caps ask for; square pixels assumed, as UVC cameras report).
 * Null otherwise: the test pattern is made at the frame size, the x5-mipi scaler delivers it, and for files and
 * RTSP only the running pipeline knows (the input probe, `SourceCaps.input`).
 */
export function declaredInput(spec: SourceSpec): SourceCaps['input'] | null {
  if (spec.kind !== 'usb') return null;
  const width = spec.captureWidth ?? spec.width;
  const height = spec.captureHeight ?? spec.height;
  if (width === spec.width && height === spec.height) return null;
  const picture = { width, height, pixelAspectRatio: '1/1' };
  return { ...picture, rect: letterboxRect(picture, spec) };
}
