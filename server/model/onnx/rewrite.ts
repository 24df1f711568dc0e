/**
 * Edits an existing ONNX file at the protobuf field level, so a 15 MB model is changed without decoding its
 * weights: same-size payload patches (e.g. rounded weights written over raw_data), and graph edits that
 * prepend nodes, append initializers and drop initializers or graph inputs by name. Every other field is
 * copied byte for byte. New nodes and tensors come encoded from ./builder.ts; offsets from ./reader.ts.
 */
import { ModelLoadError } from '../errors.ts';
import { concatBytes, lengthDelimited, ProtoCursor, ProtoFormatError, stringField, WIRE_LEN } from './wire.ts';

export interface PayloadPatch {
  /** Absolute byte offset in the model (an initializer's `payload.offset` from the reader). */
  offset: number;
  /** Replacement bytes; the patched range keeps its length. */
  bytes: Uint8Array;
}

/** A copy of `model` with each patch written over the bytes at its offset. */
export function patchPayloads(model: Uint8Array, patches: readonly PayloadPatch[]): Uint8Array {
  const out = new Uint8Array(model);
  for (const p of patches) {
    if (!Number.isInteger(p.offset) || p.offset < 0 || p.offset + p.bytes.length > model.length) {
      throw new RangeError(`patchPayloads: ${p.bytes.length} bytes at offset ${p.offset} run past the model's ${model.length} bytes`);
    }
    out.set(p.bytes, p.offset);
  }
  return out;
}

export interface GraphEdit {
  /** Serialised NodeProtos placed before every existing node (they must only read existing values). */
  prependNodes?: readonly Uint8Array[];
  /** Serialised TensorProtos added as initializers. */
  appendInitializers?: readonly Uint8Array[];
  /** Initializers (by name) to remove. */
  dropInitializers?: ReadonlySet<string>;
  /** Graph inputs (by name) to remove (IR < 4 lists initializers as inputs too). */
  dropInputs?: ReadonlySet<string>;
}

const MODEL_GRAPH = 7;
const GRAPH_NODE = 1;
const GRAPH_INITIALIZER = 5;
const GRAPH_INPUT = 11;
const TENSOR_NAME = 8;
const VALUE_INFO_NAME = 1;

function editGraphMessage(buf: Uint8Array, start: number, end: number, edit: GraphEdit): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const n of edit.prependNodes ?? []) parts.push(...lengthDelimited(GRAPH_NODE, n));
  const c = new ProtoCursor(buf, start, end);
  while (!c.done) {
    const fieldStart = c.pos;
    const { field, wire } = c.tag();
    if (wire === WIRE_LEN && (field === GRAPH_INITIALIZER || field === GRAPH_INPUT)) {
      const [s, e] = c.span();
      const name = stringField(buf, s, e, field === GRAPH_INITIALIZER ? TENSOR_NAME : VALUE_INFO_NAME);
      const drop = field === GRAPH_INITIALIZER ? edit.dropInitializers : edit.dropInputs;
      if (drop?.has(name)) continue;
    } else {
      c.skip(wire);
    }
    parts.push(buf.subarray(fieldStart, c.pos));
  }
  for (const t of edit.appendInitializers ?? []) parts.push(...lengthDelimited(GRAPH_INITIALIZER, t));
  return concatBytes(parts);
}

/** A new model: `model` with its graph edited; throws ModelLoadError naming `file` when it is not protobuf. */
export function editGraph(model: Uint8Array, edit: GraphEdit, file = 'model'): Uint8Array {
  const parts: Uint8Array[] = [];
  let graphs = 0;
  try {
    const c = new ProtoCursor(model, 0, model.length);
    while (!c.done) {
      const fieldStart = c.pos;
      const { field, wire } = c.tag();
      if (field === MODEL_GRAPH && wire === WIRE_LEN) {
        const [s, e] = c.span();
        parts.push(...lengthDelimited(MODEL_GRAPH, editGraphMessage(model, s, e, edit)));
        graphs++;
        continue;
      }
      c.skip(wire);
      parts.push(model.subarray(fieldStart, c.pos));
    }
  } catch (err) {
    if (!(err instanceof ProtoFormatError)) throw err;
    throw new ModelLoadError(file, `not a valid ONNX model (truncated or not protobuf): ${err.message}`, { cause: err });
  }
  if (graphs !== 1) throw new ModelLoadError(file, 'cannot edit the graph', { expected: 'exactly one graph', found: `${graphs}` });
  return concatBytes(parts);
}
