/**
 * The render stage: its reused scratch buffers (overlaid frame, RGB) never change what a frame encodes to, alone or
 * with two renders in flight, and a failed render does not hand a buffer that may still be read to the next one.
 * The JPEG is checked by decoding it with libvips/libjpeg (sharp) against the overlaid frame, on a real photo and
 * the class map SegFormer's reference pipeline made for it.
 */
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import * as kernels from '../../../server/kernels/index.ts';
import { type ColorModel, type FrameContext } from '../../../server/stages/frame-context.ts';
import { makePalette } from '../../../server/stages/render/palette.ts';
import { jpegOptions, RenderStage, renderFrame, ScratchBuffers, type RenderSettings } from '../../../server/stages/render/render.ts';

const golden = path.resolve(import.meta.dirname, '../../fixtures/golden');
const color: ColorModel = { matrix: 'bt709', range: 'limited', origin: 'default' };

async function photoFrame(id: number, flip: boolean): Promise<FrameContext> {
  let img = sharp(path.join(golden, 'coffee_1280x720.png')).removeAlpha();
  if (flip) img = img.flop();
  const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
  const image = kernels.rgbToNv12(new Uint8Array(data), info.width, info.height, color);
  let map = sharp(path.join(golden, 'coffee_1280x720.classmap.png')).extractChannel(0);
  if (flip) map = map.flop();
  const ids = await map.raw().toBuffer({ resolveWithObject: true });
  expect([ids.info.width, ids.info.height]).toEqual([info.width, info.height]);
  return {
    id,
    captureTime: Date.now(),
    arrivedAt: performance.now(),
    image,
    color,
    timings: {},
    classMap: { data: new Uint8Array(ids.data), width: info.width, height: info.height },
  };
}

const settings: RenderSettings = { overlay: true, opacity: 0.5, palette: makePalette(256), jpegQuality: 80 };

function psnr(a: Uint8Array, b: Uint8Array): number {
  expect(a.length).toBe(b.length);
  let sq = 0;
  for (let i = 0; i < a.length; i++) {
    const d = (a[i] as number) - (b[i] as number);
    sq += d * d;
  }
  return 10 * Math.log10((255 * 255) / (sq / a.length));
}

describe('render stage', () => {
  it('encodes the overlaid frame: libjpeg decodes it to the blend of the photo and its class map', async () => {
    const ctx = await photoFrame(1, false);
    const rendered = await renderFrame(ctx, settings);
    const decoded = await sharp(rendered.jpeg).raw().toBuffer({ resolveWithObject: true });
    expect([decoded.info.width, decoded.info.height, decoded.info.channels]).toEqual([1280, 720, 3]);
    const blended = kernels.overlayNv12(ctx.image, ctx.classMap!, settings.palette, { opacity: 0.5, color });
    const expected = kernels.nv12ToRgb(blended.image, { color });
    expect(psnr(new Uint8Array(decoded.data), expected)).toBeGreaterThan(30);
    // Without the overlay the JPEG is the photo, not the blend.
    const plain = await sharp((await renderFrame(ctx, { ...settings, overlay: false })).jpeg).raw().toBuffer();
    expect(psnr(new Uint8Array(plain), expected)).toBeLessThan(psnr(new Uint8Array(decoded.data), expected) - 3);
    expect(rendered.overlaid).toBe(true);
  });

  it('reused buffers encode exactly what fresh ones do, one at a time and two in flight', async () => {
    const a = await photoFrame(1, false);
    const b = await photoFrame(2, true);
    const refA = (await renderFrame({ ...a, timings: {} }, settings)).jpeg;
    const refB = (await renderFrame({ ...b, timings: {} }, settings)).jpeg;
    expect(Buffer.compare(refA, refB)).not.toBe(0);
    const stage = new RenderStage(() => settings);
    for (let i = 0; i < 3; i++) {
      expect(Buffer.compare((await stage.submit({ ...a, timings: {} }))!.jpeg, refA)).toBe(0);
      expect(Buffer.compare((await stage.submit({ ...b, timings: {} }))!.jpeg, refB)).toBe(0);
    }
    for (let i = 0; i < 3; i++) {
      const [ra, rb] = await Promise.all([stage.submit({ ...a, timings: {} }), stage.submit({ ...b, timings: {} })]);
      expect(Buffer.compare(ra!.jpeg, refA)).toBe(0);
      expect(Buffer.compare(rb!.jpeg, refB)).toBe(0);
    }
    // A third render while two are in flight is dropped, not queued.
    const three = await Promise.all([a, b, a].map((f) => stage.submit({ ...f, timings: {} })));
    expect(three.map((r) => r !== null)).toEqual([true, true, false]);
    expect(stage.dropped).toBe(1);
  });

  it('a failed render keeps its buffers out of the pool, and the stage renders on', async () => {
    const a = await photoFrame(1, false);
    const ref = (await renderFrame({ ...a, timings: {} }, settings)).jpeg;
    class CountingScratch extends ScratchBuffers {
      given = 0;
      override give(buf: Uint8Array): void {
        this.given++;
        super.give(buf);
      }
    }
    const scratch = new CountingScratch(4);
    // The overlay took its buffer, then refused the map: nothing goes back to the pool.
    const bad = { ...a, timings: {}, classMap: { data: new Uint8Array(3), width: 2, height: 2 } };
    await expect(renderFrame(bad, settings, scratch)).rejects.toThrow(/map/);
    expect(scratch.given).toBe(0);
    expect(Buffer.compare((await renderFrame({ ...a, timings: {} }, settings, scratch)).jpeg, ref)).toBe(0);
    expect(scratch.given).toBe(2);
    const missing = { ...a, timings: {}, classMap: undefined };
    await expect(renderFrame(missing, settings, scratch)).rejects.toThrow('frame 1: render needs a class map');
  });

  it('ScratchBuffers hands a buffer back only at its size, and keeps at most its limit', () => {
    const scratch = new ScratchBuffers(1);
    const x = scratch.take(100);
    const y = scratch.take(100);
    expect(x).not.toBe(y);
    scratch.give(x);
    scratch.give(y); // over the limit: dropped
    expect(scratch.take(200)).not.toBe(x);
    expect(scratch.take(100)).toBe(x);
    expect(scratch.take(100)).not.toBe(y);
  });

  it('streams baseline JPEGs without per-image Huffman optimisation, at the configured quality', async () => {
    expect(jpegOptions(80)).toEqual({ quality: 80, chromaSubsampling: '4:2:0', optimiseCoding: false });
    const a = await photoFrame(1, false);
    const meta = await sharp((await renderFrame(a, { ...settings, jpegQuality: 60 })).jpeg).metadata();
    expect([meta.format, meta.chromaSubsampling, meta.isProgressive]).toEqual(['jpeg', '4:2:0', false]);
  });
});
