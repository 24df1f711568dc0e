import sharp from 'sharp';
import { readFileSync } from 'node:fs';
import { rgbToTensor, rgbToNv12, nv12ToTensor } from '../../../server/kernels/index.ts';
const { data, info } = await sharp('/work/shared/golden/images/coffee.png').removeAlpha().raw().toBuffer({ resolveWithObject: true });
const t = rgbToTensor(new Uint8Array(data), info.width, info.height, { width: 512, height: 512, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] });
const g = new Float32Array(readFileSync('/work/shared/golden/tensors/coffee.pixel_values.f32').buffer.slice(0));
let mx = 0, s = 0; for (let i = 0; i < g.length; i++) { const d = Math.abs(g[i] - t[i]); s += d; mx = Math.max(mx, d); }
console.log('rgb', mx, s / g.length);
for (const [e, d] of [['limited','limited'],['full','full'],['limited','full']]) {
const nv = rgbToNv12(new Uint8Array(data), info.width, info.height, { matrix: 'bt601', range: e as any });
const t2 = nv12ToTensor(nv, { width: 512, height: 512, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], color: { matrix: 'bt601', range: d as any } });
mx = 0; s = 0; for (let i = 0; i < g.length; i++) { const dd = Math.abs(g[i] - t2[i]); s += dd; mx = Math.max(mx, dd); }
console.log('nv12', e, d, mx, s / g.length);
}
