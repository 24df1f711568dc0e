/**
 * Frame memory goes back to the source thread: a released frame's buffer is moved out of this thread (detached
 * here), the real GStreamer pipeline keeps delivering whole, changing frames, and frames that are not released still
 * arrive (the thread allocates when it has nothing to reuse).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { buildLaunch } from '../../../pipelines/index.ts';
import type { FrameContext } from '../../../server/stages/frame-context.ts';
import { releaseSourceThread, ThreadedSource } from '../../../server/stages/source/source-thread.ts';

function frames(source: ThreadedSource, count: number, release: boolean): Promise<{ bytes: number; detached: boolean; sum: number }[]> {
  return new Promise((resolve, reject) => {
    const got: { bytes: number; detached: boolean; sum: number }[] = [];
    source.on('error', reject);
    source.on('frame', (ctx: FrameContext) => {
      const data = ctx.image.data;
      let sum = 0;
      for (let i = 0; i < data.length; i += 97) sum += data[i] as number;
      const bytes = data.byteLength;
      if (release) ctx.releaseImage?.();
      got.push({ bytes, detached: data.byteLength === 0, sum });
      if (got.length === count) resolve(got);
    });
  });
}

describe('source thread: frame buffers recycled', () => {
  afterAll(() => releaseSourceThread(5000));

  it('a released frame is moved back; frames keep coming whole and changing', async () => {
    const source = new ThreadedSource({ name: 'test', launch: buildLaunch('test', { kind: 'test', width: 320, height: 240, framerate: 30, live: false }) });
    source.start();
    try {
      const got = await frames(source, 40, true);
      expect(got.every((f) => f.bytes === (320 * 240 * 3) / 2)).toBe(true);
      expect(got.every((f) => f.detached)).toBe(true);
      expect(new Set(got.map((f) => f.sum)).size).toBeGreaterThan(10);
    } finally {
      await source.stop();
    }
  });

  it('frames nobody releases stay readable here', async () => {
    const source = new ThreadedSource({ name: 'test', launch: buildLaunch('test', { kind: 'test', width: 320, height: 240, framerate: 30, live: false }) });
    source.start();
    try {
      const got = await frames(source, 10, false);
      expect(got.every((f) => f.bytes === (320 * 240 * 3) / 2 && !f.detached)).toBe(true);
    } finally {
      await source.stop();
    }
  });
});
