/**
 * Training and inference cannot drift apart: for every preset, the exported ONNX graph (onnxruntime-node) and the
 * tfjs generator (wasm backend) give the same `image` for the same weights, latents, noise and controls.
 */
import { beforeAll, describe, expect, it } from "vitest";
import * as ort from "onnxruntime-node";
import { InitializeTfjsBackendAsync, tf } from "../src/backends/tfjsBackend.js";
import { GeneratorPresets, NoiseResolutions, NumWs, type GeneratorConfig, type GeneratorPresetName } from "../src/networks/architecture.js";
import { GeneratorNetwork } from "../src/networks/generatorNetwork.js";
import { ExportGeneratorOnnx, type ExportControl } from "../src/export/exportGeneratorOnnx.js";
import { ActiveWeights, RelativeL2, SeededRandom } from "./generatorTestData.js";

describe("tfjs generator vs exported ONNX graph", () => {
  beforeAll(async () => {
    await InitializeTfjsBackendAsync("wasm");
  });

  for (const preset of ["tiny", "game64", "game128", "paper256"] as GeneratorPresetName[]) {
    it(`${preset}: ORT image equals the tfjs forward within 1e-4 relative L2`, async () => {
      const config: GeneratorConfig = GeneratorPresets[preset];
      const numWs = NumWs(config);
      const R = config.resolution;
      const weights = ActiveWeights(config, 7);
      const { normal } = SeededRandom(100);
      const vec = (n: number, scale = 1) => Float32Array.from({ length: n }, () => scale * normal());
      // One control acting on some layers (the exporter's multi-control path is checked in exportGeneratorOnnx.test.ts).
      const controls: ExportControl[] = [
        { name: "a", label: "A", kind: "random", min: -3, max: 3, default: 0, layers: [0, 1, numWs - 1], direction: vec(config.wDim, 0.3) },
      ];
      const K = controls.length;
      const inputs = {
        z: vec(config.zDim),
        zMix: vec(config.zDim),
        mix: Float32Array.from({ length: numWs }, (_, l) => (l >= numWs / 2 ? 0.75 : 0)),
        psi: Float32Array.of(0.8),
        controls: Float32Array.of(1.5),
        noiseStrength: Float32Array.of(0.9),
        noise: NoiseResolutions(config).map((r) => vec(r * r)),
      };

      // onnxruntime
      const model = ExportGeneratorOnnx({ config, weights, name: preset, controls, provenance: { trained: false, licenses: [], credits: [], kimg: 0, tool: "test" } });
      const session = await ort.InferenceSession.create(model);
      const feeds: Record<string, ort.Tensor> = {
        z: new ort.Tensor("float32", inputs.z, [1, config.zDim]),
        z_mix: new ort.Tensor("float32", inputs.zMix, [1, config.zDim]),
        mix: new ort.Tensor("float32", inputs.mix, [1, numWs]),
        psi: new ort.Tensor("float32", inputs.psi, [1, 1]),
        controls: new ort.Tensor("float32", inputs.controls, [1, K]),
        noise_strength: new ort.Tensor("float32", inputs.noiseStrength, [1, 1]),
      };
      NoiseResolutions(config).forEach((r, i) => (feeds[`noise${i}`] = new ort.Tensor("float32", inputs.noise[i], [1, 1, r, r])));
      const onnxImage = (await session.run(feeds, ["image"])).image.data as Float32Array; // [1, 3, R, R]
      await session.release();

      // tfjs: same inputs; the directions go in as [K, numWs, wDim] (zero off the control's layers)
      const directions = new Float32Array(K * numWs * config.wDim);
      controls.forEach((c, k) => c.layers.forEach((l) => directions.set(c.direction, (k * numWs + l) * config.wDim)));
      const network = new GeneratorNetwork(config, weights);
      const nhwc = tf.tidy(() =>
        tf.transpose(
          network.forward({
            z: tf.tensor2d(inputs.z, [1, config.zDim]),
            zMix: tf.tensor2d(inputs.zMix, [1, config.zDim]),
            mix: tf.tensor2d(inputs.mix, [1, numWs]),
            psi: tf.tensor2d(inputs.psi, [1, 1]),
            controls: tf.tensor2d(inputs.controls, [1, K]),
            controlDirections: tf.tensor3d(directions, [K, numWs, config.wDim]),
            noiseStrength: tf.tensor2d(inputs.noiseStrength, [1, 1]),
            noise: NoiseResolutions(config).map((r, i) => tf.tensor4d(inputs.noise[i], [1, r, r, 1])),
          }),
          [0, 3, 1, 2],
        ),
      );
      const tfjsImage = (await nhwc.data()) as Float32Array;
      nhwc.dispose();
      network.dispose();

      expect(tfjsImage.length).toBe(3 * R * R);
      const error = RelativeL2(onnxImage, tfjsImage);
      expect(error).toBeLessThan(1e-4);
    }, 300_000);
  }
});
