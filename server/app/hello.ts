/** The `hello` message a viewer gets on connecting and whenever the source, model or settings change. */
import type { SourceSpec } from '../../pipelines/index.ts';
import type { ModelInfo } from '../model/model-info.ts';
import { POSTPROCESS_MODES, PROTOCOL_VERSION, type HelloMessage, type PostprocessMode } from '../protocol/index.ts';
import type { SourceCaps } from '../stages/source/gst-source.ts';
import { declaredInput } from '../stages/source/source-spec.ts';
import { paletteTriples } from '../stages/render/palette.ts';

export interface HelloFacts {
  model: ModelInfo | null;
  modelName: string;
  backend: 'onnx' | 'bpu';
  source: { name: string; spec: SourceSpec; caps: SourceCaps | null; colorimetry: string };
  palette: Uint8Array;
  postprocess: PostprocessMode;
  smoothing: number;
  jpegQuality: number;
  sourceNames: string[];
  modelNames: string[];
  controlsAvailable: boolean;
}

export function buildHello(f: HelloFacts): HelloMessage {
  const model = f.model;
  const caps = f.source.caps;
  const input = caps?.input ?? declaredInput(f.source.spec);
  return {
    type: 'hello',
    protocol: PROTOCOL_VERSION,
    server: 'segstream',
    model: {
      name: model?.name ?? f.modelName,
      backend: f.backend,
      inputName: model?.input.name ?? '',
      inputSize: [model?.input.width ?? 0, model?.input.height ?? 0],
      inputKind: model ? `${model.input.kind} ${model.input.dtype} ${model.input.layout}` : '',
      outputSize: [model?.output.width ?? 0, model?.output.height ?? 0],
      classes: model?.output.classes ?? 0,
      untrainedDemo: model?.untrainedDemo ?? false,
    },
    source: {
      name: f.source.name,
      kind: f.source.spec.kind,
      width: caps?.width ?? f.source.spec.width,
      height: caps?.height ?? f.source.spec.height,
      framerate: caps?.framerate ?? '',
      colorimetry: f.source.colorimetry,
      caps: caps?.text ?? '',
      ...(input ? { input: { width: input.width, height: input.height, pixelAspectRatio: input.pixelAspectRatio, picture: input.rect } } : {}),
    },
    classNames: model?.classNames ?? [],
    palette: paletteTriples(f.palette),
    postprocess: f.postprocess,
    postprocessModes: [...POSTPROCESS_MODES],
    jpegQuality: f.jpegQuality,
    smoothing: f.smoothing,
    sources: f.sourceNames,
    models: f.modelNames,
    controlsAvailable: f.controlsAvailable,
  };
}
