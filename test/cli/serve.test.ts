// `segstream serve`: every flag's error names the flag (never a config field), usage errors exit 2 in one line,
// start-up failures exit 1 at once, and SIGTERM stops it, also through `npm start`.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/media.ts';
import { alive, cli, lines, ROOT, run, start, waitFor } from './helpers.ts';

const HELP = '(see segstream serve --help)';

/** A config that starts fast: the tiny demo model on a small test pattern, on a free port. */
function tinyConfig(dir: string, extra: Record<string, unknown> = {}): string {
  const file = path.join(dir, 'tiny.json');
  writeFileSync(
    file,
    JSON.stringify({
      cacheDir: path.join(ROOT, '.cache'),
      server: { port: 0 },
      sources: { test: { kind: 'test', width: 320, height: 240, framerate: 15 } },
      models: { tiny: { demo: { variant: 'tiny', size: 64, classes: 8 } } },
      defaultModel: 'tiny',
      ...extra,
    }),
  );
  return file;
}

describe('segstream serve: usage errors (exit 2, one line naming the flag)', () => {
  const cases: [string[], string][] = [
    [['--controlToken', '0123456789abcdef'], 'unknown option --controlToken (did you mean --token?)'],
    [['--jpegQuality', '90'], 'unknown option --jpegQuality (did you mean --jpeg-quality?)'],
    [['--prot', '8080'], 'unknown option --prot (did you mean --port?)'],
    [['--token', 'short'], '--token: expected a string of at least 16 characters, got 5 characters'],
    [['--jpeg-quality', '500'], '--jpeg-quality: expected an integer from 1 to 100, got "500"'],
    [['--jpeg-quality', '80.5'], '--jpeg-quality: expected an integer from 1 to 100, got "80.5"'],
    [['--port', '-1'], '--port: expected an integer from 0 to 65535, got "-1"'],
    [['--port', 'eighty'], '--port: expected an integer from 0 to 65535, got "eighty"'],
    [['--port'], '--port: expected a value'],
    [['--port', '--host', '0.0.0.0'], '--port: expected a value, got the option --host'],
    [['--fps', '0'], '--fps: expected an integer from 1 to 240, got "0"'],
    [['--threads', 'many'], '--threads: expected an integer from 0 to 256, got "many"'],
    [['--size', '1280'], '--size: expected WIDTHxHEIGHT such as 1280x720, got "1280"'],
    [['--size', '641x480'], '--size: expected an even integer from 16 to 7680 (NV12 needs even sizes), got 641'],
    [['--overlay', 'on'], '--overlay: expected one of client, server, got "on"'],
    [['--postprocess', 'fast'], '--postprocess: expected one of boundary, exact, lowres, got "fast"'],
    [['--backend', 'tpu'], '--backend: expected one of onnx, bpu, got "tpu"'],
    [['--backend', 'bpu'], '--backend bpu needs --model with the .bin file(s) (or a configured model)'],
    [['--model', 'demo', '--backend', 'onnx'], '--backend applies to a model given by path; "demo" is a configured model with its own backend'],
    [['--color', 'bt2020'], '--color: expected one of bt601-full, bt601-limited, bt709-full, bt709-limited, got "bt2020"'],
    [['--usb', '/dev/sda'], '--usb: expected a V4L2 device node like /dev/video0, got "/dev/sda"'],
    [['--rtsp', 'http://cam/1'], '--rtsp: expected an rtsp:// or rtsps:// URL without spaces or quotes, got "http://cam/1"'],
    [['--host', 'a host'], '--host: expected a host name or IP address, got "a host"'],
    [['--file', 'a.mp4', '--usb', '/dev/video0'], 'choose one source; got --file and --usb'],
    [['--source', 'door'], '--source: expected one of test (the configured sources), got "door"'],
    [['--help=yes'], '--help: takes no value'],
    [['clip.mp4'], 'unexpected argument "clip.mp4": segstream serve takes options only'],
  ];
  for (const [args, message] of cases) {
    it(args.join(' '), async () => {
      const r = await cli('serve', ...args);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(lines(r.stderr)).toEqual([`segstream serve: ${message} ${HELP}`]);
    });
  }

  it('never names an internal config field or type for a flag', async () => {
    for (const args of [['--token', 'x'], ['--jpeg-quality', '0'], ['--threads', '999'], ['--size', '8x8']]) {
      const r = await cli('serve', ...args);
      expect(r.stderr, args.join(' ')).not.toMatch(/controlToken|jpegQuality|inference\.|sources\.|stream\.|server\./);
    }
  });
});

describe('segstream serve: start-up failures (exit 1 at once)', () => {
  it('a --file that does not exist fails before anything starts, instead of being retried for ever', async () => {
    const missing = path.join(tempDir('serve-missing'), 'clip.mp4');
    const r = await run(['serve', '--file', missing, '--port', '0']);
    expect(r.code).toBe(1);
    expect(lines(r.stderr)).toEqual([`segstream serve: --file: ${missing} does not exist`]);
    expect(r.stdout).not.toMatch(/viewer:|model:|restarting/);
  });

  it('an image sequence with no matching file, and a directory given as the file', async () => {
    const dir = tempDir('serve-seq');
    const empty = await cli('serve', '--file', path.join(dir, '%05d.png'));
    expect(empty.code).toBe(1);
    expect(empty.stderr).toBe(`segstream serve: --file: no file in ${dir} matches %05d.png\n`);
    const folder = await cli('serve', '--file', dir);
    expect(folder.code).toBe(1);
    expect(folder.stderr).toBe(`segstream serve: --file: ${dir} is not a file\n`);
  });

  it('a config whose start source is a missing file names the config field', async () => {
    const dir = tempDir('serve-cfgfile');
    const file = tinyConfig(dir, { sources: { clip: { kind: 'file', path: 'gone.mp4', width: 320, height: 240 } }, defaultSource: 'clip' });
    const r = await cli('serve', '--config', file);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`segstream serve: ${file}: sources.clip.path: ${path.join(dir, 'gone.mp4')} does not exist\n`);
  });

  it('an invalid config file: exit 1 naming the file and the field (no --help pointer: the command line was fine)', async () => {
    const dir = tempDir('serve-badcfg');
    const file = path.join(dir, 'bad.yaml');
    writeFileSync(file, 'server:\n  port: eighty\n');
    const r = await cli('serve', '--config', file);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`segstream serve: ${file}: server.port: expected an integer from 0 to 65535, got "eighty"\n`);
    const missing = await cli('serve', '--config', path.join(dir, 'none.yaml'));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(`segstream serve: ${path.join(dir, 'none.yaml')}: (file): cannot read the config file: ENOENT\n`);
  });

  it('a short SEGSTREAM_TOKEN is named as the variable, never echoed', async () => {
    const before = process.env.SEGSTREAM_TOKEN;
    process.env.SEGSTREAM_TOKEN = 'short-secret';
    try {
      const r = await cli('serve');
      expect(r.code).toBe(1);
      expect(r.stderr).toBe('segstream serve: SEGSTREAM_TOKEN: expected a string of at least 16 characters, got 12 characters\n');
    } finally {
      if (before === undefined) delete process.env.SEGSTREAM_TOKEN;
      else process.env.SEGSTREAM_TOKEN = before;
    }
  });
});

describe('segstream serve: signals', () => {
  it('SIGTERM stops the server: exit 0', async () => {
    const cfg = tinyConfig(tempDir('serve-term'));
    const s = start(process.execPath, ['bin/segstream.js', 'serve', '--config', cfg], { env: { SEGSTREAM_TOKEN: '' } });
    await waitFor('the viewer line', () => /viewer: http/.test(s.output().stdout));
    s.child.kill('SIGTERM');
    const end = await s.exited;
    expect(end).toEqual({ code: 0, signal: null });
    expect(s.output().stdout).toContain('[segstream] SIGTERM: stopping');
  });

  it('SIGTERM to `npm start` stops the node process too (npm runs the script through sh; the script execs node)', async () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.start).toMatch(/^exec node bin\/segstream\.js serve/);
    const cfg = tinyConfig(tempDir('npm-start'));
    // --ignore-scripts skips prestart (the viewer build) but still runs start itself.
    const npm = start('npm', ['start', '--ignore-scripts', '--', '--config', cfg], { env: { SEGSTREAM_TOKEN: '' } });
    await waitFor('the viewer line', () => /viewer: http/.test(npm.output().stdout));
    const serverPid = await waitFor('the server process', () => descendants(npm.child.pid!).find((p) => p.cmd.includes('bin/segstream.js'))?.pid);
    npm.child.kill('SIGTERM');
    await npm.exited;
    await waitFor('the node server to exit', () => !alive(serverPid), 20_000);
    expect(npm.output().stdout).toContain('[segstream] SIGTERM: stopping');
  });
});

/** Processes below `pid` (from /proc), with their command lines. */
function descendants(pid: number): { pid: number; cmd: string }[] {
  const all = readProcs();
  const out: { pid: number; cmd: string }[] = [];
  const stack = [pid];
  while (stack.length) {
    const parent = stack.pop()!;
    for (const p of all.filter((q) => q.ppid === parent)) {
      out.push({ pid: p.pid, cmd: p.cmd });
      stack.push(p.pid);
    }
  }
  return out;
}

function readProcs(): { pid: number; ppid: number; cmd: string }[] {
  const out: { pid: number; ppid: number; cmd: string }[] = [];
  for (const name of readdirSafe('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8').replace(/\0/g, ' ');
      out.push({ pid: Number(name), ppid, cmd });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
