/**
 * Static shape and constant inference for the ops the autodiff knows. The gradient rules need ranks, sizes that
 * broadcast (to reduce gradients back to an input's shape) and the values of shape-like constants (axes, pads,
 * Slice bounds, Reshape targets). A dimension is a number or `null` (symbolic or not inferable); symbolic
 * dimensions are assumed never to be a broadcast 1.
 */
import type { onnx as OnnxTypes } from "onnx-proto";

type INodeProto = OnnxTypes.INodeProto;
type ITensorProto = OnnxTypes.ITensorProto;
type IValueInfoProto = OnnxTypes.IValueInfoProto;
type IAttributeProto = OnnxTypes.IAttributeProto;

/** One dimension: its size, or `null` when symbolic or unknown. */
export type Dim = number | null;

/** What is known of one tensor. `values` holds the contents of small constants (int64 shapes/axes, float scalars). */
export interface TensorInfo {
  readonly dims: readonly Dim[];
  /** ONNX element type (1 float, 7 int64, 9 bool, ...); 0 when unknown. */
  readonly elemType: number;
  /** Contents of a small constant tensor (entries may be null where a Shape's dimension is unknown). */
  readonly values?: readonly (number | null)[];
}

/** Converts protobufjs int64 fields (number or Long) to a number. */
export function ToNumber(v: unknown): number {
  if (typeof v === "number") return v;
  if (typeof v === "bigint") return Number(v);
  if (v !== null && typeof v === "object" && "toNumber" in v) return (v as { toNumber(): number }).toNumber();
  return Number(v);
}

/** A node's attribute by name (nodes carry attributes as protobuf records). */
export function GetAttribute(node: INodeProto, name: string): IAttributeProto | undefined {
  return (node.attribute ?? []).find((a) => a.name === name);
}
/** An int attribute, or `fallback` when absent. */
export function AttrInt(node: INodeProto, name: string, fallback: number): number {
  const a = GetAttribute(node, name);
  return a && a.i !== undefined && a.i !== null ? ToNumber(a.i) : fallback;
}
/** A float attribute, or `fallback` when absent. */
export function AttrFloat(node: INodeProto, name: string, fallback: number): number {
  const a = GetAttribute(node, name);
  return a && a.f !== undefined && a.f !== null ? a.f : fallback;
}
/** An ints attribute, or undefined when absent or empty. */
export function AttrInts(node: INodeProto, name: string): number[] | undefined {
  const a = GetAttribute(node, name);
  return a && a.ints && a.ints.length > 0 ? a.ints.map(ToNumber) : undefined;
}
/** A string attribute, or `fallback` when absent. */
export function AttrString(node: INodeProto, name: string, fallback: string): string {
  const a = GetAttribute(node, name);
  return a && a.s && a.s.length > 0 ? new TextDecoder().decode(a.s) : fallback;
}

const MaxConstantValues = 64;

/** Decodes the values of a small int64 or float tensor (shape arguments, scalars); undefined for big ones. */
export function TensorValues(t: ITensorProto): number[] | undefined {
  const dims = (t.dims ?? []).map(ToNumber);
  const count = dims.reduce((a, b) => a * b, 1);
  if (count > MaxConstantValues) return undefined;
  const raw = t.rawData;
  if (t.dataType === 7) {
    if (raw && raw.length > 0) {
      const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      return Array.from({ length: count }, (_, i) => Number(view.getBigInt64(i * 8, true)));
    }
    return (t.int64Data ?? []).map(ToNumber);
  }
  if (t.dataType === 1) {
    if (raw && raw.length > 0) {
      const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      return Array.from({ length: count }, (_, i) => view.getFloat32(i * 4, true));
    }
    return [...(t.floatData ?? [])];
  }
  return undefined;
}

function Broadcast(shapes: readonly (readonly Dim[])[]): Dim[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    let d: Dim = 1;
    for (const s of shapes) {
      const k = i - (rank - s.length);
      if (k < 0) continue;
      const v = s[k];
      if (v === 1) continue;
      if (v === null) d = d === 1 ? null : d;
      else d = v;
    }
    out.push(d);
  }
  return out;
}

function NormalizeAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

const Unary = new Set([
  "Identity", "Neg", "Sqrt", "Reciprocal", "Exp", "Log", "Sigmoid", "Tanh", "Softplus", "Relu", "LeakyRelu", "Abs",
  "Sign", "Floor", "Ceil", "Round", "Clip", "Not", "Cast",
]);
const Broadcasting = new Set(["Add", "Sub", "Mul", "Div", "Pow", "Where", "Greater", "Less", "Equal", "GreaterOrEqual", "LessOrEqual", "And", "Or", "Sum", "Max", "Min"]);
const BoolOutputs = new Set(["Greater", "Less", "Equal", "GreaterOrEqual", "LessOrEqual", "And", "Or", "Not"]);

/**
 * Infers every tensor's shape in a graph in topological order. `symbolicDims` gives values to named input
 * dimensions (e.g. `{ N: 8 }`: a training graph's fixed batch). Throws naming the node when an op is unknown or a
 * shape argument is not a constant — or, given `failures`, records the reason under each tensor it could not infer
 * (and those depending on it) and goes on.
 */
export function InferShapes(
  inputs: readonly IValueInfoProto[],
  initializers: readonly ITensorProto[],
  nodes: readonly INodeProto[],
  symbolicDims: Readonly<Record<string, number>> = {},
  failures?: Map<string, string>,
): Map<string, TensorInfo> {
  const info = new Map<string, TensorInfo>();
  for (const i of inputs) {
    const t = i.type?.tensorType;
    const dims = (t?.shape?.dim ?? []).map((d) => {
      if (d.dimValue !== undefined && d.dimValue !== null && ToNumber(d.dimValue) > 0) return ToNumber(d.dimValue);
      return d.dimParam && symbolicDims[d.dimParam] !== undefined ? symbolicDims[d.dimParam] : null;
    });
    info.set(i.name ?? "", { dims, elemType: t?.elemType ?? 0 });
  }
  for (const t of initializers) {
    const values = TensorValues(t);
    info.set(t.name ?? "", { dims: (t.dims ?? []).map(ToNumber), elemType: t.dataType ?? 0, ...(values ? { values } : {}) });
  }
  for (const node of nodes) {
    let outs: TensorInfo[];
    try {
      outs = InferNode(node, (name) => {
        const v = info.get(name);
        if (v) return v;
        throw new Error(failures?.get(name) ?? `shape inference: tensor "${name}" (input of ${node.opType} "${node.name}") is not defined before use`);
      });
    } catch (error) {
      if (!failures) throw error;
      // Off the gradient's path an unknown op is harmless: remember why, and fail only if a rule asks.
      for (const name of node.output ?? []) if (name) failures.set(name, (error as Error).message);
      continue;
    }
    (node.output ?? []).forEach((name, k) => {
      if (name && outs[k]) info.set(name, outs[k]);
    });
  }
  return info;
}

function InferNode(node: INodeProto, get: (name: string) => TensorInfo): TensorInfo[] {
  const op = node.opType ?? "";
  const ins = node.input ?? [];
  const x = (k: number): TensorInfo => get(ins[k]);
  const has = (k: number): boolean => ins.length > k && ins[k] !== "";
  const constOf = (k: number): number[] => {
    const v = x(k).values;
    if (!v || v.some((e) => e === null)) throw new Error(`${op} "${node.name}": input ${k} ("${ins[k]}") must be a constant`);
    return v as number[];
  };
  const same = (dims: readonly Dim[], elemType = x(0).elemType): TensorInfo => ({ dims, elemType });
  if (Unary.has(op)) {
    const elem = op === "Cast" ? AttrInt(node, "to", 1) : BoolOutputs.has(op) ? 9 : x(0).elemType;
    const v = x(0).values;
    // Identity/Cast of a shape constant stays a known constant (exporters write shapes this way).
    return [same(x(0).dims, elem)].map((t) => ((op === "Identity" || op === "Cast") && v ? { ...t, values: v } : t));
  }
  if (Broadcasting.has(op)) {
    const dims = Broadcast(ins.filter((n) => n !== "").map((n) => get(n).dims));
    const elem = BoolOutputs.has(op) ? 9 : op === "Where" ? x(1).elemType : x(0).elemType;
    return [same(dims, elem)];
  }
  switch (op) {
    case "Constant": {
      const t = GetAttribute(node, "value")?.t;
      if (!t) throw new Error(`Constant "${node.name}": only the 'value' attribute is supported`);
      const values = TensorValues(t);
      return [{ dims: (t.dims ?? []).map(ToNumber), elemType: t.dataType ?? 0, ...(values ? { values } : {}) }];
    }
    case "Shape":
      return [{ dims: [x(0).dims.length], elemType: 7, values: x(0).dims }];
    case "ConstantOfShape":
      return [{ dims: constOf(0), elemType: GetAttribute(node, "value")?.t?.dataType ?? 1 }];
    case "MatMul": {
      const a = x(0).dims;
      const b = x(1).dims;
      if (a.length < 2 || b.length < 2) throw new Error(`MatMul "${node.name}": operands of rank < 2 are not supported`);
      const batch = Broadcast([a.slice(0, -2), b.slice(0, -2)]);
      return [same([...batch, a[a.length - 2], b[b.length - 1]])];
    }
    case "Gemm": {
      const a = x(0).dims;
      const b = x(1).dims;
      const m = AttrInt(node, "transA", 0) ? a[1] : a[0];
      const n = AttrInt(node, "transB", 0) ? b[0] : b[1];
      return [same([m, n])];
    }
    case "Conv":
      // [N, C, H, W] with w [O, C, kh, kw] -> [N, O, floor((H + pads - d(kh - 1) - 1) / s) + 1].
      return [same(ConvOutputDims(node, x(0).dims, x(1).dims, x(1).dims[0], (n, k, a) => Math.floor((n + a.padSum - a.dilation * (k - 1) - 1) / a.stride) + 1))];
    case "ConvTranspose": {
      // [N, C, H, W] with w [C, O, kh, kw] -> [N, O, s(H - 1) + output_padding + d(kh - 1) + 1 - pads].
      if (AttrInts(node, "output_shape") || AttrInt(node, "group", 1) !== 1) throw new Error("ConvTranspose with output_shape or groups is not supported");
      const outPad = AttrInts(node, "output_padding");
      return [same(ConvOutputDims(node, x(0).dims, x(1).dims, x(1).dims[1], (n, k, a, i) => a.stride * (n - 1) + (outPad?.[i] ?? 0) + (k - 1) * a.dilation + 1 - a.padSum))];
    }
    case "Pad": {
      const pads = constOf(1);
      const r = x(0).dims.length;
      const axes = has(3) ? constOf(3).map((a) => NormalizeAxis(a, r)) : [...Array(r).keys()];
      const dims = [...x(0).dims];
      axes.forEach((a, k) => {
        const d = dims[a];
        dims[a] = d === null ? null : d + pads[k] + pads[k + axes.length];
      });
      return [same(dims)];
    }
    case "Slice": {
      const dims = [...x(0).dims];
      const r = dims.length;
      const bounds = SliceBounds(node, constOf(1), constOf(2), has(3) ? constOf(3) : undefined, has(4) ? constOf(4) : undefined, dims);
      for (const b of bounds) dims[b.axis] = b.count;
      void r;
      return [same(dims)];
    }
    case "Concat": {
      const r = x(0).dims.length;
      const axis = NormalizeAxis(AttrInt(node, "axis", 0), r);
      const dims = [...x(0).dims];
      let total: Dim = 0;
      for (const name of ins) {
        const d = get(name).dims[axis];
        total = total === null || d === null ? null : total + d;
      }
      dims[axis] = total;
      // Concatenated shape constants stay known (Reshape targets built from parts).
      const parts = ins.map((n) => get(n).values);
      const values = r === 1 && parts.every((p) => p !== undefined) ? parts.flatMap((p) => [...p!]) : undefined;
      return [{ dims, elemType: x(0).elemType, ...(values ? { values } : {}) }];
    }
    case "Reshape": {
      const target = x(1).values;
      if (!target) {
        const n = x(1).dims[0];
        if (n === null) throw new Error(`Reshape "${node.name}": target shape of unknown length`);
        return [same(new Array(n).fill(null))];
      }
      const input = x(0).dims;
      const dims: Dim[] = target.map((t, i) => (t === 0 && AttrInt(node, "allowzero", 0) === 0 ? input[i] : t === -1 ? -1 : t));
      const inferIndex = dims.indexOf(-1);
      if (inferIndex >= 0) {
        const total = input.every((d) => d !== null) ? (input as number[]).reduce((a, b) => a * b, 1) : null;
        const rest = dims.every((d, i) => i === inferIndex || d !== null) ? (dims as number[]).reduce((a, b, i) => (i === inferIndex ? a : a * b), 1) : null;
        dims[inferIndex] = total !== null && rest !== null && rest !== 0 ? total / rest : null;
      }
      return [same(dims)];
    }
    case "Flatten": {
      const d = x(0).dims;
      const axis = NormalizeAxis(AttrInt(node, "axis", 1), d.length);
      const prod = (s: readonly Dim[]): Dim => (s.some((v) => v === null) ? null : (s as number[]).reduce((a, b) => a * b, 1));
      return [same([prod(d.slice(0, axis)), prod(d.slice(axis))])];
    }
    case "Transpose": {
      const d = x(0).dims;
      const perm = AttrInts(node, "perm") ?? [...d.keys()].reverse();
      return [same(perm.map((p) => d[p]))];
    }
    case "Unsqueeze": {
      const d = [...x(0).dims];
      const r = d.length + constOf(1).length;
      const axes = constOf(1).map((a) => NormalizeAxis(a, r)).sort((a, b) => a - b);
      for (const a of axes) d.splice(a, 0, 1);
      const v = x(0).values;
      return [{ dims: d, elemType: x(0).elemType, ...(v ? { values: v } : {}) }];
    }
    case "Squeeze": {
      const d = x(0).dims;
      const axes = has(1) ? constOf(1).map((a) => NormalizeAxis(a, d.length)) : d.flatMap((v, i) => (v === 1 ? [i] : []));
      return [same(d.filter((_, i) => !axes.includes(i)))];
    }
    case "Expand":
      return [same(Broadcast([x(0).dims, (x(1).values ?? new Array(x(1).dims[0] ?? 0).fill(null)) as Dim[]]))];
    case "ReduceSum":
    case "ReduceSumSquare":
    case "ReduceMean":
    case "ReduceMax": {
      const d = x(0).dims;
      const axes = ReduceAxes(node, d.length, has(1) ? constOf(1) : undefined);
      const keep = AttrInt(node, "keepdims", 1) === 1;
      return [same(keep ? d.map((v, i) => (axes.includes(i) ? 1 : v)) : d.filter((_, i) => !axes.includes(i)))];
    }
    case "Gather": {
      const d = x(0).dims;
      const axis = NormalizeAxis(AttrInt(node, "axis", 0), d.length);
      return [same([...d.slice(0, axis), ...x(1).dims, ...d.slice(axis + 1)])];
    }
    case "RandomNormalLike":
    case "RandomUniformLike":
      return [same(x(0).dims, AttrInt(node, "dtype", x(0).elemType))];
    case "RandomNormal":
    case "RandomUniform":
      return [{ dims: AttrInts(node, "shape") ?? [], elemType: AttrInt(node, "dtype", 1) }];
    case "Split": {
      const d = x(0).dims;
      const axis = NormalizeAxis(AttrInt(node, "axis", 0), d.length);
      const count = (node.output ?? []).length;
      const size = d[axis];
      const sizes = has(1) ? constOf(1) : size === null ? new Array<Dim>(count).fill(null) : new Array<number>(count).fill(size / count);
      return sizes.map((n) => same(d.map((v, i) => (i === axis ? n : v))));
    }
    case "Tile": {
      const reps = constOf(1);
      return [same(x(0).dims.map((v, i) => (v === null ? null : v * reps[i])))];
    }
    case "GatherND": {
      if (AttrInt(node, "batch_dims", 0) !== 0) throw new Error(`GatherND "${node.name}": batch_dims is not supported`);
      const idx = x(1).dims;
      const depth = idx[idx.length - 1];
      if (depth === null) throw new Error(`GatherND "${node.name}": the index depth must be static`);
      return [same([...idx.slice(0, -1), ...x(0).dims.slice(depth)])];
    }
    case "ScatterND":
    case "ScatterElements":
      return [same(x(0).dims)];
    case "Resize": {
      const d = x(0).dims;
      if (has(3)) return [same(constOf(3))];
      const scales = constOf(2);
      return [same(d.map((v, i) => (v === null ? null : Math.floor(v * scales[i]))))];
    }
    default:
      throw new Error(`shape inference: op ${op} (node "${node.name}") is not supported by the ONNX autodiff`);
  }
}

/** A Conv-like node's per-axis attributes (defaults as ONNX's) for output spatial axis `i`. */
interface ConvAxis {
  readonly stride: number;
  readonly dilation: number;
  /** Pads at both ends of the axis. */
  readonly padSum: number;
}

/**
 * Output dims of a Conv-like node: [batch, channels, size(H, kh), ...], a spatial size unknown where its input or
 * kernel size is.
 */
function ConvOutputDims(node: INodeProto, xd: readonly Dim[], wd: readonly Dim[], channels: Dim, size: (n: number, k: number, axis: ConvAxis, i: number) => number): Dim[] {
  const spatial = xd.length - 2;
  const strides = AttrInts(node, "strides");
  const dilations = AttrInts(node, "dilations");
  const pads = AttrInts(node, "pads");
  const dims: Dim[] = [xd[0], channels];
  for (let i = 0; i < spatial; i++) {
    const n = xd[2 + i];
    const k = wd[2 + i];
    const axis = { stride: strides?.[i] ?? 1, dilation: dilations?.[i] ?? 1, padSum: (pads?.[i] ?? 0) + (pads?.[i + spatial] ?? 0) };
    dims.push(n === null || k === null ? null : size(n, k, axis, i));
  }
  return dims;
}

/** The axes a Reduce* node reduces: from the `axes` input (ReduceSum, opset 13+) or attribute (others, opset 17). */
export function ReduceAxes(node: INodeProto, rank: number, axesInput: readonly number[] | undefined): number[] {
  const axes = axesInput ?? AttrInts(node, "axes");
  if (!axes || axes.length === 0) return AttrInt(node, "noop_with_empty_axes", 0) === 1 ? [] : [...Array(rank).keys()];
  return axes.map((a) => NormalizeAxis(a, rank));
}

/** One sliced axis with ONNX's clamping applied: `count` elements from `start` in steps of `step`. */
export interface SliceAxis {
  readonly axis: number;
  readonly start: number;
  readonly step: number;
  readonly count: number;
  readonly size: number;
}

/** Resolves Slice's starts/ends/axes/steps against known sizes (ONNX clamping rules). */
export function SliceBounds(
  node: INodeProto,
  starts: readonly number[],
  ends: readonly number[],
  axesIn: readonly number[] | undefined,
  stepsIn: readonly number[] | undefined,
  dims: readonly Dim[],
): SliceAxis[] {
  const r = dims.length;
  const axes = (axesIn ?? starts.map((_, i) => i)).map((a) => NormalizeAxis(a, r));
  return axes.map((axis, k) => {
    const size = dims[axis];
    if (size === null) throw new Error(`Slice "${node.name}": axis ${axis} has an unknown size`);
    const step = stepsIn ? stepsIn[k] : 1;
    let start = starts[k] < 0 ? starts[k] + size : starts[k];
    let end = ends[k] < 0 ? ends[k] + size : ends[k];
    if (step > 0) {
      start = Math.min(Math.max(start, 0), size);
      end = Math.min(Math.max(end, 0), size);
    } else {
      start = Math.min(Math.max(start, 0), size - 1);
      end = Math.min(Math.max(end, -1), size - 1);
    }
    const count = Math.max(0, Math.ceil((end - start) / step));
    return { axis, start, step, count, size };
  });
}
