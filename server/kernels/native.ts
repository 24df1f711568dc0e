/**
 * Loads the native kernels addon (build/Release/segstream_kernels.node, built by `npx node-gyp rebuild`)
 * and types its raw entry points. Callers use the validated wrappers in this directory, never these directly.
 */
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

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

/** The directory holding segstream's package.json, found by walking up from this file. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'segstream') return dir;
      } catch {
        // not a readable manifest: keep walking up
      }
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('segstream kernels: cannot find the segstream package.json above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
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
