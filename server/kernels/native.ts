/**
 * Loads the native kernels addon (build/Release/segstream_kernels.node, built by `npx node-gyp rebuild`)
 * and types its raw entry points. Callers use the validated wrappers in this directory, never these directly.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../util/package-root.ts';

/** Options objects are plain records; the TypeScript wrappers have validated every field. */
type Options = Record<string, unknown>;
type Entry = { (opts: Options, async?: false): void; (opts: Options, async: true): Promise<void> };

export interface NativeKernels {
  nv12ToTensor: Entry;
  rgbToTensor: Entry;
  resizeRgb: Entry;
  nv12ToRgb: Entry;
  resizeNv12: Entry;
  rgbToNv12: Entry;
  argmax: Entry;
  resizeClassMap: Entry;
  overlayNv12: Entry;
  overlayRgb: Entry;
  info(): { isa: 'avx2' | 'neon' | 'scalar' };
}


let loaded: NativeKernels | undefined;

export function native(): NativeKernels {
  if (loaded) return loaded;
  const root = packageRoot();
  const candidates = [join(root, 'build', 'Release', 'segstream_kernels.node'), join(root, 'build', 'Debug', 'segstream_kernels.node')];
  const file = candidates.find((f) => existsSync(f));
  if (!file) throw new Error(`segstream kernels: native addon not built (looked for ${candidates.join(', ')}); run \`npx node-gyp rebuild\` in ${root}`);
  loaded = createRequire(import.meta.url)(file) as NativeKernels;
  return loaded;
}
