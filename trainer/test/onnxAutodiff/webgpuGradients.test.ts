/**
 * Gradient graphs on onnxruntime-node's bundled WebGPU provider agree with the CPU provider: a second-order
 * (R1-like) graph through conv, leaky ReLU, Resize, strided conv and a scatter-add Gather. Here WebGPU runs on
 * Chromium's SwiftShader Vulkan driver (ENVIRONMENT.md); where no adapter is found the test is skipped, saying so.
 * Measured here: every node of this graph is placed on the WebGPU provider (verbose session log).
 */
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import * as ort from "onnxruntime-node";
import { OnnxGraphBuilder, SerializeOnnxModel } from "../../src/export/onnxGraphBuilder.js";
import { AddGradients } from "../../src/onnxAutodiff/buildGradients.js";
import { RelativeMaxDiff } from "../generatorTestData.js";

const SwiftShaderIcd = "/usr/lib/chromium/vk_swiftshader_icd.json";

function Graph(): Uint8Array {
  const N = 2;
  const C = 4;
  const S = 8;
  const g = new OnnxGraphBuilder();
  const x = g.addInput("x", "float", [N, C, S, S]);
  const w = g.addInput("w", "float", [C, C, 3, 3]);
  const conv = { kernel_shape: { ints: [3, 3] }, pads: { ints: [1, 1, 1, 1] } };
  let h = g.node("LeakyRelu", [g.node("Conv", [x, w], conv)], { alpha: { float: 0.2 } });
  h = g.node("Resize", [h, "", g.constFloat([1, 1, 2, 2])], { mode: { string: "linear" }, coordinate_transformation_mode: { string: "half_pixel" } });
  h = g.node("Conv", [h, w], { ...conv, strides: { ints: [2, 2] } });
  h = g.node("Gather", [h, g.constInt64([3, 1, 1])], { axis: { int: 1 } });
  const loss = g.node("ReduceSum", [g.node("Mul", [h, h])], { keepdims: { int: 0 } });
  const dx = AddGradients(g, loss, [x]).gradients.get(x)!;
  const r1 = g.node("ReduceSum", [g.node("Mul", [dx, dx])], { keepdims: { int: 0 } });
  const dw = AddGradients(g, r1, [w]).gradients.get(w)!;
  g.addOutput(dx, "dx", "float", [N, C, S, S]);
  g.addOutput(dw, "dw", "float", [C, C, 3, 3]);
  return SerializeOnnxModel(g.build({ name: "r1_like", producerName: "test", producerVersion: "0" }));
}

describe("ONNX autodiff on the WebGPU provider", () => {
  it("second-order gradients agree with the CPU provider", async (ctx) => {
    // Make Chromium's SwiftShader visible to Dawn's Vulkan backend when nothing else is configured.
    if (!process.env.VK_ICD_FILENAMES && existsSync(SwiftShaderIcd)) process.env.VK_ICD_FILENAMES = SwiftShaderIcd;
    process.env.XDG_RUNTIME_DIR ??= "/tmp";
    const bytes = Graph();
    let gpu: ort.InferenceSession;
    try {
      gpu = await ort.InferenceSession.create(bytes, { executionProviders: ["webgpu"] });
    } catch (error) {
      console.warn(`WebGPU provider unavailable, test skipped: ${(error as Error).message.split("\n")[0]}`);
      ctx.skip();
      return;
    }
    const feeds = {
      x: new ort.Tensor("float32", Float32Array.from({ length: 2 * 4 * 64 }, (_, i) => Math.sin(i)), [2, 4, 8, 8]),
      w: new ort.Tensor("float32", Float32Array.from({ length: 16 * 9 }, (_, i) => 0.3 * Math.cos(i)), [4, 4, 3, 3]),
    };
    const onGpu = await gpu.run(feeds);
    await gpu.release();
    const cpu = await ort.InferenceSession.create(bytes);
    const onCpu = await cpu.run(feeds);
    await cpu.release();
    for (const name of ["dx", "dw"]) expect(RelativeMaxDiff(onCpu[name].data as Float32Array, onGpu[name].data as Float32Array), name).toBeLessThan(1e-5);
  });
});
