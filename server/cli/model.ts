/** `segstream model info|demo|fetch`: what segstream reads from a model, the demo model, the hub client. */
import path from 'node:path';
import { ensureDemoModel } from '../model/demo/demo-model.ts';
import { loadModelInfo } from '../model/load.ts';
import { modelNotes, modelSummary } from '../model/model-notes.ts';
import { UsageError } from '../util/errors.ts';
import { first } from '../util/checked-access.ts';
import { EXIT_OK, EXIT_USAGE, integerFlag, optionalString, parseChoice, runCli, suggestOption } from './args.ts';

export const MODEL_HELP = `usage: segstream model <subcommand> [options]

  model info <model.onnx>    what segstream reads from a model: input/output names, shapes, layout,
                             classes, preprocessing
  model info <model.bin>     a BPU model's tensor properties through hb_dnn, laid out like
                             hrt_model_exec model_info (for side-by-side checks on a board)
  model demo                 write the generated SegFormer-B0-shaped demo model (UNTRAINED: meaningless
                             masks, real speed)
  model fetch <hf-id>        download an ONNX export and its config files from the Hugging Face hub

segstream model <subcommand> --help shows each one's options and examples.

examples:
  segstream model info models/segformer-b0-ade/model.onnx
  segstream model demo --out demo-model --size 256
  segstream model fetch Xenova/segformer-b0-finetuned-ade-512-512
`;

export const MODEL_INFO_HELP = `usage: segstream model info <model.onnx|model.bin> [options]

Prints what segstream reads from a model: input and output names, shapes and layout, the class names
(config.json id2label), and the preprocessing (preprocessor_config.json: size, mean, std, rescale, resample),
with where each value came from.

  --config FILE          config.json (default: next to the model)
  --preprocessor FILE    preprocessor_config.json (default: next to the model)
  --backend onnx|bpu     how to read the file (default: bpu for .bin files, else onnx)
  --model-name NAME      BPU only: which model inside a packed .bin (default: the first)
  --json                 the full model description as JSON on stdout
  -h, --help             this text

examples:
  segstream model info models/segformer-b0-ade/model.onnx
  segstream model info export/model.onnx --config export/config.json --json
  segstream model info segformer_nv12.bin        # on the board: compare with hrt_model_exec model_info
`;

export const MODEL_DEMO_HELP = `usage: segstream model demo [options]

Writes the generated demo model: a SegFormer-shaped ONNX graph with seeded random weights, plus its
config.json and preprocessor_config.json. It is UNTRAINED: its masks are meaningless, its speed is real.
Files already there for the same options are reused.

  --out DIR              where to write (default .cache/demo-models)
  --size N               input size (square), a multiple of 32 from 32 to 4096 (default 512 for b0,
                         64 for tiny)
  --classes N            number of classes, 2-65535 (default 150 for b0, 8 for tiny)
  --variant b0|tiny      b0: SegFormer-B0's widths and depths (default); tiny: a few channels (tests)
  -h, --help             this text

examples:
  segstream model demo
  segstream model demo --out demo-model --size 256 --classes 19
`;

const SUBCOMMANDS: Record<string, (argv: string[]) => Promise<number>> = {
  info: modelInfo,
  demo: modelDemo,
  fetch: async (argv) => (await import('../toolkit/commands/index.ts')).tools['model-fetch'](argv),
};

export async function main(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined) {
    process.stderr.write(MODEL_HELP);
    return EXIT_USAGE;
  }
  if (sub === '--help' || sub === '-h') {
    process.stdout.write(MODEL_HELP);
    return EXIT_OK;
  }
  const run = SUBCOMMANDS[sub];
  if (!run) {
    const hint = suggestOption(sub, Object.keys(SUBCOMMANDS))?.slice(2);
    const what = sub.startsWith('-') ? `unknown option ${sub}: a subcommand (info, demo, fetch) comes first` : `unknown subcommand ${JSON.stringify(sub)}${hint ? ` (did you mean ${hint}?)` : ''}`;
    process.stderr.write(`segstream model: ${what} (see segstream model --help)\n`);
    return EXIT_USAGE;
  }
  return run(rest);
}

async function modelInfo(argv: string[]): Promise<number> {
  const spec = {
    name: 'model info',
    options: {
      config: { type: 'string' },
      preprocessor: { type: 'string' },
      backend: { type: 'string' },
      'model-name': { type: 'string' },
      json: { type: 'boolean' },
    } as const,
    help: MODEL_INFO_HELP,
    positionals: { min: 1, max: 1, what: 'one model file (an .onnx export or a BPU .bin)' },
  };
  return runCli(spec, argv, async ({ values, positionals }) => {
    const config = optionalString(values, 'config');
    const preprocessor = optionalString(values, 'preprocessor');
    const backend = parseChoice('backend', optionalString(values, 'backend'), ['onnx', 'bpu'] as const);
    const modelFile = first(positionals, 'model info: model file');
    if (backend === 'bpu' || (backend === undefined && modelFile.toLowerCase().endsWith('.bin'))) {
      const { describeBpuModelFile } = await import('../stages/infer/bpu/describe.ts');
      const name = optionalString(values, 'model-name');
      process.stdout.write(await describeBpuModelFile(modelFile, { ...(name ? { modelName: name } : {}), json: values.json === true }));
      return EXIT_OK;
    }
    let info = await loadModelInfo(modelFile, {
      ...(config ? { configPath: config } : {}),
      ...(preprocessor ? { preprocessorPath: preprocessor } : {}),
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
      return EXIT_OK;
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
    return EXIT_OK;
  });
}

async function modelDemo(argv: string[]): Promise<number> {
  const spec = {
    name: 'model demo',
    options: { out: { type: 'string' }, size: { type: 'string' }, classes: { type: 'string' }, variant: { type: 'string' } } as const,
    help: MODEL_DEMO_HELP,
  };
  return runCli(spec, argv, async ({ values }) => {
    const variant = parseChoice('variant', optionalString(values, 'variant'), ['b0', 'tiny'] as const, 'b0');
    const size = integerFlag(values, 'size', 32, 4096);
    const classes = integerFlag(values, 'classes', 2, 65535);
    if (size !== undefined && size % 32 !== 0) throw new UsageError(`--size: expected a multiple of 32 (SegFormer downsamples 32x), got ${size}`);
    const files = await ensureDemoModel(path.resolve(optionalString(values, 'out') ?? '.cache/demo-models'), {
      variant,
      ...(size !== undefined ? { size } : {}),
      ...(classes !== undefined ? { classes } : {}),
    });
    process.stdout.write(`demo model (UNTRAINED: masks are meaningless, speed is real):\n  ${files.modelPath}\n  ${files.configPath}\n  ${files.preprocessorPath}\n`);
    return EXIT_OK;
  });
}
