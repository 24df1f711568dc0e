/**
 * Agreement metrics between a reference and a deployed model run: logits cosine similarity and |diff|,
 * class-map pixel agreement and per-class IoU (deployed vs reference), preprocessing |diff|. Accumulators
 * pool the same quantities over many images so overall numbers are exact, not averages of averages.
 */
import { addAt, at } from '../../util/checked-access.ts';

export interface LogitStats {
  cosine: number;
  maxAbsDiff: number;
  meanAbsDiff: number;
  count: number;
}

export class LogitAccumulator {
  private dot = 0;
  private na = 0;
  private nb = 0;
  private sumAbs = 0;
  private maxAbs = 0;
  private n = 0;

  add(reference: Float32Array, deployed: Float32Array): LogitStats {
    if (reference.length !== deployed.length) throw new Error(`logits: reference has ${reference.length} values, deployed ${deployed.length}`);
    let dot = 0;
    let na = 0;
    let nb = 0;
    let sumAbs = 0;
    let maxAbs = 0;
    for (let i = 0; i < reference.length; i++) {
      const a = at(reference, i, 'reference');
      const b = at(deployed, i, 'deployed');
      dot += a * b;
      na += a * a;
      nb += b * b;
      const d = Math.abs(a - b);
      sumAbs += d;
      if (d > maxAbs || Number.isNaN(d)) maxAbs = Number.isNaN(d) ? Number.NaN : d;
    }
    this.dot += dot;
    this.na += na;
    this.nb += nb;
    this.sumAbs += sumAbs;
    this.maxAbs = Number.isNaN(maxAbs) || Number.isNaN(this.maxAbs) ? Number.NaN : Math.max(this.maxAbs, maxAbs);
    this.n += reference.length;
    return { cosine: cosine(dot, na, nb), maxAbsDiff: maxAbs, meanAbsDiff: sumAbs / reference.length, count: reference.length };
  }

  result(): LogitStats {
    return { cosine: cosine(this.dot, this.na, this.nb), maxAbsDiff: this.maxAbs, meanAbsDiff: this.n > 0 ? this.sumAbs / this.n : Number.NaN, count: this.n };
  }
}

function cosine(dot: number, na: number, nb: number): number {
  if (na === 0 && nb === 0) return 1;
  if (na === 0 || nb === 0) return 0;
  return dot / Math.sqrt(na * nb);
}

export interface ClassIoU {
  classId: number;
  iou: number;
  /** Pixels of this class in the reference / deployed class map. */
  referencePixels: number;
  deployedPixels: number;
  intersection: number;
  union: number;
}

export interface ClassMapStats {
  agreement: number;
  pixels: number;
  /** Mean IoU over classes present in either map. */
  meanIoU: number;
  perClass: ClassIoU[];
}

export class ClassMapAccumulator {
  private readonly inter: Float64Array;
  private readonly refCount: Float64Array;
  private readonly depCount: Float64Array;
  private agree = 0;
  private pixels = 0;

  constructor(readonly classes: number) {
    this.inter = new Float64Array(classes);
    this.refCount = new Float64Array(classes);
    this.depCount = new Float64Array(classes);
  }

  add(reference: ArrayLike<number>, deployed: ArrayLike<number>): ClassMapStats {
    if (reference.length !== deployed.length) throw new Error(`class maps: reference has ${reference.length} pixels, deployed ${deployed.length}`);
    const C = this.classes;
    const inter = new Float64Array(C);
    const rc = new Float64Array(C);
    const dc = new Float64Array(C);
    let agree = 0;
    for (let i = 0; i < reference.length; i++) {
      const r = at(reference, i, 'reference');
      const d = at(deployed, i, 'deployed');
      if (r >= C || d >= C) throw new Error(`class maps: class id ${Math.max(r, d)} at pixel ${i} is outside 0..${C - 1}`);
      addAt(rc, r, 1, 'reference class counts');
      addAt(dc, d, 1, 'deployed class counts');
      if (r === d) {
        agree++;
        addAt(inter, r, 1, 'intersections');
      }
    }
    for (let c = 0; c < C; c++) {
      addAt(this.inter, c, at(inter, c, 'inter'), 'intersections');
      addAt(this.refCount, c, at(rc, c, 'rc'), 'reference class counts');
      addAt(this.depCount, c, at(dc, c, 'dc'), 'deployed class counts');
    }
    this.agree += agree;
    this.pixels += reference.length;
    return summarise(inter, rc, dc, agree, reference.length);
  }

  result(): ClassMapStats {
    return summarise(this.inter, this.refCount, this.depCount, this.agree, this.pixels);
  }
}

function summarise(inter: Float64Array, rc: Float64Array, dc: Float64Array, agree: number, pixels: number): ClassMapStats {
  const perClass: ClassIoU[] = [];
  let sum = 0;
  for (let c = 0; c < inter.length; c++) {
    const union = at(rc, c, 'rc') + at(dc, c, 'dc') - at(inter, c, 'inter');
    if (union === 0) continue;
    const iou = at(inter, c, 'inter') / union;
    sum += iou;
    perClass.push({ classId: c, iou, referencePixels: at(rc, c, 'rc'), deployedPixels: at(dc, c, 'dc'), intersection: at(inter, c, 'inter'), union });
  }
  return { agreement: pixels > 0 ? agree / pixels : Number.NaN, pixels, meanIoU: perClass.length > 0 ? sum / perClass.length : Number.NaN, perClass };
}

export interface DiffStats {
  meanAbsDiff: number;
  maxAbsDiff: number;
}

/** Sum and max of |a - b| over two tensors of the same length (the sum, not the mean, so callers can pool). */
export function absDiffSumMax(a: Float32Array, b: Float32Array): { sum: number; max: number } {
  if (a.length !== b.length) throw new Error(`tensors: ${a.length} vs ${b.length} values`);
  let sum = 0;
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    sum += d;
    if (d > max) max = d;
  }
  return { sum, max };
}

export class DiffAccumulator {
  private sum = 0;
  private max = 0;
  private n = 0;

  add(a: Float32Array, b: Float32Array): DiffStats {
    const { sum, max } = absDiffSumMax(a, b);
    this.sum += sum;
    this.n += a.length;
    this.max = Math.max(this.max, max);
    return { meanAbsDiff: sum / a.length, maxAbsDiff: max };
  }

  result(): DiffStats {
    return { meanAbsDiff: this.n > 0 ? this.sum / this.n : Number.NaN, maxAbsDiff: this.max };
  }
}

/** Per logit cell: mean over classes of |reference - deployed| (NCHW logits), for the heat map. */
export function logitDiffMap(reference: Float32Array, deployed: Float32Array, classes: number, height: number, width: number): Float32Array {
  const plane = height * width;
  const out = new Float32Array(plane);
  for (let c = 0; c < classes; c++) {
    const base = c * plane;
    for (let i = 0; i < plane; i++) addAt(out, i, Math.abs(at(reference, base + i, 'reference') - at(deployed, base + i, 'deployed')), 'error map');
  }
  for (let i = 0; i < plane; i++) out[i] = at(out, i, 'error map') / classes;
  return out;
}
