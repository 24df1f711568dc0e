/**
 * The toolkit's one command registry: every entry loads its module on first use and reaches that module's
 * own main (its --help is that command's usage), and the CLI's `segstream <command>` resolves through it.
 */
import { describe, expect, it } from 'vitest';
import { main as cli } from '../../../server/cli/main.ts';
import { tools } from '../../../server/toolkit/commands/index.ts';
import { capture } from '../helpers.ts';

const USAGE: Record<keyof typeof tools, string> = {
  verify: 'usage: segstream verify --reference',
  inspect: 'usage: segstream inspect <file|dir...>',
  calib: 'usage: segstream calib --model',
  'mapper-config': 'usage: segstream mapper-config --model',
  quantize: 'usage: segstream quantize',
  'model-fetch': 'usage: segstream model fetch <hf-id>',
};

describe('toolkit command registry', () => {
  it('routes each command to its own main', async () => {
    expect(Object.keys(tools).sort()).toEqual(Object.keys(USAGE).sort());
    for (const [name, usage] of Object.entries(USAGE)) {
      const r = await capture(() => tools[name as keyof typeof tools](['--help']));
      expect(r.code, name).toBe(0);
      expect(r.stdout, name).toContain(usage);
    }
  });

  it('is what `segstream <command>` runs', async () => {
    for (const name of ['verify', 'inspect', 'calib', 'mapper-config', 'quantize'] as const) {
      const r = await capture(() => cli([name, '--help']));
      expect(r.code, name).toBe(0);
      expect(r.stdout, name).toContain(USAGE[name]);
    }
  });
});
