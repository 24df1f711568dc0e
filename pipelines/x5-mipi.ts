import { checkSize, nv12Tail, type OutputSize } from './common.ts';
import { checkVideoDevice } from './usb.ts';

/**
 * `x5-mipi`: a MIPI camera on the RDK X5 in V4L2 mode. The ISP's NV12 output is /dev/video4 (CSI0) or
 * /dev/video5 (CSI1); the VSE hardware scaler channels /dev/video8-13 (CSI0) and /dev/video14-19 (CSI1) deliver
 * other sizes without CPU work, e.g. one channel at the model's input size. Not verified on a board.
 */
export interface X5MipiSourceSpec extends OutputSize {
  kind: 'x5-mipi';
  /** Default: the first VSE channel of CSI0. */
  device?: string;
  /** Colorimetry to assume when the driver's caps carry none (the ISP's range is not documented publicly). */
  colorimetry?: string;
}

export function x5MipiLaunch(name: string, spec: X5MipiSourceSpec): string {
  checkSize(name, spec);
  const device = spec.device ?? '/dev/video8';
  checkVideoDevice(name, device);
  // The scaler channel is asked for NV12 at the output size directly; videoscale is then a pass-through.
  return `v4l2src device=${device} io-mode=mmap ! video/x-raw,format=NV12,width=${spec.width},height=${spec.height} ! ${nv12Tail(spec)}`;
}
