/**
 * Training and inference cannot drift apart: the tfjs GeneratorNetwork and the exported ONNX graph (run in
 * onnxruntime-node) give the same image for the same weights and inputs, controls included.
 */
import { describe, expect, it } from "vitest";
import * as ort from "onnxruntime-node";
import { InitializeTfjsBackendAsync, tf } from "../src/backends/tfjsBackend.js";
import { ExportGeneratorOnnx } from "../src/export/exportGeneratorOnnx.js";
import { GeneratorPresets, NoiseResolutions, NumWs } from "../src/networks/architecture.js";
import { GeneratorNetwork } from "../src/networks/generatorNetwork.js";
import { ActiveWeights, InputTensors, RelativeMaxDiff, SeedInputs } from "./generatorTestData.js";

const tiny = GeneratorPresets.tiny;

describe("tfjs GeneratorNetwork vs exported ONNX", () => {
  it("gives the same image (cpu and wasm backends vs onnxruntime-node)", async () => {
    const weights = ActiveWeights(tiny, 21);
    const numWs = NumWs(tiny);
    const direction = Float32Array.from({ length: tiny.wDim }, (_, i) => Math.cos(i));
    const layers = [0, 1, 2];
    const model = ExportGeneratorOnnx({
      config: tiny,
      weights,
      name: "parity",
      controls: [{ name: "c0", label: "C0", kind: "random", min: -3, max: 3, default: 0, layers, direction }],
      provenance: { trained: false, licenses: [], credits: [], kimg: 0, tool: "test" },
    });
    const inputs = SeedInputs(tiny, [3, 4, 5], { psi: 0.8 });
    const amounts = new Float32Array([1.5, -2, 0]);
    const n = inputs.n;

    const session = await ort.InferenceSession.create(model);
    const feeds: Record<string, ort.Tensor> = {
      z: new ort.Tensor("float32", inputs.z, [n, tiny.zDim]),
      z_mix: new ort.Tensor("float32", inputs.zMix, [n, tiny.zDim]),
      mix: new ort.Tensor("float32", inputs.mix, [n, numWs]),
      psi: new ort.Tensor("float32", inputs.psi, [n, 1]),
      noise_strength: new ort.Tensor("float32", inputs.noiseStrength, [n, 1]),
      controls: new ort.Tensor("float32", amounts, [n, 1]),
    };
    NoiseResolutions(tiny).forEach((r, i) => (feeds[`noise${i}`] = new ort.Tensor("float32", inputs.noise[i], [n, 1, r, r])));
    const out = await session.run(feeds);
    const onnxImage = out.image.data as Float32Array; // [N, 3, H, W]
    await session.release();

    const directions = new Float32Array(numWs * tiny.wDim);
    for (const l of layers) directions.set(direction, l * tiny.wDim);
    for (const backend of ["cpu", "wasm"] as const) {
      await InitializeTfjsBackendAsync(backend);
      const network = new GeneratorNetwork(tiny, weights);
      const image = tf.tidy(() => {
        const t = InputTensors(tiny, inputs);
        const nhwc = network.forward({ ...t, controls: tf.tensor2d(amounts, [n, 1]), controlDirections: tf.tensor3d(directions, [1, numWs, tiny.wDim]) });
        return tf.transpose(nhwc, [0, 3, 1, 2]).dataSync() as Float32Array;
      });
      network.dispose();
      expect(image.length).toBe(onnxImage.length);
      expect(RelativeMaxDiff(onnxImage, image), backend).toBeLessThan(1e-4);
    }
  });
});
