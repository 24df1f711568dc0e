import path from 'node:path';
import { parseArgs } from 'node:util';
import { ensureDemoModel } from '../model/demo/demo-model.ts';
import { loadModelInfo } from '../model/load.ts';
import { modelNotes, modelSummary } from '../model/model-notes.ts';

const HELP = `usage: segstream model <subcommand>

  model info <model.onnx> [--config config.json] [--preprocessor preprocessor_config.json] [--json]
      what segstream reads from a model: input/output names, shapes, layout, classes, preprocessing
  model info <model.bin> [--backend bpu] [--model-name NAME] [--json]
      a BPU model's tensor properties through hb_dnn, laid out like hrt_model_exec model_info
  model demo [--out DIR] [--size N] [--classes N] [--variant b0|tiny]
      write the generated SegFormer-B0-shaped demo model (UNTRAINED: meaningless masks, real speed)
  model fetch <hf-id> [options]
      download an ONNX export and its config files from the Hugging Face hub (segstream model fetch --help)
`;

export async function main(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h') {
    process.stdout.write(HELP);
    return sub === undefined ? 2 : 0;
  }
  if (sub === 'fetch') {
    const tools = (await import('../toolkit/commands/index.ts')) as unknown as { tools: Record<string, (a: string[]) => Promise<number>> };
    return tools.tools['model-fetch']!(rest);
  }
  if (sub === 'info') {
    const { values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      options: {
        config: { type: 'string' },
        preprocessor: { type: 'string' },
        backend: { type: 'string' },
        'model-name': { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help || positionals.length !== 1) {
      process.stdout.write(HELP);
      return values.help ? 0 : 2;
    }
    if (values.backend !== undefined && values.backend !== 'onnx' && values.backend !== 'bpu') {
      throw new Error(`--backend: expected onnx or bpu, got ${JSON.stringify(values.backend)}`);
    }
    if (values.backend === 'bpu' || (values.backend === undefined && positionals[0]!.toLowerCase().endsWith('.bin'))) {
      const { describeBpuModelFile } = await import('../stages/infer/bpu/describe.ts');
      const name = values['model-name'];
      process.stdout.write(await describeBpuModelFile(positionals[0]!, { ...(name ? { modelName: name } : {}), json: values.json ?? false }));
      return 0;
    }
    let info = await loadModelInfo(positionals[0]!, {
      ...(values.config ? { configPath: values.config } : {}),
      ...(values.preprocessor ? { preprocessorPath: values.preprocessor } : {}),
    });
    if (info.output.height === 0 || info.output.width === 0) {
      // The graph does not tell the output size: ONNX Runtime's warm-up inference does (as serve does).
      const { OnnxBackend } = await import('../stages/infer/onnx-backend.ts');
      const backend = await OnnxBackend.load(info, { threads: 1 });
      info = backend.model;
      await backend.close();
    }
    if (values.json) {
      process.stdout.write(`${JSON.stringify(info, null, 2)}\n`);
      return 0;
    }
    const i = info.input;
    const o = info.output;
    process.stdout.write(
      [
        `model:        ${info.name} (${info.path})${info.untrainedDemo ? '  UNTRAINED DEMO MODEL' : ''}`,
        `input:        ${i.name} ${i.dtype} [${i.shape.join(',')}] ${i.layout}${i.dynamic ? ` (dynamic H/W; using ${i.height}x${i.width})` : ''}`,
        `output:       ${o.name} ${o.dtype} [${o.shape.join(',')}] ${o.kind}, ${o.classes} classes at ${o.height}x${o.width}`,
        `classes:      ${info.classNames.length === 0 ? '(no count in the graph or config.json: counted from the ids seen, generic names)' : `${info.classNames.slice(0, 8).join(', ')}${info.classNames.length > 8 ? `, ... (${info.classNames.length})` : ''}`}`,
        `preprocess:   resize ${i.height}x${i.width} ${info.preprocess.resample}, x${info.preprocess.rescale.toPrecision(6)}, mean [${info.preprocess.mean.join(', ')}], std [${info.preprocess.std.join(', ')}], ${info.preprocess.channelOrder.toUpperCase()} (${info.preprocess.origin})`,
        `summary:      ${modelSummary(info)}`,
        ...Object.entries(info.details).map(([k, v]) => `${`${k}:`.padEnd(14)}${v}`),
        ...modelNotes(info).map((n) => `note:         ${n}`),
        '',
      ].join('\n'),
    );
    return 0;
  }
  if (sub === 'demo') {
    const { values } = parseArgs({
      args: rest,
      options: { out: { type: 'string' }, size: { type: 'string' }, classes: { type: 'string' }, variant: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    });
    if (values.help) {
      process.stdout.write(HELP);
      return 0;
    }
    const variant = (values.variant ?? 'b0') as 'b0' | 'tiny';
    if (variant !== 'b0' && variant !== 'tiny') throw new Error(`--variant: expected b0 or tiny, got ${JSON.stringify(values.variant)}`);
    const files = await ensureDemoModel(path.resolve(values.out ?? '.cache/demo-models'), {
      variant,
      ...(values.size ? { size: Number(values.size) } : {}),
      ...(values.classes ? { classes: Number(values.classes) } : {}),
    });
    process.stdout.write(`demo model (UNTRAINED: masks are meaningless, speed is real):\n  ${files.modelPath}\n  ${files.configPath}\n  ${files.preprocessorPath}\n`);
    return 0;
  }
  process.stderr.write(`segstream model: unknown subcommand "${sub}"\n\n${HELP}`);
  return 2;
}
