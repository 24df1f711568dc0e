/**
 * Shared pieces of the named pipelines: value checks and quoting for GStreamer launch syntax, and the common
 * tail that turns any source into NV12 at the requested size in an appsink where the latest frame wins.
 */

export class PipelineSpecError extends Error {
  constructor(
    readonly source: string,
    readonly field: string,
    message: string,
  ) {
    super(`source "${source}": ${field}: ${message}`);
    this.name = 'PipelineSpecError';
  }
}

/** Output of every pipeline: NV12 at this size. */
export interface OutputSize {
  width: number;
  height: number;
}

export const APPSINK_NAME = 'segstream_sink';

/**
 * The branch that reports a source's own picture (size, pixel aspect ratio) before it is scaled: a tee in front
 * of the scaler feeds a fakesink whose `last-sample` (buffer and caps) the source reads once and then switches
 * off, so the sink holds no frame afterwards. A fakesink, not an appsink: an appsink holding a buffer nobody pulls
 * never reports end-of-stream, and the pipeline would never end. Nothing (a valve) stops the branch after that:
 * a closed valve swallows the flushes of a looping file's seek, and the pipeline would not end a second time.
 * What the branch costs per frame is a buffer reference passed through a queue.
 */
export const INPUT_PROBE_SINK_NAME = 'segstream_input_probe';

export function checkSize(source: string, size: OutputSize): void {
  for (const key of ['width', 'height'] as const) {
    const v = size[key];
    if (!Number.isInteger(v) || v < 16 || v > 7680 || v % 2 !== 0) {
      throw new PipelineSpecError(source, key, `expected an even integer from 16 to 7680 (NV12 needs even sizes), got ${JSON.stringify(v)}`);
    }
  }
}

export function checkFramerate(source: string, fps: number): string {
  if (!Number.isInteger(fps) || fps < 1 || fps > 240) {
    throw new PipelineSpecError(source, 'framerate', `expected an integer from 1 to 240, got ${JSON.stringify(fps)}`);
  }
  return `${fps}/1`;
}

/**
 * Quotes a string as one GStreamer launch-syntax property value. Control characters are refused so a value
 * can never end the element and start another one.
 */
export function quoteValue(source: string, field: string, value: string): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new PipelineSpecError(source, field, `expected a non-empty string, got ${JSON.stringify(value)}`);
  }
  if (/[\u0000-\u001f\u007f]/.test(value)) {
    throw new PipelineSpecError(source, field, 'control characters are not allowed');
  }
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export interface Nv12TailOptions {
  /** Pace a non-live source at its own frame rate (files). */
  realtime?: boolean;
  colorimetry?: string;
  /**
   * Keep the picture's shape (default true): the caps pin square pixels, so videoscale scales a source of
   * another shape to fit and fills the rest with black bars (its `add-borders`) instead of stretching it. False
   * leaves the pixel aspect ratio open: for a source that is already at the output size (a hardware scaler),
   * whose frames then pass through untouched whatever pixel shape the driver reports.
   */
  keepAspect?: boolean;
  /**
   * Add the input probe branch (INPUT_PROBE_SINK_NAME): for sources whose own size is known only once they
   * run (files, network streams). Its queue is leaky and its sink does not wait for preroll, so the branch can
   * never hold up the main one.
   */
  probeInput?: boolean;
}

/** videoconvert + videoscale to NV12 at the size; appsink where the latest frame wins (never queues). */
export function nv12Tail(size: OutputSize, opts: Nv12TailOptions = {}): string {
  const caps = [`video/x-raw`, `format=NV12`, `width=${size.width}`, `height=${size.height}`];
  // videoscale letterboxes only when the downstream caps fix the pixel aspect ratio; left open, it negotiates
  // a non-square one (a 4:3 source at 1280x720 gets 3/4) and the frame is a stretched picture.
  if (opts.keepAspect ?? true) caps.push('pixel-aspect-ratio=1/1');
  if (opts.colorimetry) caps.push(`colorimetry=${opts.colorimetry}`);
  // `identity sync=true` paces a non-live source (a file) at its own frame rate without making the appsink
  // sync to the clock; live sources are paced by the device.
  const pace = opts.realtime ? 'identity sync=true ! ' : '';
  const main = `videoconvert ! videoscale add-borders=true ! ${caps.join(',')} ! ${pace}appsink name=${APPSINK_NAME} sync=false max-buffers=1 drop=true`;
  if (!opts.probeInput) return main;
  const tee = 'segstream_input_tee';
  return (
    `tee name=${tee} ! ${main}  ` +
    `${tee}. ! queue leaky=downstream max-size-buffers=1 ! ` +
    `fakesink name=${INPUT_PROBE_SINK_NAME} sync=false async=false enable-last-sample=true`
  );
}
