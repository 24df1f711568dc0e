import { readHfModelConfig } from '../../model/hf-config.ts';
import { loadModelInfo } from '../../model/load.ts';
import type { Backend, BackendOptions } from './backend.ts';
import { OnnxBackend } from './onnx-backend.ts';
import type { ModelRef } from './worker-protocol.ts';

/** Loads the backend a model reference names. The BPU module is imported only when asked for. */
export async function loadBackend(ref: ModelRef, options: BackendOptions): Promise<Backend> {
  if (ref.backend === 'bpu') {
    const { BpuBackend } = await import('./bpu-backend.ts');
    // Class names come from a Hugging Face config.json when one is configured (a .bin carries none).
    const names = ref.configPath ? (await readHfModelConfig(ref.configPath)).id2label : null;
    return BpuBackend.load(ref.files, {
      ...(ref.packModel ? { modelName: ref.packModel } : {}),
      ...(names ? { classNames: names } : {}),
      rawIntOutput: true,
    });
  }
  const file = ref.files[0];
  if (!file) throw new Error('model: no ONNX file given');
  const info = await loadModelInfo(file, {
    ...(ref.configPath ? { configPath: ref.configPath } : {}),
    ...(ref.preprocessorPath ? { preprocessorPath: ref.preprocessorPath } : {}),
    ...(ref.name ? { name: ref.name } : {}),
  });
  return OnnxBackend.load(info, options);
}
