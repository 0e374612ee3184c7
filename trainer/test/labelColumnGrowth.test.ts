/**
 * Growing a conditional run's label columns on resume: G and D compute what they computed for labels whose new
 * columns are 0, the optimiser's moments follow their parameters, D's label head gains fresh columns, and the grown
 * run trains on (onnxruntime engine, tiny preset).
 */
import { describe, expect, it } from "vitest";
import { tf, InitializeTfjsBackendAsync } from "../src/backends/tfjsBackend.js";
import { DiscriminatorLabelHead } from "../src/networks/discriminatorArchitecture.js";
import { DiscriminatorNetwork, InitializeDiscriminatorWeights } from "../src/networks/discriminatorNetwork.js";
import { GeneratorNetwork } from "../src/networks/generatorNetwork.js";
import { GeneratorParameterSpecs } from "../src/networks/architecture.js";
import { OrtTrainingRun } from "../src/ortTraining/ortTrainingRun.js";
import { AddedLabelColumns, GrowLabelColumns } from "../src/training/labelColumnGrowth.js";
import { DiscriminatorOptionsOf, ResolveTrainingOptions, TrainingGeneratorConfig } from "../src/training/trainingOptions.js";
import { TensorMaxAbsDiff } from "./generatorTestData.js";
import { SolidColourData } from "./trainingTestData.js";

const Engine = { device: "cpu", threads: 2 } as const;
const OldNames = ["colour=red", "colour=blue"];
const NewNames = [...OldNames, "shade=dark", "shade=light"];

describe("growing a run's label columns", () => {
  it("keeps G's and D's outputs for the old labels, moves the moments with their parameters, and trains on", async () => {
    await InitializeTfjsBackendAsync("wasm");
    const options = ResolveTrainingOptions({ preset: "tiny", batch: 4, aug: "none", seed: 11, cond: true, labelLoss: 1, engine: "ort" });
    const data = { ...SolidColourData(), labelNames: OldNames, labels: Float32Array.of(1, 0, 0, 1) };
    const first = new OrtTrainingRun(options, data, Engine);
    for (let i = 0; i < 2; i++) await first.trainStepAsync();
    const saved = first.snapshot();
    await first.disposeAsync();

    const grown = GrowLabelColumns(saved, options, OldNames, NewNames);
    const oldConfig = TrainingGeneratorConfig(options, OldNames.length);
    const newConfig = TrainingGeneratorConfig(options, NewNames.length);
    const dOptions = DiscriminatorOptionsOf(options);

    // The same mapping output and D score for old labels padded with zeros.
    const n = 4;
    const z = tf.randomNormal([n, oldConfig.zDim], 0, 1, "float32", 1) as tf.Tensor2D;
    const oldLabel = tf.tensor2d([1, 0, 0, 1, 1, 0, 0.5, 0.5], [n, 2]);
    const newLabel = tf.concat([oldLabel, tf.zeros([n, 2])], 1) as tf.Tensor2D;
    const images = tf.randomUniform([n, 16, 16, 3], -1, 1, "float32", 2) as tf.Tensor4D;
    for (const key of ["generator", "generatorEma"] as const) {
      const before = new GeneratorNetwork(oldConfig, saved[key]);
      const after = new GeneratorNetwork(newConfig, grown[key]);
      expect(TensorMaxAbsDiff(before.mapping(z, oldLabel), after.mapping(z, newLabel)), key).toBeLessThan(1e-5);
      before.dispose();
      after.dispose();
    }
    const dBefore = new DiscriminatorNetwork(oldConfig, saved.discriminator, dOptions);
    const dAfter = new DiscriminatorNetwork(newConfig, grown.discriminator, dOptions);
    expect(TensorMaxAbsDiff(dBefore.forward(images, oldLabel), dAfter.forward(images, newLabel))).toBeLessThan(1e-5);
    dBefore.dispose();
    dAfter.dispose();

    // D's label head: old columns kept, new ones as a fresh head's.
    const fresh = InitializeDiscriminatorWeights(newConfig, options.seed, dOptions);
    const head = grown.discriminator.get(`${DiscriminatorLabelHead}.weight`)!;
    const oldHead = saved.discriminator.get(`${DiscriminatorLabelHead}.weight`)!;
    const freshHead = fresh.get(`${DiscriminatorLabelHead}.weight`)!;
    for (let r = 0; r < head.length / 4; r++) {
      expect([...head.subarray(r * 4, r * 4 + 2)]).toEqual([...oldHead.subarray(r * 2, r * 2 + 2)]);
      expect([...head.subarray(r * 4 + 2, r * 4 + 4)]).toEqual([...freshHead.subarray(r * 4 + 2, r * 4 + 4)]);
    }

    // Moments: the embedding's old rows scaled, its new rows 0; every other parameter's unchanged.
    const embedIndex = GeneratorParameterSpecs(oldConfig).filter((s) => s.trainable).findIndex((s) => s.name === "mapping.embed.weight");
    const m = saved.adamG.m[embedIndex];
    const grownM = grown.adamG.m[embedIndex];
    expect(grownM.length).toBe((m.length / 2) * 4);
    expect(grownM[0]).toBeCloseTo(m[0] * Math.sqrt(2 / 4), 7);
    expect(grownM.subarray(m.length).every((x) => x === 0)).toBe(true);
    expect(grown.adamG.v[embedIndex][1]).toBeCloseTo(saved.adamG.v[embedIndex][1] * (2 / 4), 9);
    saved.adamG.m.forEach((values, i) => i !== embedIndex && expect(grown.adamG.m[i]).toBe(values));
    expect(grown.adamD.m.length).toBe(saved.adamD.m.length);
    expect(grown.adamD.step).toBe(saved.adamD.step);

    // The grown run trains on data with the new columns.
    const grownData = { ...data, labelNames: NewNames, labels: Float32Array.of(1, 0, 1, 0, 0, 1, 0, 1) };
    const resumed = new OrtTrainingRun(options, grownData, Engine, null, grown);
    for (let i = 0; i < 2; i++) expect(Number.isFinite((await resumed.trainStepAsync()).lossD)).toBe(true);
    await resumed.disposeAsync();
    tf.dispose([z, oldLabel, newLabel, images]);
  });

  it("only appends columns after the run's own", () => {
    expect(AddedLabelColumns(OldNames, NewNames)).toEqual(["shade=dark", "shade=light"]);
    expect(() => AddedLabelColumns(OldNames, ["shade=dark", ...OldNames])).toThrow(/only gain label columns after its own/);
    expect(() => AddedLabelColumns(OldNames, OldNames)).toThrow(/only gain label columns/);
    expect(() => AddedLabelColumns(OldNames, ["colour=red"])).toThrow(/only gain label columns/);
  });
});
