/**
 * A small builder for ONNX graphs on top of `onnx-proto`'s protobufjs classes: initializers, nodes, inputs and
 * outputs with unique names, serialised deterministically (no timestamps, insertion order preserved).
 */
import onnxProto from "onnx-proto";
import type { onnx as OnnxTypes } from "onnx-proto";

// onnx-proto is CommonJS: its namespace is reachable only through the default export under ESM.
const { onnx } = onnxProto;
type ModelProto = OnnxTypes.ModelProto;
type INodeProto = OnnxTypes.INodeProto;
type ITensorProto = OnnxTypes.ITensorProto;
type IValueInfoProto = OnnxTypes.IValueInfoProto;
type IAttributeProto = OnnxTypes.IAttributeProto;
type IGraphProto = OnnxTypes.IGraphProto;

/** ONNX opset the npc-faces exporter targets. */
export const OnnxOpsetVersion = 17;
/** ONNX IR version written to the files (IR 8 = ONNX 1.10+, what opset 17 runtimes read). */
export const OnnxIrVersion = 8;

/** ONNX tensor element types used by the exporter (values of `TensorProto.DataType`). */
export const OnnxDataType = {
  float: 1,
  uint8: 2,
  int32: 6,
  int64: 7,
  float16: 10,
} as const;
export type OnnxElementType = keyof typeof OnnxDataType;

/** A node attribute with its ONNX type spelled out (0.2 and 1 are ambiguous as JS numbers). */
export type OnnxAttribute =
  | { readonly float: number }
  | { readonly int: number }
  | { readonly ints: readonly number[] }
  | { readonly floats: readonly number[] }
  | { readonly string: string };

/** One dimension of a graph input or output: a fixed size or a symbolic name such as `"N"`. */
export type OnnxDim = number | string;

// Scratch for reading a float32's bits (one allocation, not one per value: checkpoints convert millions).
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** Rounds a float32 value to IEEE-754 half precision (round to nearest even) and returns its bits. */
export function Float32ToFloat16Bits(value: number): number {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // inf / nan
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow -> inf
  if (e <= 0) {
    // Subnormal half (or zero): shift the implicit-one mantissa into place, rounding to nearest even.
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    let m = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    if (rest > half || (rest === half && (m & 1))) m++;
    return sign | m;
  }
  let m = mant >>> 13;
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (m & 1))) {
    m++;
    if (m === 0x400) {
      m = 0;
      e++;
      if (e >= 0x1f) return sign | 0x7c00;
    }
  }
  return sign | (e << 10) | m;
}

/** Converts half-precision bits back to a number (used to keep derived constants consistent with fp16 weights). */
export function Float16BitsToFloat32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >>> 10) & 0x1f;
  const mant = bits & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** Little-endian bytes of the values, as ONNX `raw_data` requires on every platform. */
function LittleEndianBytes(values: ArrayLike<number> | BigInt64Array, type: OnnxElementType): Uint8Array {
  const n = values.length;
  if (type === "uint8") return Uint8Array.from(values as ArrayLike<number>);
  const size = type === "float16" ? 2 : type === "float" || type === "int32" ? 4 : 8;
  const bytes = new Uint8Array(n * size);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < n; i++) {
    if (type === "float") view.setFloat32(i * 4, (values as ArrayLike<number>)[i], true);
    else if (type === "float16") view.setUint16(i * 2, (values as ArrayLike<number>)[i], true);
    else if (type === "int32") view.setInt32(i * 4, (values as ArrayLike<number>)[i], true);
    else view.setBigInt64(i * 8, BigInt((values as ArrayLike<number | bigint>)[i]), true);
  }
  return bytes;
}

/**
 * Builds one ONNX graph. Every `add*` method returns the (unique) tensor name it created, so graph code reads
 * as data flow: `const y = g.node("Add", [a, b])`.
 */
export class OnnxGraphBuilder {
  private readonly nodes: INodeProto[] = [];
  private readonly initializers: ITensorProto[] = [];
  private readonly inputs: IValueInfoProto[] = [];
  private readonly outputs: IValueInfoProto[] = [];
  private readonly used = new Set<string>();
  private readonly counters = new Map<string, number>();
  private readonly constants = new Map<string, string>();

  /**
   * A builder holding an existing graph's inputs, initializers, nodes and outputs (shared, not copied), with all
   * their names reserved: graph transformers (the autodiff) append to it and build a new model.
   */
  static FromGraph(graph: IGraphProto): OnnxGraphBuilder {
    const g = new OnnxGraphBuilder();
    for (const i of graph.input ?? []) g.inputs.push(i);
    for (const t of graph.initializer ?? []) g.initializers.push(t);
    for (const n of graph.node ?? []) g.nodes.push(n);
    for (const o of graph.output ?? []) g.outputs.push(o);
    const names = [
      ...g.inputs.map((i) => i.name ?? ""),
      ...g.initializers.map((t) => t.name ?? ""),
      ...g.nodes.flatMap((n) => [...(n.output ?? []), n.name ?? ""]),
      ...g.outputs.map((o) => o.name ?? ""),
    ];
    for (const name of names) if (name) g.used.add(name);
    return g;
  }

  /** The nodes so far, in topological order (read-only view for graph transformers). */
  get nodeList(): readonly INodeProto[] {
    return this.nodes;
  }

  /** The initializers so far (read-only view). */
  get initializerList(): readonly ITensorProto[] {
    return this.initializers;
  }

  /** The graph inputs so far (read-only view). */
  get inputList(): readonly IValueInfoProto[] {
    return this.inputs;
  }

  /** The graph outputs so far (read-only view). */
  get outputList(): readonly IValueInfoProto[] {
    return this.outputs;
  }

  /** Returns `base` if unused, else `base_1`, `base_2`, ... and reserves it. */
  uniqueName(base: string): string {
    let name = base;
    if (this.used.has(name)) {
      let i = this.counters.get(base) ?? 0;
      do name = `${base}_${++i}`;
      while (this.used.has(name));
      this.counters.set(base, i);
    }
    this.used.add(name);
    return name;
  }

  /** Reserves an exact name (graph inputs/outputs are contracts) and throws if it is taken. */
  private reserveExact(name: string): string {
    if (this.used.has(name)) throw new Error(`ONNX tensor name "${name}" is already used`);
    this.used.add(name);
    return name;
  }

  /** Adds a graph input with an exact name. */
  addInput(name: string, type: OnnxElementType, dims: readonly OnnxDim[]): string {
    this.inputs.push(ValueInfo(this.reserveExact(name), type, dims));
    return name;
  }

  /** Declares an existing tensor as a graph output (renaming is done with an Identity node if needed). */
  addOutput(tensor: string, name: string, type: OnnxElementType, dims: readonly OnnxDim[]): string {
    if (tensor !== name) this.node("Identity", [tensor], {}, name, true);
    this.outputs.push(ValueInfo(name, type, dims));
    return name;
  }

  /**
   * Adds a constant tensor. Float values are written as float32; `float16` expects half-precision bits
   * (see {@link Float32ToFloat16Bits}).
   */
  addInitializer(base: string, type: OnnxElementType, dims: readonly number[], values: ArrayLike<number>): string {
    const count = dims.reduce((a, b) => a * b, 1);
    if (count !== values.length) throw new Error(`initializer "${base}": ${values.length} values for shape [${dims.join(", ")}]`);
    const name = this.uniqueName(base);
    this.initializers.push({ name, dataType: OnnxDataType[type], dims: [...dims], rawData: LittleEndianBytes(values, type) });
    return name;
  }

  /** A float32 constant, shared between all users of the same values and shape. */
  constFloat(values: readonly number[], dims: readonly number[] = [values.length]): string {
    return this.sharedConstant("float", values, dims);
  }

  /** An int64 constant (shapes, axes, indices), shared between all users of the same values and shape. */
  constInt64(values: readonly number[], dims: readonly number[] = [values.length]): string {
    return this.sharedConstant("int64", values, dims);
  }

  private sharedConstant(type: OnnxElementType, values: readonly number[], dims: readonly number[]): string {
    const key = `${type}|${dims.join(",")}|${values.join(",")}`;
    let name = this.constants.get(key);
    if (!name) {
      name = this.addInitializer(`const_${type}`, type, dims, values);
      this.constants.set(key, name);
    }
    return name;
  }

  /**
   * Adds a node and returns its first output's name. Outputs are named `output` (exact) or from the op type.
   * Empty strings in `inputs` mark omitted optional inputs.
   */
  node(opType: string, inputs: readonly string[], attributes: Record<string, OnnxAttribute> = {}, output?: string, exactOutput = false): string {
    const out = output === undefined ? this.uniqueName(opType.toLowerCase()) : exactOutput ? this.reserveExact(output) : this.uniqueName(output);
    this.nodeMulti(opType, inputs, [out], attributes);
    return out;
  }

  /** Adds a node with several (already unique) outputs. */
  nodeMulti(opType: string, inputs: readonly string[], outputs: readonly string[], attributes: Record<string, OnnxAttribute> = {}): void {
    const attribute: IAttributeProto[] = Object.keys(attributes).map((key) => Attribute(key, attributes[key]));
    this.nodes.push({ opType, name: this.uniqueName(`${opType}_node`), input: [...inputs], output: [...outputs], attribute });
  }

  /** Assembles the model (opset 17, IR 8) with the given producer and `metadata_props`. */
  build(options: { name: string; producerName: string; producerVersion: string; docString?: string; metadata?: Record<string, string> }): ModelProto {
    const graph = {
      name: options.name,
      node: this.nodes,
      initializer: this.initializers,
      input: this.inputs,
      output: this.outputs,
    };
    return onnx.ModelProto.create({
      irVersion: OnnxIrVersion,
      opsetImport: [{ domain: "", version: OnnxOpsetVersion }],
      producerName: options.producerName,
      producerVersion: options.producerVersion,
      docString: options.docString ?? "",
      graph,
      metadataProps: Object.entries(options.metadata ?? {}).map(([key, value]) => ({ key, value })),
    });
  }
}

/** Serialises a model to bytes. */
export function SerializeOnnxModel(model: ModelProto): Uint8Array {
  return onnx.ModelProto.encode(model).finish();
}

/** Parses ONNX bytes (for tests and tools that inspect exported files). */
export function ParseOnnxModel(bytes: Uint8Array): ModelProto {
  return onnx.ModelProto.decode(bytes);
}

function ValueInfo(name: string, type: OnnxElementType, dims: readonly OnnxDim[]): IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: OnnxDataType[type],
        shape: { dim: dims.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function Attribute(name: string, a: OnnxAttribute): IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if ("float" in a) return { name, type: T.FLOAT, f: a.float };
  if ("int" in a) return { name, type: T.INT, i: a.int };
  if ("ints" in a) return { name, type: T.INTS, ints: [...a.ints] };
  if ("floats" in a) return { name, type: T.FLOATS, floats: [...a.floats] };
  return { name, type: T.STRING, s: new TextEncoder().encode(a.string) };
}
