/**
 * The postprocess stage: the model's output -> a class map at the size the viewer draws, plus its class
 * histogram. Logits go through the argmax kernel in the chosen mode; a model that computes the class map itself
 * skips argmax and its map is only resized (nearest). Optional temporal smoothing (a per-pixel majority vote over
 * the last N maps, the same vote as the viewer's) runs last. Runs on the main thread, beside the next inference:
 * the argmax kernel on the libuv thread pool (`runAsync`), so the worker can start the next frame at once.
 */
import * as kernels from '../../kernels/index.ts';
import type { ModelInfo, Tensor } from '../../model/model-info.ts';
import { ClassMapSmoother, type PostprocessMode } from '../../protocol/index.ts';
import type { ClassMap } from '../frame-context.ts';

export interface PostprocessResult {
  classMap: ClassMap;
  histogram: Uint32Array;
  /** Smoothing window applied (0 = none). */
  smoothing: number;
}

export interface PostprocessSettings {
  mode: PostprocessMode;
  /** Temporal smoothing window in frames; 0 or 1 = off. */
  smoothing: number;
}

export class Postprocessor {
  private settings: PostprocessSettings;
  private smoother: ClassMapSmoother | null = null;

  constructor(
    private readonly model: ModelInfo,
    settings: PostprocessSettings,
  ) {
    this.settings = settings;
    this.configure(settings);
  }

  configure(settings: Partial<PostprocessSettings>): void {
    this.settings = { ...this.settings, ...settings };
    const window = this.settings.smoothing;
    if (window > 1) {
      if (this.smoother) this.smoother.setWindow(window);
      else this.smoother = new ClassMapSmoother(window);
    } else {
      this.smoother = null;
    }
  }

  /** On the calling thread (tools, tests). */
  run(output: Tensor, mapWidth: number, mapHeight: number): PostprocessResult {
    checkOutputSize(this.model, output);
    const mapped = this.model.output.kind === 'classmap' ? this.resizeIds(output, mapWidth, mapHeight) : kernels.argmax(output.data as Float32Array, this.argmaxOptions(output, mapWidth, mapHeight));
    return this.smooth(mapped.classMap, mapped.histogram);
  }

  /** Whether the class map is always new memory (argmax of logits), never a view of the model's output. */
  get makesNewMap(): boolean {
    return this.model.output.kind !== 'classmap';
  }

  /** The argmax on the libuv thread pool: the calling thread (the server's event loop) stays free. */
  async runAsync(output: Tensor, mapWidth: number, mapHeight: number): Promise<PostprocessResult> {
    checkOutputSize(this.model, output);
    const mapped =
      this.model.output.kind === 'classmap'
        ? this.resizeIds(output, mapWidth, mapHeight)
        : await kernels.argmaxAsync(output.data as Float32Array, this.argmaxOptions(output, mapWidth, mapHeight));
    return this.smooth(mapped.classMap, mapped.histogram);
  }

  /** The model took the argmax itself: its ids are only resized (nearest) to the map size. */
  private resizeIds(output: Tensor, mapWidth: number, mapHeight: number): { classMap: ClassMap; histogram: Uint32Array } {
    const out = this.model.output;
    const ids = classIds(output, out.classes, this.model.path);
    const classMap = kernels.resizeClassMap({ data: ids, width: out.width, height: out.height }, mapWidth, mapHeight);
    return { classMap, histogram: countClasses(classMap.data, out.classes) };
  }

  private argmaxOptions(output: Tensor, mapWidth: number, mapHeight: number): kernels.ArgmaxOptions {
    const out = this.model.output;
    const q = out.quantization;
    return {
      layout: out.layout,
      classes: out.classes,
      height: out.height,
      width: out.width,
      ...(output.dtype === 'float16' ? { float16: true } : {}),
      ...(q ? { scales: q.scales, ...(q.zeroPoints ? { zeroPoints: q.zeroPoints } : {}) } : {}),
      mode: this.settings.mode,
      outWidth: mapWidth,
      outHeight: mapHeight,
    };
  }

  private smooth(classMap: ClassMap, histogram: Uint32Array): PostprocessResult {
    const smoother = this.smoother;
    if (!smoother) return { classMap, histogram, smoothing: 0 };
    const smoothed = smoother.push({ ids: classMap.data, width: classMap.width, height: classMap.height });
    // The smoother keeps this frame's map as history; the map sent on may be handed elsewhere (transferred to
    // another thread, reused by a later stage), so it must never be the array the history holds.
    const ids = smoothed.ids === classMap.data ? classMap.data.slice() : smoothed.ids;
    const map: ClassMap = { data: ids, width: smoothed.width, height: smoothed.height };
    return { classMap: map, histogram: countClasses(map.data, histogram.length), smoothing: smoother.windowSize };
  }
}

/** The runtime's output must hold what the model's description (known before the first frame) says. */
function checkOutputSize(model: ModelInfo, output: Tensor): void {
  const o = model.output;
  const expected = (o.kind === 'logits' ? o.classes : 1) * o.height * o.width;
  if (output.data.length !== expected) {
    throw new Error(
      `${model.path}: output "${o.name}" came back as ${output.dtype} [${output.shape.join(', ')}] (${output.data.length} values); ` +
        `segstream expected ${o.kind === 'logits' ? `${o.classes} classes at ` : 'a class map of '}${o.height}x${o.width} (${expected} values) from the model's description`,
    );
  }
}

/**
 * A class-map output's ids as the class-map type (uint8 up to 256 classes, else uint16). int64 ids are read
 * from their low 32 bits (little-endian hosts) after checking the high ones; an id that is negative or beyond
 * 65535 is an error naming the model.
 */
export function classIds(output: Tensor, classes: number, modelPath: string): Uint8Array | Uint16Array {
  const raw = output.data;
  if (raw instanceof Uint8Array) return raw;
  let words: Int32Array | Int16Array | Int8Array | Uint16Array;
  let stride = 1;
  if (raw instanceof BigInt64Array) {
    words = new Int32Array(raw.buffer, raw.byteOffset, raw.length * 2);
    stride = 2;
  } else if (raw instanceof Int32Array || raw instanceof Int16Array || raw instanceof Int8Array || raw instanceof Uint16Array) {
    words = raw;
  } else {
    throw new Error(`${modelPath}: a class-map output must hold integer ids, got ${output.dtype}`);
  }
  const n = raw.length;
  // words holds n * stride values by construction; the check keeps the loops honest at no measurable cost
  // (an indexed read with a guard is as fast as an unchecked one; for-of over a typed array is not).
  const word = (k: number): number => {
    const w = words[k];
    if (w === undefined) throw new Error(`${modelPath}: class-map output has no word ${k} (${n} ids of ${stride} words)`);
    return w;
  };
  let max = 0;
  for (let i = 0; i < n; i++) {
    const v = word(i * stride);
    const high = stride === 2 ? word(i * 2 + 1) : 0;
    if (v < 0 || v > 65535 || high !== 0) {
      throw new Error(`${modelPath}: class-map id ${stride === 2 ? (raw as BigInt64Array)[i] : v} at index ${i} is outside 0..65535`);
    }
    if (v > max) max = v;
  }
  const wide = classes > 256 || max > 255;
  const ids = wide ? new Uint16Array(n) : new Uint8Array(n);
  for (let i = 0; i < n; i++) ids[i] = word(i * stride);
  return ids;
}

/** Pixels per class id. A class-map model need not declare its class count: then the largest id present sizes it. */
export function countClasses(map: Uint8Array | Uint16Array, classes: number): Uint32Array {
  // Indexed loops: for-of over a typed array measured several times slower here, and this runs per frame.
  const n = map.length;
  let size = classes;
  if (size <= 0) {
    for (let i = 0; i < n; i++) {
      const id = map[i] ?? 0;
      if (id >= size) size = id + 1;
    }
  }
  const h = new Uint32Array(Math.max(size, 1));
  for (let i = 0; i < n; i++) {
    const id = map[i] ?? 0;
    const count = h[id];
    if (count !== undefined) h[id] = count + 1;
  }
  return h;
}
