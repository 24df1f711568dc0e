/** Loads the golden fixtures (copied from the project's golden set into test/fixtures/golden). */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

export const GOLDEN_DIR = fileURLToPath(new URL('../fixtures/golden/', import.meta.url));

export const MEAN: [number, number, number] = [0.485, 0.456, 0.406];
export const STD: [number, number, number] = [0.229, 0.224, 0.225];

/** RGB pixels of a golden PNG exactly as PIL reads them: embedded ICC profiles are NOT applied. */
export async function loadRgb(name: string): Promise<{ rgb: Uint8Array; width: number; height: number }> {
  const { data, info } = await sharp(GOLDEN_DIR + name + '.png', { ignoreIcc: true }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`${name}.png decoded to ${info.channels} channels`);
  return { rgb: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
}

/** A single-channel PNG (class maps). */
export async function loadGrey(name: string): Promise<{ data: Uint8Array; width: number; height: number }> {
  const { data, info } = await sharp(GOLDEN_DIR + name + '.png').extractChannel(0).raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
}

export function loadF32(file: string): Float32Array {
  const raw = gunzipSync(readFileSync(GOLDEN_DIR + file));
  const copy = new Uint8Array(raw.length);
  copy.set(raw);
  return new Float32Array(copy.buffer);
}
