/**
 * Aspect ratio through real GStreamer: a 4:3 picture (an 800x600 PNG, and a 640x480 clip) through the `file`
 * pipeline to 1280x720 is scaled to fit, 960x720, between black bars; a disc stays a disc. The same picture
 * through the tail with the pixel aspect ratio left open comes out stretched, which shows the measurement can
 * tell the two apart.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { APPSINK_NAME, buildLaunch, INPUT_PROBE_SINK_NAME, type SourceSpec } from '../../pipelines/index.ts';
import { nv12Tail } from '../../pipelines/common.ts';
import type { Nv12Image } from '../../server/stages/frame-context.ts';
import { GstSource, type SourceCaps } from '../../server/stages/source/gst-source.ts';
import { makeDiscPng, makeStillClip, tempDir } from '../helpers/media.ts';

const OUT = { width: 1280, height: 720 };
// Limited-range black, what videoscale writes into the bars of NV12 with the default (limited) colorimetry.
const BLACK = { y: 16, uv: 128 };

/** The first frame, and the caps once they say what the input was (or after a few frames, for sources without the probe). */
function firstFrame(name: string, launch: string): Promise<Nv12Image & { caps: SourceCaps }> {
  const source = new GstSource({ name, launch });
  return new Promise((resolve, reject) => {
    let first: Nv12Image | null = null;
    let frames = 0;
    const done = (): void => {
      if (!first || !source.caps || (!source.caps.input && frames < 5)) return;
      void source.stop();
      resolve({ ...first, caps: source.caps });
    };
    source.on('frame', (frame) => {
      first ??= frame.image;
      frames++;
      done();
    });
    source.on('caps', done);
    source.on('error', reject);
    source.start();
  });
}

interface Measured {
  /** Columns [first, last] of the picture region on the middle row (anything that is not bar black). */
  pictureColumns: [number, number];
  /** Rows [first, last] of the picture region on the middle column. */
  pictureRows: [number, number];
  /** Every luma sample left and right of the picture region is bar black; likewise every chroma pair. */
  barsBlack: boolean;
  /** Bounding box of the bright disc (luma above the middle of background and disc). */
  disc: { width: number; height: number; cx: number; cy: number };
}

function measure(image: Nv12Image, threshold: number): Measured {
  const { data, width, height, strideY, strideUV, offsetUV } = image;
  const y = (col: number, row: number): number => data[row * strideY + col]!;
  const mid = height >> 1;
  const isBar = (v: number): boolean => v === BLACK.y;
  let left = 0;
  while (left < width && isBar(y(left, mid))) left++;
  let right = width - 1;
  while (right >= 0 && isBar(y(right, mid))) right--;
  let top = 0;
  while (top < height && isBar(y(width >> 1, top))) top++;
  let bottom = height - 1;
  while (bottom >= 0 && isBar(y(width >> 1, bottom))) bottom--;

  let barsBlack = true;
  for (let row = 0; row < height && barsBlack; row++) {
    for (let col = 0; col < width; col++) {
      if (col >= left && col <= right) continue;
      if (y(col, row) !== BLACK.y) barsBlack = false;
    }
  }
  for (let row = 0; row < height / 2 && barsBlack; row++) {
    for (let col = 0; col < width; col += 2) {
      if (col >= left && col <= right) continue;
      const at = offsetUV + row * strideUV + col;
      if (data[at] !== BLACK.uv || data[at + 1] !== BLACK.uv) barsBlack = false;
    }
  }

  let [x0, x1, y0, y1] = [width, -1, height, -1];
  for (let row = 0; row < height; row++) {
    for (let col = 0; col < width; col++) {
      if (y(col, row) > threshold) {
        x0 = Math.min(x0, col);
        x1 = Math.max(x1, col);
        y0 = Math.min(y0, row);
        y1 = Math.max(y1, row);
      }
    }
  }
  return {
    pictureColumns: [left, right],
    pictureRows: [top, bottom],
    barsBlack,
    disc: { width: x1 - x0 + 1, height: y1 - y0 + 1, cx: (x0 + x1 + 1) / 2, cy: (y0 + y1 + 1) / 2 },
  };
}

const gst = createRequire(import.meta.url)('gstreamer-superficial') as {
  Pipeline: new (launch: string) => { findChild(name: string): unknown };
};

// Background grey 128 and white 255 in full range come out near 126 and 235 in limited-range luma.
const DISC_THRESHOLD = 180;

describe('aspect ratio (real GStreamer, file pipeline)', () => {
  let png = '';
  let clip = '';
  beforeAll(() => {
    const dir = tempDir('aspect');
    // 800x600 with a disc of radius 200: scaled by 720/600 = 1.2 it is 480 across in a 960x720 picture.
    png = makeDiscPng(path.join(dir, 'disc-800x600.png'), 800, 600, 200);
    // 640x480 with a disc of radius 160: scaled by 1.5, also 480 across.
    clip = makeStillClip(path.join(dir, 'disc-640x480.avi'), makeDiscPng(path.join(dir, 'disc-640x480.png'), 640, 480, 160));
  });

  for (const [label, file, input] of [
    ['an 800x600 PNG', () => png, { width: 800, height: 600 }],
    ['a 640x480 clip', () => clip, { width: 640, height: 480 }],
  ] as const) {
    it(`${label} is letterboxed into 1280x720: black bars left and right, a 960x720 picture, the disc round`, async () => {
      const launch = buildLaunch('aspect', { kind: 'file', path: file(), ...OUT, realtime: false });
      const image = await firstFrame('aspect', launch);
      expect(image).toMatchObject(OUT);
      // The input probe reports the source's own size, and where the picture sits (as measured below).
      expect(image.caps.input).toEqual({ ...input, pixelAspectRatio: '1/1', rect: { x: 160, y: 0, width: 960, height: 720 } });
      const m = measure(image, DISC_THRESHOLD);
      expect(m.pictureColumns).toEqual([160, 1119]);
      expect(m.pictureRows).toEqual([0, 719]);
      expect(m.barsBlack).toBe(true);
      // A disc 480 across, give or take the edge the scaler blends (and the clip's JPEG).
      expect(Math.abs(m.disc.width - 480)).toBeLessThanOrEqual(4);
      expect(Math.abs(m.disc.height - 480)).toBeLessThanOrEqual(4);
      expect(Math.abs(m.disc.width - m.disc.height)).toBeLessThanOrEqual(2);
      expect(m.disc.cx).toBeCloseTo(640, -1);
      expect(m.disc.cy).toBeCloseTo(360, -1);
    });
  }

  it('with the pixel aspect ratio left open the same PNG fills the frame and the disc is an ellipse', async () => {
    const launch = `filesrc location="${png}" ! decodebin ! videoconvert ! imagefreeze is-live=false ! ${nv12Tail(OUT, { keepAspect: false })}`;
    const m = measure(await firstFrame('stretched', launch), DISC_THRESHOLD);
    expect(m.pictureColumns).toEqual([0, 1279]);
    expect(m.barsBlack).toBe(true); // vacuously: there are no bars
    // 400 px across scaled by 1280/800 = 1.6 wide and 720/600 = 1.2 high.
    expect(Math.abs(m.disc.width - 640)).toBeLessThanOrEqual(4);
    expect(Math.abs(m.disc.height - 480)).toBeLessThanOrEqual(4);
  });

  it('the bars are Y=16, U=V=128 whatever the range: black in limited range, near-black (16/255) in full range', async () => {
    // A full-range 4:3 picture (as jpegdec delivers MJPEG): videoconvert keeps the range, videoscale (1.22) still
    // fills the bars with limited-range black.
    const launch = `videotestsrc pattern=smpte ! video/x-raw,width=640,height=480 ! videoconvert ! video/x-raw,format=I420,colorimetry=1:4:0:0 ! ${nv12Tail(OUT)}`;
    const image = await firstFrame('full', launch);
    expect(image.caps.colorimetry).toBe('1:4:0:0');
    const m = measure(image, 255);
    expect(m.pictureColumns).toEqual([160, 1119]);
    expect(m.barsBlack).toBe(true);
  });

  it('a 16:9 source at the output size passes with no bars', async () => {
    const launch = buildLaunch('wide', { kind: 'test', pattern: 'colors', ...OUT, live: false });
    const m = measure(await firstFrame('wide', launch), 255);
    expect(m.pictureColumns).toEqual([0, 1279]);
    expect(m.pictureRows).toEqual([0, 719]);
  });

  it('a wider source gets bars above and below, where the reported rectangle says', async () => {
    const dir = tempDir('aspect-wide');
    // 2:1 into 16:9: 1280x640 between bars of 40 rows.
    const wide = makeDiscPng(path.join(dir, 'disc-800x400.png'), 800, 400, 150);
    const image = await firstFrame('wide', buildLaunch('wide', { kind: 'file', path: wide, ...OUT, realtime: false }));
    expect(image.caps.input?.rect).toEqual({ x: 0, y: 40, width: 1280, height: 640 });
    const m = measure(image, DISC_THRESHOLD);
    expect(m.pictureColumns).toEqual([0, 1279]);
    expect(m.pictureRows).toEqual([40, 679]);
    expect(Math.abs(m.disc.width - m.disc.height)).toBeLessThanOrEqual(2);
  });

  it('shapes that do not divide evenly: the reported rectangle is where videoscale drew the picture', async () => {
    const dir = tempDir('aspect-odd');
    for (const [w, h] of [
      [1001, 700],
      [702, 500],
      [1000, 501],
    ] as const) {
      const file = makeDiscPng(path.join(dir, `disc-${w}x${h}.png`), w, h, 100);
      const image = await firstFrame('odd', buildLaunch('odd', { kind: 'file', path: file, ...OUT, realtime: false }));
      const rect = image.caps.input!.rect;
      const m = measure(image, DISC_THRESHOLD);
      expect([m.pictureColumns, m.pictureRows]).toEqual([
        [rect.x, rect.x + rect.width - 1],
        [rect.y, rect.y + rect.height - 1],
      ]);
      expect(m.barsBlack).toBe(true);
    }
  });

  it("every named pipeline is accepted by GStreamer's parser; file and rtsp with the input probe", () => {
    // Devices and servers are opened only when a pipeline starts, so the camera and RTSP ones build here too.
    const specs: [SourceSpec, boolean][] = [
      [{ kind: 'test', ...OUT }, false],
      [{ kind: 'file', path: png, ...OUT }, true],
      [{ kind: 'file', path: clip, ...OUT }, true],
      [{ kind: 'file', path: '/x/f_%05d.png', ...OUT }, true],
      [{ kind: 'usb', ...OUT, captureWidth: 640, captureHeight: 480 }, false],
      [{ kind: 'usb', ...OUT, format: 'raw' }, false],
      [{ kind: 'x5-mipi', ...OUT }, false],
      [{ kind: 'rtsp', url: 'rtsp://127.0.0.1:1/none', ...OUT }, true],
    ];
    for (const [spec, probed] of specs) {
      const pipeline = new gst.Pipeline(buildLaunch('parse', spec));
      expect(pipeline.findChild(APPSINK_NAME)).toBeTruthy();
      expect(Boolean(pipeline.findChild(INPUT_PROBE_SINK_NAME))).toBe(probed);
    }
  });
});
