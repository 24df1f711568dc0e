import path from 'node:path';
import { ensureDemoModel } from '../model/demo/demo-model.ts';
import type { ModelRef } from '../stages/infer/worker-protocol.ts';
import type { Config } from './config.ts';

/**
 * The model reference the config entry `name` resolves to, for the server and the bench alike: a demo entry is
 * generated into (or reused from) the cache, `onRepaired` hearing what was repaired there; a file entry is
 * passed on with its config, preprocessor and pack model.
 */
export async function resolveModelRef(config: Config, name: string, onRepaired?: (what: string) => void): Promise<ModelRef> {
  const entry = config.models[name]!;
  if (entry.demo) {
    const files = await ensureDemoModel(path.join(config.cacheDir, 'demo-models'), { size: entry.demo.size, classes: entry.demo.classes, variant: entry.demo.variant });
    if (files.repaired) onRepaired?.(files.repaired);
    return { backend: 'onnx', files: [files.modelPath], configPath: files.configPath, preprocessorPath: files.preprocessorPath, name };
  }
  return {
    backend: entry.backend,
    files: entry.files,
    ...(entry.config ? { configPath: entry.config } : {}),
    ...(entry.preprocessor ? { preprocessorPath: entry.preprocessor } : {}),
    ...(entry.modelName ? { packModel: entry.modelName } : {}),
    name,
  };
}
