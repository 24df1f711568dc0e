import sharp from 'sharp';
import { readFileSync } from 'node:fs';
import { rgbToTensor } from '../../../server/kernels/index.ts';
const g = new Float32Array(readFileSync('/work/shared/golden/tensors/rocket.pixel_values.f32').buffer.slice(0));
const meta = await sharp('/work/shared/golden/images/rocket.png').metadata();
console.log(meta.channels, meta.space, meta.hasAlpha, meta.icc?.length, meta.depth, meta.orientation);
for (const mode of ['plain', 'rotate', 'srgb']) {
  let s = sharp('/work/shared/golden/images/rocket.png', { ignoreIcc: true } as any);
  if (mode === 'rotate') s = s.rotate();
  if (mode === 'srgb') s = s.toColourspace('srgb');
  const { data, info } = await s.removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const t = rgbToTensor(new Uint8Array(data), info.width, info.height, { width: 512, height: 512, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] });
  let mx = 0, sm = 0; for (let i = 0; i < g.length; i++) { const d = Math.abs(g[i] - t[i]); sm += d; mx = Math.max(mx, d); }
  console.log(mode, info, mx, sm / g.length);
}
