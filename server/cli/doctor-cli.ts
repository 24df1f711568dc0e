import { parseArgs } from 'node:util';
import { formatDoctor, runDoctor } from './doctor.ts';

export async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    process.stdout.write('usage: segstream doctor [--json]\n\nWhich backends, GStreamer plugins and cameras are available on this machine, and why not.\n');
    return 0;
  }
  const report = await runDoctor();
  process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatDoctor(report));
  return 0;
}
