/**
 * Reads what segstream needs from an ONNX file (graph inputs/outputs, nodes, initializer names and shapes,
 * opsets, producer, metadata) without decoding the weights: initializer payloads (raw_data, float_data, ...)
 * are skipped by length, so a 15 MB model summarises in a few milliseconds and never materialises its
 * weights as JS arrays. Small messages (nodes, value infos) are decoded with onnx-proto.
 *
 * Field numbers are those of onnx.proto (ModelProto, GraphProto, TensorProto, NodeProto).
 */
import onnxProto from 'onnx-proto';
import { ModelLoadError } from '../errors.ts';

const { onnx } = onnxProto;

/** ONNX TensorProto.DataType values used in this project. */
export const OnnxElemType = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
  BFLOAT16: 16,
} as const;

const ELEM_TYPE_NAMES: Record<number, string> = {
  0: 'undefined',
  1: 'float32',
  2: 'uint8',
  3: 'int8',
  4: 'uint16',
  5: 'int16',
  6: 'int32',
  7: 'int64',
  8: 'string',
  9: 'bool',
  10: 'float16',
  11: 'float64',
  12: 'uint32',
  13: 'uint64',
  14: 'complex64',
  15: 'complex128',
  16: 'bfloat16',
};

export function elemTypeName(elemType: number): string {
  return ELEM_TYPE_NAMES[elemType] ?? `type ${elemType}`;
}

export interface OnnxValueInfo {
  name: string;
  /** TensorProto.DataType; 0 when the value is not a tensor. */
  elemType: number;
  /** Declared dims: numbers for fixed sizes, strings for symbolic ones ('?' when unnamed); null when no shape. */
  dims: (number | string)[] | null;
  /** 'tensor', or the kind of non-tensor type (sequence, map, ...). */
  typeKind: string;
}

export interface OnnxNodeSummary {
  opType: string;
  domain: string;
  name: string;
  inputs: string[];
  outputs: string[];
  attributes: onnxProto.onnx.IAttributeProto[];
}

export interface OnnxInitializerSummary {
  name: string;
  dims: number[];
  dataType: number;
  /** True when the payload lives in an external data file. */
  external: boolean;
}

export interface OnnxSummary {
  irVersion: number;
  producerName: string;
  producerVersion: string;
  docString: string;
  /** Operator set imports; the default domain is ''. */
  opsets: { domain: string; version: number }[];
  metadata: Record<string, string>;
  graphName: string;
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  valueInfo: OnnxValueInfo[];
  initializers: OnnxInitializerSummary[];
  sparseInitializerCount: number;
  nodes: OnnxNodeSummary[];
}

const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;
const WIRE_I32 = 5;

/** Thrown inside the walker; turned into a ModelLoadError naming the file. */
class ProtoFormatError extends Error {}

/** A bounds-checked protobuf wire-format cursor over one message. */
class ProtoCursor {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  /** A varint read as a signed 64-bit value (exact up to 2^53). */
  varint(): number {
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new ProtoFormatError(`truncated varint at byte ${this.pos}`);
      const b = this.buf[this.pos++];
      if (i < 4) lo |= (b & 0x7f) << (7 * i);
      else if (i === 4) {
        lo |= (b & 0x0f) << 28;
        hi |= (b & 0x7f) >> 4;
      } else hi |= (b & 0x7f) << (7 * i - 32);
      if ((b & 0x80) === 0) return (hi | 0) * 4294967296 + (lo >>> 0);
    }
    throw new ProtoFormatError(`varint longer than 10 bytes at byte ${this.pos}`);
  }

  tag(): { field: number; wire: number } {
    const at = this.pos;
    const t = this.varint();
    const field = Math.floor(t / 8);
    const wire = t & 7;
    if (field <= 0 || wire === 3 || wire === 4 || wire > 5) {
      throw new ProtoFormatError(`invalid protobuf tag ${t} (field ${field}, wire type ${wire}) at byte ${at}`);
    }
    return { field, wire };
  }

  /** Bounds of a length-delimited field's payload; the cursor moves past it. */
  span(): [number, number] {
    const len = this.varint();
    const start = this.pos;
    if (len < 0 || start + len > this.end) {
      throw new ProtoFormatError(`length ${len} at byte ${start} runs past the end of its message (byte ${this.end})`);
    }
    this.pos = start + len;
    return [start, start + len];
  }

  string(): string {
    const [s, e] = this.span();
    return textDecoder.decode(this.buf.subarray(s, e));
  }

  skip(wire: number): void {
    switch (wire) {
      case WIRE_VARINT:
        this.varint();
        return;
      case WIRE_I64:
        this.advance(8);
        return;
      case WIRE_LEN:
        this.span();
        return;
      case WIRE_I32:
        this.advance(4);
        return;
      default:
        throw new ProtoFormatError(`cannot skip wire type ${wire} at byte ${this.pos}`);
    }
  }

  private advance(n: number): void {
    if (this.pos + n > this.end) throw new ProtoFormatError(`truncated field at byte ${this.pos}`);
    this.pos += n;
  }
}

const textDecoder = new TextDecoder('utf-8', { fatal: false });

function expectWire(message: string, field: number, wire: number, expected: number, at: number): void {
  if (wire !== expected) {
    throw new ProtoFormatError(
      `${message} field ${field} has wire type ${wire} at byte ${at}, ONNX declares wire type ${expected}`,
    );
  }
}

function toNumber(v: number | { toNumber(): number } | null | undefined): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'number' ? v : v.toNumber();
}

function readValueInfo(buf: Uint8Array, start: number, end: number): OnnxValueInfo {
  const vi = onnx.ValueInfoProto.decode(buf.subarray(start, end));
  const type = vi.type;
  if (!type || !type.tensorType) {
    const kind = !type ? 'none' : type.sequenceType ? 'sequence' : type.mapType ? 'map' : type.sparseTensorType ? 'sparse tensor' : 'other';
    return { name: vi.name, elemType: 0, dims: null, typeKind: kind };
  }
  const tt = type.tensorType;
  const dims = tt.shape
    ? (tt.shape.dim ?? []).map((d): number | string => {
        if (d.dimParam) return d.dimParam;
        // proto3 cannot tell "0" from "unset": a missing or 0 dim_value is an unnamed symbolic dim in practice.
        const n = toNumber(d.dimValue);
        if (n > 0) return n;
        return '?';
      })
    : null;
  return { name: vi.name, elemType: tt.elemType ?? 0, dims, typeKind: 'tensor' };
}

function readInitializer(buf: Uint8Array, start: number, end: number): OnnxInitializerSummary {
  const c = new ProtoCursor(buf, start, end);
  const out: OnnxInitializerSummary = { name: '', dims: [], dataType: 0, external: false };
  while (!c.done) {
    const at = c.pos;
    const { field, wire } = c.tag();
    if (field === 1) {
      // dims: repeated int64, packed (proto3 default) or not
      if (wire === WIRE_LEN) {
        const [s, e] = c.span();
        const inner = new ProtoCursor(buf, s, e);
        while (!inner.done) out.dims.push(inner.varint());
      } else {
        expectWire('TensorProto', field, wire, WIRE_VARINT, at);
        out.dims.push(c.varint());
      }
    } else if (field === 2) {
      expectWire('TensorProto', field, wire, WIRE_VARINT, at);
      out.dataType = c.varint();
    } else if (field === 8) {
      expectWire('TensorProto', field, wire, WIRE_LEN, at);
      out.name = c.string();
    } else if (field === 14) {
      expectWire('TensorProto', field, wire, WIRE_VARINT, at);
      out.external = c.varint() === 1;
    } else {
      // payloads (raw_data 9, float_data 4, int32_data 5, int64_data 7, ...) are skipped by length
      c.skip(wire);
    }
  }
  return out;
}

function readNode(buf: Uint8Array, start: number, end: number): OnnxNodeSummary {
  const n = onnx.NodeProto.decode(buf.subarray(start, end));
  return {
    opType: n.opType,
    domain: n.domain,
    name: n.name,
    inputs: n.input,
    outputs: n.output,
    attributes: n.attribute,
  };
}

function readGraph(buf: Uint8Array, start: number, end: number, summary: OnnxSummary): void {
  const c = new ProtoCursor(buf, start, end);
  while (!c.done) {
    const at = c.pos;
    const { field, wire } = c.tag();
    switch (field) {
      case 1: {
        expectWire('GraphProto', field, wire, WIRE_LEN, at);
        const [s, e] = c.span();
        summary.nodes.push(readNode(buf, s, e));
        break;
      }
      case 2:
        expectWire('GraphProto', field, wire, WIRE_LEN, at);
        summary.graphName = c.string();
        break;
      case 5: {
        expectWire('GraphProto', field, wire, WIRE_LEN, at);
        const [s, e] = c.span();
        summary.initializers.push(readInitializer(buf, s, e));
        break;
      }
      case 15:
        expectWire('GraphProto', field, wire, WIRE_LEN, at);
        c.span();
        summary.sparseInitializerCount++;
        break;
      case 11:
      case 12:
      case 13: {
        expectWire('GraphProto', field, wire, WIRE_LEN, at);
        const [s, e] = c.span();
        const vi = readValueInfo(buf, s, e);
        (field === 11 ? summary.inputs : field === 12 ? summary.outputs : summary.valueInfo).push(vi);
        break;
      }
      default:
        c.skip(wire);
    }
  }
}

function readOpset(buf: Uint8Array, start: number, end: number): { domain: string; version: number } {
  const c = new ProtoCursor(buf, start, end);
  const out = { domain: '', version: 0 };
  while (!c.done) {
    const at = c.pos;
    const { field, wire } = c.tag();
    if (field === 1) {
      expectWire('OperatorSetIdProto', field, wire, WIRE_LEN, at);
      out.domain = c.string();
    } else if (field === 2) {
      expectWire('OperatorSetIdProto', field, wire, WIRE_VARINT, at);
      out.version = c.varint();
    } else c.skip(wire);
  }
  return out;
}

function readStringEntry(buf: Uint8Array, start: number, end: number): [string, string] {
  const c = new ProtoCursor(buf, start, end);
  let key = '';
  let value = '';
  while (!c.done) {
    const at = c.pos;
    const { field, wire } = c.tag();
    if (field === 1 || field === 2) {
      expectWire('StringStringEntryProto', field, wire, WIRE_LEN, at);
      if (field === 1) key = c.string();
      else value = c.string();
    } else c.skip(wire);
  }
  return [key, value];
}

/** Recognisable non-ONNX files, so the error says what the file looks like instead of a protobuf offset. */
function sniffForeignFormat(bytes: Uint8Array): string | undefined {
  const b = bytes;
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'a JPEG image';
  if (b.length >= 4 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return 'a PNG image';
  if (b.length >= 4 && b[0] === 0x50 && b[1] === 0x4b && b[2] === 0x03 && b[3] === 0x04) return 'a ZIP archive (a PyTorch .pt/.pth checkpoint?)';
  if (b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b) return 'a gzip archive';
  if (b.length >= 4 && b[0] === 0x7f && b[1] === 0x45 && b[2] === 0x4c && b[3] === 0x46) return 'an ELF binary';
  if (b.length >= 2 && b[0] === 0x80 && b[1] >= 2 && b[1] <= 5) return 'a Python pickle';
  const head = b.subarray(0, Math.min(b.length, 512));
  let printable = 0;
  for (const ch of head) if (ch === 9 || ch === 10 || ch === 13 || (ch >= 32 && ch < 127)) printable++;
  if (head.length > 0 && printable === head.length) {
    const text = textDecoder.decode(head).trimStart();
    if (text.startsWith('{') || text.startsWith('[')) return 'a JSON/text file';
    if (text.startsWith('<')) return 'an HTML/XML text file';
    return 'a text file';
  }
  return undefined;
}

/**
 * Summarises an ONNX model. Throws ModelLoadError (naming `file`) when the bytes are not an ONNX ModelProto:
 * empty, a recognisable other format, invalid or truncated protobuf, or a protobuf with no graph.
 */
export function readOnnxSummary(bytes: Uint8Array, file: string): OnnxSummary {
  if (bytes.length === 0) throw new ModelLoadError(file, 'not an ONNX model: the file is empty');
  const foreign = sniffForeignFormat(bytes);
  if (foreign) {
    throw new ModelLoadError(file, `not an ONNX model: the file looks like ${foreign}`, {
      expected: 'an ONNX ModelProto (protobuf)',
      found: foreign,
    });
  }
  const summary: OnnxSummary = {
    irVersion: 0,
    producerName: '',
    producerVersion: '',
    docString: '',
    opsets: [],
    metadata: {},
    graphName: '',
    inputs: [],
    outputs: [],
    valueInfo: [],
    initializers: [],
    sparseInitializerCount: 0,
    nodes: [],
  };
  let graphCount = 0;
  try {
    const c = new ProtoCursor(bytes, 0, bytes.length);
    while (!c.done) {
      const at = c.pos;
      const { field, wire } = c.tag();
      switch (field) {
        case 1:
          expectWire('ModelProto', field, wire, WIRE_VARINT, at);
          summary.irVersion = c.varint();
          break;
        case 2:
          expectWire('ModelProto', field, wire, WIRE_LEN, at);
          summary.producerName = c.string();
          break;
        case 3:
          expectWire('ModelProto', field, wire, WIRE_LEN, at);
          summary.producerVersion = c.string();
          break;
        case 6:
          expectWire('ModelProto', field, wire, WIRE_LEN, at);
          summary.docString = c.string();
          break;
        case 7: {
          expectWire('ModelProto', field, wire, WIRE_LEN, at);
          const [s, e] = c.span();
          readGraph(bytes, s, e, summary);
          graphCount++;
          break;
        }
        case 8: {
          expectWire('ModelProto', field, wire, WIRE_LEN, at);
          const [s, e] = c.span();
          summary.opsets.push(readOpset(bytes, s, e));
          break;
        }
        case 14: {
          expectWire('ModelProto', field, wire, WIRE_LEN, at);
          const [s, e] = c.span();
          const [k, v] = readStringEntry(bytes, s, e);
          summary.metadata[k] = v;
          break;
        }
        default:
          c.skip(wire);
      }
    }
  } catch (err) {
    if (err instanceof ModelLoadError) throw err;
    const reason = err instanceof Error ? err.message : String(err);
    throw new ModelLoadError(file, `not a valid ONNX model (truncated or not protobuf): ${reason}`, {
      expected: 'a complete ONNX ModelProto',
      found: `${bytes.length} bytes that do not decode`,
      cause: err,
    });
  }
  if (graphCount === 0 || summary.irVersion <= 0 || summary.opsets.length === 0) {
    const missing = [graphCount === 0 ? 'graph' : '', summary.irVersion <= 0 ? 'ir_version' : '', summary.opsets.length === 0 ? 'opset_import' : '']
      .filter(Boolean)
      .join(', ');
    throw new ModelLoadError(file, 'not an ONNX model: the protobuf lacks required ModelProto fields', {
      expected: 'ir_version, opset_import and graph',
      found: `no ${missing}`,
    });
  }
  if (summary.nodes.length === 0 || summary.outputs.length === 0) {
    throw new ModelLoadError(file, 'the ONNX graph is empty or truncated', {
      field: 'graph',
      expected: 'nodes and at least one output',
      found: `${summary.nodes.length} nodes, ${summary.outputs.length} outputs`,
    });
  }
  return summary;
}

/** Node counts per op type (domain-qualified for non-default domains), sorted by count then name. */
export function countOps(summary: Pick<OnnxSummary, 'nodes'>): Record<string, number> {
  const counts = new Map<string, number>();
  for (const n of summary.nodes) {
    const key = n.domain && n.domain !== 'ai.onnx' ? `${n.domain}.${n.opType}` : n.opType;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return Object.fromEntries([...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])));
}

/** The default-domain opset the model imports (0 if none). */
export function defaultOpset(summary: Pick<OnnxSummary, 'opsets'>): number {
  return summary.opsets.find((o) => o.domain === '' || o.domain === 'ai.onnx')?.version ?? 0;
}

/** Total element count of all initializers (weights, biases, constants stored as initializers). */
export function countParameters(summary: Pick<OnnxSummary, 'initializers'>): number {
  let total = 0;
  for (const t of summary.initializers) total += t.dims.reduce((a, d) => a * d, 1);
  return total;
}
