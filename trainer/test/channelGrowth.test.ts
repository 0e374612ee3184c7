/**
 * Growing a run's channels on resume (tiny -> tinyfine: 16 -> 32 channels at 16x16): G, its EMA copy and D compute
 * what they computed, the new channels start as a fresh run's and are read through zero weights, the optimiser's
 * moments follow their parameters, presets that change more than channels are refused, and the grown run trains on
 * (onnxruntime engine).
 */
import { describe, expect, it } from "vitest";
import { tf, InitializeTfjsBackendAsync } from "../src/backends/tfjsBackend.js";
import { GeneratorParameterSpecs, NoiseResolutions, NumWs } from "../src/networks/architecture.js";
import { DiscriminatorNetwork } from "../src/networks/discriminatorNetwork.js";
import { GeneratorNetwork } from "../src/networks/generatorNetwork.js";
import { InitializeGeneratorWeights } from "../src/networks/initializeGeneratorWeights.js";
import { OrtTrainingRun } from "../src/ortTraining/ortTrainingRun.js";
import { ChannelGrowthRefusal, GrowChannels } from "../src/training/channelGrowth.js";
import { DiscriminatorOptionsOf, ResolveTrainingOptions, TrainingGeneratorConfig } from "../src/training/trainingOptions.js";
import { GeneratorPresets } from "../src/networks/architecture.js";
import { TensorMaxAbsDiff } from "./generatorTestData.js";
import { SolidColourData } from "./trainingTestData.js";

const Engine = { device: "cpu", threads: 2 } as const;
const Labels = ["colour=red", "colour=blue"];

describe("growing a run's channels", () => {
  it("keeps G's, G_ema's and D's outputs, starts the new channels fresh behind zero weights, moves the moments, and trains on", async () => {
    await InitializeTfjsBackendAsync("wasm");
    const options = ResolveTrainingOptions({ preset: "tiny", batch: 4, aug: "none", seed: 5, cond: true, labelLoss: 1, engine: "ort" });
    const data = { ...SolidColourData(), labelNames: Labels, labels: Float32Array.of(1, 0, 0, 1) };
    const first = new OrtTrainingRun(options, data, Engine);
    for (let i = 0; i < 3; i++) await first.trainStepAsync();
    const saved = first.snapshot();
    await first.disposeAsync();

    const grown = GrowChannels(saved, options, "tinyfine", Labels.length);
    const wider = { ...options, preset: "tinyfine" };
    const oldConfig = TrainingGeneratorConfig(options, Labels.length);
    const newConfig = TrainingGeneratorConfig(wider, Labels.length);
    expect(grown.generator.get("synthesis.b16.conv1.weight")!.length).toBe(9 * 32 * 32);

    // The same faces (every input fixed) and the same D scores.
    const n = 3;
    const z = tf.randomNormal([n, oldConfig.zDim], 0, 1, "float32", 1) as tf.Tensor2D;
    const label = tf.tensor2d([1, 0, 0, 1, 0.5, 0.5], [n, 2]);
    const noise = NoiseResolutions(oldConfig).map((r, i) => tf.randomNormal([n, r, r, 1], 0, 1, "float32", 10 + i) as tf.Tensor4D);
    const inputs = { z, zMix: z, mix: tf.zeros([n, NumWs(oldConfig)]) as tf.Tensor2D, psi: tf.ones([n, 1]) as tf.Tensor2D, noiseStrength: tf.ones([n, 1]) as tf.Tensor2D, noise, label };
    for (const key of ["generator", "generatorEma"] as const) {
      const before = new GeneratorNetwork(oldConfig, saved[key]);
      const after = new GeneratorNetwork(newConfig, grown[key]);
      const a = before.forward(inputs);
      const b = after.forward(inputs);
      expect(TensorMaxAbsDiff(a, b), key).toBeLessThan(1e-5);
      expect(TensorMaxAbsDiff(a, tf.zerosLike(a)), key).toBeGreaterThan(0.01); // not a blank image compared with itself
      tf.dispose([a, b]);
      before.dispose();
      after.dispose();
    }
    const dOptions = DiscriminatorOptionsOf(options);
    const images = tf.randomUniform([n, 16, 16, 3], -1, 1, "float32", 2) as tf.Tensor4D;
    const dBefore = new DiscriminatorNetwork(oldConfig, saved.discriminator, dOptions);
    const dAfter = new DiscriminatorNetwork(newConfig, grown.discriminator, dOptions);
    expect(TensorMaxAbsDiff(dBefore.forward(images, label), dAfter.forward(images, label))).toBeLessThan(1e-5);
    dBefore.dispose();
    dAfter.dispose();

    // conv1 at 16x16, [3, 3, in, out]: new outputs as a fresh tinyfine run's, new inputs of old outputs 0, old
    // weights scaled by sqrt(32 / 16) (fan-in doubled; the weight in use is the same).
    const fresh = InitializeGeneratorWeights(newConfig, options.seed);
    const name = "synthesis.b16.conv1.weight";
    const oldW = saved.generator.get(name)!;
    const newW = grown.generator.get(name)!;
    const at = (k: number, i: number, o: number, c: number) => (k * c + i) * c + o;
    expect(newW[at(4, 3, 5, 32)]).toBeCloseTo(oldW[at(4, 3, 5, 16)] * Math.SQRT2, 5);
    expect(newW[at(4, 20, 5, 32)]).toBe(0);
    expect(newW[at(4, 3, 20, 32)]).toBe(fresh.get(name)![at(4, 3, 20, 32)]);
    // toRGB reads the new channels through zeros; its affine gives them a fresh style (bias 1 as a new run's).
    const toRgb = grown.generator.get("synthesis.b16.torgb.weight")!;
    expect(toRgb.subarray(16 * 3).every((x) => x === 0)).toBe(true);
    expect(grown.generator.get("synthesis.b16.torgb.affine.bias")![20]).toBe(1);

    // Moments: old entries follow the gain (m x sqrt(1/2), v x 1/2); new m 0, new v the parameter's old mean.
    const index = GeneratorParameterSpecs(oldConfig).filter((s) => s.trainable).findIndex((s) => s.name === name);
    const m = saved.adamG.m[index];
    const v = saved.adamG.v[index];
    const meanV = v.reduce((a, b) => a + b, 0) / v.length;
    expect(grown.adamG.m[index][at(4, 3, 5, 32)]).toBeCloseTo(m[at(4, 3, 5, 16)] / Math.SQRT2, 7);
    expect(grown.adamG.v[index][at(4, 3, 5, 32)]).toBeCloseTo(v[at(4, 3, 5, 16)] / 2, 9);
    expect(grown.adamG.m[index][at(4, 20, 20, 32)]).toBe(0);
    expect(grown.adamG.v[index][at(4, 20, 20, 32)]).toBeCloseTo(meanV / 2, 9);
    expect(grown.adamG.step).toBe(saved.adamG.step);
    const unchanged = GeneratorParameterSpecs(oldConfig).filter((s) => s.trainable).findIndex((s) => s.name === "synthesis.b8.conv1.weight");
    expect(grown.adamG.m[unchanged]).toBe(saved.adamG.m[unchanged]);

    // The grown run trains on as a tinyfine run.
    const resumed = new OrtTrainingRun(wider, data, Engine, null, grown);
    for (let i = 0; i < 2; i++) expect(Number.isFinite((await resumed.trainStepAsync()).lossD)).toBe(true);
    await resumed.disposeAsync();
    tf.dispose([z, label, images, inputs.mix, inputs.psi, inputs.noiseStrength, ...noise]);
  });

  it("refuses presets that change more than the channels above 4x4, or lose channels", () => {
    const { tiny, tinyfine, npc64, npc64wide, npc64fine, game64 } = GeneratorPresets;
    expect(ChannelGrowthRefusal(tiny, tinyfine)).toBeNull();
    expect(ChannelGrowthRefusal(npc64wide, npc64fine)).toBeNull();
    expect(ChannelGrowthRefusal(npc64, npc64fine)).toBeNull();
    expect(ChannelGrowthRefusal(npc64fine, npc64wide)).toMatch(/fewer channels somewhere .*64: 64.*64: 32/);
    expect(ChannelGrowthRefusal(npc64wide, game64)).toMatch(/more than channels \(mappingLayers 4 -> 8\)/);
    expect(ChannelGrowthRefusal(npc64wide, { ...npc64wide, channelMax: 512 })).toMatch(/channels at 4x4 \(256 -> 512\)/);
    const options = ResolveTrainingOptions({ preset: "tiny", seed: 5, engine: "ort" });
    const state = { generator: new Map(), generatorEma: new Map(), discriminator: new Map() } as never;
    expect(() => GrowChannels(state, options, "npc64wide", 0)).toThrow(/preset tiny cannot grow into npc64wide: it differs in more than channels \(resolution 16 -> 64/);
  });
});
