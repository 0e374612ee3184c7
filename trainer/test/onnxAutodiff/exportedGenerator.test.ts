/**
 * The autodiff on a graph it was not written for: the exported inference generator (tiny preset; mapping,
 * truncation, mixing, modulated convs with demodulation, Resize, toRGB, and the uint8 output path the loss does
 * not use), with its symbolic batch fixed. Its gradients are checked against the tfjs network's (the oracle;
 * finite differences through this many leaky-ReLU kinks are too noisy in float32):
 *  - first order: d(Σ image·r)/dz;
 *  - second order, path-length style: d|∂(Σ image·r)/∂ws|²/dz, differentiating the graph's own backward.
 */
import { describe, expect, it } from "vitest";
import * as ort from "onnxruntime-node";
import { InitializeTfjsBackendAsync, tf } from "../../src/backends/tfjsBackend.js";
import { ExportGeneratorOnnx } from "../../src/export/exportGeneratorOnnx.js";
import { OnnxGraphBuilder, ParseOnnxModel, SerializeOnnxModel } from "../../src/export/onnxGraphBuilder.js";
import { GeneratorPresets, NoiseResolutions, NumWs } from "../../src/networks/architecture.js";
import { GeneratorNetwork } from "../../src/networks/generatorNetwork.js";
import { AddGradients } from "../../src/onnxAutodiff/buildGradients.js";
import { ActiveWeights, InputTensors, RelativeMaxDiff, SeedInputs } from "../generatorTestData.js";
import { Random } from "./gradientCheck.js";

const tiny = GeneratorPresets.tiny;
const R = tiny.resolution;

describe("ONNX autodiff on the exported generator graph vs tfjs gradients", () => {
  it("first order d(sum image*r)/dz and second order d|d(sum image*r)/dws|^2/dz", async () => {
    const weights = ActiveWeights(tiny, 21);
    const inputs = SeedInputs(tiny, [3, 4], { psi: 0.8, mix: 0.5 });
    const N = inputs.n;
    const rnd = Random(11);
    const r = Float32Array.from({ length: 3 * R * R }, rnd); // NCHW [1, 3, R, R]

    // ---- ONNX: the exported graph + loss, first-order gradients, then the penalty and its gradient.
    const bytes = ExportGeneratorOnnx({
      config: tiny,
      weights,
      name: "autodiff",
      controls: [],
      provenance: { trained: false, licenses: [], credits: [], kimg: 0, tool: "test" },
    });
    const g = OnnxGraphBuilder.FromGraph(ParseOnnxModel(bytes).graph!);
    const options = { symbolicDims: { N } };
    const loss = g.node("ReduceSum", [g.node("Mul", ["image", g.addInitializer("loss_r", "float", [1, 3, R, R], r)])], { keepdims: { int: 0 } });
    const first = AddGradients(g, loss, ["z", "ws"], options).gradients;
    const dws = first.get("ws")!;
    const penalty = g.node("ReduceSum", [g.node("Mul", [dws, dws])], { keepdims: { int: 0 } });
    const second = AddGradients(g, penalty, ["z"], options).gradients;
    g.addOutput(first.get("z")!, "z_grad", "float", [N, tiny.zDim]);
    g.addOutput(second.get("z")!, "penalty_z_grad", "float", [N, tiny.zDim]);
    const session = await ort.InferenceSession.create(SerializeOnnxModel(g.build({ name: "g", producerName: "test", producerVersion: "0" })), { intraOpNumThreads: 1 });
    const f = (values: Float32Array, dims: number[]) => new ort.Tensor("float32", values, dims);
    const feeds: Record<string, ort.Tensor> = {
      z: f(inputs.z, [N, tiny.zDim]),
      z_mix: f(inputs.zMix, [N, tiny.zDim]),
      mix: f(inputs.mix, [N, NumWs(tiny)]),
      psi: f(inputs.psi, [N, 1]),
      noise_strength: f(inputs.noiseStrength, [N, 1]),
    };
    NoiseResolutions(tiny).forEach((res, i) => (feeds[`noise${i}`] = f(inputs.noise[i], [N, 1, res, res])));
    const out = await session.run(feeds, ["z_grad", "penalty_z_grad"]);
    await session.release();

    // ---- tfjs (cpu backend; measured agreement ~1e-6 relative): the same functions with tf.grad, nested for the second order.
    await InitializeTfjsBackendAsync("cpu");
    const network = new GeneratorNetwork(tiny, weights);
    const t = InputTensors(tiny, inputs);
    const rNhwc = tf.transpose(tf.tensor4d(r, [1, 3, R, R]), [0, 2, 3, 1]);
    const lossOfWs = (ws: tf.Tensor3D) => tf.sum(tf.mul(network.synthesis(ws, t.noise, t.noiseStrength), rNhwc)) as tf.Scalar;
    const wsOf = (z: tf.Tensor2D) => network.composeWs({ ...t, z });
    const tfFirst = tf.grad((z: tf.Tensor2D) => lossOfWs(wsOf(z)))(t.z).dataSync() as Float32Array;
    const tfSecond = tf.grad((z: tf.Tensor2D) => {
      const d = tf.grad(lossOfWs)(wsOf(z));
      return tf.sum(tf.mul(d, d)) as tf.Scalar;
    })(t.z).dataSync() as Float32Array;
    network.dispose();

    const onnxFirst = out.z_grad.data as Float32Array;
    const onnxSecond = out.penalty_z_grad.data as Float32Array;
    expect(Math.max(...tfFirst.map(Math.abs))).toBeGreaterThan(1e-3);
    expect(Math.max(...tfSecond.map(Math.abs))).toBeGreaterThan(1e-3);
    if (process.env.AUTODIFF_DEBUG) console.log("relative max diff", RelativeMaxDiff(tfFirst, onnxFirst), RelativeMaxDiff(tfSecond, onnxSecond));
    expect(RelativeMaxDiff(tfFirst, onnxFirst)).toBeLessThan(1e-4);
    expect(RelativeMaxDiff(tfSecond, onnxSecond)).toBeLessThan(1e-4);
  });
});
