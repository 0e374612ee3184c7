/** Progressive growing: the schedule, a tiny run that grows 4 -> 8 -> 16 with fade-ins, bit-identical resume. */
import { describe, expect, it } from "vitest";
import { InitializeTfjsBackendAsync } from "../src/backends/tfjsBackend.js";
import { ProgressiveGrowth, TrainingRun, type StepStats } from "../src/training/trainingLoop.js";
import { ResolveTrainingOptions } from "../src/training/trainingOptions.js";
import { SolidColourData } from "./trainingTestData.js";

describe("progressive growing", () => {
  it("schedule: stable start, then fade-in + stable per doubling, then the full network", () => {
    const o = ResolveTrainingOptions({ preset: "tiny", progressive: true, progressiveStart: 4, progressiveKimg: 1 });
    expect(ProgressiveGrowth(o, 16, 0)).toEqual({ resolution: 4, alpha: 1 });
    expect(ProgressiveGrowth(o, 16, 1500)).toEqual({ resolution: 8, alpha: 0.5 });
    expect(ProgressiveGrowth(o, 16, 2500)).toEqual({ resolution: 8, alpha: 1 });
    expect(ProgressiveGrowth(o, 16, 3250)).toEqual({ resolution: 16, alpha: 0.25 });
    expect(ProgressiveGrowth(o, 16, 4000)).toBeUndefined();
    expect(ProgressiveGrowth({ ...o, progressive: false }, 16, 0)).toBeUndefined();
  });

  it("a tiny run grows through its phases (R1, path length on) and resumes bit-identically", async () => {
    await InitializeTfjsBackendAsync("wasm");
    // 4 images per step, 8 images per phase unit: 2 steps per phase.
    const options = ResolveTrainingOptions({ preset: "tiny", batch: 4, aug: "none", progressive: true, progressiveStart: 4, progressiveKimg: 0.008, r1Interval: 3, plWeight: 2, plInterval: 3, seed: 9 });
    const straight = new TrainingRun(options, SolidColourData());
    const stats: StepStats[] = [];
    for (let i = 0; i < 9; i++) stats.push(straight.trainStep());
    expect(stats.map((s) => s.growth?.resolution ?? 16)).toEqual([4, 4, 8, 8, 8, 8, 16, 16, 16]);
    expect(stats.map((s) => s.growth?.alpha ?? 1)).toEqual([1, 1, 0, 0.5, 1, 1, 0, 0.5, 1]);
    for (const s of stats) expect(Number.isFinite(s.lossG) && Number.isFinite(s.lossD)).toBe(true);

    const first = new TrainingRun(options, SolidColourData());
    for (let i = 0; i < 5; i++) first.trainStep();
    const resumed = new TrainingRun(options, SolidColourData(), null, first.snapshot());
    first.dispose();
    for (let i = 5; i < 9; i++) expect(resumed.trainStep()).toEqual(stats[i]);
    const a = straight.snapshot();
    const b = resumed.snapshot();
    for (const key of ["generator", "discriminator"] as const) for (const [name, v] of a[key]) expect(b[key].get(name)).toEqual(v);
    straight.dispose();
    resumed.dispose();
  }, 120_000);
});
