/**
 * Small ONNX models for the quantizer's tests, built with the project's TypeScript builder, and flat-colour
 * test images (no near-ties between classes, so agreement measures quantization, not boundary noise).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { OnnxGraphBuilder, attr } from '../../../server/model/onnx/builder.ts';
import { at } from '../../../server/util/checked-access.ts';

const FLOAT = 1;
const f32 = (dims: number[], values: number[]) => ({ type: 'float32' as const, dims, data: Float32Array.from(values) });
const i64 = (values: number[]) => ({ type: 'int64' as const, dims: [values.length], data: values });

/** x [1,4] -> MatMul W [4,2] -> y [1,2]; values chosen so int8 scales are exact powers of two. */
export function matmulModel(opset = 17): Uint8Array {
  const b = new OnnxGraphBuilder({ opset });
  const x = b.input('x', FLOAT, [1, 4]);
  // Column 0: max |w| 127 -> scale 1; column 1: max |w| 127/64 -> scale 1/64.
  const w = b.initializer('w', f32([4, 2], [127, 0.5, 63.4, -1.984375, -1.2, 0.03125, 0, 0.25]));
  b.node('MatMul', [x, w], {}, { scope: '/proj', outputs: ['y'] });
  b.output('y', FLOAT, [1, 2]);
  return b.toBytes();
}

export interface PlantedOptions {
  /** The constant value of the outlier channel feeding the LayerNorm (0 = no outlier). */
  outlier?: number;
  opset?: number;
  size?: number;
}

/**
 * A SegFormer-like toy with one deliberately fragile node: a 1x1 Conv makes 8 channels from RGB, channel 7
 * a constant outlier (its weights 0, its bias `outlier`); the tokens go through a LayerNormalization over the
 * channels (gamma 0 on the outlier channel, beta cancelling its pull on the mean), then a MatMul to 4
 * class logits. Quantizing the LayerNorm's input to int8 spends the 255 levels on the outlier (step
 * outlier/127) and erases channels 0-6; int16 (step outlier/32767) keeps them.
 */
export function plantedLayerNormModel(o: PlantedOptions = {}): Uint8Array {
  const outlier = o.outlier ?? 300;
  const size = o.size ?? 16;
  const b = new OnnxGraphBuilder({ opset: o.opset ?? 17, graphName: 'planted_layernorm' });
  const x = b.input('pixel_values', FLOAT, [1, 3, size, size]);
  // Channels 0-3: one colour direction each; 4-6: mixtures (all small, |x| < 1); 7: the constant outlier.
  const wConv = [
    [2, -1, -1],
    [-1, 2, -1],
    [-1, -1, 2],
    [1, 1, 1],
    [0.5, 0.5, -1],
    [-1, 0.5, 0.5],
    [0.5, -1, 0.5],
    [0, 0, 0],
  ];
  const conv = b.node(
    'Conv',
    [x, b.initializer('embed.weight', f32([8, 3, 1, 1], wConv.flat().map((v) => v * 0.02))), b.initializer('embed.bias', f32([8], [0, 0, 0, 0, 0, 0, 0, outlier]))],
    { kernel_shape: attr.ints([1, 1]), strides: attr.ints([1, 1]), pads: attr.ints([0, 0, 0, 0]) },
    { scope: '/embed' },
  );
  const flat = b.node('Reshape', [conv, b.constant('/tokens', i64([1, 8, size * size]))], {}, { scope: '/tokens' });
  const tokens = b.node('Transpose', [flat], { perm: attr.ints([0, 2, 1]) }, { scope: '/tokens' });
  // LayerNorm: mean = (sum(x_0..6) + outlier) / 8, std ~ outlier * sqrt(7) / 8; gamma = std restores the
  // scale of channels 0-6, beta removes the constant -outlier/8 they all carry.
  const std = (outlier * Math.sqrt(7)) / 8;
  const gamma = [std, std, std, std, std, std, std, 0];
  const beta = [outlier / 8, outlier / 8, outlier / 8, outlier / 8, outlier / 8, outlier / 8, outlier / 8, 0];
  const ln = b.node('LayerNormalization', [tokens, b.initializer('norm.weight', f32([8], gamma)), b.initializer('norm.bias', f32([8], beta))], { axis: attr.int(-1), epsilon: attr.float(1e-5) }, { scope: '/norm' });
  // Classes from channels 0-3 (red, green, blue, bright), scaled so logits differ by several units.
  const wHead = new Array(8 * 4).fill(0);
  for (let c = 0; c < 4; c++) wHead[c * 4 + c] = 30;
  const head = b.node('MatMul', [ln, b.initializer('head.weight', f32([8, 4], wHead))], {}, { scope: '/head' });
  const chw = b.node('Transpose', [head], { perm: attr.ints([0, 2, 1]) }, { scope: '/logits' });
  b.node('Reshape', [chw, b.constant('/logits', i64([1, 4, size, size]))], {}, { scope: '/logits', outputs: ['logits'] });
  b.output('logits', FLOAT, [1, 4, size, size]);
  return b.toBytes();
}

/** Writes a PNG of flat colour patches (red, green, blue, white, grey ...), different per seed. */
export async function writePatchImage(file: string, seed: number, width = 64, height = 64): Promise<string> {
  const colours: [number, number, number][] = [
    [230, 30, 30],
    [30, 220, 40],
    [30, 40, 230],
    [240, 240, 240],
    [200, 60, 60],
    [60, 60, 200],
  ];
  const rgb = new Uint8Array(width * height * 3);
  const cells = 4;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const cell = Math.floor((y * cells) / height) * cells + Math.floor((x * cells) / width);
      const c = at(colours, (cell * 7 + seed * 3 + (cell % 3)) % colours.length, 'colours');
      rgb.set(c, (y * width + x) * 3);
    }
  }
  await fs.mkdir(path.dirname(file), { recursive: true });
  await sharp(Buffer.from(rgb), { raw: { width, height, channels: 3 } }).png().toFile(file);
  return file;
}

/** A directory of `count` patch images. */
export async function writePatchImages(dir: string, count: number): Promise<string> {
  for (let i = 0; i < count; i++) await writePatchImage(path.join(dir, `patches-${i}.png`), i);
  return dir;
}
