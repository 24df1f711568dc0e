/**
 * Turns binary frame messages into drawable frames: JPEG decode and class-map inflate run in parallel, one frame
 * at a time. The class map is inflated only when something needs it (the view shows class colours, smoothing is
 * on, a snapshot): with the overlay in the JPEG, the overlay view draws the picture alone. While one is decoding, only the newest message waits (latest frame wins, like the server's appsink),
 * so a slow device shows fewer frames instead of falling ever further behind.
 */
import { ClassMapSmoother, decodeFrameMessage, type FrameHeader } from '$protocol';
import { classHistogram, decodeClassMap, type ClassMapImage } from './class-map.ts';

export interface DecodedFrame {
  header: FrameHeader;
  image: ImageBitmap;
  /** The class map as drawn (smoothed when viewer smoothing is on); null until needed, see loadClassMap. */
  classMap: ClassMapImage | null;
  /** Inflates the class map if it was not (once; sets `classMap`). */
  loadClassMap(): Promise<ClassMapImage>;
  /** [id, pixels] of the drawn class map: the server's counts, or recounted after smoothing. */
  classes: [number, number][];
  /** Viewer smoothing window applied (0 = none). */
  smoothing: number;
  /** performance.now() when the message arrived and when decoding finished. */
  receivedAt: number;
  decodedAt: number;
}

export interface FramePipelineHandlers {
  /** Receives ownership of `frame.image` (close it when done). */
  onFrame(frame: DecodedFrame): void;
  onError(message: string): void;
  /** Whether this frame's class map is needed to draw it (it always is while smoothing). Default: always. */
  needsClassMap?(header: FrameHeader): boolean;
}

/** Inflates `frame`'s class map on first use (the compressed bytes stay with it until then) and keeps it there. */
function inflateOnDemand(frame: DecodedFrame, bytes: Uint8Array): DecodedFrame {
  let loading: Promise<ClassMapImage> | null = null;
  frame.loadClassMap = () => (loading ??= decodeClassMap(bytes, frame.header.classMap).then((map) => (frame.classMap = map)));
  return frame;
}

/** JPEG bytes -> a bitmap, decoded off the main thread by the browser. */
function decodeJpeg(jpeg: Uint8Array): Promise<ImageBitmap> {
  return createImageBitmap(new Blob([jpeg as BlobPart], { type: 'image/jpeg' }));
}

export class FramePipeline {
  /** Messages skipped because a newer one arrived while decoding. */
  dropped = 0;
  /** Messages that failed to decode. */
  failed = 0;
  private busy = false;
  private pending: { data: ArrayBuffer; receivedAt: number } | null = null;
  private smoother: ClassMapSmoother | null = null;
  private generation = 0;

  constructor(private readonly handlers: FramePipelineHandlers) {}

  /** Viewer-side smoothing window in frames (0 or 1 = off). */
  setSmoothing(window: number): void {
    this.smoother = window > 1 ? new ClassMapSmoother(window) : null;
  }

  /** Forget queued work and smoothing history (new connection or model). */
  reset(): void {
    this.generation++;
    this.pending = null;
    this.smoother?.reset();
  }

  push(data: ArrayBuffer, receivedAt: number): void {
    if (this.busy) {
      if (this.pending !== null) this.dropped++;
      this.pending = { data, receivedAt };
      return;
    }
    void this.decode(data, receivedAt);
  }

  private async decode(data: ArrayBuffer, receivedAt: number): Promise<void> {
    this.busy = true;
    const generation = this.generation;
    try {
      const { header, jpeg, classMap } = decodeFrameMessage(new Uint8Array(data));
      const smoother = this.smoother;
      const wantMap = smoother !== null || (this.handlers.needsClassMap?.(header) ?? true);
      const [image, map] = await Promise.all([decodeJpeg(jpeg), wantMap ? decodeClassMap(classMap, header.classMap) : null]);
      if (generation !== this.generation) {
        image.close();
      } else if (map === null) {
        const notYet = () => Promise.reject(new Error('class map: not set up'));
        this.handlers.onFrame(inflateOnDemand({ header, image, classMap: null, loadClassMap: notYet, classes: header.classes, smoothing: 0, receivedAt, decodedAt: performance.now() }, classMap));
      } else {
        const drawnMap = smoother ? smoother.push(map) : map;
        const classes = smoother ? classHistogram(drawnMap.ids) : header.classes;
        const loadClassMap = () => Promise.resolve(drawnMap);
        this.handlers.onFrame({ header, image, classMap: drawnMap, loadClassMap, classes, smoothing: smoother?.windowSize ?? 0, receivedAt, decodedAt: performance.now() });
      }
    } catch (error) {
      this.failed++;
      this.handlers.onError(`frame decode failed: ${(error as Error).message}`);
    } finally {
      this.busy = false;
      const next = this.pending;
      this.pending = null;
      if (next !== null) void this.decode(next.data, next.receivedAt);
    }
  }
}
