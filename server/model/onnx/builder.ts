/**
 * The ONNX writer: a small typed builder for ONNX graphs, serialised with onnx-proto (protobufjs), and
 * encoders for single nodes and tensors that ./rewrite.ts splices into an existing file. It is what the demo
 * model and the tests' odd models (NHWC, dynamic, class-map outputs, broken shapes) are made with. Output
 * bytes are a pure function of the calls made, so the same calls give the same file.
 */
import onnxProto from 'onnx-proto';
import { OnnxElemType } from './reader.ts';
import { InvalidArgumentError } from '../../util/errors.ts';
import { at } from '../../util/checked-access.ts';

const { onnx } = onnxProto;

/** An attribute value with its ONNX type made explicit (ints and floats are otherwise indistinguishable). */
export type AttrValue =
  | { int: number }
  | { float: number }
  | { string: string }
  | { ints: number[] }
  | { floats: number[] }
  | { tensor: TensorData };

export const attr = {
  int: (v: number): AttrValue => ({ int: v }),
  float: (v: number): AttrValue => ({ float: v }),
  string: (v: string): AttrValue => ({ string: v }),
  ints: (v: number[]): AttrValue => ({ ints: v }),
  floats: (v: number[]): AttrValue => ({ floats: v }),
};

/** Tensor contents for initializers and Constant nodes. */
export type TensorData =
  | { type: 'float32'; dims: number[]; data: Float32Array }
  | { type: 'int64'; dims: number[]; data: BigInt64Array | number[] }
  | { type: 'int32'; dims: number[]; data: Int32Array }
  | { type: 'int8'; dims: number[]; data: Int8Array }
  | { type: 'uint8'; dims: number[]; data: Uint8Array }
  /** IEEE half-precision values as their 16-bit patterns. */
  | { type: 'float16'; dims: number[]; data: Uint16Array };

export type DimSpec = number | string;

export interface GraphBuilderOptions {
  /** Default-domain opset (ai.onnx). */
  opset: number;
  graphName?: string;
  producerName?: string;
  producerVersion?: string;
  docString?: string;
  /** Stored as ModelProto.metadata_props. */
  metadata?: Record<string, string>;
}

const textEncoder = new TextEncoder();

/** The IR version that goes with an opset (onnx/docs/Versioning.md), so older runtimes accept the file. */
export function irVersionForOpset(opset: number): number {
  if (opset <= 8) return 3;
  if (opset <= 9) return 4;
  if (opset <= 10) return 5;
  if (opset <= 11) return 6;
  if (opset <= 14) return 7;
  if (opset <= 18) return 8;
  if (opset <= 20) return 9;
  return 10;
}

function tensorProto(name: string, t: TensorData): onnxProto.onnx.ITensorProto {
  const count = t.dims.reduce((a, d) => a * d, 1);
  if (count !== t.data.length) {
    throw new RangeError(`tensor ${name}: dims [${t.dims.join(', ')}] hold ${count} values, data has ${t.data.length}`);
  }
  let raw: Uint8Array;
  let dataType: number;
  if (t.type === 'float32') {
    dataType = OnnxElemType.FLOAT;
    raw = littleEndianBytes(t.data);
  } else if (t.type === 'int32') {
    dataType = OnnxElemType.INT32;
    raw = littleEndianBytes(t.data);
  } else if (t.type === 'int8' || t.type === 'uint8') {
    dataType = t.type === 'int8' ? OnnxElemType.INT8 : OnnxElemType.UINT8;
    raw = new Uint8Array(t.data.buffer.slice(t.data.byteOffset, t.data.byteOffset + t.data.byteLength));
  } else if (t.type === 'float16') {
    dataType = OnnxElemType.FLOAT16;
    raw = new Uint8Array(t.data.length * 2);
    const view = new DataView(raw.buffer);
    for (let i = 0; i < t.data.length; i++) view.setUint16(i * 2, at(t.data, i, 'float16 tensor'), true);
  } else {
    dataType = OnnxElemType.INT64;
    const arr = t.data instanceof BigInt64Array ? t.data : BigInt64Array.from(t.data, (v) => BigInt(v));
    raw = littleEndianBytes(arr);
  }
  return { name, dims: t.dims, dataType, rawData: raw };
}

/** ONNX raw_data is little-endian; copy through a DataView so the bytes are the same on any host. */
function littleEndianBytes(arr: Float32Array | Int32Array | BigInt64Array): Uint8Array {
  const out = new Uint8Array(arr.byteLength);
  const view = new DataView(out.buffer);
  // Indexed loops with a checked read: entries() on a typed array is several times slower, and the demo
  // model's weights run to millions of values.
  if (arr instanceof Float32Array) for (let i = 0; i < arr.length; i++) view.setFloat32(i * 4, at(arr, i, 'float32 tensor'), true);
  else if (arr instanceof Int32Array) for (let i = 0; i < arr.length; i++) view.setInt32(i * 4, at(arr, i, 'int32 tensor'), true);
  else for (let i = 0; i < arr.length; i++) view.setBigInt64(i * 8, at(arr, i, 'int64 tensor'), true);
  return out;
}

function attributeProto(name: string, v: AttrValue): onnxProto.onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if ('int' in v) return { name, type: T.INT, i: v.int };
  if ('float' in v) return { name, type: T.FLOAT, f: v.float };
  if ('string' in v) return { name, type: T.STRING, s: textEncoder.encode(v.string) };
  if ('ints' in v) return { name, type: T.INTS, ints: v.ints };
  if ('floats' in v) return { name, type: T.FLOATS, floats: v.floats };
  return { name, type: T.TENSOR, t: tensorProto('', v.tensor) };
}

function valueInfo(name: string, elemType: number, dims: DimSpec[]): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

/** One serialised TensorProto (an initializer to splice into an existing graph). */
export function encodeTensor(name: string, tensor: TensorData): Uint8Array {
  return onnx.TensorProto.encode(onnx.TensorProto.create(tensorProto(name, tensor))).finish();
}

/**
 * A node that produces nothing cannot be wired to anything and is dead weight at best, so both ways of
 * making a node refuse one with an empty output list (a bug in the caller, not in the model).
 */
function noOutputsError(nodeName: string, opType: string): InvalidArgumentError {
  return new InvalidArgumentError(`ONNX node ${JSON.stringify(nodeName)} (${opType}): expected at least one output name, got none`);
}

/** One serialised NodeProto (a node to splice into an existing graph). */
export function encodeNode(node: { name: string; opType: string; inputs: string[]; outputs: string[]; attributes?: Record<string, AttrValue>; domain?: string }): Uint8Array {
  if (node.outputs.length === 0) throw noOutputsError(node.name, node.opType);
  return onnx.NodeProto.encode(
    onnx.NodeProto.create({
      name: node.name,
      opType: node.opType,
      domain: node.domain ?? '',
      input: node.inputs,
      output: node.outputs,
      attribute: Object.entries(node.attributes ?? {}).map(([k, v]) => attributeProto(k, v)),
    }),
  ).finish();
}

export class OnnxGraphBuilder {
  private readonly nodes: onnxProto.onnx.INodeProto[] = [];
  private readonly initializers: onnxProto.onnx.ITensorProto[] = [];
  private readonly inputs: onnxProto.onnx.IValueInfoProto[] = [];
  private readonly outputs: onnxProto.onnx.IValueInfoProto[] = [];
  private readonly names = new Set<string>();
  private readonly opCounters = new Map<string, number>();

  constructor(readonly options: GraphBuilderOptions) {}

  get opset(): number {
    return this.options.opset;
  }

  /** Declares a graph input. */
  input(name: string, elemType: number, dims: DimSpec[]): string {
    this.claim(name);
    this.inputs.push(valueInfo(name, elemType, dims));
    return name;
  }

  /** Declares a graph output (the value must be produced by a node). */
  output(name: string, elemType: number, dims: DimSpec[]): string {
    this.outputs.push(valueInfo(name, elemType, dims));
    return name;
  }

  /** Adds a weight or constant as an initializer. */
  initializer(name: string, tensor: TensorData): string {
    this.claim(name);
    this.initializers.push(tensorProto(name, tensor));
    return name;
  }

  /** Adds a Constant node (as exporters do for small shape/scalar constants) and returns its output name. */
  constant(scope: string, tensor: TensorData): string {
    return this.node('Constant', [], { value: { tensor } }, { scope });
  }

  /**
   * Adds a node. Its name is `scope/OpType[_n]` and its single output `<name>_output_0` unless `outputs`
   * names them (at least one). Returns the first output's name. Use '' in `inputs` for an omitted optional input.
   */
  node(
    opType: string,
    inputs: string[],
    attributes: Record<string, AttrValue> = {},
    opts: { scope?: string; outputs?: string[]; domain?: string } = {},
  ): string {
    const scope = opts.scope ?? '';
    const key = `${scope}/${opType}`;
    const n = this.opCounters.get(key) ?? 0;
    const name = `${scope}/${opType}${n === 0 ? '' : `_${n}`}`;
    const outputs = opts.outputs ?? [`${name}_output_0`];
    const [firstOutput] = outputs;
    // Checked before anything is recorded, so a refused call leaves the builder as it was.
    if (firstOutput === undefined) throw noOutputsError(name, opType);
    this.opCounters.set(key, n + 1);
    for (const o of outputs) this.claim(o);
    this.nodes.push({
      name,
      opType,
      domain: opts.domain ?? '',
      input: inputs,
      output: outputs,
      attribute: Object.entries(attributes).map(([k, v]) => attributeProto(k, v)),
    });
    return firstOutput;
  }

  /** Serialises the model. */
  toBytes(): Uint8Array {
    const o = this.options;
    const model: onnxProto.onnx.IModelProto = {
      irVersion: irVersionForOpset(o.opset),
      opsetImport: [{ domain: '', version: o.opset }],
      producerName: o.producerName ?? 'segstream',
      producerVersion: o.producerVersion ?? '',
      docString: o.docString ?? '',
      graph: {
        name: o.graphName ?? 'graph',
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
      metadataProps: Object.entries(o.metadata ?? {}).map(([key, value]) => ({ key, value })),
    };
    return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
  }

  private claim(name: string): void {
    if (this.names.has(name)) throw new Error(`ONNX builder: value name "${name}" is defined twice`);
    this.names.add(name);
  }
}
