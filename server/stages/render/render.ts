/**
 * The overlay and encode stages: optional palette blend in YUV (server-side overlay), then JPEG of the frame and
 * DEFLATE of the class map, both on the libuv thread pool beside the next inference.
 */
import sharp, { type JpegOptions } from 'sharp';
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

/**
 * JPEG settings. Huffman tables optimised per image (sharp's default) cost a second pass over the coefficients:
 * on the 1280x720 test photo 9.3 -> 4.3 ms of CPU without it, for a file 0.8% larger (`npx tsx bench/jpeg.ts`);
 * the encoder runs on the same cores as the model for every streamed frame, so the CPU matters more.
 */
export function jpegOptions(quality: number): JpegOptions {
  return { quality, chromaSubsampling: '4:2:0', optimiseCoding: false };
}

/**
 * Scratch buffers, taken for the length of one render and given back: the overlaid frame and its RGB copy are the
 * same size every frame, so 4 MB of fresh pages per frame need not be faulted in. (Not what drove the main thread's
 * full collections: those came from memory moved in from other threads, see InferenceStage.releaseOutput.)
 */
export class ScratchBuffers {
  private free: Uint8Array[] = [];

  constructor(private readonly keep: number) {}

  take(bytes: number): Uint8Array {
    const i = this.free.findIndex((b) => b.length === bytes);
    if (i >= 0) return this.free.splice(i, 1)[0] as Uint8Array;
    return kernels.outputBytes(bytes);
  }

  give(buf: Uint8Array): void {
    if (this.free.length < this.keep) this.free.push(buf);
  }
}

/** Renders one frame: fills ctx.timings.overlay/encode (and ctx.histogram when the overlay recounts it). */
export async function renderFrame(ctx: FrameContext, settings: RenderSettings, scratch = new ScratchBuffers(0)): Promise<RenderedFrame> {
  const map = ctx.classMap;
  if (!map) throw new Error(`frame ${ctx.id}: render needs a class map (postprocess did not run)`);
  let image = ctx.image;
  const { width, height } = image;
  const taken: Uint8Array[] = [];
  let done = false;
  try {
    if (settings.overlay) {
      const start = performance.now();
      const out = scratch.take((width * height * 3) / 2);
      taken.push(out);
      const blended = await kernels.overlayNv12Async(image, map, settings.palette, { opacity: settings.opacity, color: ctx.color, out });
      image = blended.image;
      ctx.histogram = blended.histogram;
      ctx.timings.overlay = performance.now() - start;
    } else {
      ctx.timings.overlay = 0;
    }
    const start = performance.now();
    const rgbOut = scratch.take(width * height * 3);
    taken.push(rgbOut);
    const [jpeg, encodedMap] = await Promise.all([
      kernels
        .nv12ToRgbAsync(image, { color: ctx.color, out: rgbOut })
        .then((rgb) => sharp(rgb, { raw: { width, height, channels: 3 } }).jpeg(jpegOptions(settings.jpegQuality)).toBuffer()),
      encodeClassMap(map),
    ]);
    ctx.timings.encode = performance.now() - start;
    done = true;
    return {
      jpeg: new Uint8Array(jpeg.buffer, jpeg.byteOffset, jpeg.byteLength),
      classMap: encodedMap.bytes,
      bytesPerPixel: encodedMap.bytesPerPixel,
      overlaid: settings.overlay,
    };
  } finally {
    // Back only after a render that finished: a failed one may leave an encoder still reading its buffer
    // (Promise.all settles on the first failure), so its buffers are dropped, not handed out again.
    if (done) for (const b of taken) scratch.give(b);
  }
}

/**
 * The render stage: at most `maxInFlight` frames render at once; a frame that arrives while they are busy is
 * dropped (counted) rather than queued, so a slow encoder cannot build latency.
 */
export class RenderStage {
  /** Frames dropped because the stage was busy ("render-busy"). */
  dropped = 0;
  private inFlight = 0;
  private readonly scratch: ScratchBuffers;

  constructor(
    private readonly settings: () => RenderSettings,
    private readonly maxInFlight = 2,
  ) {
    // Two buffers (overlaid frame, RGB) per render in flight.
    this.scratch = new ScratchBuffers(2 * maxInFlight);
  }

  /** Resolves with the rendered frame, or null when it was dropped. Rejects when rendering fails. */
  async submit(ctx: FrameContext): Promise<RenderedFrame | null> {
    if (this.inFlight >= this.maxInFlight) {
      this.dropped++;
      return null;
    }
    this.inFlight++;
    try {
      return await renderFrame(ctx, this.settings(), this.scratch);
    } finally {
      this.inFlight--;
    }
  }
}
