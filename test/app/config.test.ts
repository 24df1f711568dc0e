import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, defaultConfig, loadConfigFile, validateConfig } from '../../server/app/config.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'segstream-config-'));

function write(name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

describe('config', () => {
  it('defaults: localhost, test source, demo model, boundary post-processing', () => {
    const c = defaultConfig('/w');
    expect(c.server.host).toBe('127.0.0.1');
    expect(c.server.controlToken).toBeNull();
    expect(c.defaultSource).toBe('test');
    expect(c.defaultModel).toBe('demo');
    expect(c.stream.postprocess).toBe('boundary');
    expect(c.cacheDir).toBe('/w/.cache');
  });

  it('reads YAML with sources and models; relative paths resolve against the config folder', async () => {
    const file = write(
      'ok.yaml',
      `server: { port: 9000, controlToken: "0123456789abcdef" }
sources:
  clip: { kind: file, path: clips/a.mp4, width: 640, height: 360, color: bt601-full }
  cam: { kind: usb, device: /dev/video1, width: 1280, height: 720, format: mjpeg }
models:
  seg: { path: models/seg.onnx }
defaultSource: clip
defaultModel: seg
`,
    );
    const c = await loadConfigFile(file);
    expect(c.server.port).toBe(9000);
    expect(c.sources.clip!.spec).toMatchObject({ kind: 'file', path: path.join(dir, 'clips/a.mp4'), width: 640 });
    expect(c.sources.clip!.loop).toBe(true);
    expect(c.sources.clip!.color).toBe('bt601-full');
    expect(c.models.seg!.files).toEqual([path.join(dir, 'models/seg.onnx')]);
    expect(c.defaultSource).toBe('clip');
    expect(Object.keys(c.sources)).toEqual(['test', 'clip', 'cam']);
  });

  const bad: [string, unknown, RegExp][] = [
    ['unknown top-level field', { sever: {} }, /x\.json: sever: unknown field; expected one of server, stream/],
    ['port out of range', { server: { port: 70000 } }, /server\.port: expected an integer from 0 to 65535, got 70000/],
    ['short token', { server: { controlToken: 'abc' } }, /server\.controlToken: expected a string of at least 16 characters/],
    ['bad postprocess', { stream: { postprocess: 'fast' } }, /stream\.postprocess: expected one of boundary, exact, lowres, got "fast"/],
    ['source without kind', { sources: { a: { width: 640 } } }, /sources\.a\.kind: expected one of test, file, usb, x5-mipi, rtsp, got nothing/],
    ['odd source size', { sources: { a: { kind: 'test', width: 641, height: 480 } } }, /sources\.a\.width: expected an even integer/],
    ['unknown source field', { sources: { a: { kind: 'usb', pipeline: 'filesrc' } } }, /sources\.a\.pipeline: unknown field/],
    ['bad device', { sources: { a: { kind: 'usb', device: '/dev/sda' } } }, /device: expected a V4L2 device node/],
    ['bad color', { sources: { a: { kind: 'test', color: 'bt2020' } } }, /sources\.a\.color: expected bt601-full, bt601-limited/],
    ['model without path', { models: { m: { backend: 'onnx' } } }, /models\.m\.path: expected the model file path/],
    ['bad backend', { models: { m: { backend: 'tpu', path: 'a' } } }, /models\.m\.backend: expected one of onnx, bpu, got "tpu"/],
    ['default source not configured', { defaultSource: 'cam' }, /defaultSource: expected one of test, got "cam"/],
    ['bad name', { sources: { 'a b': { kind: 'test' } } }, /sources\.a b: expected a name of letters/],
    ['not an object', [1, 2], /\(top level\): expected an object/],
  ];
  for (const [what, raw, message] of bad) {
    it(`refuses ${what} naming the field`, () => {
      expect(() => validateConfig(raw, 'x.json', '/base')).toThrow(ConfigError);
      expect(() => validateConfig(raw, 'x.json', '/base')).toThrow(message);
    });
  }

  it('reports unreadable files and syntax errors with the file name', async () => {
    await expect(loadConfigFile(path.join(dir, 'missing.json'))).rejects.toThrow(/missing\.json: \(file\): cannot read the config file: ENOENT/);
    await expect(loadConfigFile(write('bad.json', '{ "server": '))).rejects.toThrow(/bad\.json: \(syntax\): not valid JSON/);
    await expect(loadConfigFile(write('bad.yaml', 'server: [1, 2'))).rejects.toThrow(/bad\.yaml: \(syntax\): not valid YAML/);
  });
});

describe('config: inference and stream tuning', () => {
  const base = { sources: { test: { kind: 'test', width: 64, height: 48 } } };
  it('takes inference.memoryArena (default on) and stream.smoothing (default off)', () => {
    const d = validateConfig(base, 'c.json', '/w');
    expect(d.inference.memoryArena).toBe(true);
    expect(d.stream.smoothing).toBe(0);
    const c = validateConfig({ ...base, inference: { memoryArena: false }, stream: { smoothing: 5 } }, 'c.json', '/w');
    expect(c.inference.memoryArena).toBe(false);
    expect(c.stream.smoothing).toBe(5);
  });

  it('names the field when a value is wrong', () => {
    expect(() => validateConfig({ ...base, inference: { memoryArena: 'no' } }, 'c.json', '/w')).toThrow(ConfigError);
    expect(() => validateConfig({ ...base, inference: { memoryArena: 'no' } }, 'c.json', '/w')).toThrow(/inference\.memoryArena/);
    expect(() => validateConfig({ ...base, stream: { smoothing: 10 } }, 'c.json', '/w')).toThrow(/stream\.smoothing/);
  });
});
