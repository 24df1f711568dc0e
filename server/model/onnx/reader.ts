/**
 * segstream's one ONNX reader. Reads what the app and the toolkit need from an ONNX file (graph inputs and
 * outputs, nodes with their attributes, initializer names, shapes and payload locations, opsets, producer,
 * metadata) without decoding the weights: initializer payloads are skipped by length (their offsets are
 * kept), so the 15 MB SegFormer-B0 export reads in a few milliseconds and never materialises its weights as
 * JS objects (bench/onnx-readers.ts compares this with onnx-proto's full decode). Small messages (nodes,
 * value infos) are decoded with onnx-proto. `readOnnxModel` adds the graph view (./graph.ts) the toolkit's
 * graph analyses work on.
 *
 * Field numbers are those of onnx.proto (ModelProto, GraphProto, TensorProto, NodeProto).
 */
import { promises as fs } from 'node:fs';
import onnxProto from 'onnx-proto';
import { ModelLoadError } from '../errors.ts';
import { buildGraphView, type OnnxGraph } from './graph.ts';
import { decodeText, expectWire, ProtoCursor, WIRE_LEN, WIRE_VARINT } from './wire.ts';

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
  /**
   * Where the values sit in the model's bytes (absolute offsets), for raw_data and packed float_data: lets a
   * tool read or patch one weight without decoding the others. null for other encodings (int64_data, ...).
   */
  payload: { field: 'raw_data' | 'float_data'; offset: number; length: number } | null;
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
  const out: OnnxInitializerSummary = { name: '', dims: [], dataType: 0, external: false, payload: null };
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
    } else if ((field === 9 || field === 4) && wire === WIRE_LEN) {
      // raw_data, or float_data packed (proto3's default): located, not decoded
      const [s, e] = c.span();
      // An empty raw_data next to float_data (some writers emit both) does not hide the real payload.
      if (e > s || !out.payload) out.payload = { field: field === 9 ? 'raw_data' : 'float_data', offset: s, length: e - s };
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
  const startsWith = (...magic: number[]) => b.length >= magic.length && magic.every((byte, i) => b[i] === byte);
  if (startsWith(0xff, 0xd8, 0xff)) return 'a JPEG image';
  if (startsWith(0x89, 0x50, 0x4e, 0x47)) return 'a PNG image';
  if (startsWith(0x50, 0x4b, 0x03, 0x04)) return 'a ZIP archive (a PyTorch .pt/.pth checkpoint?)';
  if (startsWith(0x1f, 0x8b)) return 'a gzip archive';
  if (startsWith(0x7f, 0x45, 0x4c, 0x46)) return 'an ELF binary';
  // Pickle protocols 2 to 5 open with PROTO (0x80) and the protocol number.
  const pickleProtocol = b[1];
  if (b[0] === 0x80 && pickleProtocol !== undefined && pickleProtocol >= 2 && pickleProtocol <= 5) return 'a Python pickle';
  const head = b.subarray(0, Math.min(b.length, 512));
  let printable = 0;
  for (const ch of head) if (ch === 9 || ch === 10 || ch === 13 || (ch >= 32 && ch < 127)) printable++;
  if (head.length > 0 && printable === head.length) {
    const text = decodeText(head).trimStart();
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

/** A read model: the summary and the graph view over its nodes. */
export interface OnnxModel {
  summary: OnnxSummary;
  graph: OnnxGraph;
}

/** Reads an ONNX model's summary and graph view; throws ModelLoadError naming `file` as readOnnxSummary does. */
export function readOnnxModel(bytes: Uint8Array, file: string): OnnxModel {
  const summary = readOnnxSummary(bytes, file);
  return { summary, graph: buildGraphView(summary) };
}

/** Reads an ONNX file from disk into its summary and graph view; a file that cannot be read is a ModelLoadError. */
export async function readOnnxModelFile(file: string): Promise<OnnxModel> {
  let bytes: Uint8Array;
  try {
    bytes = await fs.readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ModelLoadError(file, code === 'ENOENT' ? 'model file not found' : `cannot read model file: ${(err as Error).message}`, { cause: err });
  }
  return readOnnxModel(bytes, file);
}
