/**
 * The model-level entry point: ONNX bytes in, gradient model out (forward outputs kept, dead nodes pruned), and
 * clear errors for what the autodiff does not handle.
 */
import { describe, expect, it } from "vitest";
import * as ort from "onnxruntime-node";
import { OnnxGraphBuilder, ParseOnnxModel, SerializeOnnxModel } from "../../src/export/onnxGraphBuilder.js";
import { AddGradients, BuildGradientModel } from "../../src/onnxAutodiff/buildGradients.js";

function Model(extra?: (g: OnnxGraphBuilder, h: string) => string) {
  const g = new OnnxGraphBuilder();
  const x = g.addInput("x", "float", ["N", 3]);
  const w = g.addInitializer("w", "float", [3, 2], [1, 2, 3, 4, 5, 6]);
  let h = g.node("MatMul", [x, w]);
  if (extra) h = extra(g, h);
  g.addOutput(h, "y", "float", ["N", 2]);
  // An output-unrelated branch the gradient model must not keep alive.
  g.node("Softplus", [x]);
  const loss = g.node("ReduceSum", [g.node("Mul", [h, h])], { keepdims: { int: 0 } }, "loss", true);
  void loss;
  return SerializeOnnxModel(g.build({ name: "m", producerName: "test", producerVersion: "0" }));
}

describe("BuildGradientModel", () => {
  it("keeps the forward outputs, adds the gradients, prunes dead nodes", async () => {
    const model = BuildGradientModel(ParseOnnxModel(Model()), { loss: "loss", wrt: ["x", "w"], lossOutput: "loss_out" });
    expect(model.graph!.output!.map((o) => o.name)).toEqual(["y", "loss_out", "x_grad", "w_grad"]);
    expect(model.graph!.node!.some((n) => n.opType === "Softplus")).toBe(false);
    const session = await ort.InferenceSession.create(SerializeOnnxModel(model));
    const x = new Float32Array([1, -1, 2, 0.5, 0, -2]);
    const out = await session.run({ x: new ort.Tensor("float32", x, [2, 3]) });
    await session.release();
    // y = x W, loss = Σ y², dL/dx = 2 y Wᵀ, dL/dW = 2 xᵀ y (by hand).
    const W = [1, 2, 3, 4, 5, 6];
    const y = [0, 1].flatMap((n) => [0, 1].map((j) => [0, 1, 2].reduce((s, k) => s + x[n * 3 + k] * W[k * 2 + j], 0)));
    expect(Array.from(out.y.data as Float32Array)).toEqual(y);
    const dx = [0, 1].flatMap((n) => [0, 1, 2].map((k) => [0, 1].reduce((s, j) => s + 2 * y[n * 2 + j] * W[k * 2 + j], 0)));
    const dw = [0, 1, 2].flatMap((k) => [0, 1].map((j) => [0, 1].reduce((s, n) => s + 2 * x[n * 3 + k] * y[n * 2 + j], 0)));
    expect(Array.from(out.x_grad.data as Float32Array)).toEqual(dx);
    expect(Array.from(out.w_grad.data as Float32Array)).toEqual(dw);
    expect(out.loss_out.data[0]).toBe(y.reduce((s, v) => s + v * v, 0));
  });

  it("names the node when an op has no gradient rule", () => {
    const bytes = Model((g, h) => g.node("Sin", [h], {}, "sine"));
    expect(() => BuildGradientModel(ParseOnnxModel(bytes), { loss: "loss", wrt: ["x"] })).toThrow(/Sin/);
  });

  it("fails rather than drop the gradient of an input a rule does not differentiate", () => {
    const g = new OnnxGraphBuilder();
    const x = g.addInput("x", "float", [3]);
    const bound = g.addInput("bound", "float", []);
    const loss = g.node("ReduceSum", [g.node("Clip", [x, bound])], { keepdims: { int: 0 } });
    expect(() => AddGradients(g, loss, [x, bound])).toThrow(/Clip .* no gradient for its input 1/);
  });

  it("ignores ops it does not know off the gradient's path", async () => {
    const g = new OnnxGraphBuilder();
    const x = g.addInput("x", "float", [4]);
    const loss = g.node("ReduceSum", [g.node("Mul", [x, x])], { keepdims: { int: 0 } });
    g.nodeMulti("Split", [g.node("Sin", [x])], ["half_a", "half_b"], { axis: { int: 0 } });
    const { gradients } = AddGradients(g, loss, [x]);
    g.addOutput(gradients.get(x)!, "dx", "float", [4]);
    g.addOutput("half_a", "a", "float", [2]);
    const session = await ort.InferenceSession.create(SerializeOnnxModel(g.build({ name: "s", producerName: "test", producerVersion: "0" })));
    const out = await session.run({ x: new ort.Tensor("float32", new Float32Array([1, 2, 3, 4]), [4]) });
    await session.release();
    expect(Array.from(out.dx.data as Float32Array)).toEqual([2, 4, 6, 8]);
  });

  it("treats random ops as constants", async () => {
    const g = new OnnxGraphBuilder();
    const x = g.addInput("x", "float", [3]);
    const noise = g.node("RandomNormalLike", [x], { seed: { float: 1 } });
    const loss = g.node("ReduceSum", [g.node("Mul", [x, noise])], { keepdims: { int: 0 } });
    const { gradients } = AddGradients(g, loss, [x]);
    g.addOutput(gradients.get(x)!, "dx", "float", [3]);
    g.addOutput(noise, "noise", "float", [3]);
    const session = await ort.InferenceSession.create(SerializeOnnxModel(g.build({ name: "r", producerName: "test", producerVersion: "0" })));
    const out = await session.run({ x: new ort.Tensor("float32", new Float32Array([1, 2, 3]), [3]) });
    await session.release();
    expect(Array.from(out.dx.data as Float32Array)).toEqual(Array.from(out.noise.data as Float32Array));
  });

  it("gives zeros for inputs the loss does not depend on, and stops at non-differentiable ops", async () => {
    const g = new OnnxGraphBuilder();
    const a = g.addInput("a", "float", [3]);
    const b = g.addInput("b", "float", [3]);
    const floored = g.node("Floor", [a]);
    const loss = g.node("ReduceSum", [g.node("Mul", [floored, g.constFloat([2], [])])], { keepdims: { int: 0 } });
    const { gradients } = AddGradients(g, loss, [a, b]);
    g.addOutput(gradients.get(a)!, "da", "float", [3]);
    g.addOutput(gradients.get(b)!, "db", "float", [3]);
    const session = await ort.InferenceSession.create(SerializeOnnxModel(g.build({ name: "z", producerName: "test", producerVersion: "0" })));
    const t = new ort.Tensor("float32", new Float32Array([1.5, -2, 3]), [3]);
    const out = await session.run({ a: t, b: t });
    await session.release();
    expect(Array.from(out.da.data as Float32Array)).toEqual([0, 0, 0]);
    expect(Array.from(out.db.data as Float32Array)).toEqual([0, 0, 0]);
  });
});
