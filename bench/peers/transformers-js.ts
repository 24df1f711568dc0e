/**
 * Peer: the same frames through transformers.js's `image-segmentation` pipeline (its own preprocessing, ONNX
 * Runtime for Node, and its semantic-segmentation post-processing), from local files only, no network.
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { at } from '../../server/util/checked-access.ts';

export interface PeerFrame {
  rgb: Uint8Array;
  width: number;
  height: number;
}

export interface PeerResult {
  name: string;
  frames: number;
  msPerFrame: number[];
  fps: number;
}

/** Lays out a model folder the way transformers.js expects (config files + onnx/model.onnx). */
function stageModel(modelPath: string, configPath: string, preprocessorPath: string, workDir: string): { root: string; id: string } {
  const id = 'segstream-peer-model';
  const dir = path.join(workDir, id);
  mkdirSync(path.join(dir, 'onnx'), { recursive: true });
  copyFileSync(modelPath, path.join(dir, 'onnx', 'model.onnx'));
  copyFileSync(configPath, path.join(dir, 'config.json'));
  copyFileSync(preprocessorPath, path.join(dir, 'preprocessor_config.json'));
  return { root: workDir, id };
}

export async function runTransformersJs(
  model: { modelPath: string; configPath: string; preprocessorPath: string },
  frames: PeerFrame[],
  opts: { workDir: string; threads: number; warmup: number },
): Promise<PeerResult> {
  const tf = await import('@huggingface/transformers');
  const { root, id } = stageModel(model.modelPath, model.configPath, model.preprocessorPath, opts.workDir);
  tf.env.allowRemoteModels = false;
  tf.env.allowLocalModels = true;
  tf.env.localModelPath = `${root}/`;
  const session_options = opts.threads > 0 ? { intraOpNumThreads: opts.threads, interOpNumThreads: 1 } : {};
  // No explicit subtask: transformers.js 4.3 then picks the processor's semantic post-processing itself
  // (passing subtask 'semantic' hits a bug where the post-processor name is called as a function).
  const segmenter = await tf.pipeline('image-segmentation', id, { device: 'cpu', dtype: 'fp32', session_options } as never);
  const images = frames.map((f) => new tf.RawImage(new Uint8ClampedArray(f.rgb.buffer, f.rgb.byteOffset, f.rgb.byteLength), f.width, f.height, 3));
  for (let i = 0; i < opts.warmup; i++) await segmenter(at(images, i % images.length, 'images'));
  const times: number[] = [];
  const start = performance.now();
  for (const image of images) {
    const t = performance.now();
    await segmenter(image);
    times.push(performance.now() - t);
  }
  const seconds = (performance.now() - start) / 1000;
  await (segmenter as unknown as { dispose?: () => Promise<void> }).dispose?.();
  return { name: 'transformers.js image-segmentation pipeline', frames: images.length, msPerFrame: times, fps: images.length / seconds };
}
