// The addon is context-aware: it loads and runs inside worker_threads, concurrently with the main thread.
import { describe, expect, it } from 'vitest';
import { startTsWorker } from '../../server/util/ts-worker.ts';
import { rgbToTensor } from '../../server/kernels/index.ts';
import { randomImage } from './reference.ts';

const MEAN: [number, number, number] = [0.485, 0.456, 0.406];
const STD: [number, number, number] = [0.229, 0.224, 0.225];

describe('worker_threads', () => {
  it('two workers compute the same tensor as the main thread', async () => {
    const rgb = randomImage(120, 80, 3, 77);
    const main = rgbToTensor(rgb, 120, 80, { width: 64, height: 48, mean: MEAN, std: STD });
    const run = () =>
      new Promise<Float32Array>((resolve, reject) => {
        const w = startTsWorker(new URL('./worker-entry.ts', import.meta.url), { workerData: { rgb } });
        w.once('message', (m: Float32Array) => resolve(m));
        w.once('error', reject);
      });
    const [a, b] = await Promise.all([run(), run()]);
    expect(Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(main.buffer))).toBe(true);
    expect(Buffer.from(b.buffer, b.byteOffset, b.byteLength).equals(Buffer.from(main.buffer))).toBe(true);
  });
});
