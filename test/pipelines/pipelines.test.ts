import { describe, expect, it } from 'vitest';
import { buildLaunch, fileKind, INPUT_PROBE_SINK_NAME, letterboxRect, PipelineSpecError } from '../../pipelines/index.ts';

const TAIL = 'appsink name=segstream_sink sync=false max-buffers=1 drop=true';

describe('named pipelines', () => {
  it('test: videotestsrc with a moving pattern, NV12 at the size, latest frame wins', () => {
    const s = buildLaunch('t', { kind: 'test', width: 640, height: 360, framerate: 15 });
    expect(s).toMatch(/^videotestsrc pattern=smpte is-live=true horizontal-speed=4 ! video\/x-raw,framerate=15\/1,width=640,height=360 ! /);
    expect(s).toContain('videoscale add-borders=true ! video/x-raw,format=NV12,width=640,height=360,pixel-aspect-ratio=1/1 ! ');
    expect(s.endsWith(TAIL)).toBe(true);
  });

  it('file, usb and rtsp pin square pixels, so videoscale letterboxes a source of another shape', () => {
    const SQUARE = 'video/x-raw,format=NV12,width=1280,height=720,pixel-aspect-ratio=1/1';
    expect(buildLaunch('f', { kind: 'file', path: '/x/v.mp4', width: 1280, height: 720 })).toContain(SQUARE);
    expect(buildLaunch('f', { kind: 'file', path: '/x/p.png', width: 1280, height: 720 })).toContain(SQUARE);
    expect(buildLaunch('f', { kind: 'file', path: '/x/%d.png', width: 1280, height: 720 })).toContain(SQUARE);
    expect(buildLaunch('u', { kind: 'usb', width: 1280, height: 720, captureWidth: 640, captureHeight: 480 })).toContain(SQUARE);
    expect(buildLaunch('r', { kind: 'rtsp', url: 'rtsp://cam/1', width: 1280, height: 720 })).toContain(SQUARE);
  });

  it('file and rtsp carry the input probe branch (their own size is known only once they run); the others do not', () => {
    const PROBE = `segstream_input_tee. ! queue leaky=downstream max-size-buffers=1 ! fakesink name=${INPUT_PROBE_SINK_NAME} sync=false async=false enable-last-sample=true`;
    expect(buildLaunch('f', { kind: 'file', path: '/x/v.mp4', width: 1280, height: 720 })).toContain(` ! tee name=segstream_input_tee ! videoconvert ! `);
    for (const spec of [
      { kind: 'file', path: '/x/v.mp4', width: 1280, height: 720 },
      { kind: 'file', path: '/x/p.png', width: 1280, height: 720 },
      { kind: 'file', path: '/x/%d.png', width: 1280, height: 720 },
      { kind: 'rtsp', url: 'rtsp://cam/1', width: 1280, height: 720 },
    ] as const) {
      expect(buildLaunch('p', spec).endsWith(PROBE)).toBe(true);
    }
    for (const spec of [
      { kind: 'test', width: 1280, height: 720 },
      { kind: 'usb', width: 1280, height: 720 },
      { kind: 'x5-mipi', width: 1280, height: 720 },
    ] as const) {
      expect(buildLaunch('p', spec)).not.toContain(INPUT_PROBE_SINK_NAME);
    }
  });

  it('letterboxRect: where a picture of another shape sits in the frame', () => {
    const frame = { width: 1280, height: 720 };
    expect(letterboxRect({ width: 800, height: 600, pixelAspectRatio: '1/1' }, frame)).toEqual({ x: 160, y: 0, width: 960, height: 720 });
    expect(letterboxRect({ width: 640, height: 360, pixelAspectRatio: '1/1' }, frame)).toEqual({ x: 0, y: 0, width: 1280, height: 720 });
    expect(letterboxRect({ width: 800, height: 400, pixelAspectRatio: '1/1' }, frame)).toEqual({ x: 0, y: 40, width: 1280, height: 640 });
    // Non-square pixels count: 720x576 at 16/15 is 768x576 on screen, 4:3.
    expect(letterboxRect({ width: 720, height: 576, pixelAspectRatio: '16/15' }, frame)).toEqual({ x: 160, y: 0, width: 960, height: 720 });
    // Anamorphic 16:9 in 4:3 storage fills a 16:9 frame.
    expect(letterboxRect({ width: 1440, height: 1080, pixelAspectRatio: '4/3' }, { width: 1920, height: 1080 })).toEqual({ x: 0, y: 0, width: 1920, height: 1080 });
    // Shapes that do not divide evenly, as videoscale 1.22 draws them (measured with gst-launch-1.0, NV12 1280x720):
    // the scaled side rounded down, the first bar rounded down to even.
    expect(letterboxRect({ width: 1001, height: 700, pixelAspectRatio: '1/1' }, frame)).toEqual({ x: 124, y: 0, width: 1029, height: 720 });
    expect(letterboxRect({ width: 702, height: 500, pixelAspectRatio: '1/1' }, frame)).toEqual({ x: 134, y: 0, width: 1010, height: 720 });
    expect(letterboxRect({ width: 1000, height: 501, pixelAspectRatio: '1/1' }, frame)).toEqual({ x: 0, y: 38, width: 1280, height: 641 });
  });

  it('file: video, image and image sequence pick different heads; paths are quoted', () => {
    const video = buildLaunch('f', { kind: 'file', path: '/data/a "b".mp4', width: 320, height: 240 });
    expect(video).toMatch(/^filesrc location="\/data\/a \\"b\\".mp4" ! decodebin ! /);
    expect(video).toContain('identity sync=true');
    expect(buildLaunch('f', { kind: 'file', path: '/x/p.png', width: 320, height: 240 })).toContain('imagefreeze');
    const seq = buildLaunch('f', { kind: 'file', path: '/x/f_%05d.jpg', width: 320, height: 240, framerate: 5 });
    expect(seq).toMatch(/^multifilesrc location="\/x\/f_%05d.jpg" loop=true caps="image\/jpeg,framerate=5\/1"/);
    expect(buildLaunch('f', { kind: 'file', path: '/x/v.mp4', width: 320, height: 240, realtime: false })).not.toContain('identity');
    expect(fileKind('/a/b.MP4')).toBe('video');
    expect(fileKind('/a/b.JPG')).toBe('image');
    expect(fileKind('/a/%d.png')).toBe('sequence');
  });

  it('usb: MJPEG by default, raw on request, device checked', () => {
    expect(buildLaunch('u', { kind: 'usb', device: '/dev/video2', width: 640, height: 480 })).toMatch(/^v4l2src device=\/dev\/video2 ! image\/jpeg,width=640,height=480,framerate=30\/1 ! jpegdec ! /);
    expect(buildLaunch('u', { kind: 'usb', width: 640, height: 480, format: 'raw', captureWidth: 1280, captureHeight: 720 })).toContain('video/x-raw,width=1280,height=720,framerate=30/1 ! videoconvert');
    expect(() => buildLaunch('u', { kind: 'usb', device: '/etc/passwd', width: 640, height: 480 })).toThrow(/source "u": device: expected a V4L2 device node like \/dev\/video0, got "\/etc\/passwd"/);
  });

  it('x5-mipi: a VSE channel asked for NV12 at the size; the pixel aspect ratio left open (videoscale passes through)', () => {
    const s = buildLaunch('m', { kind: 'x5-mipi', width: 512, height: 512 });
    expect(s).toMatch(/^v4l2src device=\/dev\/video8 io-mode=mmap ! video\/x-raw,format=NV12,width=512,height=512 ! /);
    expect(s).not.toContain('pixel-aspect-ratio');
  });

  it('rtsp: URL checked and quoted', () => {
    expect(buildLaunch('r', { kind: 'rtsp', url: 'rtsp://cam.local:554/stream1', width: 1280, height: 720, tcp: true })).toMatch(/^rtspsrc location="rtsp:\/\/cam.local:554\/stream1" latency=100 protocols=tcp ! decodebin ! /);
    expect(() => buildLaunch('r', { kind: 'rtsp', url: 'rtsp://x" ! filesink location=/tmp/p', width: 64, height: 64 })).toThrow(PipelineSpecError);
    expect(() => buildLaunch('r', { kind: 'rtsp', url: 'http://x', width: 64, height: 64 })).toThrow(/url: expected an rtsp:\/\/ or rtsps:\/\/ URL/);
  });

  it('refuses odd sizes, bad rates, unknown patterns and kinds with the field named', () => {
    expect(() => buildLaunch('t', { kind: 'test', width: 641, height: 360 })).toThrow(/source "t": width: expected an even integer from 16 to 7680/);
    expect(() => buildLaunch('t', { kind: 'test', width: 640, height: 8 })).toThrow(/height:/);
    expect(() => buildLaunch('t', { kind: 'test', width: 640, height: 360, framerate: 0 })).toThrow(/framerate: expected an integer from 1 to 240, got 0/);
    expect(() => buildLaunch('t', { kind: 'test', width: 640, height: 360, pattern: 'x ! filesink' })).toThrow(/pattern: expected one of/);
    expect(() => buildLaunch('f', { kind: 'file', path: 'relative.mp4', width: 640, height: 360 })).toThrow(/path: expected an absolute path/);
    expect(() => buildLaunch('f', { kind: 'file', path: '/a\nb.mp4', width: 640, height: 360 })).toThrow(/control characters/);
    expect(() => buildLaunch('k', { kind: 'nope' } as never)).toThrow(/kind: expected one of test, file, usb, x5-mipi, rtsp/);
  });
});
