/** Loads what the tools need about a float ONNX model in one read: its ModelInfo and its graph view. */
import path from 'node:path';
import type { ModelInfo } from '../model/model-info.ts';
import { loadModel } from '../model/load.ts';
import { buildGraphView, type OnnxGraph } from '../model/onnx/graph.ts';
import { UsageError } from '../cli/args.ts';

export interface ModelContext {
  info: ModelInfo;
  graph: OnnxGraph;
}

export interface ModelContextOptions {
  configPath?: string;
  preprocessorPath?: string;
}

export async function loadModelContext(modelPath: string, opts: ModelContextOptions = {}, optionName = '--model'): Promise<ModelContext> {
  if (path.extname(modelPath).toLowerCase() === '.bin') {
    throw new UsageError(`${optionName} ${modelPath}: this needs the float ONNX model (a .bin is already compiled for the BPU); pass the ONNX it was compiled from`);
  }
  const { info, summary } = await loadModel(modelPath, {
    ...(opts.configPath ? { configPath: opts.configPath } : {}),
    ...(opts.preprocessorPath ? { preprocessorPath: opts.preprocessorPath } : {}),
  });
  return { info, graph: buildGraphView(summary) };
}
