/**
 * The precision-alignment toolkit's commands, each `main(argv) -> exit code` (argv = the arguments after the
 * subcommand). The CLI maps `segstream verify|inspect|calib|mapper-config` and `segstream model fetch` here.
 * Modules load on first use: `inspect` should not pay for loading ONNX Runtime.
 */
export type ToolMain = (argv: string[]) => Promise<number>;

export const tools: Record<'verify' | 'inspect' | 'calib' | 'mapper-config' | 'model-fetch' | 'quantize', ToolMain> = {
  verify: async (argv) => (await import('./verify.ts')).main(argv),
  inspect: async (argv) => (await import('./inspect.ts')).main(argv),
  calib: async (argv) => (await import('./calib.ts')).main(argv),
  'mapper-config': async (argv) => (await import('./mapper-config.ts')).main(argv),
  'model-fetch': async (argv) => (await import('./fetch.ts')).main(argv),
  quantize: async (argv) => (await import('../toolkit/quantize/quantize-cli.ts')).main(argv),
};

export default tools;
