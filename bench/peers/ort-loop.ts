/**
 * Peer: what a hand-written Node app does with the same frames: sharp resizes RGB to the model size, a JS loop
 * normalises into NCHW, onnxruntime-node runs, a JS loop takes the low-resolution argmax.
 */
import ort from 'onnxruntime-node';
import sharp from 'sharp';
import type { PeerFrame, PeerResult } from './transformers-js.ts';
import { at, lookup } from '../../server/util/checked-access.ts';

export async function runOrtLoop(
  model: { modelPath: string; inputName: string; outputName: string; size: number; mean: number[]; std: number[] },
  frames: PeerFrame[],
  opts: { threads: number; warmup: number },
): Promise<PeerResult> {
  const session = await ort.InferenceSession.create(model.modelPath, opts.threads > 0 ? { intraOpNumThreads: opts.threads, interOpNumThreads: 1 } : {});
  const s = model.size;
  const once = async (f: PeerFrame): Promise<void> => {
    const rgb = await sharp(f.rgb, { raw: { width: f.width, height: f.height, channels: 3 } }).resize(s, s, { fit: 'fill', kernel: 'linear' }).raw().toBuffer();
    const input = new Float32Array(3 * s * s);
    for (let i = 0; i < s * s; i++) {
      for (let c = 0; c < 3; c++) input[c * s * s + i] = (at(rgb, i * 3 + c, 'rgb') / 255 - at(model.mean, c, 'model.mean')) / at(model.std, c, 'model.std');
    }
    const out = await session.run({ [model.inputName]: new ort.Tensor('float32', input, [1, 3, s, s]) });
    const logits = lookup(out, model.outputName, 'run results');
    const [, classes, h, w] = logits.dims as number[];
    const data = logits.data as Float32Array;
    const map = new Uint8Array(h! * w!);
    for (let i = 0; i < h! * w!; i++) {
      let best = 0;
      for (let c = 1; c < classes!; c++) if (at(data, c * h! * w! + i, 'data') > at(data, best * h! * w! + i, 'data')) best = c;
      map[i] = best;
    }
  };
  for (let i = 0; i < opts.warmup; i++) await once(at(frames, i % frames.length, 'frames'));
  const times: number[] = [];
  const start = performance.now();
  for (const f of frames) {
    const t = performance.now();
    await once(f);
    times.push(performance.now() - t);
  }
  const seconds = (performance.now() - start) / 1000;
  await session.release();
  return { name: 'hand-written onnxruntime-node loop (sharp resize, JS normalise, low-res argmax)', frames: frames.length, msPerFrame: times, fps: frames.length / seconds };
}
