import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FaceRequest } from "@npc-faces/runtime";
import { BakeInputError, BakeSeedsAsync, CheckOutputFolderAsync, FaceFileName, OutputFolderError, PlanBake, ResizeRgbaAsync, type BakeGenerator } from "../../src/bake/bakeSeeds.js";
import { ReadBakeProvenance } from "../../src/bake/bakeProvenance.js";
import { DecodePngRgba, type RgbaImage } from "../../src/bake/pngProvenance.js";
import { ToolLabel } from "../../src/toolInfo.js";
import { TestMetadata } from "./cliTestData.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "npc-faces-bake-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A generator that paints each face a colour derived from its request, and records the batches it got. */
function FakeGenerator(): BakeGenerator & { batches: FaceRequest[][] } {
  const batches: FaceRequest[][] = [];
  return {
    metadata: TestMetadata(),
    modelHash: "cd".repeat(32),
    canonical: true,
    batches,
    async generateAsync(requests: readonly FaceRequest[]): Promise<RgbaImage[]> {
      batches.push([...requests]);
      return requests.map((r) => {
        const data = new Uint8Array(16 * 16 * 4);
        for (let i = 0; i < data.length; i += 4) data.set([r.seed & 255, Math.round((r.psi ?? 0) * 100), i & 255, 255], i);
        return { width: 16, height: 16, data };
      });
    },
  };
}

describe("PlanBake", () => {
  const metadata = TestMetadata();

  it("resolves every default and names files face-<seed>.png", () => {
    const plan = PlanBake(metadata, { seeds: [3, 1], outDir: dir });
    expect(plan.files).toEqual([join(dir, "face-3.png"), join(dir, "face-1.png")]);
    expect(plan.params).toEqual({ psi: 0.7, noiseStrength: 1, mixSeed: null, mix: 0, crossover: 0, controls: { smile: 0, age: 0.5 }, size: 16, filter: null });
    expect(plan.requests[0]).toEqual({ seed: 3, psi: 0.7, noiseStrength: 1, controls: { smile: 0, age: 0.5 } });
    expect(FaceFileName(4294967295)).toBe("face-4294967295.png");
  });

  it("passes mixing and controls through", () => {
    const plan = PlanBake(metadata, { seeds: [1], outDir: dir, mixSeed: 9, crossover: 2, controls: { smile: -1 }, size: 64, psi: 0.5 });
    expect(plan.params).toMatchObject({ psi: 0.5, mixSeed: 9, mix: 1, crossover: 2, controls: { smile: -1, age: 0.5 }, size: 64, filter: "lanczos3" });
    expect(plan.requests[0]).toMatchObject({ seed: 1, mixSeed: 9, mix: 1, mixCrossover: 2 });
  });

  it.each([
    [{ seeds: [] }, "seeds", /at least one seed/],
    [{ seeds: [1, 1] }, "seeds", /appears twice/],
    [{ seeds: [-1] }, "seeds", /not an integer/],
    [{ seeds: [1], psi: Number.NaN }, "psi", /finite/],
    [{ seeds: [1], mix: 0.5 }, "mix", /needs a mix seed/],
    [{ seeds: [1], crossover: 1 }, "crossover", /needs a mix seed/],
    [{ seeds: [1], mixSeed: 2, crossover: 5 }, "crossover", /0\.\.4/],
    [{ seeds: [1], mixSeed: 2, mix: 2 }, "mix", /0\.\.1/],
    [{ seeds: [1], controls: { frown: 1 } }, "controls", /unknown control "frown" \(model "fixture" has: smile, age\)/],
    [{ seeds: [1], controls: { smile: Infinity } }, "controls", /finite/],
    [{ seeds: [1], size: 0 }, "size", /1\.\.4096/],
  ])("rejects %j", (options, field, message) => {
    const run = () => PlanBake(metadata, { outDir: dir, ...options });
    expect(run).toThrow(BakeInputError);
    expect(run).toThrow(message);
    try {
      run();
    } catch (error) {
      expect((error as BakeInputError).field).toBe(field);
    }
  });
});

describe("CheckOutputFolderAsync", () => {
  it("accepts existing and creatable folders without creating them", async () => {
    await CheckOutputFolderAsync(dir);
    await CheckOutputFolderAsync(join(dir, "new", "deeper"));
    expect(await readdir(dir)).not.toContain("new");
  });

  it("rejects files in the way", async () => {
    await writeFile(join(dir, "blocker"), "x");
    await expect(CheckOutputFolderAsync(join(dir, "blocker"))).rejects.toThrow(/exists and is not a folder/);
    await expect(CheckOutputFolderAsync(join(dir, "blocker", "sub"))).rejects.toThrow(OutputFolderError);
    await expect(CheckOutputFolderAsync(join(dir, "blocker", "sub"))).rejects.toThrow(/blocker is not a folder/);
  });

  it.skipIf(process.getuid?.() === 0)("rejects read-only folders", async () => {
    const locked = join(dir, "locked");
    await writeFile(join(dir, "placeholder"), "");
    await import("node:fs/promises").then((fs) => fs.mkdir(locked));
    await chmod(locked, 0o555);
    try {
      await expect(CheckOutputFolderAsync(join(locked, "out"))).rejects.toThrow(/is not writable/);
    } finally {
      await chmod(locked, 0o755);
    }
  });
});

describe("BakeSeedsAsync", () => {
  it("writes one PNG per seed, in batches, with provenance and progress", async () => {
    const generator = FakeGenerator();
    const out = join(dir, "baked");
    const plan = PlanBake(generator.metadata, { seeds: [5, 6, 7, 8, 9], outDir: out });
    const progress: number[] = [];
    const summary = await BakeSeedsAsync(generator, plan, { batchSize: 2, onProgress: (p) => progress.push(p.done) });
    expect(generator.batches.map((b) => b.map((r) => r.seed))).toEqual([[5, 6], [7, 8], [9]]);
    expect(progress).toEqual([1, 2, 3, 4, 5]);
    expect(summary.count).toBe(5);
    expect((await readdir(out)).sort()).toEqual(["face-5.png", "face-6.png", "face-7.png", "face-8.png", "face-9.png"]);
    const png = new Uint8Array(await readFile(join(out, "face-7.png")));
    expect(DecodePngRgba(png).data[0]).toBe(7);
    expect(ReadBakeProvenance(png)).toEqual({
      format: "npc-faces-bake",
      version: 1,
      tool: ToolLabel,
      engine: "canonical",
      model: { name: "fixture", sha256: "cd".repeat(32), resolution: 16, trained: true, dataset: "fixture-set", licenses: ["CC0"], credits: ["someone"] },
      seed: 7,
      params: plan.params,
    });
  });

  it("stops at a failing batch without leaving partial files", async () => {
    const generator = FakeGenerator();
    let calls = 0;
    const failing: BakeGenerator = { ...generator, generateAsync: async (r) => (++calls === 2 ? Promise.reject(new Error("boom")) : generator.generateAsync(r)) };
    const out = join(dir, "failing");
    await expect(BakeSeedsAsync(failing, PlanBake(generator.metadata, { seeds: [1, 2, 3], outDir: out }), { batchSize: 2 })).rejects.toThrow("boom");
    const names = await readdir(out);
    expect(names.filter((n) => !/^face-\d+\.png$/.test(n))).toEqual([]);
  });
});

describe("ResizeRgbaAsync", () => {
  it("resamples deterministically and keeps same-size images as they are", async () => {
    const data = new Uint8Array(16 * 16 * 4);
    for (let i = 0; i < data.length; i++) data[i] = (i * 37) & 255;
    for (let i = 3; i < data.length; i += 4) data[i] = 255;
    const image = { width: 16, height: 16, data };
    expect(await ResizeRgbaAsync(image, 16)).toBe(image);
    const a = await ResizeRgbaAsync(image, 40);
    const b = await ResizeRgbaAsync(image, 40);
    expect([a.width, a.height, a.data.length]).toEqual([40, 40, 40 * 40 * 4]);
    expect(Buffer.from(a.data).equals(Buffer.from(b.data))).toBe(true);
    expect((await ResizeRgbaAsync(image, 8)).data.length).toBe(8 * 8 * 4);
  });
});
