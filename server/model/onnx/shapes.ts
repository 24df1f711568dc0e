/**
 * Shape propagation over the reader's graph: given the concrete input size segstream will feed, the shape and
 * element type of every value, so a model whose outputs are declared with symbolic or unnamed dims (dynamic
 * batch/height/width exports) still has every output size known before the first frame. Small integer tensors
 * are folded (Shape -> Gather/Slice -> Unsqueeze -> Concat -> Reshape, the way exporters build reshape targets
 * and Resize sizes), so shapes computed inside the graph resolve too.
 *
 * It covers the operators SegFormer exports use at opsets 11-21 (float, float16, QDQ and dynamically quantised
 * copies) and the common element-wise and shape operators; an operator it does not know leaves its outputs
 * unknown (and is named in `unknownOps`), it never guesses.
 */
import type { OnnxSummary, OnnxNodeSummary } from './reader.ts';
import { defaultOpset, OnnxElemType } from './reader.ts';
import { constantNodeValue, initializerValue, MAX_FOLDED_ELEMENTS } from './tensor-values.ts';
import { at } from '../../util/checked-access.ts';

/** A dim: its size, or null when propagation could not tell. */
export type Dim = number | null;

/**
 * Dim i of a shape, null (unknown) when the shape has no such axis. The files this reads are untrusted: an
 * attribute or shape shorter than its op needs must make a dim unknown, never NaN or undefined.
 */
const dimAt = (dims: readonly (Dim | undefined)[], i: number): Dim => dims[i] ?? null;

/** Element i of every list (one per list, in order), or undefined when any list lacks it. */
function allAt<const Lists extends readonly (readonly number[])[]>(lists: Lists, i: number): { [K in keyof Lists]: number } | undefined {
  const out: number[] = [];
  for (const list of lists) {
    const v = list[i];
    if (v === undefined) return undefined;
    out.push(v);
  }
  // One element per list, in order: the mapped tuple type says exactly that.
  return out as { [K in keyof Lists]: number };
}

export interface ValueShape {
  /** Dims, or null when even the rank is unknown. */
  dims: Dim[] | null;
  /** TensorProto.DataType; 0 when unknown. */
  elemType: number;
  /** Folded contents of a small integer/float tensor (row-major). */
  values?: number[];
}

export interface ShapePropagation {
  values: Map<string, ValueShape>;
  /** Op types (domain-qualified outside the default domain) whose outputs stayed unknown. */
  unknownOps: string[];
}

const UNKNOWN: ValueShape = { dims: null, elemType: 0 };
const { FLOAT, UINT8, INT8, INT32, INT64, BOOL } = OnnxElemType;

type Attr = OnnxNodeSummary['attributes'][number];
type Long = { toNumber(): number };
const toNum = (v: number | Long | null | undefined): number => (v === null || v === undefined ? 0 : typeof v === 'number' ? v : v.toNumber());

function attrOf(n: OnnxNodeSummary, name: string): Attr | undefined {
  return n.attributes.find((a) => a.name === name);
}
function intAttr(n: OnnxNodeSummary, name: string, fallback: number): number {
  const a = attrOf(n, name);
  return a && a.i !== undefined && a.i !== null ? toNum(a.i) : fallback;
}
function intsAttr(n: OnnxNodeSummary, name: string): number[] | undefined {
  const a = attrOf(n, name);
  return a?.ints && a.ints.length > 0 ? a.ints.map(toNum) : undefined;
}
function floatsAttr(n: OnnxNodeSummary, name: string): number[] | undefined {
  const a = attrOf(n, name);
  return a?.floats && a.floats.length > 0 ? [...a.floats] : undefined;
}
function stringAttr(n: OnnxNodeSummary, name: string, fallback: string): string {
  const a = attrOf(n, name);
  return a?.s && a.s.length > 0 ? new TextDecoder().decode(a.s) : fallback;
}

const known = (d: Dim[] | null): d is number[] => d !== null && d.every((x) => x !== null);
const product = (d: number[]): number => d.reduce((a, x) => a * x, 1);
const normAxis = (axis: number, rank: number): number => (axis < 0 ? axis + rank : axis);

/** numpy-style broadcast of two shapes. */
function broadcast(a: Dim[] | null, b: Dim[] | null): Dim[] | null {
  if (!a || !b) return null;
  const rank = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    const x = a[a.length - rank + i] ?? 1;
    const y = b[b.length - rank + i] ?? 1;
    if (x === 1) out.push(y);
    else if (y === 1) out.push(x);
    else if (x === null || y === null) out.push(x ?? y);
    else out.push(x === y ? x : null);
  }
  return out;
}

/** Element-wise fold of equally sized (or scalar) operands. */
function foldElementwise(inputs: ValueShape[], dims: Dim[] | null, fn: (...v: number[]) => number): number[] | undefined {
  if (!known(dims)) return undefined;
  const n = product(dims);
  if (n > MAX_FOLDED_ELEMENTS) return undefined;
  const vals: number[][] = [];
  for (const i of inputs) {
    if (!i.values) return undefined;
    vals.push(i.values);
  }
  // Only scalars and same-sized operands: enough for shape arithmetic, no general broadcasting index maths.
  if (vals.some((v) => v.length !== 1 && v.length !== n)) return undefined;
  const operand = (v: number[], k: number) => at(v, v.length === 1 ? 0 : k, 'folded operand');
  return Array.from({ length: n }, (_, k) => fn(...vals.map((v) => operand(v, k))));
}

const isInt = (t: number) => t === INT64 || t === INT32 || t === INT8 || t === UINT8 || t === OnnxElemType.INT16 || t === OnnxElemType.UINT16;

/** Output size of a convolution/pool along each spatial axis. */
function spatialOut(n: OnnxNodeSummary, inDims: Dim[], kernel: number[] | undefined, transpose = false): Dim[] | null {
  const spatial = inDims.length - 2;
  if (!kernel || kernel.length !== spatial) return null;
  const strides = intsAttr(n, 'strides') ?? kernel.map(() => 1);
  const dil = intsAttr(n, 'dilations') ?? kernel.map(() => 1);
  const pads = intsAttr(n, 'pads') ?? new Array<number>(2 * spatial).fill(0);
  const autoPad = stringAttr(n, 'auto_pad', 'NOTSET');
  const ceil = intAttr(n, 'ceil_mode', 0) === 1;
  const out: Dim[] = [];
  for (let i = 0; i < spatial; i++) {
    const x = inDims[2 + i];
    if (x === null || x === undefined) {
      out.push(null);
      continue;
    }
    // Attributes shorter than the rank (a malformed file) leave the axis unknown.
    const axis = allAt([strides, kernel, dil, pads], i);
    const padEnd = pads[i + spatial];
    if (!axis || padEnd === undefined) {
      out.push(null);
      continue;
    }
    const [s, kernelSize, dilation, padBegin] = axis;
    const k = (kernelSize - 1) * dilation + 1;
    if (transpose) {
      const outPad = intsAttr(n, 'output_padding')?.[i] ?? 0;
      const explicit = intsAttr(n, 'output_shape');
      if (explicit) out.push(dimAt(explicit, i));
      else if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') out.push(x * s);
      else out.push(s * (x - 1) + outPad + k - padBegin - padEnd);
      continue;
    }
    if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') out.push(Math.ceil(x / s));
    else if (autoPad === 'VALID') out.push(Math.floor((x - k) / s) + 1);
    else {
      const span = x + padBegin + padEnd - k;
      out.push((ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1);
    }
  }
  return out;
}

/** numpy matmul shape. */
function matmulShape(a: Dim[] | null, b: Dim[] | null): Dim[] | null {
  if (!a || !b || a.length === 0 || b.length === 0) return null;
  const a2 = a.length === 1 ? [1, dimAt(a, 0)] : a;
  const b2 = b.length === 1 ? [dimAt(b, 0), 1] : b;
  const batch = broadcast(a2.slice(0, -2), b2.slice(0, -2));
  if (!batch) return null;
  const out = [...batch, dimAt(a2, a2.length - 2), dimAt(b2, b2.length - 1)];
  if (a.length === 1) out.splice(out.length - 2, 1);
  if (b.length === 1) out.pop();
  return out;
}

/** Reshape target -> dims (0 copies the input dim unless allowzero, -1 takes the rest). */
function reshapeDims(inDims: Dim[] | null, target: number[], allowZero: boolean): Dim[] | null {
  const out: Dim[] = target.map((t, i) => (t === 0 && !allowZero ? (inDims?.[i] ?? null) : t));
  const minus = out.indexOf(-1);
  if (minus >= 0) {
    const rest = out.filter((_, i) => i !== minus);
    if (!known(inDims) || !known(rest)) out[minus] = null;
    else {
      const r = product(rest);
      out[minus] = r === 0 ? 0 : product(inDims) / r;
      if (!Number.isInteger(out[minus])) return null;
    }
  }
  return out;
}

/** Slice bounds along one axis (ONNX clamping rules). */
function sliceRange(size: number, start: number, end: number, step: number): number[] {
  const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
  let s = start < 0 ? start + size : start;
  let e = end < 0 ? end + size : end;
  if (step > 0) {
    s = clamp(s, 0, size);
    e = clamp(e, 0, size);
  } else {
    s = clamp(s, -1, size - 1);
    e = clamp(e, -1, size - 1);
  }
  const idx: number[] = [];
  for (let i = s; step > 0 ? i < e : i > e; i += step) idx.push(i);
  return idx;
}

class Propagator {
  readonly values = new Map<string, ValueShape>();
  readonly unknownOps = new Set<string>();
  private readonly opset: number;

  constructor(
    private readonly summary: OnnxSummary,
    bytes: Uint8Array,
  ) {
    this.opset = defaultOpset(summary);
    for (const t of summary.initializers) {
      const v = initializerValue(bytes, t);
      this.values.set(t.name, { dims: [...t.dims], elemType: t.dataType, ...(v ? { values: v.values } : {}) });
    }
  }

  get(name: string | undefined): ValueShape {
    if (!name) return UNKNOWN;
    return this.values.get(name) ?? UNKNOWN;
  }

  /** Integer contents of an input (an axes/shape/sizes tensor), when folded. */
  ints(name: string | undefined): number[] | undefined {
    return this.get(name).values;
  }

  run(): void {
    for (const n of this.summary.nodes) {
      let outs: ValueShape[] | null = null;
      try {
        outs = this.infer(n);
      } catch {
        outs = null;
      }
      if (!outs) {
        this.unknownOps.add(n.domain && n.domain !== 'ai.onnx' ? `${n.domain}.${n.opType}` : n.opType);
        outs = n.outputs.map(() => UNKNOWN);
      }
      n.outputs.forEach((o, i) => {
        if (o) this.values.set(o, outs![i] ?? UNKNOWN);
      });
    }
  }

  /** Shapes of a node's outputs; null when the operator is not known here. */
  private infer(n: OnnxNodeSummary): ValueShape[] | null {
    const ins = n.inputs.map((i) => this.get(i));
    const x = ins[0] ?? UNKNOWN;
    const same = (elemType = x.elemType, values?: number[]): ValueShape[] => [{ dims: x.dims, elemType, ...(values ? { values } : {}) }];
    const domain = n.domain && n.domain !== 'ai.onnx' ? n.domain : '';
    if (domain === 'com.microsoft') return this.inferMicrosoft(n, ins);
    if (domain !== '') return null;

    switch (n.opType) {
      case 'Constant': {
        const v = constantNodeValue(n);
        if (!v) {
          const t = attrOf(n, 'value')?.t;
          return t ? [{ dims: (t.dims ?? []).map(toNum), elemType: t.dataType ?? 0 }] : null;
        }
        return [{ dims: v.dims, elemType: v.elemType, values: v.values }];
      }
      case 'Identity':
        return same(x.elemType, x.values);
      case 'Dropout':
        return [{ dims: x.dims, elemType: x.elemType }, { dims: x.dims, elemType: BOOL }];
      case 'Cast': {
        const to = intAttr(n, 'to', 0);
        const v = x.values ? (isInt(to) ? x.values.map((a) => Math.trunc(a)) : to === BOOL ? x.values.map((a) => (a ? 1 : 0)) : x.values) : undefined;
        return same(to, v);
      }
      case 'CastLike':
        return same(ins[1]?.elemType ?? 0, x.values);
      case 'Floor':
        return same(x.elemType, x.values?.map(Math.floor));
      case 'Ceil':
        return same(x.elemType, x.values?.map(Math.ceil));
      case 'Neg':
        return same(x.elemType, x.values?.map((a) => -a));
      case 'Abs':
        return same(x.elemType, x.values?.map(Math.abs));
      case 'Sqrt':
        return same(x.elemType, x.values?.map(Math.sqrt));
      case 'Round': case 'Relu': case 'Erf': case 'Exp': case 'Log': case 'Tanh': case 'Sigmoid': case 'Reciprocal':
      case 'Softmax': case 'LogSoftmax': case 'Gelu': case 'LeakyRelu': case 'Elu': case 'Selu': case 'HardSigmoid':
      case 'HardSwish': case 'Softplus': case 'Mish': case 'Sin': case 'Cos': case 'Not': case 'PRelu': case 'Clip':
      case 'BatchNormalization': case 'InstanceNormalization': case 'LpNormalization': case 'IsNaN': case 'IsInf':
        return same(n.opType === 'IsNaN' || n.opType === 'IsInf' ? BOOL : x.elemType);
      case 'LayerNormalization': {
        const out: ValueShape[] = [{ dims: x.dims, elemType: x.elemType }];
        if (n.outputs.length > 1 && x.dims) {
          const axis = normAxis(intAttr(n, 'axis', -1), x.dims.length);
          const stat = x.dims.map((d, i) => (i < axis ? d : 1));
          const statType = intAttr(n, 'stash_type', 1) === 1 ? FLOAT : x.elemType;
          out.push({ dims: stat, elemType: statType }, { dims: stat, elemType: statType });
        }
        return out;
      }
      case 'Add': case 'Sub': case 'Mul': case 'Div': case 'Pow': case 'Max': case 'Min': case 'Mod': case 'Sum':
      case 'Equal': case 'Less': case 'Greater': case 'LessOrEqual': case 'GreaterOrEqual': case 'And': case 'Or': case 'Xor': {
        let dims: Dim[] | null = x.dims;
        for (const i of ins.slice(1)) dims = broadcast(dims, i.dims);
        const cmp = ['Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'And', 'Or', 'Xor'].includes(n.opType);
        const int = isInt(x.elemType);
        const fn: Record<string, (a: number, b: number) => number> = {
          Add: (a, b) => a + b,
          Sum: (a, b) => a + b,
          Sub: (a, b) => a - b,
          Mul: (a, b) => a * b,
          Div: (a, b) => (int ? Math.trunc(a / b) : a / b),
          Pow: (a, b) => a ** b,
          Max: Math.max,
          Min: Math.min,
          Mod: (a, b) => (intAttr(n, 'fmod', 0) ? a % b : ((a % b) + b) % b),
          Equal: (a, b) => Number(a === b),
          Less: (a, b) => Number(a < b),
          Greater: (a, b) => Number(a > b),
          LessOrEqual: (a, b) => Number(a <= b),
          GreaterOrEqual: (a, b) => Number(a >= b),
          And: (a, b) => Number(Boolean(a) && Boolean(b)),
          Or: (a, b) => Number(Boolean(a) || Boolean(b)),
          Xor: (a, b) => Number(Boolean(a) !== Boolean(b)),
        };
        const f = fn[n.opType];
        const values = f && ins.length === 2 ? foldElementwise(ins, dims, f) : undefined;
        return [{ dims, elemType: cmp ? BOOL : x.elemType, ...(values ? { values } : {}) }];
      }
      case 'Where': {
        const dims = broadcast(broadcast(x.dims, ins[1]?.dims ?? null), ins[2]?.dims ?? null);
        const values = foldElementwise(ins.slice(0, 3), dims, (c, a, b) => (c ? a : b));
        return [{ dims, elemType: ins[1]?.elemType ?? 0, ...(values ? { values } : {}) }];
      }
      case 'MatMul':
        return [{ dims: matmulShape(x.dims, ins[1]?.dims ?? null), elemType: x.elemType }];
      case 'MatMulInteger':
        return [{ dims: matmulShape(x.dims, ins[1]?.dims ?? null), elemType: INT32 }];
      case 'QLinearMatMul':
        return [{ dims: matmulShape(x.dims, ins[3]?.dims ?? null), elemType: ins[7]?.elemType || x.elemType }];
      case 'Gemm': {
        const a = x.dims;
        const b = ins[1]?.dims;
        if (!a || !b || a.length !== 2 || b.length !== 2) return [{ dims: null, elemType: x.elemType }];
        const m = dimAt(a, intAttr(n, 'transA', 0) ? 1 : 0);
        const nn = dimAt(b, intAttr(n, 'transB', 0) ? 0 : 1);
        return [{ dims: [m, nn], elemType: x.elemType }];
      }
      case 'Conv': case 'ConvInteger': case 'QLinearConv': case 'ConvTranspose': {
        const wIndex = n.opType === 'QLinearConv' ? 3 : 1;
        const w = ins[wIndex]?.dims;
        if (!x.dims || !w) return [{ dims: null, elemType: x.elemType }];
        const group = intAttr(n, 'group', 1);
        const kernel = intsAttr(n, 'kernel_shape') ?? (known(w) ? w.slice(2) : undefined);
        const transpose = n.opType === 'ConvTranspose';
        const wIn = dimAt(w, 1);
        const outC = transpose ? (wIn === null ? null : wIn * group) : dimAt(w, 0);
        const spatial = spatialOut(n, x.dims, kernel as number[] | undefined, transpose);
        const elemType = n.opType === 'ConvInteger' ? INT32 : n.opType === 'QLinearConv' ? (ins[7]?.elemType || x.elemType) : x.elemType;
        return [{ dims: spatial ? [dimAt(x.dims, 0), outC, ...spatial] : null, elemType }];
      }
      case 'MaxPool': case 'AveragePool': case 'LpPool': {
        if (!x.dims) return [{ dims: null, elemType: x.elemType }];
        const spatial = spatialOut(n, x.dims, intsAttr(n, 'kernel_shape'));
        const dims = spatial ? [dimAt(x.dims, 0), dimAt(x.dims, 1), ...spatial] : null;
        return n.outputs.length > 1 ? [{ dims, elemType: x.elemType }, { dims, elemType: INT64 }] : [{ dims, elemType: x.elemType }];
      }
      case 'GlobalAveragePool': case 'GlobalMaxPool':
        return [{ dims: x.dims ? x.dims.map((d, i) => (i < 2 ? d : 1)) : null, elemType: x.elemType }];
      case 'Shape': {
        if (!x.dims) return [{ dims: null, elemType: INT64 }];
        const r = x.dims.length;
        const start = Math.min(Math.max(normAxis(intAttr(n, 'start', 0), r), 0), r);
        const end = Math.min(Math.max(normAxis(intAttr(n, 'end', r), r), 0), r);
        const dims = x.dims.slice(start, Math.max(start, end));
        return [{ dims: [dims.length], elemType: INT64, ...(known(dims) ? { values: dims } : {}) }];
      }
      case 'Size':
        return [{ dims: [], elemType: INT64, ...(known(x.dims) ? { values: [product(x.dims)] } : {}) }];
      case 'Gather': {
        const idx = ins[1] ?? UNKNOWN;
        if (!x.dims || !idx.dims) return [{ dims: null, elemType: x.elemType }];
        const axis = normAxis(intAttr(n, 'axis', 0), x.dims.length);
        const dims = [...x.dims.slice(0, axis), ...idx.dims, ...x.dims.slice(axis + 1)];
        let values: number[] | undefined;
        if (x.values && idx.values && x.dims.length === 1) {
          const data = x.values;
          const picked = idx.values.map((i) => data[i < 0 ? i + data.length : i]);
          // An index out of range (a malformed graph) folds to nothing rather than to undefined entries.
          values = picked.every((v) => v !== undefined) ? picked : undefined;
        }
        return [{ dims, elemType: x.elemType, ...(values ? { values } : {}) }];
      }
      case 'Unsqueeze': {
        const axes = this.opset >= 13 ? this.ints(n.inputs[1]) : intsAttr(n, 'axes');
        if (!x.dims || !axes) return [{ dims: null, elemType: x.elemType, ...(x.values ? { values: x.values } : {}) }];
        const rank = x.dims.length + axes.length;
        const norm = new Set(axes.map((a) => normAxis(a, rank)));
        const dims: Dim[] = [];
        let k = 0;
        for (let i = 0; i < rank; i++) dims.push(norm.has(i) ? 1 : dimAt(x.dims, k++));
        return [{ dims, elemType: x.elemType, ...(x.values ? { values: x.values } : {}) }];
      }
      case 'Squeeze': {
        const axes = this.opset >= 13 ? this.ints(n.inputs[1]) : intsAttr(n, 'axes');
        if (!x.dims) return [{ dims: null, elemType: x.elemType }];
        const drop = axes ? new Set(axes.map((a) => normAxis(a, x.dims!.length))) : new Set(x.dims.flatMap((d, i) => (d === 1 ? [i] : [])));
        if (!axes && x.dims.some((d) => d === null)) return [{ dims: null, elemType: x.elemType }];
        return [{ dims: x.dims.filter((_, i) => !drop.has(i)), elemType: x.elemType, ...(x.values ? { values: x.values } : {}) }];
      }
      case 'Concat': {
        if (ins.some((i) => !i.dims)) return [{ dims: null, elemType: x.elemType }];
        const rank = x.dims!.length;
        const axis = normAxis(intAttr(n, 'axis', 0), rank);
        const dims = [...x.dims!];
        let sum: Dim = 0;
        for (const i of ins) sum = sum === null || i.dims![axis] === null ? null : sum + (i.dims![axis] as number);
        dims[axis] = sum;
        const values = rank === 1 && ins.every((i) => i.values) ? ins.flatMap((i) => i.values ?? []) : undefined;
        return [{ dims, elemType: x.elemType, ...(values ? { values } : {}) }];
      }
      case 'Slice': {
        if (!x.dims) return [{ dims: null, elemType: x.elemType }];
        const r = x.dims.length;
        const starts = this.opset >= 10 ? this.ints(n.inputs[1]) : intsAttr(n, 'starts');
        const ends = this.opset >= 10 ? this.ints(n.inputs[2]) : intsAttr(n, 'ends');
        const axes = (this.opset >= 10 ? (n.inputs[3] ? this.ints(n.inputs[3]) : undefined) : intsAttr(n, 'axes')) ?? starts?.map((_, i) => i);
        const steps = (this.opset >= 10 && n.inputs[4] ? this.ints(n.inputs[4]) : undefined) ?? starts?.map(() => 1);
        if (!starts || !ends || !axes || !steps) return [{ dims: x.dims.map(() => null), elemType: x.elemType }];
        const dims = [...x.dims];
        let idx1d: number[] | undefined;
        axes.forEach((a, k) => {
          const ax = normAxis(a, r);
          const size = x.dims![ax];
          if (size === null || size === undefined) {
            dims[ax] = null;
            return;
          }
          const bounds = allAt([starts, ends, steps], k);
          if (!bounds) {
            dims[ax] = null; // fewer starts/ends/steps than axes: a malformed Slice
            return;
          }
          const [start, end, step] = bounds;
          const range = sliceRange(size, start, end, step);
          dims[ax] = range.length;
          if (r === 1) idx1d = range;
        });
        const data = x.values;
        const picked = r === 1 && data && idx1d ? idx1d.map((i) => data[i]) : undefined;
        const values = picked?.every((v) => v !== undefined) ? picked : undefined;
        return [{ dims, elemType: x.elemType, ...(values ? { values } : {}) }];
      }
      case 'Reshape': {
        const target = this.ints(n.inputs[1]);
        if (!target) {
          const rank = ins[1]?.dims?.[0];
          return [{ dims: typeof rank === 'number' ? new Array<Dim>(rank).fill(null) : null, elemType: x.elemType }];
        }
        return [{ dims: reshapeDims(x.dims, target, intAttr(n, 'allowzero', 0) === 1), elemType: x.elemType, ...(x.values ? { values: x.values } : {}) }];
      }
      case 'Flatten': {
        if (!x.dims) return [{ dims: null, elemType: x.elemType }];
        const axis = normAxis(intAttr(n, 'axis', 1), x.dims.length);
        const a = x.dims.slice(0, axis);
        const b = x.dims.slice(axis);
        return [{ dims: [known(a) ? product(a) : null, known(b) ? product(b) : null], elemType: x.elemType }];
      }
      case 'Transpose': {
        if (!x.dims) return [{ dims: null, elemType: x.elemType }];
        const perm = intsAttr(n, 'perm') ?? x.dims.map((_, i) => x.dims!.length - 1 - i);
        const inDims = x.dims;
        return [{ dims: perm.map((p) => dimAt(inDims, p)), elemType: x.elemType }];
      }
      case 'Expand': {
        const shape = this.ints(n.inputs[1]);
        if (!shape) return [{ dims: null, elemType: x.elemType }];
        const dims = broadcast(x.dims, shape);
        const values = x.values && x.values.length === 1 && known(dims) && product(dims) <= MAX_FOLDED_ELEMENTS ? new Array<number>(product(dims)).fill(at(x.values, 0, 'Expand value')) : undefined;
        return [{ dims, elemType: x.elemType, ...(values ? { values } : {}) }];
      }
      case 'Tile': {
        const reps = this.ints(n.inputs[1]);
        if (!x.dims || !reps) return [{ dims: null, elemType: x.elemType }];
        return [{ dims: x.dims.map((d, i) => {
          const rep = reps[i];
          return d === null || rep === undefined ? null : d * rep;
        }), elemType: x.elemType }];
      }
      case 'ConstantOfShape': {
        const shape = this.ints(n.inputs[0]);
        const v = attrOf(n, 'value')?.t;
        const elemType = v?.dataType ?? FLOAT;
        if (!shape) return [{ dims: null, elemType }];
        const fill = v ? (constantNodeValue({ ...n, attributes: [{ name: 'value', t: v }] })?.values[0] ?? 0) : 0;
        const values = product(shape) <= MAX_FOLDED_ELEMENTS ? new Array<number>(product(shape)).fill(fill) : undefined;
        return [{ dims: shape, elemType, ...(values ? { values } : {}) }];
      }
      case 'Range': {
        const [s, l, d] = [ins[0]?.values?.[0], ins[1]?.values?.[0], ins[2]?.values?.[0]];
        if (s === undefined || l === undefined || d === undefined || d === 0) return [{ dims: [null], elemType: x.elemType }];
        const len = Math.max(Math.ceil((l - s) / d), 0);
        const values = len <= MAX_FOLDED_ELEMENTS ? Array.from({ length: len }, (_, i) => s + i * d) : undefined;
        return [{ dims: [len], elemType: x.elemType, ...(values ? { values } : {}) }];
      }
      case 'Resize': case 'Upsample':
        return [{ dims: this.resizeDims(n, x), elemType: x.elemType }];
      case 'ReduceMean': case 'ReduceSum': case 'ReduceMax': case 'ReduceMin': case 'ReduceProd': case 'ReduceL2': case 'ReduceL1':
      case 'ReduceSumSquare': case 'ReduceLogSumExp': {
        if (!x.dims) return [{ dims: null, elemType: x.elemType }];
        const axesFromInput = this.opset >= 18 || (n.opType === 'ReduceSum' && this.opset >= 13);
        const axes = axesFromInput ? (n.inputs[1] ? this.ints(n.inputs[1]) : []) : (intsAttr(n, 'axes') ?? []);
        if (!axes) return [{ dims: null, elemType: x.elemType }];
        const keep = intAttr(n, 'keepdims', 1) === 1;
        const all = axes.length === 0 && intAttr(n, 'noop_with_empty_axes', 0) === 0;
        if (axes.length === 0 && !all) return same();
        const set = new Set(all ? x.dims.map((_, i) => i) : axes.map((a) => normAxis(a, x.dims!.length)));
        const dims = keep ? x.dims.map((d, i) => (set.has(i) ? 1 : d)) : x.dims.filter((_, i) => !set.has(i));
        return [{ dims, elemType: x.elemType }];
      }
      case 'ArgMax': case 'ArgMin': {
        if (!x.dims) return [{ dims: null, elemType: INT64 }];
        const axis = normAxis(intAttr(n, 'axis', 0), x.dims.length);
        const keep = intAttr(n, 'keepdims', 1) === 1;
        const dims = keep ? x.dims.map((d, i) => (i === axis ? 1 : d)) : x.dims.filter((_, i) => i !== axis);
        return [{ dims, elemType: INT64 }];
      }
      case 'Split': {
        if (!x.dims) return n.outputs.map(() => ({ dims: null, elemType: x.elemType }));
        const axis = normAxis(intAttr(n, 'axis', 0), x.dims.length);
        const size = x.dims[axis];
        const sizes = (this.opset >= 13 ? (n.inputs[1] ? this.ints(n.inputs[1]) : undefined) : intsAttr(n, 'split')) ??
          (size === null || size === undefined ? undefined : (() => {
            const parts = n.outputs.length;
            const chunk = Math.ceil(size / parts);
            return Array.from({ length: parts }, (_, i) => Math.min(chunk, size - i * chunk));
          })());
        return n.outputs.map((_, i) => ({ dims: x.dims!.map((d, k) => (k === axis ? (sizes?.[i] ?? null) : d)), elemType: x.elemType }));
      }
      case 'Pad': {
        const pads = this.opset >= 11 ? this.ints(n.inputs[1]) : intsAttr(n, 'pads');
        if (!x.dims || !pads) return [{ dims: x.dims ? x.dims.map(() => null) : null, elemType: x.elemType }];
        const r = x.dims.length;
        const padAxes = this.opset >= 18 && n.inputs[3] ? this.ints(n.inputs[3]) : undefined;
        const axes = padAxes ? padAxes.map((a) => normAxis(a, r)) : x.dims.map((_, i) => i);
        const dims = [...x.dims];
        axes.forEach((a, k) => {
          const d = dims[a];
          const begin = pads[k];
          const end = pads[k + axes.length];
          dims[a] = d === null || d === undefined || begin === undefined || end === undefined ? null : d + begin + end;
        });
        return [{ dims, elemType: x.elemType }];
      }
      case 'QuantizeLinear': {
        const zp = ins[2];
        const elemType = zp && zp.elemType ? zp.elemType : intAttr(n, 'output_dtype', 0) || UINT8;
        return [{ dims: x.dims, elemType }];
      }
      case 'DequantizeLinear':
        return [{ dims: x.dims, elemType: ins[1]?.elemType || FLOAT }];
      case 'DynamicQuantizeLinear':
        return [{ dims: x.dims, elemType: UINT8 }, { dims: [], elemType: FLOAT }, { dims: [], elemType: UINT8 }];
      case 'TopK':
        return null;
      default:
        return null;
    }
  }

  /** ONNX Runtime's contrib ops that appear in optimised or quantised exports. */
  private inferMicrosoft(n: OnnxNodeSummary, ins: ValueShape[]): ValueShape[] | null {
    const x = ins[0] ?? UNKNOWN;
    switch (n.opType) {
      case 'FusedMatMul':
      case 'MatMulIntegerToFloat':
        return [{ dims: matmulShape(x.dims, ins[1]?.dims ?? null), elemType: n.opType === 'FusedMatMul' ? x.elemType : FLOAT }];
      case 'QuickGelu': case 'Gelu': case 'FastGelu': case 'BiasGelu':
        return [{ dims: x.dims, elemType: x.elemType }];
      case 'SkipLayerNormalization':
        return [{ dims: x.dims, elemType: x.elemType }];
      case 'QLinearAdd': case 'QLinearMul':
        return [{ dims: broadcast(x.dims, ins[3]?.dims ?? null), elemType: x.elemType }];
      default:
        return null;
    }
  }

  private resizeDims(n: OnnxNodeSummary, x: ValueShape): Dim[] | null {
    if (!x.dims) return null;
    let scales: number[] | undefined;
    let sizes: number[] | undefined;
    if (n.opType === 'Upsample') scales = this.opset >= 9 ? this.get(n.inputs[1]).values : floatsAttr(n, 'scales');
    else if (this.opset < 11) scales = this.get(n.inputs[1]).values;
    else {
      const s = this.get(n.inputs[2]);
      if (s.values && s.values.length > 0) scales = s.values;
      sizes = n.inputs[3] ? this.get(n.inputs[3]).values : undefined;
      if (!scales && !sizes) return x.dims.map(() => null);
    }
    const r = x.dims.length;
    const axes = this.opset >= 18 ? intsAttr(n, 'axes')?.map((a) => normAxis(a, r)) : undefined;
    const dims = [...x.dims];
    const list = axes ?? x.dims.map((_, i) => i);
    if (sizes) {
      const policy = stringAttr(n, 'keep_aspect_ratio_policy', 'stretch');
      if (policy !== 'stretch') return null;
      const target = sizes;
      list.forEach((a, k) => (dims[a] = dimAt(target, k)));
      return dims;
    }
    if (!scales) return x.dims.map(() => null);
    const factors = scales;
    list.forEach((a, k) => {
      const d = dims[a];
      const factor = factors[k];
      dims[a] = d === null || d === undefined || factor === undefined ? null : Math.floor(d * factor);
    });
    return dims;
  }
}

/**
 * Propagates shapes from concrete graph-input dims (`inputs`: name -> dims; other graph inputs keep their
 * declared static dims) through every node. `bytes` are the model's bytes, for folding small initializers.
 */
export function propagateShapes(summary: OnnxSummary, bytes: Uint8Array, inputs: Record<string, number[]>): ShapePropagation {
  const p = new Propagator(summary, bytes);
  for (const i of summary.inputs) {
    if (p.values.has(i.name) && !(i.name in inputs)) continue; // IR < 4: an initializer also listed as input
    const given = inputs[i.name];
    const dims: Dim[] | null = given ? [...given] : i.dims ? i.dims.map((d) => (typeof d === 'number' ? d : null)) : null;
    p.values.set(i.name, { dims, elemType: i.elemType });
  }
  p.run();
  return { values: p.values, unknownOps: [...p.unknownOps] };
}
