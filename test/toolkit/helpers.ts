/**
 * Test data for the alignment toolkit, generated on the fly (no photos in git): colourful synthetic images
 * with fine texture (so antialiasing, channel order and colour range all change the tensor), the tiny demo
 * model, and a helper that captures a command's stdout.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { vi } from 'vitest';
import { ensureDemoModel, type DemoModelOptions } from '../../server/model/demo/demo-model.ts';
import { at } from '../../server/util/checked-access.ts';

export { tempDir } from '../helpers/media.ts';

/** Deterministic RGB test image: gradients, coloured discs, 2-3 px stripes and a little noise. */
export function syntheticRgb(width: number, height: number, seed = 1): Uint8Array {
  const rgb = new Uint8Array(width * height * 3);
  let state = (seed * 2654435761) >>> 0 || 1;
  const rand = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4294967296;
  };
  const discs = Array.from({ length: 6 }, () => ({
    x: rand() * width,
    y: rand() * height,
    r: (0.08 + rand() * 0.2) * Math.min(width, height),
    c: [rand() * 255, rand() * 255, rand() * 255],
  }));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let r = (255 * x) / width;
      let g = (255 * y) / height;
      let b = 128 + 100 * Math.sin((x + 2 * y) / (7 + seed));
      for (const d of discs) {
        if ((x - d.x) ** 2 + (y - d.y) ** 2 < d.r ** 2) [r, g, b] = d.c as [number, number, number];
      }
      // Fine stripes (2 px) in one band: what a 2-tap resize aliases and PIL's antialiasing averages away.
      if (y > height * 0.55 && y < height * 0.8) {
        const s = (x % 4 < 2 ? 45 : -45) + (y % 2 === 0 ? 20 : -20);
        r += s;
        g += s;
        b -= s;
      }
      const n = (rand() - 0.5) * 10;
      const i = (y * width + x) * 3;
      rgb[i] = Math.max(0, Math.min(255, Math.round(r + n)));
      rgb[i + 1] = Math.max(0, Math.min(255, Math.round(g + n)));
      rgb[i + 2] = Math.max(0, Math.min(255, Math.round(b + n)));
    }
  }
  return rgb;
}

export async function writePng(file: string, rgb: Uint8Array, width: number, height: number): Promise<string> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  await sharp(Buffer.from(rgb), { raw: { width, height, channels: 3 } }).png().toFile(file);
  return file;
}

/** A folder of synthetic PNGs, named img-0.png, img-1.png, ... */
export async function writeImageSet(dir: string, sizes: [number, number][], seed = 1): Promise<string[]> {
  const files: string[] = [];
  for (let i = 0; i < sizes.length; i++) {
    const [w, h] = at(sizes, i, 'sizes');
    files.push(await writePng(path.join(dir, `img-${i}.png`), syntheticRgb(w, h, seed + i), w, h));
  }
  return files;
}

/** The tiny demo model (plus config.json and preprocessor_config.json) in `dir`. */
export async function demoModel(dir: string, opts: DemoModelOptions = {}) {
  return ensureDemoModel(dir, { variant: 'tiny', size: 64, classes: 8, seed: 3, ...opts });
}

/** Runs a command's main() capturing what it writes to stdout and stderr. */
export async function capture(run: () => Promise<number>): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
    return true;
  });
  try {
    const code = await run();
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}
