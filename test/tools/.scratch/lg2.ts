import { readFileSync } from 'node:fs';
import { rgbToTensor } from '../../../server/kernels/index.ts';
import { transposeLayout } from '../../../server/tools/tensor-stats.ts';
import { syntheticRgb } from '../helpers.ts';
function rough(data: Float32Array, C: number, H: number, W: number, layout: string, block: number) {
  const plane = H * W;
  const idx = layout === 'NCHW' ? (c: number, y: number, x: number) => c * plane + y * W + x : (c: number, y: number, x: number) => (y * W + x) * C + c;
  const bh = Math.floor(H / block), bw = Math.floor(W / block);
  let sum = 0, n = 0;
  for (let c = 0; c < C; c++) {
    const m = new Float64Array(bh * bw);
    for (let by = 0; by < bh; by++) for (let bx = 0; bx < bw; bx++) {
      let s = 0; for (let yy = 0; yy < block; yy++) for (let xx = 0; xx < block; xx++) s += data[idx(c, by * block + yy, bx * block + xx)];
      m[by * bw + bx] = s / (block * block);
    }
    for (let by = 0; by + 1 < bh; by++) for (let bx = 0; bx + 1 < bw; bx++) { const v = m[by * bw + bx]; sum += Math.abs(m[by * bw + bx + 1] - v) + Math.abs(m[(by + 1) * bw + bx] - v); n += 2; }
  }
  return sum / n;
}
const cases: [string, Float32Array][] = [];
const rgb = syntheticRgb(640, 480, 5);
cases.push(['synthetic', rgbToTensor(rgb, 640, 480, { width: 512, height: 512, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] })]);
for (const n of ['coffee', 'grass', 'rocket', 'astronaut', 'chelsea']) cases.push([n, new Float32Array(readFileSync(`/work/shared/golden/tensors/${n}.pixel_values.f32`).buffer.slice(0))]);
for (const [name, t] of cases) {
  const nhwc = transposeLayout(t, 3, 512, 512, 'NCHW');
  for (const block of [1, 2, 4]) {
    const a = rough(t, 3, 512, 512, 'NCHW', block), b = rough(t, 3, 512, 512, 'NHWC', block);
    const c = rough(nhwc, 3, 512, 512, 'NCHW', block), d = rough(nhwc, 3, 512, 512, 'NHWC', block);
    console.log(name, block, 'nchw-data ratio', (a / b).toFixed(3), 'nhwc-data ratio', (d / c).toFixed(3));
  }
}
