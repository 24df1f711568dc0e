import { describe, expect, it } from 'vitest';
import type { SourceSpec } from '../../../pipelines/index.ts';
import { buildHello, type HelloFacts } from '../../../server/app/hello.ts';
import type { SourceCaps } from '../../../server/stages/source/gst-source.ts';
import { declaredInput } from '../../../server/stages/source/source-spec.ts';

function hello(spec: SourceSpec, caps: SourceCaps | null): ReturnType<typeof buildHello> {
  const facts: HelloFacts = {
    model: null,
    modelName: 'm',
    backend: 'onnx',
    source: { name: 's', spec, caps, colorimetry: '' },
    palette: new Uint8Array(3),
    postprocess: 'boundary',
    smoothing: 0,
    jpegQuality: 80,
    sourceNames: [],
    modelNames: [],
    controlsAvailable: false,
  };
  return buildHello(facts);
}

const CAPS: SourceCaps = { width: 1280, height: 720, format: 'NV12', framerate: '30/1', colorimetry: '', text: 'video/x-raw' };

describe('the source input picture', () => {
  it('declaredInput: a USB camera captured at another shape is letterboxed where videoscale puts it', () => {
    expect(declaredInput({ kind: 'usb', width: 1280, height: 720, captureWidth: 640, captureHeight: 480 })).toEqual({
      width: 640,
      height: 480,
      pixelAspectRatio: '1/1',
      rect: { x: 160, y: 0, width: 960, height: 720 },
    });
    expect(declaredInput({ kind: 'usb', width: 1280, height: 720, captureWidth: 640, captureHeight: 360 })?.rect).toEqual({ x: 0, y: 0, width: 1280, height: 720 });
    // Captured at the frame size, or a kind whose size only the pipeline knows (or that is the frame itself): none.
    expect(declaredInput({ kind: 'usb', width: 1280, height: 720 })).toBeNull();
    expect(declaredInput({ kind: 'test', width: 1280, height: 720 })).toBeNull();
    expect(declaredInput({ kind: 'file', path: '/x.png', width: 1280, height: 720 })).toBeNull();
    expect(declaredInput({ kind: 'x5-mipi', width: 1280, height: 720 })).toBeNull();
  });

  it('hello carries source.input from the probe, else from the spec, and leaves it out when neither knows', () => {
    const probed: SourceCaps = { ...CAPS, input: { width: 800, height: 600, pixelAspectRatio: '1/1', rect: { x: 160, y: 0, width: 960, height: 720 } } };
    expect(hello({ kind: 'file', path: '/x.png', width: 1280, height: 720 }, probed).source.input).toEqual({
      width: 800,
      height: 600,
      pixelAspectRatio: '1/1',
      picture: { x: 160, y: 0, width: 960, height: 720 },
    });
    expect(hello({ kind: 'usb', width: 1280, height: 720, captureWidth: 640, captureHeight: 480 }, CAPS).source.input?.picture).toEqual({ x: 160, y: 0, width: 960, height: 720 });
    const plain = hello({ kind: 'test', width: 1280, height: 720 }, CAPS).source;
    expect('input' in plain).toBe(false);
  });
});
