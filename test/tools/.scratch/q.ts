import { readFileSync, writeFileSync } from 'node:fs';
import ort from 'onnxruntime-node';
import { quantizeWeightsPerChannel } from '../../../server/tools/quantize-weights.ts';
const bytes = readFileSync('/work/shared/models/segformer-b0-ade-random/model.onnx');
let t = performance.now();
const r = quantizeWeightsPerChannel(bytes, { mode: 'qdq' });
console.log('quant ms', performance.now() - t, r.mode, r.tensors.length, r.skipped, r.bytes.length);
writeFileSync('/tmp/t4/q.onnx', r.bytes);
const a = await ort.InferenceSession.create('/work/shared/models/segformer-b0-ade-random/model.onnx', { intraOpNumThreads: 1 });
const b = await ort.InferenceSession.create('/tmp/t4/q.onnx', { intraOpNumThreads: 1 });
const x = new Float32Array(3 * 512 * 512).map((_, i) => Math.sin(i * 0.001) * 2);
const feeds = { pixel_values: new ort.Tensor('float32', x, [1, 3, 512, 512]) };
const ya = (await a.run(feeds)).logits.data as Float32Array;
const yb = (await b.run(feeds)).logits.data as Float32Array;
let dot = 0, na = 0, nb = 0, mx = 0;
for (let i = 0; i < ya.length; i++) { dot += ya[i] * yb[i]; na += ya[i] ** 2; nb += yb[i] ** 2; mx = Math.max(mx, Math.abs(ya[i] - yb[i])); }
console.log('cos', dot / Math.sqrt(na * nb), 'max', mx);
