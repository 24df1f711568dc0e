// `segstream` itself: bare command, --version, --help, unknown commands, and every command's own --help.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, lines, ROOT, run } from './helpers.ts';

const VERSION = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const COMMANDS = ['serve', 'kiosk', 'bench', 'doctor', 'model', 'verify', 'inspect', 'calib', 'mapper-config'];

describe('segstream', () => {
  it('bare: the command list on stderr, exit 2 (a usage error, as GNU tools do); nothing starts', async () => {
    const r = await run([]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^usage: segstream <command> \[options\]\n/);
    for (const c of COMMANDS) expect(r.stderr).toMatch(new RegExp(`^  ${c} +\\S`, 'm'));
    expect(r.stderr).not.toContain('viewer:');
  });

  it('--version prints the package version, exit 0', async () => {
    const r = await run(['--version']);
    expect(r).toEqual({ code: 0, stdout: `segstream ${VERSION}\n`, stderr: '' });
  });

  it('--help, -h and help: the command list on stdout, exit 0; help CMD is CMD --help', async () => {
    for (const flag of ['--help', '-h', 'help']) {
      const r = await cli(flag);
      expect(r.code, flag).toBe(0);
      expect(r.stdout, flag).toContain('usage: segstream <command> [options]');
      expect(r.stdout, flag).toContain('examples:');
      expect(r.stderr, flag).toBe('');
    }
    const bench = await cli('help', 'bench');
    expect(bench.code).toBe(0);
    expect(bench.stdout).toMatch(/^usage: segstream bench /);
  });

  it('an unknown command: one line naming it, a suggestion, exit 2', async () => {
    const r = await cli('benhc');
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('segstream: unknown command "benhc" (did you mean bench?) (see segstream --help)\n');
    const far = await cli('frobnicate');
    expect(far.stderr).toBe('segstream: unknown command "frobnicate" (see segstream --help)\n');
  });

  it('an option before any command: says a command comes first (no silent server start), exit 2', async () => {
    const r = await cli('--port', '8080');
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('segstream: unknown option --port: a command comes first (to start the server: segstream serve --port 8080) (see segstream --help)\n');
  });

  it('every command has its own --help with examples, on stdout, exit 0', async () => {
    const subcommands = [...COMMANDS.map((c) => [c]), ['model', 'info'], ['model', 'demo'], ['model', 'fetch']];
    for (const cmd of subcommands) {
      const r = await cli(...cmd, '--help');
      const name = cmd.join(' ');
      expect(r.code, name).toBe(0);
      expect(r.stderr, name).toBe('');
      expect(r.stdout, name).toMatch(new RegExp(`^usage: segstream ${name}\\b`));
      expect(r.stdout, name).toMatch(/\nexamples:\n {2}segstream /);
      // Each example line runs the command it documents.
      const examples = r.stdout.slice(r.stdout.indexOf('\nexamples:\n')).split('\n').slice(2).filter((l) => l.trim());
      for (const line of examples) expect(line, name).toMatch(new RegExp(`(^|\\s)segstream ${name}\\b`));
    }
  });

  it('usage errors are one line on stderr naming the flag and pointing to --help', async () => {
    for (const cmd of ['serve', 'kiosk', 'bench', 'doctor', 'verify', 'inspect', 'calib', 'mapper-config']) {
      const r = await cli(cmd, '--no-such-flag');
      expect(r.code, cmd).toBe(2);
      expect(lines(r.stderr), cmd).toEqual([`segstream ${cmd}: unknown option --no-such-flag (see segstream ${cmd} --help)`]);
      expect(r.stdout, cmd).toBe('');
    }
    for (const sub of ['info', 'demo', 'fetch']) {
      const r = await cli('model', sub, '--no-such-flag');
      expect(r.code, sub).toBe(2);
      expect(lines(r.stderr), sub).toEqual([`segstream model ${sub}: unknown option --no-such-flag (see segstream model ${sub} --help)`]);
    }
  });
});
