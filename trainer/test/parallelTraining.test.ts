/** Data-parallel worker threads: deterministic, and resume from a snapshot is bit-identical (needs `tsc -b` first). */
import { mkdtemp, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { AdaAugmentation } from "../src/augment/adaAugmentation.js";
import { ReadCheckpointAsync } from "../src/training/checkpoint.js";
import { InitializeTfjsBackendAsync } from "../src/backends/tfjsBackend.js";
import { ParallelTrainingRun } from "../src/training/parallelTraining.js";
import { RunTrainingAsync, type TrainingStateSnapshot } from "../src/training/trainingLoop.js";
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
    const options = ResolveTrainingOptions({ preset: "tiny", batch: 4, aug: "none", workers: 2, r1Interval: 2, plWeight: 2, plInterval: 2, seed: 5 });
    const data = SolidColourData();
    const straight = await ParallelTrainingRun.CreateAsync(options, data, null);
    const stats = [await straight.trainStepAsync()];
    const middle = await straight.snapshotAsync();
    for (let i = 0; i < 2; i++) stats.push(await straight.trainStepAsync());
    const end = await straight.snapshotAsync();
    await straight.disposeAsync();

    const resumed = await ParallelTrainingRun.CreateAsync(options, data, null, middle);
    expect(await resumed.trainStepAsync()).toEqual(stats[1]);
    expect(await resumed.trainStepAsync()).toEqual(stats[2]);
    const resumedEnd = await resumed.snapshotAsync();
    await resumed.disposeAsync();
    expect(stats[0].r1).not.toBeNull();
    expect(stats[0].pathLength).not.toBeNull();
    expect(resumedEnd.step).toBe(3);
    expect(SameWeights(end, resumedEnd)).toBe(true);
  }, 120_000);

  it("drives RunTrainingAsync (--workers 2, ADA): sample grids, checkpoint, ADA state", async () => {
    await InitializeTfjsBackendAsync("wasm");
    const dir = await mkdtemp(join(tmpdir(), "npcf-parallel-run-"));
    const options = ResolveTrainingOptions({ preset: "tiny", batch: 4, kimg: 0.008, tickKimg: 0.004, workers: 2, seed: 1 });
    const result = await RunTrainingAsync({
      runDir: dir, options, data: SolidColourData(), resume: false, gridSize: 4,
      createAugmentation: (o, state) => (state ? AdaAugmentation.fromJSON(state as Parameters<typeof AdaAugmentation.fromJSON>[0]) : AdaAugmentation.Create("bgc", { target: o.adaTarget, adjustImages: 100 })),
    });
    expect(result.kimg).toBeCloseTo(0.008);
    expect((await readdir(join(dir, "samples"))).sort()).toEqual(["latest.png", "tick-000000.png", "tick-000001.png", "tick-000002.png"]);
    const { state } = await ReadCheckpointAsync(join(dir, "checkpoint.ckpt"));
    expect(state.step).toBe(2);
    expect(state.augment).not.toBeNull();
  }, 120_000);
});
