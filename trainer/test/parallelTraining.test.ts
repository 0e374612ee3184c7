/** Data-parallel worker threads: deterministic, and resume from a snapshot is bit-identical (needs `tsc -b` first). */
import { describe, expect, it } from "vitest";
import { InitializeTfjsBackendAsync } from "../src/backends/tfjsBackend.js";
import { ParallelTrainingRun } from "../src/training/parallelTraining.js";
import type { TrainingStateSnapshot } from "../src/training/trainingLoop.js";
import { ResolveTrainingOptions } from "../src/training/trainingOptions.js";
import { SolidColourData } from "./trainingTestData.js";

function SameWeights(a: TrainingStateSnapshot, b: TrainingStateSnapshot): boolean {
  for (const key of ["generator", "generatorEma", "discriminator"] as const) {
    for (const [name, values] of a[key]) {
      const other = b[key].get(name)!;
      for (let i = 0; i < values.length; i++) if (values[i] !== other[i]) return false;
    }
  }
  return true;
}

describe("ParallelTrainingRun (2 workers, wasm)", () => {
  it("3 steps straight = 1 step, snapshot, resume, 2 steps (bit-identical); R1 and path length included", async () => {
    await InitializeTfjsBackendAsync("wasm");
    const options = ResolveTrainingOptions({ preset: "tiny", batch: 8, aug: "none", workers: 2, r1Interval: 2, plWeight: 2, plInterval: 2, seed: 5 });
    const data = SolidColourData();
    const straight = await ParallelTrainingRun.CreateAsync(options, data, null);
    const stats = [];
    for (let i = 0; i < 3; i++) stats.push(await straight.trainStepAsync());
    const end = await straight.snapshotAsync();
    await straight.disposeAsync();

    const first = await ParallelTrainingRun.CreateAsync(options, data, null);
    const firstStats = await first.trainStepAsync();
    const middle = await first.snapshotAsync();
    await first.disposeAsync();
    expect(firstStats).toEqual(stats[0]);
    const resumed = await ParallelTrainingRun.CreateAsync(options, data, null, middle);
    await resumed.trainStepAsync();
    expect(await resumed.trainStepAsync()).toEqual(stats[2]);
    const resumedEnd = await resumed.snapshotAsync();
    await resumed.disposeAsync();
    expect(stats[0].r1).not.toBeNull();
    expect(stats[0].pathLength).not.toBeNull();
    expect(resumedEnd.step).toBe(3);
    expect(SameWeights(end, resumedEnd)).toBe(true);
  }, 120_000);
});
