/** Initial weights: deterministic per seed, as the specs say; w_avg estimate is the mean mapping output. */
import { describe, expect, it } from "vitest";
import { FillStandardNormal, LatentFromSeed, SeedStream } from "@npc-faces/runtime";
import { InitializeTfjsBackendAsync, tf } from "../src/backends/tfjsBackend.js";
import { GeneratorParameterSpecs, GeneratorPresets } from "../src/networks/architecture.js";
import { GeneratorNetwork } from "../src/networks/generatorNetwork.js";
import { EstimateWAvg, InitializeGeneratorWeights } from "../src/networks/initializeGeneratorWeights.js";
import { MaxAbsDiff } from "./generatorTestData.js";

const tiny = GeneratorPresets.tiny;

function Bytes(weights: Map<string, Float32Array>): Uint8Array[] {
  return [...weights.values()].map((v) => new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
}

describe("InitializeGeneratorWeights", () => {
  it("gives the same bytes for the same seed and different values for another seed", () => {
    const a = InitializeGeneratorWeights(tiny, 42);
    const b = InitializeGeneratorWeights(tiny, 42);
    const c = InitializeGeneratorWeights(tiny, 43);
    expect([...a.keys()]).toEqual(GeneratorParameterSpecs(tiny).map((s) => s.name));
    expect(Bytes(a)).toEqual(Bytes(b));
    for (const spec of GeneratorParameterSpecs(tiny)) {
      const same = a.get(spec.name)!.every((v, i) => v === c.get(spec.name)![i]);
      expect(same, spec.name).toBe(spec.init.kind === "constant");
    }
  });

  it("draws parameter i from stream ParameterInit(i) times init.scale, and fills constants", () => {
    const weights = InitializeGeneratorWeights(tiny, 7);
    GeneratorParameterSpecs(tiny).forEach((spec, index) => {
      const values = weights.get(spec.name)!;
      expect(values.length).toBe(spec.shape.reduce((x, y) => x * y, 1));
      if (spec.init.kind === "constant") {
        const value = spec.init.value;
        expect(values.every((v) => v === Math.fround(value)), spec.name).toBe(true);
      } else {
        const raw = FillStandardNormal(7, SeedStream.ParameterInit(index), new Float32Array(values.length));
        const scale = spec.init.scale;
        expect(values.every((v, i) => v === Math.fround(raw[i] * scale)), spec.name).toBe(true);
      }
    });
    // Spot checks of the constants: affine biases 1, mapping biases 0, w_avg 0, noise strengths 0.
    expect(weights.get("synthesis.b8.conv0.affine.bias")!.every((v) => v === 1)).toBe(true);
    expect(weights.get("mapping.fc0.bias")!.every((v) => v === 0)).toBe(true);
    expect(weights.get("mapping.w_avg")!.every((v) => v === 0)).toBe(true);
    expect(weights.get("synthesis.b16.conv1.noise_strength")![0]).toBe(0);
    // Mapping weights are N(0, 1/lrMul^2) stored so that stored * gain has std 1/sqrt(fanIn).
    const w = weights.get("mapping.fc1.weight")!;
    const std = Math.sqrt(w.reduce((s, v) => s + v * v, 0) / w.length);
    expect(std).toBeGreaterThan(80);
    expect(std).toBeLessThan(120);
  });
});

describe("EstimateWAvg", () => {
  it("is the mean mapping output over the latents of seeds 0..samples-1", async () => {
    await InitializeTfjsBackendAsync("cpu");
    const weights = InitializeGeneratorWeights(tiny, 3);
    const samples = 300; // more than one chunk
    const wAvg = EstimateWAvg(tiny, weights, samples);
    expect(wAvg.length).toBe(tiny.wDim);
    const z = new Float32Array(samples * tiny.zDim);
    for (let i = 0; i < samples; i++) z.set(LatentFromSeed(i, tiny.zDim), i * tiny.zDim);
    const network = new GeneratorNetwork(tiny, weights);
    const mean = tf.tidy(() => tf.mean(network.mapping(tf.tensor2d(z, [samples, tiny.zDim])), 0).dataSync());
    network.dispose();
    expect(MaxAbsDiff(wAvg, mean)).toBeLessThan(1e-5);
    expect(Math.max(...wAvg.map(Math.abs))).toBeGreaterThan(0.01); // not trivially zero
    expect(EstimateWAvg(tiny, weights, samples)).toEqual(wAvg);
  });
});
