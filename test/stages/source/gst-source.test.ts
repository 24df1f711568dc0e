import { once } from 'node:events';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildLaunch } from '../../../pipelines/index.ts';
import type { FrameContext } from '../../../server/stages/frame-context.ts';
import { GstSource, nv12Layout } from '../../../server/stages/source/gst-source.ts';
import { makeClip, tempDir } from '../../helpers/media.ts';
import { at } from '../../../server/util/checked-access.ts';

function collect(source: GstSource, n: number, timeoutMs = 20_000): Promise<FrameContext[]> {
  return new Promise((resolve, reject) => {
    const frames: FrameContext[] = [];
    const timer = setTimeout(() => reject(new Error(`only ${frames.length} of ${n} frames in ${timeoutMs} ms`)), timeoutMs);
    source.on('frame', (f) => {
      frames.push(f);
      if (frames.length === n) {
        clearTimeout(timer);
        resolve(frames);
      }
    });
    source.on('error', (e) => reject(e));
  });
}

describe('GstSource (real GStreamer)', () => {
  it('delivers stamped NV12 frames of the requested size with negotiated caps', async () => {
    const launch = buildLaunch('test', { kind: 'test', width: 320, height: 240, framerate: 30, live: false });
    const source = new GstSource({ name: 'test', launch });
    const capsSeen = once(source, 'caps');
    source.start();
    const frames = await collect(source, 5);
    source.stop();
    const [caps] = (await capsSeen) as [{ width: number; height: number; format: string; text: string }];
    expect(caps).toMatchObject({ width: 320, height: 240, format: 'NV12' });
    expect(caps.text).toContain('video/x-raw');
    expect(frames.map((f) => f.id)).toEqual([1, 2, 3, 4, 5]);
    for (const f of frames) {
      expect(f.image).toMatchObject({ width: 320, height: 240, strideY: 320, strideUV: 320, offsetUV: 320 * 240 });
      expect(f.image.data.length).toBe((320 * 240 * 3) / 2);
      expect(f.captureTime).toBeGreaterThan(Date.now() - 60_000);
    }
    // GStreamer's default colorimetry for SD NV12 with none in the caps.
    expect(source.colorModel).toEqual({ matrix: 'bt601', range: 'limited', origin: 'default' });
    // The pattern moves: consecutive frames differ.
    expect(Buffer.compare(Buffer.from(at(frames, 0, 'frames').image.data), Buffer.from(at(frames, 4, 'frames').image.data))).not.toBe(0);
  });

  it('handles widths GStreamer pads to 4-byte rows', async () => {
    const launch = buildLaunch('odd', { kind: 'test', width: 322, height: 242, live: false });
    const source = new GstSource({ name: 'odd', launch });
    source.start();
    const [frame] = await collect(source, 1);
    source.stop();
    expect(frame!.image).toMatchObject({ width: 322, height: 242, strideY: 324, strideUV: 324, offsetUV: 324 * 242 });
  });

  it('uses the colour model from config over the caps', async () => {
    const launch = buildLaunch('c', { kind: 'test', width: 64, height: 48, live: false });
    const source = new GstSource({ name: 'c', launch, colorOverride: { matrix: 'bt709', range: 'full' } });
    source.start();
    const [frame] = await collect(source, 1);
    source.stop();
    expect(frame!.color).toEqual({ matrix: 'bt709', range: 'full', origin: 'config' });
  });

  it('reports a missing file as an error naming the source', async () => {
    const launch = buildLaunch('gone', { kind: 'file', path: '/nonexistent/clip.mp4', width: 64, height: 48 });
    const source = new GstSource({ name: 'gone', launch });
    const failed = once(source, 'error');
    source.start();
    const [err] = (await failed) as [Error];
    expect(err.message).toMatch(/source "gone": GStreamer error from filesrc\d*: Resource not found/);
    expect(source.isRunning).toBe(false);
  });

  it('ends a file without loop, and loops it with loop', async () => {
    const dir = tempDir('clip');
    const clip = makeClip(path.join(dir, 'clip.avi'), 12, 160, 120);
    const once1 = new GstSource({ name: 'f', launch: buildLaunch('f', { kind: 'file', path: clip, width: 160, height: 120, realtime: false }) });
    let n = 0;
    once1.on('frame', () => n++);
    const ended = once(once1, 'eos');
    once1.start();
    await ended;
    expect(n).toBeGreaterThan(0);
    expect(n).toBeLessThanOrEqual(12);

    const looping = new GstSource({ name: 'f', launch: buildLaunch('f', { kind: 'file', path: clip, width: 160, height: 120, realtime: false }), loop: true });
    let eos = false;
    looping.on('eos', () => (eos = true));
    looping.start();
    const frames = await collect(looping, 30);
    looping.stop();
    expect(eos).toBe(false);
    expect(frames.length).toBe(30);
  });

  it('nv12Layout refuses buffers that fit no layout', () => {
    expect(nv12Layout(new Uint8Array(100), 64, 48)).toBeNull();
    expect(nv12Layout(new Uint8Array(64 * 72), 64, 48)).toMatchObject({ strideY: 64 });
  });
});
