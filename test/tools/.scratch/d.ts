import sharp from 'sharp';
import { rgbToTensor, rgbToNv12, nv12ToTensor } from '../../../server/kernels/index.ts';
import { prepareDiagnosis, diagnosePreprocessing, swapRedBlue, resizeBilinearNoAntialias } from '../../../server/tools/preprocess-diagnosis.ts';
const p = { width: 512, height: 512, mean: [0.485, 0.456, 0.406] as [number,number,number], std: [0.229, 0.224, 0.225] as [number,number,number], rescale: 1/255, channelOrder: 'rgb' as const };
for (const img of ['coffee.png', 'grass.png']) {
  const { data, info } = await sharp('/work/shared/golden/images/' + img).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const rgb = new Uint8Array(data); const w = info.width, h = info.height;
  const t0 = performance.now(); const prep = prepareDiagnosis(rgb, w, h, p);
  const cands: Record<string, Float32Array> = {
    ref: rgbToTensor(rgb, w, h, p),
    bgr: rgbToTensor(swapRedBlue(rgb), w, h, p),
    noaa: rgbToTensor(resizeBilinearNoAntialias(rgb, w, h, 512, 512), 512, 512, p),
    lim2full: nv12ToTensor(rgbToNv12(rgb, w - w % 2, h - h % 2, { matrix: 'bt601', range: 'limited' }), { ...p, color: { matrix: 'bt601', range: 'full' } }),
    nvok: nv12ToTensor(rgbToNv12(rgb, w - w % 2, h - h % 2, { matrix: 'bt601', range: 'limited' }), { ...p, color: { matrix: 'bt601', range: 'limited' } }),
  };
  for (const [k, c] of Object.entries(cands)) {
    const d = diagnosePreprocessing(c, prep);
    console.log(img, k, d.verdict, d.finding.code, d.reference.meanAbsDiff.toFixed(4), d.best.id, d.best.meanAbsDiff.toFixed(4));
  }
  console.log('ms', performance.now() - t0);
}
