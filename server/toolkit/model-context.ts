/** Loads what the tools need about a float ONNX model: its ModelInfo (server/model/load.ts) and its graph. */
import path from 'node:path';
import type { ModelInfo } from '../model/model-info.ts';
import { loadModelInfo } from '../model/load.ts';
import { UsageError } from '../cli/args.ts';
import { readModel, summariseGraph, type GraphSummary } from './hb-mapper/sensitive-nodes.ts';

export interface ModelContext {
  info: ModelInfo;
  graph: GraphSummary;
}

export interface ModelContextOptions {
  configPath?: string;
  preprocessorPath?: string;
}

export async function loadModelContext(modelPath: string, opts: ModelContextOptions = {}, optionName = '--model'): Promise<ModelContext> {
  if (path.extname(modelPath).toLowerCase() === '.bin') {
    throw new UsageError(`${optionName} ${modelPath}: this needs the float ONNX model (a .bin is already compiled for the BPU); pass the ONNX it was compiled from`);
  }
  const info = await loadModelInfo(modelPath, {
    ...(opts.configPath ? { configPath: opts.configPath } : {}),
    ...(opts.preprocessorPath ? { preprocessorPath: opts.preprocessorPath } : {}),
  });
  const graph = summariseGraph(await readModel(info.path));
  return { info, graph };
}
