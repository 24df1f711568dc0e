/** The graph users really export (Hugging Face transformers, SegFormer-B0 ADE20K head, untrained weights) loads and streams. */
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { SegStreamApp } from '../../server/app/app.ts';
import { validateConfig } from '../../server/app/config.ts';
import { decodeClassMap } from '../../server/stages/render/class-map-codec.ts';
import { decodeFrameMessage, type HelloMessage } from '../../server/protocol/index.ts';

const FIXTURE = path.resolve(import.meta.dirname, '../fixtures/models/segformer-b0-ade-random');
let app: SegStreamApp | null = null;
afterAll(async () => app?.stop());

describe('Hugging Face export', () => {
  it('streams with its own names, 150 ADE20K classes and preprocessing from its config files', async () => {
    const config = validateConfig(
      {
        server: { port: 0 },
        sources: { cam: { kind: 'test', width: 320, height: 240, framerate: 10 } },
        models: { ade: { path: path.join(FIXTURE, 'model.onnx') } },
        defaultSource: 'cam',
        defaultModel: 'ade',
      },
      'test',
      process.cwd(),
    );
    app = new SegStreamApp({ config, log: () => {} });
    await app.start();
    const model = app.model!;
    expect(model.untrainedDemo).toBe(false);
    expect(model.input).toMatchObject({ name: 'pixel_values', width: 512, height: 512, layout: 'NCHW' });
    expect(model.output).toMatchObject({ name: 'logits', classes: 150, width: 128, height: 128, kind: 'logits' });
    expect(model.preprocess.origin).toBe('preprocessor_config');

    const ws = new WebSocket(`ws://127.0.0.1:${app.port}/ws`);
    let hello: HelloMessage | null = null;
    const maps: Uint8Array[] = [];
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${maps.length} frames in 90 s`)), 90_000);
      ws.on('message', (data, isBinary) => {
        if (!isBinary) {
          const m = JSON.parse(data.toString());
          if (m.type === 'hello') hello = m;
          return;
        }
        const f = decodeFrameMessage(new Uint8Array(data as Buffer));
        const map = decodeClassMap(f.classMap, f.header.classMap.width, f.header.classMap.height, f.header.classMap.bytesPerPixel);
        maps.push(map.data as Uint8Array);
        if (maps.length === 3) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    ws.close();
    const h = hello as unknown as HelloMessage;
    expect(h.classNames).toHaveLength(150);
    expect(h.classNames.slice(0, 3)).toEqual(['wall', 'building', 'sky']);
    expect(h.model).toMatchObject({ name: 'ade', classes: 150, untrainedDemo: false, inputSize: [512, 512] });
    for (const m of maps) {
      expect(m.length).toBe(320 * 240);
      expect(Math.max(...m)).toBeLessThan(150);
    }
  });
});
