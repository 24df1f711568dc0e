/**
 * The RDK X5 two-channel camera pipeline: one VSE scaler channel at the preview size for viewers, another at the
 * model's input size for the BPU (no CPU resize). It cannot run here (no X5 camera); what is checked is the
 * description, and that GStreamer's own parser builds it with both appsinks (v4l2src opens its device only when
 * the pipeline starts).
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { APPSINK_NAME, buildLaunch } from '../../../../pipelines/index.ts';
import { validateConfig } from '../../../../server/app/config.ts';
import { MODEL_APPSINK_NAME, x5MipiDualLaunch } from '../../../../pipelines/x5-mipi.ts';

const gst = createRequire(import.meta.url)('gstreamer-superficial') as {
  Pipeline: new (launch: string) => { findChild(name: string): unknown };
};

describe('x5MipiDualLaunch', () => {
  const launch = x5MipiDualLaunch('cam', { kind: 'x5-mipi', device: '/dev/video8', width: 1280, height: 720 }, { device: '/dev/video9', width: 512, height: 512 });

  it('describes a 1280x720 preview channel and a 512x512 model channel of the same camera', () => {
    expect(launch).toMatch(/^v4l2src device=\/dev\/video8 io-mode=mmap ! video\/x-raw,format=NV12,width=1280,height=720 ! .*appsink name=segstream_sink /);
    expect(launch).toMatch(
      / {2}v4l2src device=\/dev\/video9 io-mode=mmap ! video\/x-raw,format=NV12,width=512,height=512 ! appsink name=segstream_model_sink sync=false max-buffers=1 drop=true$/,
    );
  });

  it("is accepted by GStreamer's parser, with both appsinks", () => {
    const pipeline = new gst.Pipeline(launch);
    expect(pipeline.findChild(APPSINK_NAME)).toBeTruthy();
    expect(pipeline.findChild(MODEL_APPSINK_NAME)).toBeTruthy();
  });

  it('is what buildLaunch makes of an x5-mipi source with a modelChannel', () => {
    expect(buildLaunch('cam', { kind: 'x5-mipi', device: '/dev/video8', width: 1280, height: 720, modelChannel: { device: '/dev/video9', width: 512, height: 512 } })).toBe(launch);
  });

  it('config: sources.<name>.modelChannel is validated with the field named', () => {
    const cfg = (modelChannel: unknown) => validateConfig({ sources: { cam: { kind: 'x5-mipi', width: 1280, height: 720, modelChannel } }, defaultSource: 'cam' }, 'c.yaml', '/');
    expect(cfg({ device: '/dev/video9', width: 512, height: 512 }).sources.cam!.spec).toMatchObject({ modelChannel: { device: '/dev/video9', width: 512, height: 512 } });
    expect(() => cfg({ device: '/dev/video8', width: 512, height: 512 })).toThrow(/c\.yaml: sources\.cam\.modelChannel\.device: must be another VSE channel/);
    expect(() => cfg('/dev/video9')).toThrow(/sources\.cam\.modelChannel: expected an object \{ device, width, height \}, got "\/dev\/video9"/);
    expect(() => cfg({ device: '/dev/video9', width: 512, height: 512, fps: 30 })).toThrow(/sources\.cam\.modelChannel: unknown field "fps"/);
  });

  it.each([
    ['the same channel twice', '/dev/video8', 512, /modelChannel\.device: must be another VSE channel than the preview's \/dev\/video8/],
    ['a channel of the other camera', '/dev/video14', 512, /\/dev\/video8 and \/dev\/video14 must be VSE channels of the same camera/],
    ['the ISP node', '/dev/video4', 512, /must be VSE channels of the same camera \(\/dev\/video8-13 for CSI0/],
    ['a size below the VSE minimum', '/dev/video9', 32, /modelChannel: the VSE scales to at least 64x64, got 32x32/],
    ['a device that is not a V4L2 node', '/dev/sda', 512, /modelChannel\.device: expected a V4L2 device node like \/dev\/video0, got "\/dev\/sda"/],
    ['an odd model size', '/dev/video9', 511, /modelChannel\.width: expected an even integer/],
  ])('refuses %s', (_label, device, size, message) => {
    expect(() => x5MipiDualLaunch('cam', { kind: 'x5-mipi', width: 1280, height: 720 }, { device, width: size, height: size })).toThrow(message);
  });
});
