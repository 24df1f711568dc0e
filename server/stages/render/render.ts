import sharp from 'sharp';
import type { FrameContext } from '../frame-context.ts';
import * as kernels from '../../kernels/index.ts';
import { encodeClassMap } from './class-map-codec.ts';

export interface RenderOptions {
  /** Blend the overlay into the JPEG on the server (the viewer can also overlay itself from the class map). */
  overlay: boolean;
  opacity: number;
  palette: Uint8Array;
  jpegQuality: number;
}

export interface RenderedFrame {
  jpeg: Uint8Array;
  classMap: Uint8Array;
  bytesPerPixel: 1 | 2;
}

/** The overlay and encode stages: optional palette blend in YUV, then JPEG of the frame and DEFLATE of the class map. */
export async function renderFrame(ctx: FrameContext, options: RenderOptions): Promise<RenderedFrame> {
  const map = ctx.classMap;
  if (!map) throw new Error(`frame ${ctx.id}: render needs a class map (postprocess did not run)`);
  let image = ctx.image;
  if (options.overlay) {
    const start = performance.now();
    const blended = await kernels.overlayNv12Async(image, map, options.palette, { opacity: options.opacity, color: ctx.color });
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
          .jpeg({ quality: options.jpegQuality, chromaSubsampling: '4:2:0' })
          .toBuffer(),
      ),
    encodeClassMap(map),
  ]);
  ctx.timings.encode = performance.now() - start;
  ctx.jpeg = jpeg;
  return { jpeg: new Uint8Array(jpeg.buffer, jpeg.byteOffset, jpeg.byteLength), classMap: encodedMap.bytes, bytesPerPixel: encodedMap.bytesPerPixel };
}
