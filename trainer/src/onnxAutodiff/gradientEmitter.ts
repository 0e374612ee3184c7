/**
 * Helpers the gradient rules use to append backward nodes: constants, shapes, and the reduction of a broadcast
 * gradient back to an input's shape. Everything emitted here is itself in the rule table (second order).
 */
import type { OnnxAttribute, OnnxGraphBuilder } from "../export/onnxGraphBuilder.js";
import type { Dim, TensorInfo } from "./graphShapes.js";

/** Appends nodes to a graph and answers shape questions about the forward tensors. */
export class GradientEmitter {
  constructor(
    /** The graph being extended. */
    readonly g: OnnxGraphBuilder,
    private readonly shapes: ReadonlyMap<string, TensorInfo>,
    /** Why a tensor's shape is unknown (shape inference failures off the caller's control). */
    private readonly failures: ReadonlyMap<string, string> = new Map(),
  ) {}

  /** Adds one node and returns its output. */
  node(op: string, inputs: readonly string[], attributes: Record<string, OnnxAttribute> = {}): string {
    return this.g.node(op, inputs, attributes, `grad_${op.toLowerCase()}`);
  }

  /** What is known of a forward tensor. */
  info(name: string): TensorInfo {
    const t = this.shapes.get(name);
    if (!t) throw new Error(`autodiff: no shape known for tensor "${name}"${this.failures.has(name) ? `: ${this.failures.get(name)}` : ""}`);
    return t;
  }

  /** The inferred dims of a forward tensor (null where unknown). */
  dims(name: string): readonly Dim[] {
    return this.info(name).dims;
  }

  /** The static dims of a tensor; throws (naming why) when one is unknown. */
  staticDims(name: string, why: string): number[] {
    const d = this.dims(name);
    if (d.some((v) => v === null)) throw new Error(`autodiff: ${why} needs the static shape of "${name}", got [${d.map((v) => v ?? "?").join(", ")}]`);
    return d as number[];
  }

  /** A float32 scalar constant (shared). */
  scalar(value: number): string {
    return this.g.constFloat([value], []);
  }

  /** A 1-D int64 constant (shared): axes, pads, shapes. */
  ints(values: readonly number[]): string {
    return this.g.constInt64(values);
  }

  /** A shape tensor equal to the shape of `name`: a constant when static, else a Shape node. */
  shapeOf(name: string): string {
    const d = this.dims(name);
    return d.every((v) => v !== null) ? this.ints(d as number[]) : this.node("Shape", [name]);
  }

  /** a · b (broadcasting). */
  mul(a: string, b: string): string {
    return this.node("Mul", [a, b]);
  }

  /** a + b (broadcasting). */
  add(a: string, b: string): string {
    return this.node("Add", [a, b]);
  }

  /** −a. */
  neg(a: string): string {
    return this.node("Neg", [a]);
  }

  /** `value` reshaped to the shape of `like`. */
  reshapeLike(value: string, like: string): string {
    return this.node("Reshape", [value, this.shapeOf(like)]);
  }

  /**
   * Sums a gradient computed at a broadcast shape (`output`'s dims, or `output` itself) back to the shape of `input`
   * (numpy broadcasting): leading axes the input lacks are summed away, axes where it has size 1 are summed with keepdims.
   */
  reduceTo(grad: string, input: string, output: string | readonly Dim[]): string {
    const inDims = this.dims(input);
    const outDims = typeof output === "string" ? this.dims(output) : output;
    const lead = outDims.length - inDims.length;
    const axes: number[] = [];
    for (let i = 0; i < outDims.length; i++) {
      if (i < lead) axes.push(i);
      else if (inDims[i - lead] === 1 && outDims[i] !== 1) axes.push(i);
    }
    if (axes.length === 0) return grad;
    let r = this.node("ReduceSum", [grad, this.ints(axes)], { keepdims: { int: 1 } });
    if (lead > 0) r = this.node("Squeeze", [r, this.ints([...Array(lead).keys()])]);
    return r;
  }

  /**
   * Pads (positive amounts) or crops (negative amounts) `value` on the given axes: Slice for the crops and one
   * constant Pad for the rest, so that no negative Pad reaches the runtime. `dims` is `value`'s shape.
   */
  padSigned(value: string, dims: readonly Dim[], axes: readonly number[], begin: readonly number[], end: readonly number[]): string {
    let t = value;
    const sAxes: number[] = [];
    const starts: number[] = [];
    const ends: number[] = [];
    axes.forEach((a, k) => {
      if (begin[k] >= 0 && end[k] >= 0) return;
      const size = dims[a];
      if (size === null) throw new Error(`autodiff: cropping needs the size of axis ${a}`);
      sAxes.push(a);
      starts.push(Math.max(0, -begin[k]));
      ends.push(size - Math.max(0, -end[k]));
    });
    if (sAxes.length > 0) t = this.node("Slice", [t, this.ints(starts), this.ints(ends), this.ints(sAxes)]);
    if (axes.some((_, k) => begin[k] > 0 || end[k] > 0)) {
      const rank = dims.length;
      const pads = new Array(2 * rank).fill(0);
      axes.forEach((a, k) => {
        pads[a] = Math.max(0, begin[k]);
        pads[a + rank] = Math.max(0, end[k]);
      });
      t = this.node("Pad", [t, this.ints(pads)]);
    }
    return t;
  }

  /** Zeros with the shape of `like` (a gradient that does not flow). */
  zerosLike(like: string): string {
    return this.node("Expand", [this.scalar(0), this.shapeOf(like)]);
  }
}
