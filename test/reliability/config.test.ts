/**
 * Config and start-up failures of the real CLI (`bin/segstream.js serve` in a child process): an invalid config
 * file makes it exit non-zero with a message naming the field and what was expected, before anything starts (no
 * port bound, no model loaded, no pipeline built); a port already in use makes it exit too, instead of hanging
 * with a model and a camera pipeline running and nothing served.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/media.ts';
import { baseConfig, canConnect, freePort, ROOT } from './helpers.ts';

interface Run {
  code: number | null;
  output: string;
  /** How many times something accepted a TCP connection on the port while the process ran. */
  accepted: number;
}

/** Runs `segstream serve` to its exit, probing `port` every 50 ms meanwhile. */
async function serve(args: string[], port: number): Promise<Run> {
  const child = spawn(process.execPath, [path.join(ROOT, 'bin/segstream.js'), 'serve', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SEGSTREAM_TOKEN: '' } });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  let running = true;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => ((running = false), resolve(code))));
  let accepted = 0;
  while (running) {
    if (await canConnect(port)) accepted++;
    await new Promise((r) => setTimeout(r, 50));
  }
  return { code: await exited, output, accepted };
}

describe('config and start-up failures (real CLI)', () => {
  const cases: [string, string, string, RegExp][] = [
    ['a port that is not a number', 'bad-port.yaml', 'server:\n  port: eighty\n', /server\.port: expected an integer from 0 to 65535, got "eighty"/],
    [
      'a valid server section, then a camera source naming a disk',
      'bad-device.yaml',
      'server:\n  port: PORT\nsources:\n  cam: { kind: usb, device: /dev/sda, width: 640, height: 480 }\n',
      /sources\.cam\.device: expected a V4L2 device node like \/dev\/video0, got "\/dev\/sda"/,
    ],
    ['a watchdog that would spin', 'bad-watchdog.json', '{"server": {"port": PORT}, "watchdog": {"noFrameMs": 10}}', /watchdog\.noFrameMs: expected an integer from 200 to 600000, got 10/],
    ['a YAML syntax error', 'bad-syntax.yaml', 'server:\n  port: PORT\n sources: [\n', /bad-syntax\.yaml: \(syntax\): not valid YAML/],
  ];
  for (const [what, name, text, expected] of cases) {
    it(`${what}: exits non-zero naming the field; nothing starts`, async () => {
      const port = await freePort();
      const file = path.join(tempDir('rel-config'), name);
      writeFileSync(file, text.replace('PORT', String(port)));
      const run = await serve(['--config', file, '--port', String(port)], port);
      expect(run.code).not.toBe(0);
      expect(run.code).not.toBeNull();
      expect(run.output).toMatch(expected);
      expect(run.output).toContain(file);
      expect(run.accepted).toBe(0);
      // Validation comes before the model, the pipeline and the socket.
      expect(run.output).not.toMatch(/\bmodel: |\bsource: |viewer: http/);
    });
  }

  it('a port already in use: exits non-zero naming the setting (it used to hang with the pipeline running)', async () => {
    const holder = net.createServer();
    await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r));
    const port = (holder.address() as net.AddressInfo).port;
    try {
      const dir = tempDir('rel-inuse');
      const file = path.join(dir, 'config.json');
      writeFileSync(file, JSON.stringify(baseConfig({ server: { port } })));
      const run = await serve(['--config', file], port);
      expect(run.code).toBe(1);
      expect(run.output).toMatch(new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port} \\(server\\.host/server\\.port, --host/--port\\): listen EADDRINUSE`));
    } finally {
      holder.close();
    }
  });
});
