/**
 * Every op of the ONNX autodiff's rule table: gradients vs finite differences on onnxruntime-node, first order and
 * second order (the gradient of the squared gradient norm), see gradientCheck.ts.
 */
import { describe, expect, it } from "vitest";
import { GradientRules } from "../../src/onnxAutodiff/gradientRules.js";
import { CheckGradientCaseAsync, type GradientCase } from "./gradientCheck.js";

const ints = (v: number) => ({ int: v });
const intList = (v: number[]) => ({ ints: v });

const Cases: GradientCase[] = [
  { name: "Add broadcast", inputs: { a: { dims: [2, 3] }, b: { dims: [3] } }, build: (g, x) => g.node("Add", [x.a, x.b]) },
  { name: "Sub broadcast", inputs: { a: { dims: [2, 1, 4] }, b: { dims: [3, 1] } }, build: (g, x) => g.node("Sub", [x.a, x.b]) },
  { name: "Mul broadcast", inputs: { a: { dims: [2, 3, 4] }, b: { dims: [1, 3, 1] } }, build: (g, x) => g.node("Mul", [x.a, x.b]) },
  { name: "Mul same tensor", inputs: { a: { dims: [5] } }, build: (g, x) => g.node("Mul", [x.a, x.a]) },
  { name: "Div broadcast", inputs: { a: { dims: [2, 3] }, b: { dims: [2, 1], kind: "positive" } }, build: (g, x) => g.node("Div", [x.a, x.b]) },
  { name: "Neg", inputs: { a: { dims: [4] } }, build: (g, x) => g.node("Neg", [x.a]) },
  { name: "Identity", inputs: { a: { dims: [4] } }, build: (g, x) => g.node("Identity", [x.a]) },
  { name: "Cast float", inputs: { a: { dims: [4] } }, build: (g, x) => g.node("Cast", [x.a], { to: ints(1) }) },
  { name: "Sqrt", inputs: { a: { dims: [6], kind: "positive" } }, build: (g, x) => g.node("Sqrt", [x.a]) },
  { name: "Reciprocal", inputs: { a: { dims: [6], kind: "positive" } }, build: (g, x) => g.node("Reciprocal", [x.a]) },
  { name: "Exp", inputs: { a: { dims: [6] } }, build: (g, x) => g.node("Exp", [g.node("Mul", [x.a, g.constFloat([0.5], [])])]) },
  { name: "Log", inputs: { a: { dims: [6], kind: "positive" } }, build: (g, x) => g.node("Log", [x.a]) },
  { name: "Sigmoid", inputs: { a: { dims: [6] } }, build: (g, x) => g.node("Sigmoid", [x.a]) },
  { name: "Tanh", inputs: { a: { dims: [6] } }, build: (g, x) => g.node("Tanh", [x.a]) },
  { name: "Softplus", inputs: { a: { dims: [6] } }, build: (g, x) => g.node("Softplus", [x.a]) },
  { name: "Relu", inputs: { a: { dims: [8] } }, build: (g, x) => g.node("Relu", [x.a]) },
  { name: "LeakyRelu", inputs: { a: { dims: [8] } }, build: (g, x) => g.node("LeakyRelu", [x.a], { alpha: { float: 0.2 } }) },
  { name: "Abs", inputs: { a: { dims: [8] } }, build: (g, x) => g.node("Abs", [x.a]) },
  {
    name: "Clip",
    inputs: { a: { dims: [3, 4] } },
    // Bounds chosen more than the difference step away from every drawn value (seed 1), on both sides.
    build: (g, x) => g.node("Clip", [x.a, g.constFloat([-0.5], []), g.constFloat([0.8], [])]),
  },
  { name: "Pow constant exponent", inputs: { a: { dims: [5], kind: "positive" } }, build: (g, x) => g.node("Pow", [x.a, g.constFloat([3], [])]) },
  { name: "Sum broadcast", inputs: { a: { dims: [2, 3] }, b: { dims: [3] }, c: { dims: [2, 1] } }, build: (g, x) => g.node("Sum", [x.a, x.b, x.c]) },
  {
    name: "Where broadcast",
    inputs: { a: { dims: [2, 3] }, b: { dims: [3] } },
    build: (g, x) => g.node("Where", [g.node("Greater", [g.constFloat([1, -1, 1, 1, -1, -1], [2, 3]), g.constFloat([0], [])]), x.a, x.b]),
  },
  { name: "MatMul 2D", inputs: { a: { dims: [3, 4] }, b: { dims: [4, 2] } }, build: (g, x) => g.node("MatMul", [x.a, x.b]) },
  { name: "MatMul batched broadcast", inputs: { a: { dims: [2, 3, 4] }, b: { dims: [4, 5] } }, build: (g, x) => g.node("MatMul", [x.a, x.b]) },
  { name: "Gemm", inputs: { a: { dims: [3, 4] }, b: { dims: [4, 2] }, c: { dims: [2] } }, build: (g, x) => g.node("Gemm", [x.a, x.b, x.c], { alpha: { float: 0.7 }, beta: { float: 1.3 } }) },
  { name: "Gemm transA transB", inputs: { a: { dims: [4, 3] }, b: { dims: [2, 4] }, c: { dims: [3, 1] } }, build: (g, x) => g.node("Gemm", [x.a, x.b, x.c], { transA: ints(1), transB: ints(1), alpha: { float: 0.5 } }) },
  { name: "Gemm transA", inputs: { a: { dims: [4, 3] }, b: { dims: [4, 2] } }, build: (g, x) => g.node("Gemm", [x.a, x.b], { transA: ints(1) }) },
  { name: "Gemm transB", inputs: { a: { dims: [3, 4] }, b: { dims: [2, 4] } }, build: (g, x) => g.node("Gemm", [x.a, x.b], { transB: ints(1) }) },
  {
    name: "Conv 3x3 pad 1 bias (slices)",
    inputs: { x: { dims: [2, 3, 5, 6] }, w: { dims: [4, 3, 3, 3] }, b: { dims: [4] } },
    build: (g, x) => g.node("Conv", [x.x, x.w, x.b], { kernel_shape: intList([3, 3]), pads: intList([1, 1, 1, 1]) }),
    options: { convWeightGradient: "slices" },
  },
  {
    name: "Conv 3x3 pad 1 (conv weight gradient)",
    inputs: { x: { dims: [2, 3, 5, 6] }, w: { dims: [4, 3, 3, 3] } },
    build: (g, x) => g.node("Conv", [x.x, x.w], { kernel_shape: intList([3, 3]), pads: intList([1, 1, 1, 1]) }),
    options: { convWeightGradient: "conv" },
  },
  {
    name: "Conv 3x3 pad 1, fewer output channels (auto: output gradient shifted)",
    inputs: { x: { dims: [2, 5, 5, 6] }, w: { dims: [2, 5, 3, 3] }, b: { dims: [2] } },
    build: (g, x) => g.node("Conv", [x.x, x.w, x.b], { kernel_shape: intList([3, 3]), pads: intList([1, 1, 1, 1]) }),
    options: { convWeightGradient: "auto" },
  },
  {
    name: "Conv 3x2 asymmetric pads, fewer output channels (auto: output gradient shifted)",
    inputs: { x: { dims: [2, 5, 5, 6] }, w: { dims: [2, 5, 3, 2] } },
    build: (g, x) => g.node("Conv", [x.x, x.w], { kernel_shape: intList([3, 2]), pads: intList([1, 0, 0, 1]) }),
    options: { convWeightGradient: "auto" },
  },
  {
    name: "Conv stride 2 pads 1 (one Gemm per tap)",
    inputs: { x: { dims: [2, 3, 7, 6] }, w: { dims: [4, 3, 3, 3] }, b: { dims: [4] } },
    build: (g, x) => g.node("Conv", [x.x, x.w, x.b], { kernel_shape: intList([3, 3]), strides: intList([2, 2]), pads: intList([1, 1, 1, 1]) }),
    options: { convWeightGradient: "tapGemms" },
  },
  {
    name: "Conv stride 2 asymmetric pads (slices)",
    inputs: { x: { dims: [2, 2, 7, 6] }, w: { dims: [3, 2, 3, 2] } },
    build: (g, x) => g.node("Conv", [x.x, x.w], { kernel_shape: intList([3, 2]), strides: intList([2, 2]), pads: intList([1, 0, 0, 1]) }),
    options: { convWeightGradient: "slices" },
  },
  {
    name: "Conv 4x4 stride 2 valid (input gradient as strided ConvTranspose)",
    inputs: { x: { dims: [1, 2, 8, 8] }, w: { dims: [2, 2, 4, 4] } },
    build: (g, x) => g.node("Conv", [x.x, x.w], { kernel_shape: intList([4, 4]), strides: intList([2, 2]) }),
  },
  {
    name: "Conv 4x4 stride 2 valid (input gradient as zero-inserted Conv)",
    inputs: { x: { dims: [1, 2, 8, 8] }, w: { dims: [2, 2, 4, 4] } },
    build: (g, x) => g.node("Conv", [x.x, x.w], { kernel_shape: intList([4, 4]), strides: intList([2, 2]) }),
    options: { convInputGradient: "conv" },
  },
  {
    // The discriminator's strided conv1: the blurred map (r + 1) to r / 2.
    name: "Conv 3x3 stride 2 valid, odd size (strided ConvTranspose)",
    inputs: { x: { dims: [2, 3, 9, 9] }, w: { dims: [4, 3, 3, 3] }, b: { dims: [4] } },
    build: (g, x) => g.node("Conv", [x.x, x.w, x.b], { kernel_shape: intList([3, 3]), strides: intList([2, 2]) }),
  },
  {
    name: "Conv 3x3 asymmetric pads (input gradient as ConvTranspose)",
    inputs: { x: { dims: [2, 3, 5, 6] }, w: { dims: [4, 3, 3, 3] }, b: { dims: [4] } },
    build: (g, x) => g.node("Conv", [x.x, x.w, x.b], { kernel_shape: intList([3, 3]), pads: intList([1, 0, 2, 1]) }),
    options: { convInputGradient: "convTranspose" },
  },
  {
    name: "Conv 3x3 pad 1 at 4x4 (input gradient as ConvTranspose over the stacked batch)",
    inputs: { x: { dims: [3, 3, 4, 4] }, w: { dims: [2, 3, 3, 3] }, b: { dims: [2] } },
    build: (g, x) => g.node("Conv", [x.x, x.w, x.b], { kernel_shape: intList([3, 3]), pads: intList([1, 1, 1, 1]) }),
    options: { convInputGradient: "convTranspose" },
  },
  {
    name: "Conv 1x1 at 3x3 (input gradient as ConvTranspose over the stacked batch)",
    inputs: { x: { dims: [2, 3, 3, 3] }, w: { dims: [2, 3, 1, 1] } },
    build: (g, x) => g.node("Conv", [x.x, x.w], { kernel_shape: intList([1, 1]) }),
    options: { convInputGradient: "convTranspose" },
  },
  {
    name: "Conv 3x3 pad 1 (input gradient as flipped Conv)",
    inputs: { x: { dims: [2, 3, 4, 4] }, w: { dims: [4, 3, 3, 3] } },
    build: (g, x) => g.node("Conv", [x.x, x.w], { kernel_shape: intList([3, 3]), pads: intList([1, 1, 1, 1]) }),
    options: { convInputGradient: "conv" },
  },
  {
    name: "ConvTranspose 3x3 pads bias",
    inputs: { u: { dims: [2, 4, 5, 4] }, w: { dims: [4, 3, 3, 3] }, b: { dims: [3] } },
    build: (g, x) => g.node("ConvTranspose", [x.u, x.w, x.b], { kernel_shape: intList([3, 3]), pads: intList([1, 0, 1, 1]) }),
  },
  {
    name: "ConvTranspose 3x3 stride 2",
    inputs: { u: { dims: [2, 4, 4, 4] }, w: { dims: [4, 3, 3, 3] } },
    build: (g, x) => g.node("ConvTranspose", [x.u, x.w], { kernel_shape: intList([3, 3]), strides: intList([2, 2]) }),
  },
  { name: "Conv 1x1", inputs: { x: { dims: [2, 3, 4, 4] }, w: { dims: [5, 3, 1, 1] } }, build: (g, x) => g.node("Conv", [x.x, x.w], { kernel_shape: intList([1, 1]) }) },
  { name: "Pad constant", inputs: { a: { dims: [2, 3, 4] } }, build: (g, x) => g.node("Pad", [x.a, g.constInt64([0, 1, 2, 0, 2, 1])]) },
  { name: "Pad negative (crop)", inputs: { a: { dims: [2, 5, 4] } }, build: (g, x) => g.node("Pad", [x.a, g.constInt64([0, -1, 1, 0, 2, -2])]) },
  { name: "Pad edge", inputs: { a: { dims: [1, 2, 3, 4] } }, build: (g, x) => g.node("Pad", [x.a, g.constInt64([0, 0, 1, 2, 0, 0, 2, 1])], { mode: { string: "edge" } }) },
  { name: "Slice", inputs: { a: { dims: [3, 6] } }, build: (g, x) => g.node("Slice", [x.a, g.constInt64([1, -5]), g.constInt64([3, 5])]) },
  { name: "Slice step 2", inputs: { a: { dims: [3, 7] } }, build: (g, x) => g.node("Slice", [x.a, g.constInt64([1]), g.constInt64([7]), g.constInt64([1]), g.constInt64([2])]) },
  { name: "Slice reversed step", inputs: { a: { dims: [3, 7] } }, build: (g, x) => g.node("Slice", [x.a, g.constInt64([-1, 5]), g.constInt64([-100, 0]), g.constInt64([0, 1]), g.constInt64([-1, -2])]) },
  { name: "Concat", inputs: { a: { dims: [2, 3] }, b: { dims: [2, 2] } }, build: (g, x) => g.node("Concat", [x.a, x.b, x.a], { axis: ints(1) }) },
  { name: "Gather scalar index", inputs: { a: { dims: [2, 3, 4] } }, build: (g, x) => g.node("Gather", [x.a, g.constInt64([1], [])], { axis: ints(1) }) },
  { name: "Gather index range", inputs: { a: { dims: [4, 3] } }, build: (g, x) => g.node("Gather", [x.a, g.constInt64([1, 2])], { axis: ints(0) }) },
  {
    name: "Gather repeated indices (scatter-add)",
    inputs: { a: { dims: [4, 3] } },
    build: (g, x) => g.node("Gather", [x.a, g.constInt64([2, 0, 2])], { axis: ints(0) }),
  },
  {
    name: "Gather axis 1, 2-D indices",
    inputs: { a: { dims: [2, 4, 3] } },
    build: (g, x) => g.node("Gather", [x.a, g.constInt64([3, 1, 1, 1], [2, 2])], { axis: ints(1) }),
  },
  { name: "GatherND", inputs: { a: { dims: [3, 4, 2] } }, build: (g, x) => g.node("GatherND", [x.a, g.constInt64([0, 1, 2, 3, 0, 1], [3, 2])]) },
  {
    name: "ScatterND add",
    inputs: { a: { dims: [4, 3] }, u: { dims: [3, 3] } },
    build: (g, x) => g.node("ScatterND", [x.a, g.constInt64([1, 3, 1], [3, 1]), x.u], { reduction: { string: "add" } }),
  },
  { name: "ScatterND overwrite", inputs: { a: { dims: [4, 3] }, u: { dims: [2, 3] } }, build: (g, x) => g.node("ScatterND", [x.a, g.constInt64([1, 3], [2, 1]), x.u]) },
  // Ties (a = b) are kinks: directions that cross one are skipped.
  { name: "Max broadcast", inputs: { a: { dims: [2, 3] }, b: { dims: [3] } }, build: (g, x) => ({ y: g.node("Max", [x.a, x.b]), kinks: [g.node("Sub", [x.a, x.b])] }) },
  { name: "Min broadcast", inputs: { a: { dims: [2, 3] }, b: { dims: [2, 1] } }, build: (g, x) => ({ y: g.node("Min", [x.a, x.b]), kinks: [g.node("Sub", [x.a, x.b])] }) },
  {
    name: "Split sizes (one piece unused)",
    inputs: { a: { dims: [2, 7] } },
    build: (g, x) => {
      const [p, unused, q] = ["p", "unused", "q"].map((n) => g.uniqueName(n));
      g.nodeMulti("Split", [x.a, g.constInt64([3, 1, 3])], [p, unused, q], { axis: ints(1) });
      return g.node("Concat", [q, g.node("Mul", [p, g.constFloat([2], [])])], { axis: ints(0) });
    },
  },
  {
    name: "Split equal",
    inputs: { a: { dims: [4, 3] } },
    build: (g, x) => {
      const [p, q] = ["p", "q"].map((n) => g.uniqueName(n));
      g.nodeMulti("Split", [x.a], [p, q], { axis: ints(0) });
      return g.node("Sub", [p, g.node("Mul", [q, q])]);
    },
  },
  { name: "Tile", inputs: { a: { dims: [2, 1, 3] } }, build: (g, x) => g.node("Tile", [x.a, g.constInt64([2, 4, 1])]) },
  { name: "Reshape", inputs: { a: { dims: [2, 6] } }, build: (g, x) => g.node("Reshape", [x.a, g.constInt64([3, -1, 2])]) },
  { name: "Flatten", inputs: { a: { dims: [2, 3, 2] } }, build: (g, x) => g.node("Flatten", [x.a], { axis: ints(1) }) },
  { name: "Squeeze", inputs: { a: { dims: [2, 1, 3] } }, build: (g, x) => g.node("Squeeze", [x.a, g.constInt64([1])]) },
  { name: "Unsqueeze", inputs: { a: { dims: [2, 3] } }, build: (g, x) => g.node("Unsqueeze", [x.a, g.constInt64([0, 3])]) },
  { name: "Transpose", inputs: { a: { dims: [2, 3, 4] } }, build: (g, x) => g.node("Transpose", [x.a], { perm: intList([2, 0, 1]) }) },
  { name: "Expand", inputs: { a: { dims: [3, 1] } }, build: (g, x) => g.node("Expand", [x.a, g.constInt64([2, 3, 4])]) },
  { name: "ReduceSum keepdims", inputs: { a: { dims: [2, 3, 4] } }, build: (g, x) => g.node("ReduceSum", [x.a, g.constInt64([0, 2])], { keepdims: ints(1) }) },
  { name: "ReduceSum all", inputs: { a: { dims: [2, 3] } }, build: (g, x) => g.node("ReduceSum", [x.a], { keepdims: ints(0) }) },
  { name: "ReduceMean", inputs: { a: { dims: [2, 3, 4] } }, build: (g, x) => g.node("ReduceMean", [x.a], { axes: intList([1]), keepdims: ints(0) }) },
  { name: "ReduceSumSquare", inputs: { a: { dims: [2, 3, 2, 2] } }, build: (g, x) => g.node("ReduceSumSquare", [x.a], { axes: intList([2, 3]), keepdims: ints(0) }) },
  { name: "ReduceSumSquare all", inputs: { a: { dims: [2, 3] } }, build: (g, x) => g.node("ReduceSumSquare", [x.a], { keepdims: ints(1) }) },
  {
    name: "Resize 2x bilinear",
    inputs: { a: { dims: [1, 2, 3, 4] } },
    build: (g, x) => g.node("Resize", [x.a, "", g.constFloat([1, 1, 2, 2])], { mode: { string: "linear" }, coordinate_transformation_mode: { string: "half_pixel" } }),
  },
];

describe("ONNX autodiff: per-op gradients vs finite differences (onnxruntime-node, float32)", () => {
  it("covers every op of the rule table", () => {
    const tested = new Set(Cases.map((c) => c.name.split(" ")[0]));
    expect(Object.keys(GradientRules).filter((op) => !tested.has(op))).toEqual([]);
  });

  for (const c of Cases) {
    it(c.name, async () => {
      const r = await CheckGradientCaseAsync(c);
      expect(r.firstMagnitude).toBeGreaterThan(1e-3);
      expect(r.firstOrder).toBeLessThan(1e-3);
      if (r.secondOrder !== null) expect(r.secondOrder).toBeLessThan(2e-3);
    });
  }
});
