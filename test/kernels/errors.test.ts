// Bad arguments give specific errors (which argument, what was expected, what was given) and never crash.
import { describe, expect, it } from 'vitest';
import * as k from '../../server/kernels/index.ts';
import { checkModes, native } from '../../server/kernels/native.ts';
import { POSTPROCESS_MODES } from '../../server/protocol/index.ts';

const MEAN: [number, number, number] = [0.485, 0.456, 0.406];
const STD: [number, number, number] = [0.229, 0.224, 0.225];
const color = { matrix: 'bt601', range: 'limited' } as const;
const nv12 = (w: number, h: number, bytes = (w * h * 3) / 2) => ({ data: new Uint8Array(bytes), width: w, height: h, strideY: w, strideUV: w, offsetUV: w * h });
const tensorOpts = { width: 8, height: 8, mean: MEAN, std: STD, color };

describe('argument errors', () => {
  it('NV12 buffer too short: sharp-style message with the geometry and the byte count', () => {
    expect(() => k.nv12ToTensor(nv12(640, 480, 1000), tensorOpts)).toThrow(
      'nv12ToTensor: image.data: expected at least 460800 bytes (640x480 NV12, strideY 640, strideUV 640), got a Uint8Array of length 1000',
    );
    const strided = { ...nv12(64, 32), strideY: 80, offsetUV: 80 * 32, data: new Uint8Array(100) };
    expect(() => k.nv12ToRgb(strided, { color })).toThrow('nv12ToRgb: image.data: expected at least 3584 bytes (64x32 NV12, strideY 80, strideUV 64), got a Uint8Array of length 100');
  });

  it('odd and zero NV12 sizes', () => {
    expect(() => k.nv12ToTensor(nv12(641, 480), tensorOpts)).toThrow('nv12ToTensor: image.width: expected an even integer from 2 to 16384 (NV12 has 2x2 chroma), got 641');
    expect(() => k.resizeNv12(nv12(64, 0), 32, 32)).toThrow('resizeNv12: image.height: expected an even integer from 2 to 16384 (NV12 has 2x2 chroma), got 0');
    expect(() => k.resizeNv12(nv12(64, 64), 33, 32)).toThrow('resizeNv12: outWidth: expected an even integer');
    expect(() => k.rgbToNv12(new Uint8Array(27), 3, 3, color)).toThrow('rgbToNv12: width: expected an even integer');
  });

  it('strides and plane offsets', () => {
    expect(() => k.nv12ToRgb({ ...nv12(64, 32), strideY: 60 }, { color })).toThrow('nv12ToRgb: image.strideY: expected an integer from 64 to 65536, got 60');
    expect(() => k.nv12ToRgb({ ...nv12(64, 32), offsetUV: 100 }, { color })).toThrow('nv12ToRgb: image.offsetUV: expected at least 2048, where the Y plane ends (64x32, strideY 64), got 100');
    expect(() => k.nv12ToRgb({ ...nv12(64, 32), data: new Float32Array(10) as unknown as Uint8Array }, { color })).toThrow('nv12ToRgb: image.data: expected a Uint8Array (or Buffer), got a Float32Array of length 10');
  });

  it('colour model, options and output buffers', () => {
    expect(() => k.nv12ToTensor(nv12(8, 8), { ...tensorOpts, color: { matrix: 'bt2020', range: 'full' } as never })).toThrow("nv12ToTensor: opts.color.matrix: expected one of 'bt601', 'bt709', got \"bt2020\"");
    expect(() => k.nv12ToTensor(nv12(8, 8), { ...tensorOpts, chroma: 'cubic' as never })).toThrow("nv12ToTensor: opts.chroma: expected one of 'nearest', 'bilinear', got \"cubic\"");
    expect(() => k.rgbToTensor(new Uint8Array(12), 2, 2, { width: 8, height: 8, mean: MEAN, std: [1, 0, 1] })).toThrow('rgbToTensor: opts.std[1]: expected a number other than 0, got 0');
    expect(() => k.rgbToTensor(new Uint8Array(12), 2, 2, { width: 8, height: 8, mean: [1, 2] as never, std: STD })).toThrow('rgbToTensor: opts.mean: expected 3 entries (one per channel), got an array of length 2');
    expect(() => k.rgbToTensor(new Uint8Array(12), 2, 2, { width: 8, height: 8, mean: MEAN, std: STD, out: new Float32Array(5) })).toThrow('rgbToTensor: opts.out: expected 192 elements (a 3x8x8 tensor), got a Float32Array of length 5');
    expect(() => k.rgbToTensor(new Uint8Array(12), 2, 2, { width: 8, height: 8, mean: MEAN, std: STD, layout: 'CHW' as never })).toThrow("rgbToTensor: opts.layout: expected one of 'NCHW', 'NHWC', got \"CHW\"");
    expect(() => k.rgbToTensor(new Uint8Array(11), 2, 2, { width: 8, height: 8, mean: MEAN, std: STD })).toThrow('rgbToTensor: rgb: expected 12 bytes (2x2 RGB), got a Uint8Array of length 11');
    expect(() => k.resizeRgb(new Uint8Array(12), 2, 2, 0, 5)).toThrow('resizeRgb: outWidth: expected an integer from 1 to 16384, got 0');
    expect(() => k.resizeRgb(new Uint8Array(12), 2, 2, 4, 4.5)).toThrow('resizeRgb: outHeight: expected an integer from 1 to 16384, got 4.5');
  });

  it('argmax: lengths, layouts, quantisation', () => {
    const base = { layout: 'NCHW' as const, classes: 4, height: 3, width: 5, mode: 'lowres' as const };
    expect(() => k.argmax(new Float32Array(59), base)).toThrow('argmax: logits: expected 60 elements (NCHW, 4 classes x 3x5), got a Float32Array of length 59');
    expect(() => k.argmax(new Float64Array(60) as never, base)).toThrow('argmax: logits: expected a Float32Array, Int8Array, Int16Array or Int32Array, got a Float64Array of length 60');
    expect(() => k.argmax(new Float32Array(60), { ...base, mode: 'bicubic' as never })).toThrow("argmax: opts.mode: expected one of 'boundary', 'exact', 'lowres', got \"bicubic\"");
    expect(() => k.argmax(new Float32Array(60), { ...base, scales: [1] })).toThrow('argmax: opts.scales: applies to integer logits only');
    expect(() => k.argmax(new Int8Array(60), { ...base, scales: [1, 2] })).toThrow('argmax: opts.scales: expected 1 (per tensor) or 4 (per class) entries, got an array of length 2');
    expect(() => k.argmax(new Int8Array(60), { ...base, scales: [1, 2, -1, 1] })).toThrow('argmax: opts.scales[2]: expected a finite number > 0, got -1');
    expect(() => k.argmax(new Int8Array(60), { ...base, zeroPoints: [0.5] })).toThrow('argmax: opts.zeroPoints[0]: expected an integer');
    expect(() => k.argmax(new Int8Array(60), { ...base, outWidth: 0 })).toThrow('argmax: opts.outWidth: expected an integer from 1 to 16384, got 0');
  });

  it('overlay and class maps', () => {
    const map = { data: new Uint8Array(4), width: 2, height: 2 };
    expect(() => k.overlayRgb(new Uint8Array(12), 2, 2, map, new Uint8Array(4), { opacity: 0.5 })).toThrow('overlayRgb: palette: expected 3 bytes (RGB) per class, got a Uint8Array of length 4');
    expect(() => k.overlayRgb(new Uint8Array(12), 2, 2, map, new Uint8Array(6), { opacity: 1.5 })).toThrow('overlayRgb: opts.opacity: expected a number from 0 to 1, got 1.5');
    expect(() => k.overlayRgb(new Uint8Array(12), 2, 2, map, new Uint8Array(6), { opacity: 1, highlight: 2 })).toThrow('overlayRgb: opts.highlight: expected an integer from 0 to 1, got 2');
    expect(() => k.overlayRgb(new Uint8Array(12), 2, 2, map, new Uint8Array(6), { opacity: 1, hidden: [7] })).toThrow('overlayRgb: opts.hidden[0]: expected an integer from 0 to 1, got 7');
    expect(() => k.overlayNv12(nv12(2, 2), { data: new Uint8Array(3), width: 2, height: 2 }, new Uint8Array(6), { opacity: 1 })).toThrow('overlayNv12: map.data: expected 4 entries (a 2x2 class map), got a Uint8Array of length 3');
    expect(() => k.resizeClassMap({ data: new Int8Array(4) as never, width: 2, height: 2 }, 4, 4)).toThrow('resizeClassMap: map.data: expected a Uint8Array or Uint16Array, got an Int8Array of length 4');
  });

  it('async forms reject synchronously-detected bad arguments with the same messages', async () => {
    await expect(k.nv12ToTensorAsync(nv12(640, 480, 1000), tensorOpts)).rejects.toThrow('nv12ToTensorAsync: image.data: expected at least 460800 bytes');
    await expect(k.argmaxAsync(new Float32Array(1), { layout: 'NCHW', classes: 2, height: 1, width: 1, mode: 'exact' })).rejects.toThrow('argmaxAsync: logits: expected 2 elements');
  });

  it('the native layer itself refuses short buffers instead of reading past them', () => {
    const n = native();
    expect(() => n.nv12ToTensor({ data: new Uint8Array(10), width: 64, height: 64, strideY: 64, strideUV: 64, offsetUV: 4096, outW: 8, outH: 8, mean: MEAN, std: STD, out: new Float32Array(192) } as never)).toThrow(/segstream_kernels: data has 10 bytes, needs/);
    expect(() => n.argmax({ logits: new Float32Array(3), classes: 2, height: 2, width: 2, mode: 'lowres', outW: 2, outH: 2, map: new Uint8Array(4), histogram: new Uint32Array(2) } as never)).toThrow('segstream_kernels: logits are too short');
    expect(() => n.resizeRgb({ rgb: new Uint8Array(12), width: 2, height: 2, out: new Uint8Array(2), outW: 4, outH: 4 } as never)).toThrow(/out has 2 bytes/);
    expect(() => n.rgbToTensor('nope' as never)).toThrow('segstream_kernels: expected an options object');
  });

  it('post-processing modes are passed by name, and the addon knows exactly the protocol\'s modes', () => {
    const n = native();
    expect([...n.postprocessModes].sort()).toEqual([...POSTPROCESS_MODES].sort());
    const args = { logits: new Float32Array(8), classes: 2, height: 2, width: 2, outW: 2, outH: 2, map: new Uint8Array(4), histogram: new Uint32Array(2) };
    // A mode index (what the addon took before) or an unknown name is refused by the C++ side itself.
    expect(() => n.argmax({ ...args, mode: 2 } as never)).toThrow('segstream_kernels: option mode must be a post-processing mode name');
    expect(() => n.argmax({ ...args, mode: 'nearest' } as never)).toThrow('segstream_kernels: option mode must be a post-processing mode name');
    for (const mode of POSTPROCESS_MODES) expect(() => n.argmax({ ...args, mode } as never)).not.toThrow();
    expect(() => checkModes(['lowres', 'exact'], 'old.node')).toThrow(
      'segstream kernels: old.node knows post-processing modes [lowres, exact], expected [boundary, exact, lowres]; rebuild it (npx node-gyp rebuild)',
    );
  });
});
