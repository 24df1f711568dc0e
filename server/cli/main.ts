/**
 * `segstream <command>`: the command-line entry. Each command lives in its own module and parses its flags
 * through cli/args.ts. Bare `segstream` is a usage error (the command list on stderr, exit 2), as GNU tools do
 * when their required operand is missing; `segstream serve` starts the server.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../util/package-root.ts';
import { EXIT_OK, EXIT_USAGE, reportError, suggestOption } from './args.ts';

type CommandMain = (argv: string[]) => Promise<number>;

interface Command {
  summary: string;
  load: () => Promise<CommandMain>;
}

const COMMANDS: Record<string, Command> = {
  serve: { summary: 'run the live segmentation stream and the viewer (npm start)', load: async () => (await import('./serve.ts')).main },
  kiosk: { summary: 'the viewer full screen on this machine\'s display, restarted when it crashes or hangs', load: async () => (await import('./kiosk.ts')).main },
  bench: { summary: 'measure the whole chain and each stage, model-only in the same run; an HTML datasheet', load: async () => (await import('./bench.ts')).main },
  doctor: { summary: 'which backends, GStreamer plugins and cameras are available here, and why not', load: async () => (await import('./doctor-cli.ts')).main },
  model: { summary: 'model utilities: `model info <file>`, `model demo`, `model fetch <hf-id>`', load: async () => (await import('./model.ts')).main },
  verify: { summary: 'compare a deployed model/input path against the float ONNX reference', load: async () => tool('verify') },
  inspect: { summary: 'check calibration or runtime input files against what the model expects', load: async () => tool('inspect') },
  calib: { summary: 'write calibration files exactly as the model input expects them', load: async () => tool('calib') },
  'mapper-config': { summary: 'write or check an hb_mapper YAML for the RDK X5 toolchain', load: async () => tool('mapper-config') },
  quantize: { summary: 'int8/int16 QDQ model from calibration data; measured per-node sensitivity', load: async () => tool('quantize') },
};

async function tool(name: 'verify' | 'inspect' | 'calib' | 'mapper-config' | 'quantize'): Promise<CommandMain> {
  return (await import('../toolkit/commands/index.ts')).tools[name];
}

export function version(): string {
  const pkg = JSON.parse(readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

export function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  return [
    'usage: segstream <command> [options]',
    '',
    'commands:',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    '',
    'segstream <command> --help   the options of one command, with examples',
    'segstream --version          the version',
    '',
    'examples:',
    '  segstream serve                                  test pattern through the demo model at http://127.0.0.1:8080/',
    '  segstream serve --file clip.mp4 --model segformer.onnx',
    '  segstream bench --frames 120                     writes an HTML datasheet and prints where',
    '',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined) {
    process.stderr.write(usage());
    return EXIT_USAGE;
  }
  if (first === '--help' || first === '-h' || (first === 'help' && rest.length === 0)) {
    process.stdout.write(usage());
    return EXIT_OK;
  }
  if (first === '--version') {
    process.stdout.write(`segstream ${version()}\n`);
    return EXIT_OK;
  }
  // `segstream help bench` = `segstream bench --help`.
  const [topic] = rest;
  const [name, args] = first === 'help' && topic !== undefined ? [topic, ['--help']] : [first, rest];
  if (name.startsWith('-')) {
    const serveHint = name.startsWith('--') ? ` (to start the server: segstream serve ${argv.join(' ')})` : '';
    process.stderr.write(`segstream: unknown option ${name}: a command comes first${serveHint} (see segstream --help)\n`);
    return EXIT_USAGE;
  }
  const command = COMMANDS[name];
  if (!command) {
    const hint = suggestOption(name, Object.keys(COMMANDS))?.slice(2);
    process.stderr.write(`segstream: unknown command ${JSON.stringify(name)}${hint ? ` (did you mean ${hint}?)` : ''} (see segstream --help)\n`);
    return EXIT_USAGE;
  }
  try {
    const run = await command.load();
    return await run(args);
  } catch (err) {
    return reportError(name, err);
  }
}
