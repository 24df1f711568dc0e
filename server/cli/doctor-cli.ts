import { runCli } from './args.ts';
import { formatDoctor, runDoctor } from './doctor.ts';

export const DOCTOR_HELP = `usage: segstream doctor [--json]

Which backends, GStreamer plugins and cameras are available on this machine, and why not: ONNX Runtime
(loads or not, and why), the BPU (on a board, the test double, or not at all: headers, libdnn, architecture),
the GStreamer version and each element segstream's pipelines use, and the /dev/video* cameras with their names.

  --json                 the report as JSON on stdout
  -h, --help             this text

examples:
  segstream doctor
  segstream doctor --json | jq .backends.bpu
`;

export async function main(argv: string[]): Promise<number> {
  return runCli({ name: 'doctor', options: { json: { type: 'boolean' } }, help: DOCTOR_HELP }, argv, async ({ values }) => {
    const report = await runDoctor();
    process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatDoctor(report));
    return 0;
  });
}
