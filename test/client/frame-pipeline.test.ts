/**
 * FramePipeline: the class map is inflated only when the view needs it, on demand otherwise, always while
 * smoothing. Node's own DecompressionStream inflates what node:zlib deflated; the JPEG decode is stubbed (Node has
 * no createImageBitmap), and each stub bitmap records that it was closed.
 */
import { deflateRawSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeFrameMessage, type FrameHeader } from '../../server/protocol/index.ts';
import { FramePipeline, type DecodedFrame } from '../../client/src/lib/frame-pipeline.ts';

const WIDTH = 8;
const HEIGHT = 4;

function message(id: number, overlaid: boolean, ids: Uint8Array): ArrayBuffer {
  const bytes = encodeFrameMessage(
    {
      type: 'frame', id, captureTime: 0, width: 16, height: 8, overlaid,
      classMap: { width: WIDTH, height: HEIGHT, bytesPerPixel: 1, encoding: 'deflate-raw' },
      stages: {}, classes: [[ids[0]!, ids.length]], dropped: { inferenceBusy: 0, renderBusy: 0 }, smoothing: 0,
    },
    new Uint8Array([0xff, 0xd8, 0xff, 0xd9]),
    deflateRawSync(ids),
  );
  return bytes.slice().buffer;
}

function mapOf(value: number): Uint8Array {
  return new Uint8Array(WIDTH * HEIGHT).fill(value);
}

/** Pushes one message and resolves with the frame the pipeline hands over. */
function decodeOne(pipeline: FramePipeline, frames: DecodedFrame[], data: ArrayBuffer): Promise<DecodedFrame> {
  const before = frames.length;
  pipeline.push(data, 0);
  return new Promise((resolve, reject) => {
    const poll = setInterval(() => {
      if (frames.length > before) {
        clearInterval(poll);
        resolve(frames[frames.length - 1]!);
      }
    }, 1);
    setTimeout(() => {
      clearInterval(poll);
      reject(new Error('no frame'));
    }, 5000);
  });
}

const original = (globalThis as { createImageBitmap?: unknown }).createImageBitmap;
beforeEach(() => {
  (globalThis as { createImageBitmap?: unknown }).createImageBitmap = async () => ({ width: 16, height: 8, close() {} });
});
afterEach(() => {
  (globalThis as { createImageBitmap?: unknown }).createImageBitmap = original;
});

describe('FramePipeline class maps', () => {
  it('leaves the map compressed when the view does not show it, and inflates it once on demand', async () => {
    const frames: DecodedFrame[] = [];
    const asked: FrameHeader[] = [];
    const pipeline = new FramePipeline({ onFrame: (f) => frames.push(f), onError: (m) => { throw new Error(m); }, needsClassMap: (h) => (asked.push(h), !h.overlaid) });
    const lazy = await decodeOne(pipeline, frames, message(1, true, mapOf(7)));
    expect(asked.map((h) => h.id)).toEqual([1]);
    expect(lazy.classMap).toBeNull();
    const first = lazy.loadClassMap();
    expect(lazy.loadClassMap()).toBe(first);
    const map = await first;
    expect(lazy.classMap).toBe(map);
    expect({ width: map.width, height: map.height }).toEqual({ width: WIDTH, height: HEIGHT });
    expect(Array.from(map.ids)).toEqual(Array.from(mapOf(7)));

    const eager = await decodeOne(pipeline, frames, message(2, false, mapOf(3)));
    expect(Array.from(eager.classMap!.ids)).toEqual(Array.from(mapOf(3)));
    expect(await eager.loadClassMap()).toBe(eager.classMap);
  });

  it('inflates every map while smoothing, whatever the view needs, and votes over them', async () => {
    const frames: DecodedFrame[] = [];
    const pipeline = new FramePipeline({ onFrame: (f) => frames.push(f), onError: (m) => { throw new Error(m); }, needsClassMap: () => false });
    pipeline.setSmoothing(3);
    await decodeOne(pipeline, frames, message(1, true, mapOf(5)));
    await decodeOne(pipeline, frames, message(2, true, mapOf(5)));
    const third = await decodeOne(pipeline, frames, message(3, true, mapOf(9)));
    expect(third.smoothing).toBe(3);
    // Two of the last three maps say 5.
    expect(Array.from(third.classMap!.ids)).toEqual(Array.from(mapOf(5)));
    expect(third.classes).toEqual([[5, WIDTH * HEIGHT]]);
  });

  it('reports a corrupt map when it is finally inflated', async () => {
    const frames: DecodedFrame[] = [];
    const pipeline = new FramePipeline({ onFrame: (f) => frames.push(f), onError: () => undefined, needsClassMap: () => false });
    const data = new Uint8Array(message(1, true, mapOf(1)));
    const header = JSON.parse(new TextDecoder().decode(data.subarray(4, 4 + new DataView(data.buffer).getUint32(0, true)))) as FrameHeader;
    data.fill(0xff, header.classMap.offset, header.classMap.offset + header.classMap.length); // not deflate data
    const frame = await decodeOne(pipeline, frames, data.buffer);
    await expect(frame.loadClassMap()).rejects.toThrow();
    expect(frame.classMap).toBeNull();
  });
});
