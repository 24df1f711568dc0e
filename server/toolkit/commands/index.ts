/**
 * The one registry of the alignment toolkit's commands, each `main(argv) -> exit code` (argv = the arguments
 * after the subcommand). The CLI (server/cli/main.ts, server/cli/model.ts) maps `segstream verify|inspect|
 * calib|mapper-config|quantize` and `segstream model fetch` here, so it needs no knowledge of the toolkit's files.
 * Each module loads on first use: `inspect` does not pay for loading ONNX Runtime. (`model-fetch` is the
 * hub client under server/model/hub/; it is listed here because the CLI reaches it through this registry.)
 */
export type ToolMain = (argv: string[]) => Promise<number>;

export const tools: Record<'verify' | 'inspect' | 'calib' | 'mapper-config' | 'quantize' | 'model-fetch', ToolMain> = {
  verify: async (argv) => (await import('./verify.ts')).main(argv),
  inspect: async (argv) => (await import('./inspect.ts')).main(argv),
  calib: async (argv) => (await import('./calib.ts')).main(argv),
  'mapper-config': async (argv) => (await import('./mapper-config.ts')).main(argv),
  quantize: async (argv) => (await import('../quantize/quantize-cli.ts')).main(argv),
  'model-fetch': async (argv) => (await import('../../model/hub/hub-client.ts')).main(argv),
};
