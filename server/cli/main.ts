/** `segstream <command>`: the command-line entry. Each command lives in its own module and parses its own flags. */

type CommandMain = (argv: string[]) => Promise<number>;

interface Command {
  summary: string;
  load: () => Promise<CommandMain>;
}

const COMMANDS: Record<string, Command> = {
  serve: { summary: 'run the live segmentation stream and the viewer (default)', load: async () => (await import('./serve.ts')).main },
  bench: { summary: 'measure the whole chain and each stage; model-only in the same run', load: async () => (await import('../bench/bench-cli.ts')).main },
  verify: { summary: 'compare a deployed model/input path against the float ONNX reference', load: async () => tool('verify') },
  inspect: { summary: 'check calibration or runtime input files against what the model expects', load: async () => tool('inspect') },
  calib: { summary: 'write calibration files exactly as the model input expects them', load: async () => tool('calib') },
  'mapper-config': { summary: 'write or check an hb_mapper YAML for the RDK X5 toolchain', load: async () => tool('mapper-config') },
  quantize: { summary: 'int8/int16 QDQ model from calibration data; measured per-node sensitivity', load: async () => tool('quantize') },
  model: { summary: 'model utilities: `model fetch <hf-id>`, `model info <file>`, `model demo`', load: async () => (await import('./model.ts')).main },
  doctor: { summary: 'which backends, GStreamer plugins and cameras are available here, and why not', load: async () => (await import('./doctor-cli.ts')).main },
  kiosk: { summary: 'start the server and Chromium in kiosk mode', load: async () => (await import('./kiosk.ts')).main },
};

async function tool(name: string): Promise<CommandMain> {
  const tools = (await import('../tools/index.ts')) as { tools?: Record<string, CommandMain> } & Record<string, unknown>;
  const map = (tools.tools ?? tools.default ?? tools) as Record<string, CommandMain>;
  const fn = map[name];
  if (typeof fn !== 'function') throw new Error(`command ${name} is not available in this build`);
  return fn;
}

export function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  return [
    'usage: segstream <command> [options]     (segstream <command> --help for its options)',
    '',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    '',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === '--help' || first === '-h' || first === 'help') {
    process.stdout.write(usage());
    return 0;
  }
  const name = first === undefined || first.startsWith('-') ? 'serve' : first;
  const args = first === undefined || first.startsWith('-') ? argv : rest;
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`segstream: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  try {
    const run = await command.load();
    return await run(args);
  } catch (err) {
    process.stderr.write(`segstream ${name}: ${(err as Error).message}\n`);
    return 1;
  }
}
