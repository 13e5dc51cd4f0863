/**
 * A small ONNX graph builder over `onnx-proto` (opset 13). Nodes and initializers stay mutable JS objects
 * until {@link OnnxGraph.toBytes}, so a converter can fold a later layer (batch norm) into an earlier node.
 */
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type * as onnxProto from 'onnx-proto';

const { onnx } = loadOnnxProto();

/**
 * Loads `onnx-proto` (CommonJS, protobufjs 6). protobufjs finds `long` with a bare `require`; under the
 * `import` export condition (vitest passes `--conditions import`) that returns long 5's ES namespace, whose
 * `default` is the class, and onnx-proto's module init fails on `Long.fromBits`. Unwrap it first.
 */
function loadOnnxProto(): typeof onnxProto {
  const require = createRequire(import.meta.url);
  const main = require.resolve('onnx-proto');
  const protobuf = require(require.resolve('protobufjs/minimal', { paths: [dirname(main)] })) as {
    util: { Long?: { fromBits?: unknown; default?: { fromBits?: unknown } } };
    configure(): void;
  };
  const long = protobuf.util.Long;
  if (long && typeof long.fromBits !== 'function' && typeof long.default?.fromBits === 'function') {
    protobuf.util.Long = long.default;
    protobuf.configure();
  }
  return require(main) as typeof onnxProto;
}

/** An int64 field as decoded by protobufjs (a Long when long.js is present) to a number. */
export function int64(v: number | { toNumber(): number }): number {
  return typeof v === 'number' ? v : v.toNumber();
}

/** The default-domain opset the converters emit. */
export const OPSET = 13;

/** An attribute value: integer, integer list, string, or `{ float }` (ONNX keeps ints and floats apart). */
export type Attr = number | number[] | string | { float: number };

/** A graph node, editable until serialisation. */
export interface GraphNode {
  op: string;
  inputs: string[];
  outputs: string[];
  attrs: Record<string, Attr>;
}

/** A float32 or int64 constant. */
export interface Initializer {
  dims: number[];
  data: Float32Array | BigInt64Array;
}

/** A dimension: a fixed size or a symbolic name (dynamic). */
export type Dim = number | string;

export class OnnxGraph {
  readonly nodes: GraphNode[] = [];
  readonly initializers = new Map<string, Initializer>();
  private readonly inputs: { name: string; dims: Dim[] }[] = [];
  private readonly outputs: { name: string; dims: Dim[] }[] = [];
  private readonly used = new Set<string>();

  constructor(readonly name: string) {}

  /** A tensor name not used before, derived from `base`. */
  unique(base: string): string {
    let name = base;
    for (let i = 1; this.used.has(name); i++) name = `${base}_${i}`;
    this.used.add(name);
    return name;
  }

  /** Declares a float32 graph input. */
  input(name: string, dims: Dim[]): string {
    this.used.add(name);
    this.inputs.push({ name, dims });
    return name;
  }

  /** Declares a float32 graph output (the tensor must be produced by a node). */
  output(name: string, dims: Dim[]): void {
    this.outputs.push({ name, dims });
  }

  /** Adds a constant and returns its (unique) name. */
  constant(base: string, data: Float32Array | BigInt64Array, dims: number[]): string {
    const size = dims.reduce((a, b) => a * b, 1);
    if (size !== data.length)
      throw new Error(`constant '${base}' has ${data.length} values for dims [${dims}]`);
    const name = this.unique(base);
    this.initializers.set(name, { dims, data });
    return name;
  }

  /** Appends a node; `outputs` are reserved as they are given (callers pass names from {@link unique}). */
  node(op: string, inputs: string[], outputs: string[], attrs: Record<string, Attr> = {}): GraphNode {
    for (const o of outputs) this.used.add(o);
    const node = { op, inputs, outputs, attrs };
    this.nodes.push(node);
    return node;
  }

  /** Serialises the graph as an ONNX `ModelProto`. */
  toBytes(producer: string, docString = ''): Uint8Array {
    const valueInfo = (v: { name: string; dims: Dim[] }) => ({
      name: v.name,
      type: {
        tensorType: {
          elemType: onnx.TensorProto.DataType.FLOAT,
          shape: { dim: v.dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
        },
      },
    });
    const model = onnx.ModelProto.create({
      irVersion: 7,
      producerName: producer,
      docString,
      opsetImport: [{ domain: '', version: OPSET }],
      graph: {
        name: this.name,
        node: this.nodes.map((n, i) => ({
          name: `${n.op}_${i}`,
          opType: n.op,
          input: n.inputs,
          output: n.outputs,
          attribute: Object.entries(n.attrs).map(([name, v]) => attribute(name, v)),
        })),
        initializer: [...this.initializers].map(([name, t]) => tensorProto(name, t)),
        input: this.inputs.map(valueInfo),
        output: this.outputs.map(valueInfo),
      },
    });
    return onnx.ModelProto.encode(model).finish();
  }
}

/** One ONNX attribute from a JS value (see {@link Attr}). */
export function attribute(name: string, v: Attr): onnxProto.onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === 'number') return { name, type: T.INT, i: v };
  if (typeof v === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: T.INTS, ints: v };
  return { name, type: T.FLOAT, f: v.float };
}

function tensorProto(name: string, t: Initializer): onnxProto.onnx.ITensorProto {
  const isFloat = t.data instanceof Float32Array;
  return {
    name,
    dims: t.dims,
    dataType: isFloat ? onnx.TensorProto.DataType.FLOAT : onnx.TensorProto.DataType.INT64,
    rawData: new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), // little-endian hosts only
  };
}

/** Decodes an ONNX model (e.g. one shipped in a package) into the mutable protobuf object. */
export function decodeModel(bytes: Uint8Array): onnxProto.onnx.ModelProto {
  return onnx.ModelProto.decode(bytes);
}

/** Encodes a protobuf model object. */
export function encodeModel(model: onnxProto.onnx.IModelProto): Uint8Array {
  return onnx.ModelProto.encode(model).finish();
}
