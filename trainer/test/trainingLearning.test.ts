/**
 * Real training on wasm at the tiny preset: on two solid-colour images (red and blue), the generated colour
 * statistics move from the initial ones toward the data's within a bounded number of steps. Fails when
 * gradients are wrong (sign, scale or missing).
 */
import { describe, expect, it } from "vitest";
import { InitializeTfjsBackendAsync } from "../src/backends/tfjsBackend.js";
import { TrainingRun } from "../src/training/trainingLoop.js";
import { ResolveTrainingOptions } from "../src/training/trainingOptions.js";
import { DistanceToData, SolidColourData } from "./trainingTestData.js";

describe("training on wasm (tiny preset)", () => {
  it("moves the generated colours toward two solid-colour images within 40 steps", async () => {
    await InitializeTfjsBackendAsync("wasm");
    const options = ResolveTrainingOptions({ preset: "tiny", batch: 4, aug: "none", seed: 3, learningRate: 0.01 });
    const run = new TrainingRun(options, SolidColourData());
    const before = DistanceToData(run.Gema);
    const steps = 40;
    for (let i = 0; i < steps; i++) run.trainStep();
    const after = DistanceToData(run.Gema);
    // Measured: 1.26 -> 0.54 (seed 3); random or sign-flipped gradients do not get below ~1.
    expect(after).toBeLessThan(before * 0.7);
    run.dispose();
  });
});
