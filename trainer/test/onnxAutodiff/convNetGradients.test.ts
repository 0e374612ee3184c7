/**
 * A small StyleGAN2-like network, differentiated as a whole: affine styles, modulated 3×3 conv with demodulation
 * computed from the weights, bias, leaky ReLU with gain, bilinear 2× up-sampling (Resize), [1,3,3,1] down-sampling
 * (edge Pad + stride-2 Conv), a strided conv, Softplus and a dense output. Gradients wrt every input and weight vs
 * finite differences, then second order: the R1 penalty |∂D/∂x|² differentiated wrt all weights.
 */
import { describe, expect, it } from "vitest";
import type { OnnxGraphBuilder } from "../../src/export/onnxGraphBuilder.js";
import { CheckGradientCaseAsync, type GradientCase } from "./gradientCheck.js";

const N = 2;
const R = 8;

function BuildNet(g: OnnxGraphBuilder, x: Readonly<Record<string, string>>): { y: string; kinks: string[] } {
  const ints = (v: number[]) => ({ ints: v });
  const axes23 = g.constInt64([2, 3]);
  // Styles from latents; modulation on activations, demodulation from the weights (as the exporter does).
  const s = g.node("Gemm", [x.wlat, x.affine, x.affineBias]);
  const h = g.node("Mul", [x.img, g.node("Unsqueeze", [s, axes23])]);
  let y = g.node("Conv", [h, x.w1], { kernel_shape: ints([3, 3]), pads: ints([1, 1, 1, 1]) });
  const wsq = g.node("Transpose", [g.node("ReduceSum", [g.node("Mul", [x.w1, x.w1]), axes23], { keepdims: { int: 0 } })], { perm: ints([1, 0]) });
  const demod = g.node("Reciprocal", [g.node("Sqrt", [g.node("Add", [g.node("MatMul", [g.node("Mul", [s, s]), wsq]), g.constFloat([1e-8], [])])])]);
  y = g.node("Mul", [y, g.node("Unsqueeze", [demod, axes23])]);
  y = g.node("Add", [y, g.node("Reshape", [x.b1, g.constInt64([1, -1, 1, 1])])]);
  const preActivation = y;
  y = g.node("Mul", [g.node("LeakyRelu", [y], { alpha: { float: 0.2 } }), g.constFloat([Math.SQRT2], [])]);
  // Up 2× (bilinear), then back down with the [1,3,3,1] filter per channel at stride 2 (edge clamped).
  const up = g.node("Resize", [y, "", g.constFloat([1, 1, 2, 2])], { mode: { string: "linear" }, coordinate_transformation_mode: { string: "half_pixel" } });
  const taps = [1, 3, 3, 1];
  const filter = g.constFloat(taps.flatMap((a) => taps.map((b) => (a * b) / 64)), [1, 1, 4, 4]);
  const flat = g.node("Reshape", [up, g.constInt64([-1, 1, 2 * R, 2 * R])]);
  const padded = g.node("Pad", [flat, g.constInt64([0, 0, 1, 1, 0, 0, 1, 1])], { mode: { string: "edge" } });
  const down = g.node("Reshape", [g.node("Conv", [padded, filter], { kernel_shape: ints([4, 4]), strides: ints([2, 2]) }), g.constInt64([N, 4, R, R])]);
  const res = g.node("Add", [down, y]);
  const strided = g.node("Conv", [res, x.w2], { kernel_shape: ints([3, 3]), strides: ints([2, 2]), pads: ints([1, 1, 1, 1]) });
  const feat = g.node("Flatten", [g.node("Softplus", [strided])], { axis: { int: 1 } });
  return { y: g.node("MatMul", [feat, x.w3]), kinks: [preActivation] };
}

const Inputs = {
  img: { dims: [N, 3, R, R], kind: "normal" as const },
  wlat: { dims: [N, 5], kind: "normal" as const },
  affine: { dims: [5, 3], kind: "normal" as const, scale: 1 / Math.sqrt(5) },
  affineBias: { dims: [3], kind: "positive" as const },
  w1: { dims: [4, 3, 3, 3], kind: "normal" as const, scale: 1 / Math.sqrt(27) },
  b1: { dims: [4], kind: "normal" as const },
  w2: { dims: [5, 4, 3, 3], kind: "normal" as const, scale: 1 / Math.sqrt(36) },
  w3: { dims: [5 * (R / 2) * (R / 2), 1], kind: "normal" as const, scale: 1 / Math.sqrt(80) },
};

describe("ONNX autodiff: a modulated-conv network as a whole", () => {
  it("gradients of every input and weight, and of the squared gradient norm", async () => {
    const c: GradientCase = { name: "convnet", inputs: Inputs, build: BuildNet, step: 2e-4 };
    const r = await CheckGradientCaseAsync(c, 3, 3);
    expect(r.firstMagnitude).toBeGreaterThan(1e-2);
    expect(r.firstOrder).toBeLessThan(2e-3);
    expect(r.secondOrder!).toBeLessThan(5e-3);
  });

  it("R1: the gradient of |dD/dx|^2 wrt the weights (all three conv weight-gradient forms)", async () => {
    for (const convWeightGradient of ["slices", "tapGemms", "conv"] as const) {
      const c: GradientCase = { name: "r1", inputs: Inputs, build: BuildNet, penaltyOf: ["img"], options: { convWeightGradient }, step: 2e-4 };
      const r = await CheckGradientCaseAsync(c, 4, 3);
      expect(r.secondMagnitude!).toBeGreaterThan(1e-2);
      expect(r.secondOrder!).toBeLessThan(5e-3);
    }
  });
});
