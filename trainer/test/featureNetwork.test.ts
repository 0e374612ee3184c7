/**
 * The metrics' feature network: nsfwjs's InceptionV3 read offline, folded graph = nsfwjs's Keras model, 2048-d,
 * deterministic; on onnxruntime-node (the default where installed) and on tfjs.
 */
import { createRequire } from "node:module";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InitializeTfjsBackendAsync, tf } from "../src/backends/tfjsBackend.js";
import { FeatureDimension, FeatureInputSize, FeatureNetwork, LoadFeatureNetworkAsync, PrepareFeatureInput, ReadInceptionArtifacts, type FeatureImage } from "../src/metrics/featureNetwork.js";

/** A deterministic test picture: smooth gradients plus a seeded pattern. */
function TestImage(size: number, seed: number, channels: 3 | 4 = 3): FeatureImage {
  const data = new Uint8Array(size * size * channels);
  let s = seed >>> 0;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      const o = (y * size + x) * channels;
      data[o] = (x * 255) / size;
      data[o + 1] = (y * 255) / size;
      data[o + 2] = s >>> 24;
      if (channels === 4) data[o + 3] = 255;
    }
  }
  return { width: size, height: size, channels, data };
}

function WithAlpha(image: FeatureImage): FeatureImage {
  const n = image.width * image.height;
  const data = new Uint8Array(n * 4);
  for (let i = 0; i < n; i++) {
    data.set(image.data.subarray(i * 3, i * 3 + 3), i * 4);
    data[i * 4 + 3] = 17; // alpha is ignored
  }
  return { ...image, channels: 4, data };
}

let net: FeatureNetwork;
let onTfjs: FeatureNetwork;
beforeAll(async () => {
  await InitializeTfjsBackendAsync("wasm");
  net = await LoadFeatureNetworkAsync();
  onTfjs = await FeatureNetwork.LoadAsync({ engine: "tfjs" });
});
afterAll(() => onTfjs.dispose());

describe("FeatureNetwork (nsfwjs InceptionV3, offline)", () => {
  it("gives 2048-d features, deterministic, independent of batching and of an alpha channel", async () => {
    expect(net.engine).toBe("onnxruntime"); // installed here, so the default
    const images = [TestImage(32, 1), TestImage(32, 2), TestImage(32, 3)];
    const a = await net.extractAsync(images);
    const b = await net.extractAsync(images, { batchSize: 1 });
    const rgba = await net.extractAsync(images.map(WithAlpha), { batchSize: 2 });
    expect(a).toHaveLength(3);
    expect(net.dimension).toBe(FeatureDimension);
    for (let i = 0; i < 3; i++) {
      expect(a[i]).toBeInstanceOf(Float32Array);
      expect(a[i].length).toBe(2048);
      for (let k = 0; k < 2048; k++) {
        expect(Math.abs(a[i][k] - b[i][k])).toBeLessThan(1e-4);
        expect(rgba[i][k]).toBe(a[i][k]);
      }
      expect(a[i].every((v) => Number.isFinite(v) && v >= 0)).toBe(true); // pooled ReLU outputs
    }
    expect(Array.from(await net.extractAsync(images.slice(0, 1)))).toEqual([a[0]]);
    // Different pictures, different features.
    let diff = 0;
    for (let k = 0; k < 2048; k++) diff += Math.abs(a[0][k] - a[1][k]);
    expect(diff).toBeGreaterThan(1);
  });

  it("equals nsfwjs's own Keras model (tfjs-layers) at its flatten_1 layer", async () => {
    const require = createRequire(import.meta.url);
    const tfl = (await import(require.resolve("@tensorflow/tfjs"))) as typeof import("@tensorflow/tfjs");
    const { json, weightData, weightSpecs } = ReadInceptionArtifacts();
    const model = await tfl.loadLayersModel(tfl.io.fromMemory({ modelTopology: json.modelTopology as never, weightSpecs, weightData }));
    const cut = tfl.model({ inputs: model.inputs, outputs: model.getLayer("flatten_1").output });
    const input = PrepareFeatureInput([TestImage(48, 7), TestImage(48, 8)]);
    expect(input.shape).toEqual([2, FeatureInputSize, FeatureInputSize, 3]);
    const reference = (cut.predict(input) as tf.Tensor).dataSync();
    for (const engine of [net, onTfjs]) {
      const ours = await engine.forwardAsync(input);
      expect(ours.length, engine.engine).toBe(reference.length);
      let worst = 0;
      for (let i = 0; i < ours.length; i++) worst = Math.max(worst, Math.abs(ours[i] - reference[i]));
      expect(worst, engine.engine).toBeLessThan(1e-4);
    }
    model.dispose();
    input.dispose();
  });

  it("gives the same features on onnxruntime and on tfjs (float32 rounding apart), and refuses use after dispose", async () => {
    const images = [TestImage(64, 11, 4), TestImage(64, 12, 4), TestImage(20, 13)];
    const [a, b] = [await net.extractAsync(images), await onTfjs.extractAsync(images)];
    for (let i = 0; i < images.length; i++) {
      let worst = 0;
      let scale = 0;
      for (let k = 0; k < FeatureDimension; k++) {
        worst = Math.max(worst, Math.abs(a[i][k] - b[i][k]));
        scale = Math.max(scale, Math.abs(b[i][k]));
      }
      expect(scale).toBeGreaterThan(0.1);
      expect(worst / scale).toBeLessThan(1e-5);
    }
    const spare = await FeatureNetwork.LoadAsync({ engine: "onnxruntime" });
    spare.dispose();
    await expect(spare.extractAsync(images)).rejects.toThrow(/used after dispose/);
  });

  it("resizes with half-pixel bilinear, box-prefiltering large images", () => {
    // A constant image stays constant whatever the size.
    for (const size of [16, 299, 700]) {
      const data = new Uint8Array(size * size * 3).fill(51);
      const x = PrepareFeatureInput([{ width: size, height: size, channels: 3, data }]);
      const v = x.dataSync();
      expect(x.shape).toEqual([1, 299, 299, 3]);
      let lo = Infinity;
      let hi = -Infinity;
      for (const t of v) {
        lo = Math.min(lo, t);
        hi = Math.max(hi, t);
      }
      expect(lo).toBeCloseTo(0.2, 6);
      expect(hi).toBeCloseTo(0.2, 6);
      x.dispose();
    }
    expect(() => PrepareFeatureInput([TestImage(8, 1), TestImage(9, 1)])).toThrow(/one size/);
  });
});
