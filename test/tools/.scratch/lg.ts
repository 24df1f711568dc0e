import { rgbToTensor } from '../../../server/kernels/index.ts';
import { guessLayout, transposeLayout } from '../../../server/tools/tensor-stats.ts';
import { syntheticRgb } from '../helpers.ts';
const rgb = syntheticRgb(640, 480, 5);
const t = rgbToTensor(rgb, 640, 480, { width: 512, height: 512, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] });
console.log(guessLayout(t, 3, 512, 512), guessLayout(transposeLayout(t, 3, 512, 512, 'NCHW'), 3, 512, 512));
