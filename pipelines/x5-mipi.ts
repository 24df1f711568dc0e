import { checkSize, nv12Tail, PipelineSpecError, type OutputSize } from './common.ts';
import { checkVideoDevice } from './usb.ts';

/**
 * `x5-mipi`: a MIPI camera on the RDK X5 in V4L2 mode. The ISP's NV12 output is /dev/video4 (CSI0) or
 * /dev/video5 (CSI1); the VSE hardware scaler channels /dev/video8-13 (CSI0) and /dev/video14-19 (CSI1) deliver
 * other sizes without CPU work, e.g. one channel at the preview size and another at the model's input size.
 * Not verified on a board.
 */
export interface X5MipiSourceSpec extends OutputSize {
  kind: 'x5-mipi';
  /** Default: the first VSE channel of CSI0. */
  device?: string;
  /** Colorimetry to assume when the driver's caps carry none (the ISP's range is not documented publicly). */
  colorimetry?: string;
  /** A second VSE channel at the model's input size, fed to an NV12 model of that size (x5MipiDualLaunch). */
  modelChannel?: X5MipiModelChannel;
}

/** A second VSE channel of the same camera, scaled to the model's input size. */
export interface X5MipiModelChannel extends OutputSize {
  device: string;
}

/** The appsink of the model-size branch of x5MipiDualLaunch (the preview branch uses APPSINK_NAME). */
export const MODEL_APPSINK_NAME = 'segstream_model_sink';

/** VSE minimum output size (public RDK X5 documentation). */
const VSE_MIN = 64;

export function x5MipiLaunch(name: string, spec: X5MipiSourceSpec): string {
  const { modelChannel, ...preview } = spec;
  if (modelChannel !== undefined) return x5MipiDualLaunch(name, preview, modelChannel);
  checkSize(name, spec);
  const device = spec.device ?? '/dev/video8';
  checkVideoDevice(name, device);
  // The scaler channel is asked for NV12 at the output size directly, so videoscale is a pass-through. The VSE
  // scales the whole camera frame to that size; the pixel aspect ratio is left open (keepAspect: false) so a
  // driver that reports a non-square one never turns the pass-through into a CPU letterbox on every frame. The
  // picture keeps its shape when the size has the sensor mode's shape (16:9: a VSE stream forces 1920x1080).
  return `v4l2src device=${device} io-mode=mmap ! video/x-raw,format=NV12,width=${spec.width},height=${spec.height} ! ${nv12Tail(spec, { keepAspect: false })}`;
}

/** Runs a check of a nested object's field, naming the field inside it (`modelChannel.device`). */
function inField(parent: string, check: () => void): void {
  try {
    check();
  } catch (err) {
    if (err instanceof PipelineSpecError) throw new PipelineSpecError(err.source, `${parent}.${err.field}`, err.message.slice(`source "${err.source}": ${err.field}: `.length));
    throw err;
  }
}

/** Which camera (CSI port) a VSE channel node belongs to, or null for other nodes. */
function vseCamera(device: string): 0 | 1 | null {
  const n = Number(/(\d+)$/.exec(device)?.[1]);
  if (n >= 8 && n <= 13) return 0;
  if (n >= 14 && n <= 19) return 1;
  return null;
}

/**
 * One pipeline, two VSE channels of the same camera: the preview channel (`spec`) into the usual appsink, and a
 * channel at the model's input size into MODEL_APPSINK_NAME, so the BPU gets its NV12 input with no CPU resize
 * while viewers keep the preview size. Both branches are live and drop stale frames; the source pairs them by
 * timestamp (server/stages/source/model-input-pairing.ts) and the BPU backend runs the paired model-size buffer
 * as is (docs/rdk-x5.md). Not run on a board: which channel can scale to which size
 * (the five downscalers have different maxima) must be checked there.
 */
export function x5MipiDualLaunch(name: string, spec: X5MipiSourceSpec, model: X5MipiModelChannel): string {
  const preview = x5MipiLaunch(name, spec);
  if (typeof model !== 'object' || model === null || Array.isArray(model)) {
    throw new PipelineSpecError(name, 'modelChannel', `expected an object { device, width, height }, got ${JSON.stringify(model)}`);
  }
  const unknown = Object.keys(model).filter((k) => !['device', 'width', 'height'].includes(k));
  if (unknown.length > 0) throw new PipelineSpecError(name, 'modelChannel', `unknown field ${unknown.map((k) => JSON.stringify(k)).join(', ')} (expected device, width, height)`);
  inField('modelChannel', () => checkVideoDevice(name, model.device));
  inField('modelChannel', () => checkSize(name, model));
  const previewDevice = spec.device ?? '/dev/video8';
  if (model.device === previewDevice) {
    throw new PipelineSpecError(name, 'modelChannel.device', `must be another VSE channel than the preview's ${previewDevice}`);
  }
  const [a, b] = [vseCamera(previewDevice), vseCamera(model.device)];
  if (a === null || b === null || a !== b) {
    throw new PipelineSpecError(
      name,
      'modelChannel.device',
      `${previewDevice} and ${model.device} must be VSE channels of the same camera (/dev/video8-13 for CSI0, /dev/video14-19 for CSI1)`,
    );
  }
  if (model.width < VSE_MIN || model.height < VSE_MIN) {
    throw new PipelineSpecError(name, 'modelChannel', `the VSE scales to at least ${VSE_MIN}x${VSE_MIN}, got ${model.width}x${model.height}`);
  }
  const modelBranch =
    `v4l2src device=${model.device} io-mode=mmap ! video/x-raw,format=NV12,width=${model.width},height=${model.height} ! ` +
    `appsink name=${MODEL_APPSINK_NAME} sync=false max-buffers=1 drop=true`;
  return `${preview}  ${modelBranch}`;
}
