/**
 * Snapshot averaging: three checkpoints of one real tiny run (wasm) average to the element-wise mean of their G_ema,
 * and everything else is the latest checkpoint's; the result survives a checkpoint file round trip and resumes;
 * checkpoints of other runs (preset, data, duplicates) are refused with a message naming the checkpoint.
 */
import { describe, expect, it } from "vitest";
import { InitializeTfjsBackendAsync } from "../src/backends/tfjsBackend.js";
import { ParseCheckpoint, SerializeCheckpoint, type CheckpointContents } from "../src/training/checkpoint.js";
import { AverageGeneratorEma, AveragedKimgKey } from "../src/training/snapshotAverage.js";
import { TrainingRun } from "../src/training/trainingLoop.js";
import { ResolveTrainingOptions } from "../src/training/trainingOptions.js";
import { SolidColourData } from "./trainingTestData.js";

describe("AverageGeneratorEma", () => {
  it("averages G_ema over a run's checkpoints and keeps the latest's G, D, Adam and counters", async () => {
    await InitializeTfjsBackendAsync("wasm");
    const options = ResolveTrainingOptions({ preset: "tiny", batch: 2, aug: "none", seed: 3 });
    const data = SolidColourData();
    const run = new TrainingRun(options, data);
    const checkpoints: CheckpointContents[] = [];
    for (let k = 0; k < 3; k++) {
      for (let i = 0; i < 2; i++) run.trainStep();
      checkpoints.push({ options, data: { id: "data-1", resolution: 16, labelNames: [] }, state: run.snapshot(), extra: { tick: k } });
    }
    // Given out of order: the latest is found by progress, not by position.
    const averaged = AverageGeneratorEma([checkpoints[2], checkpoints[0], checkpoints[1]]);
    const latest = checkpoints[2];
    expect(averaged.state.generator).toBe(latest.state.generator);
    expect(averaged.state.discriminator).toBe(latest.state.discriminator);
    expect(averaged.state.adamG).toBe(latest.state.adamG);
    expect(averaged.state.imagesSeen).toBe(latest.state.imagesSeen);
    expect(averaged.extra).toEqual({ tick: 2, [AveragedKimgKey]: [0.004, 0.008, 0.012] });
    let moved = 0;
    let wrong = 0;
    for (const [name, values] of averaged.state.generatorEma) {
      const parts = checkpoints.map((c) => c.state.generatorEma.get(name)!);
      values.forEach((v, j) => {
        // The float64 sum of three float32 values, divided, rounded once to float32.
        if (v !== Math.fround((parts[0][j] + parts[1][j] + parts[2][j]) / 3)) wrong++;
        if (v !== parts[2][j]) moved++;
      });
    }
    expect(wrong).toBe(0);
    expect(moved).toBeGreaterThan(1000); // the EMA moved between the checkpoints, so the mean is not the latest

    const reread = ParseCheckpoint(SerializeCheckpoint(averaged));
    expect(reread.extra?.[AveragedKimgKey]).toEqual([0.004, 0.008, 0.012]);
    const resumed = new TrainingRun(reread.options, data, null, reread.state);
    resumed.trainStep();
    expect(resumed.snapshot().imagesSeen).toBe(latest.state.imagesSeen + 2);
    resumed.dispose();
    run.dispose();

    expect(() => AverageGeneratorEma([latest])).toThrow(/at least 2 checkpoints, got 1/);
    expect(() => AverageGeneratorEma([latest, latest])).toThrow(/two checkpoints at 0\.012 kimg/);
    const otherData = { ...checkpoints[0], data: { ...checkpoints[0].data, id: "data-2" } };
    expect(() => AverageGeneratorEma([otherData, latest])).toThrow(/the checkpoint at 0\.004 kimg was trained on other data \(id data-2/);
    const otherPreset = { ...checkpoints[0], options: { ...options, preset: "npc64" } };
    expect(() => AverageGeneratorEma([otherPreset, latest])).toThrow(/0\.004 kimg is preset "npc64", the latest is "tiny"/);
    const fewer = { ...checkpoints[0], state: { ...checkpoints[0].state, generatorEma: new Map([...checkpoints[0].state.generatorEma].slice(1)) } };
    expect(() => AverageGeneratorEma([fewer, latest])).toThrow(/0\.004 kimg has \d+ G_ema tensors, the latest \d+/);
  });
});
