/**
 * The postprocess stage: the model's output -> a class map at the size the viewer draws, plus its class
 * histogram. Logits go through the argmax kernel in the chosen mode; a model that computes the class map itself
 * skips argmax and its map is only resized (nearest). Optional temporal smoothing (a per-pixel majority vote over
 * the last N maps, the same vote as the viewer's) runs last. Runs in the inference worker.
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

  run(output: Tensor, mapWidth: number, mapHeight: number): PostprocessResult {
    const out = this.model.output;
    let classMap: ClassMap;
    let histogram: Uint32Array;
    if (out.kind === 'classmap') {
      const raw = output.data;
      const ids = raw instanceof Uint8Array || raw instanceof Uint16Array ? raw : Uint16Array.from(raw as ArrayLike<number | bigint>, Number);
      classMap = kernels.resizeClassMap({ data: ids, width: out.width, height: out.height }, mapWidth, mapHeight);
      histogram = countClasses(classMap.data, out.classes);
    } else {
      const q = out.quantization;
      const r = kernels.argmax(output.data as Float32Array, {
        layout: out.layout,
        classes: out.classes,
        height: out.height,
        width: out.width,
        ...(q ? { scales: q.scales, ...(q.zeroPoints ? { zeroPoints: q.zeroPoints } : {}) } : {}),
        mode: this.settings.mode,
        outWidth: mapWidth,
        outHeight: mapHeight,
      });
      classMap = r.classMap;
      histogram = r.histogram;
    }
    const smoother = this.smoother;
    if (!smoother) return { classMap, histogram, smoothing: 0 };
    const smoothed = smoother.push({ ids: classMap.data, width: classMap.width, height: classMap.height });
    // The smoother keeps this frame's map as history; the map sent on is transferred to the main thread (its
    // buffer detached here), so it must never be the array the history holds.
    const ids = smoothed.ids === classMap.data ? classMap.data.slice() : smoothed.ids;
    const map: ClassMap = { data: ids, width: smoothed.width, height: smoothed.height };
    return { classMap: map, histogram: countClasses(map.data, histogram.length), smoothing: smoother.windowSize };
  }
}

/** Pixels per class id. A class-map model need not declare its class count: then the largest id present sizes it. */
export function countClasses(map: Uint8Array | Uint16Array, classes: number): Uint32Array {
  let size = classes;
  if (size <= 0) for (const id of map) if (id >= size) size = id + 1;
  const h = new Uint32Array(Math.max(size, 1));
  for (const id of map) if (id < h.length) h[id] = h[id]! + 1;
  return h;
}
