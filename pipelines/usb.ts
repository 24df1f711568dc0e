import { checkFramerate, checkSize, nv12Tail, PipelineSpecError, type OutputSize } from './common.ts';

/** `usb`: a UVC camera through v4l2src; MJPEG from the camera is preferred (raw YUYV is slow over USB). */
export interface UsbSourceSpec extends OutputSize {
  kind: 'usb';
  device?: string;
  /** Size and rate asked of the camera (defaults: the output size, 30 fps). */
  captureWidth?: number;
  captureHeight?: number;
  framerate?: number;
  format?: 'mjpeg' | 'raw';
}

export function checkVideoDevice(name: string, device: string): void {
  if (typeof device !== 'string' || !/^\/dev\/video\d{1,3}$/.test(device)) {
    throw new PipelineSpecError(name, 'device', `expected a V4L2 device node like /dev/video0, got ${JSON.stringify(device)}`);
  }
}

export function usbLaunch(name: string, spec: UsbSourceSpec): string {
  checkSize(name, spec);
  const device = spec.device ?? '/dev/video0';
  checkVideoDevice(name, device);
  const capture = { width: spec.captureWidth ?? spec.width, height: spec.captureHeight ?? spec.height };
  checkSize(name, capture);
  const rate = checkFramerate(name, spec.framerate ?? 30);
  const format = spec.format ?? 'mjpeg';
  if (format !== 'mjpeg' && format !== 'raw') {
    throw new PipelineSpecError(name, 'format', `expected "mjpeg" or "raw", got ${JSON.stringify(format)}`);
  }
  const camera =
    format === 'mjpeg'
      ? `image/jpeg,width=${capture.width},height=${capture.height},framerate=${rate} ! jpegdec`
      : `video/x-raw,width=${capture.width},height=${capture.height},framerate=${rate}`;
  return `v4l2src device=${device} ! ${camera} ! ${nv12Tail(spec)}`;
}
