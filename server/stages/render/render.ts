/**
 * The overlay and encode stages: optional palette blend in YUV (server-side overlay), then JPEG of the frame and
 * DEFLATE of the class map, both on the libuv thread pool beside the next inference.
 */
import sharp from 'sharp';
import * as kernels from '../../kernels/index.ts';
import type { FrameContext } from '../frame-context.ts';
import { encodeClassMap } from './class-map-codec.ts';

export interface RenderSettings {
  /** Blend the overlay into the JPEG on the server (otherwise the viewer overlays the class map itself). */
  overlay: boolean;
  opacity: number;
  palette: Uint8Array;
  jpegQuality: number;
}

export interface RenderedFrame {
  jpeg: Uint8Array;
  /** The class map, DEFLATE-compressed. */
  classMap: Uint8Array;
  bytesPerPixel: 1 | 2;
  /** Whether the overlay is in the JPEG. */
  overlaid: boolean;
}

/** Renders one frame: fills ctx.timings.overlay/encode (and ctx.histogram when the overlay recounts it). */
export async function renderFrame(ctx: FrameContext, settings: RenderSettings): Promise<RenderedFrame> {
  const map = ctx.classMap;
  if (!map) throw new Error(`frame ${ctx.id}: render needs a class map (postprocess did not run)`);
  let image = ctx.image;
  if (settings.overlay) {
    const start = performance.now();
    const blended = await kernels.overlayNv12Async(image, map, settings.palette, { opacity: settings.opacity, color: ctx.color });
    image = blended.image;
    ctx.histogram = blended.histogram;
    ctx.timings.overlay = performance.now() - start;
  } else {
    ctx.timings.overlay = 0;
  }
  const start = performance.now();
  const [jpeg, encodedMap] = await Promise.all([
    kernels
      .nv12ToRgbAsync(image, { color: ctx.color })
      .then((rgb) =>
        sharp(rgb, { raw: { width: image.width, height: image.height, channels: 3 } })
          .jpeg({ quality: settings.jpegQuality, chromaSubsampling: '4:2:0' })
          .toBuffer(),
      ),
    encodeClassMap(map),
  ]);
  ctx.timings.encode = performance.now() - start;
  return {
    jpeg: new Uint8Array(jpeg.buffer, jpeg.byteOffset, jpeg.byteLength),
    classMap: encodedMap.bytes,
    bytesPerPixel: encodedMap.bytesPerPixel,
    overlaid: settings.overlay,
  };
}

/**
 * The render stage: at most `maxInFlight` frames render at once; a frame that arrives while they are busy is
 * dropped (counted) rather than queued, so a slow encoder cannot build latency.
 */
export class RenderStage {
  /** Frames dropped because the stage was busy ("render-busy"). */
  dropped = 0;
  private inFlight = 0;

  constructor(
    private readonly settings: () => RenderSettings,
    private readonly maxInFlight = 2,
  ) {}

  /** Resolves with the rendered frame, or null when it was dropped. Rejects when rendering fails. */
  async submit(ctx: FrameContext): Promise<RenderedFrame | null> {
    if (this.inFlight >= this.maxInFlight) {
      this.dropped++;
      return null;
    }
    this.inFlight++;
    try {
      return await renderFrame(ctx, this.settings());
    } finally {
      this.inFlight--;
    }
  }
}
