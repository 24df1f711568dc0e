/**
 * The render stage's JPEG encode, with and without per-image Huffman optimisation (sharp's optimiseCoding), on
 * real photographs: CPU ms per frame and bytes. Runs alternate between the settings so drift hits both alike.
 *
 *   npx tsx bench/jpeg.ts [--runs N] [--quality Q]      JSON on stdout and in bench/results/jpeg.json
 */
import path from 'node:path';
import sharp, { type JpegOptions } from 'sharp';
import { writeFileAtomic } from '../server/util/atomic-write.ts';
import { jpegOptions } from '../server/stages/render/render.ts';

const root = path.resolve(import.meta.dirname, '..');
const images = ['coffee_1280x720.png', 'rocket_1920x1080.png', 'chelsea.png'];

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name}: expected a positive integer, got ${JSON.stringify(process.argv[i + 1])}`);
  return v;
}

const runs = flag('--runs', 40);
const quality = flag('--quality', 80);
if (quality > 100) throw new Error(`--quality: expected 1-100, got ${quality}`);

const settings: Record<string, JpegOptions> = {
  optimised: { ...jpegOptions(quality), optimiseCoding: true },
  'as streamed': jpegOptions(quality),
};

const median = (v: number[]): number => [...v].sort((a, b) => a - b)[v.length >> 1] ?? NaN;

const results: Record<string, Record<string, { cpuMsMedian: number; bytes: number }>> = {};
for (const file of images) {
  const { data, info } = await sharp(path.join(root, 'test/fixtures/golden', file)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const raw = { width: info.width, height: info.height, channels: 3 as const };
  const cpu: Record<string, number[]> = {};
  const bytes: Record<string, number> = {};
  for (let r = 0; r < runs + 3; r++) {
    const order = r % 2 ? Object.keys(settings).reverse() : Object.keys(settings);
    for (const name of order) {
      const before = process.cpuUsage();
      const out = await sharp(data, { raw }).jpeg(settings[name]).toBuffer();
      const used = process.cpuUsage(before);
      bytes[name] = out.length;
      if (r >= 3) (cpu[name] ??= []).push((used.user + used.system) / 1000);
    }
  }
  results[`${file} ${info.width}x${info.height}`] = Object.fromEntries(
    Object.keys(settings).map((name) => [name, { cpuMsMedian: Number(median(cpu[name] ?? []).toFixed(2)), bytes: bytes[name] ?? 0 }]),
  );
}
const report = { command: `npx tsx bench/jpeg.ts --runs ${runs} --quality ${quality}`, sharp: sharp.versions.sharp, at: new Date().toISOString(), results };
await writeFileAtomic(path.join(root, 'bench/results/jpeg.json'), JSON.stringify(report, null, 1) + '\n');
console.log(JSON.stringify(report, null, 1));
