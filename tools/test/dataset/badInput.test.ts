import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BuildDatasetAsync, DatasetOptionsError, type BuildDatasetOptions } from "../../src/dataset/buildDataset.js";
import { ReadDatasetAsync } from "../../src/dataset/datasetManifest.js";
import { WithSeededMathRandom } from "../../src/dataset/seededRandom.js";
import { MakeTempDirAsync } from "./datasetTestUtils.js";

let temp: Awaited<ReturnType<typeof MakeTempDirAsync>>;
beforeAll(async () => {
  temp = await MakeTempDirAsync();
});
afterAll(async () => temp.cleanupAsync());

/** Builds in a fresh parent folder, expects `message`, and checks that nothing at all was left behind. */
async function ExpectFailureLeavesNothingAsync(name: string, options: Omit<BuildDatasetOptions, "out">, message: RegExp): Promise<void> {
  const parent = join(temp.dir, name);
  await mkdir(parent);
  await expect(BuildDatasetAsync({ ...options, out: join(parent, "out") })).rejects.toThrow(message);
  expect(await readdir(parent)).toEqual([]);
}

describe("bad input: clear error, nothing written", () => {
  it("unknown source", async () => {
    await ExpectFailureLeavesNothingAsync("unknown-source", { source: "photos", count: 2, res: 16 }, /unknown source "photos".*facesjs/);
  });
  it("unknown DiceBear style", async () => {
    await ExpectFailureLeavesNothingAsync("unknown-style", { source: "dicebear:bottts", count: 2, res: 16 }, /unknown DiceBear style "bottts".*personas/);
  });
  it("--count 0", async () => {
    await expect(BuildDatasetAsync({ source: "facesjs", count: 0, res: 16, out: join(temp.dir, "c0") })).rejects.toBeInstanceOf(DatasetOptionsError);
    await ExpectFailureLeavesNothingAsync("count-0", { source: "facesjs", count: 0, res: 16 }, /--count must be an integer/);
  });
  it("bad resolution, seed, holdout", async () => {
    await ExpectFailureLeavesNothingAsync("res", { source: "facesjs", count: 2, res: 48 }, /--res must be a power of two/);
    await ExpectFailureLeavesNothingAsync("seed", { source: "facesjs", count: 2, res: 16, seed: -1 }, /--seed/);
    await ExpectFailureLeavesNothingAsync("holdout", { source: "facesjs", count: 2, res: 16, holdout: 1 }, /--holdout/);
  });
  it("unwritable output", async () => {
    const parent = join(temp.dir, "unwritable");
    await mkdir(parent);
    await writeFile(join(parent, "file"), "a file, not a folder");
    await expect(BuildDatasetAsync({ source: "facesjs", count: 2, res: 16, out: join(parent, "file", "out") })).rejects.toThrow(/cannot write the output folder.*ENOTDIR/);
    expect(await readdir(parent)).toEqual(["file"]);
  });
  it("folder with no usable images", async () => {
    const images = join(temp.dir, "junk");
    await mkdir(images);
    await writeFile(join(images, "broken.png"), "not a PNG");
    await writeFile(join(images, "broken.jpg"), new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 0]));
    await ExpectFailureLeavesNothingAsync("no-usable", { source: `folder:${images}`, res: 16 }, /no usable images.*2 unreadable/);
    await mkdir(join(temp.dir, "empty"));
    await ExpectFailureLeavesNothingAsync("no-files", { source: `folder:${join(temp.dir, "empty")}`, res: 16 }, /no usable images.*no PNG, JPEG or WebP/);
    await ExpectFailureLeavesNothingAsync("missing", { source: `folder:${join(temp.dir, "nope")}`, res: 16 }, /image folder not found/);
  });
  it("refuses to overwrite a data set without --force, replaces it with --force", async () => {
    const out = join(temp.dir, "existing");
    const first = await BuildDatasetAsync({ source: "facesjs", count: 2, res: 16, out, seed: 1 });
    const before = await readFile(join(out, "dataset.json"));
    await expect(BuildDatasetAsync({ source: "facesjs", count: 3, res: 16, out, seed: 2 })).rejects.toThrow(/already holds a complete data set.*--force/);
    expect((await readFile(join(out, "dataset.json"))).equals(before)).toBe(true);
    const second = await BuildDatasetAsync({ source: "facesjs", count: 3, res: 16, out, seed: 2, force: true });
    expect(second.contentHash).not.toBe(first.contentHash);
    expect((await ReadDatasetAsync(out)).count).toBe(3);
    expect((await readdir(temp.dir)).filter((n) => n.startsWith("existing"))).toEqual(["existing"]);
  });
  it("never touches a non-empty folder that is not a data set", async () => {
    const out = join(temp.dir, "user-folder");
    await mkdir(out);
    await writeFile(join(out, "keep.txt"), "mine");
    await expect(BuildDatasetAsync({ source: "facesjs", count: 2, res: 16, out, force: true })).rejects.toThrow(/not empty and is not an npc-faces data set/);
    expect(await readdir(out)).toEqual(["keep.txt"]);
  });
  it("an interrupted run leaves no dataset.json", async () => {
    const parent = join(temp.dir, "aborted");
    await mkdir(parent);
    const controller = new AbortController();
    const run = BuildDatasetAsync({
      source: "facesjs", count: 50, res: 16, out: join(parent, "out"), signal: controller.signal,
      onProgress: (done) => done === 5 && controller.abort(new Error("stop")),
    });
    await expect(run).rejects.toThrow(/stop/);
    expect(await readdir(parent)).toEqual([]);
    await expect(ReadDatasetAsync(join(parent, "out"))).rejects.toThrow(/not a complete npc-faces data set/);
  });
});

describe("WithSeededMathRandom", () => {
  it("is repeatable and restores Math.random even when the body throws", () => {
    const original = Math.random;
    const a = WithSeededMathRandom(7, () => [Math.random(), Math.random()]);
    expect(WithSeededMathRandom(7, () => [Math.random(), Math.random()])).toEqual(a);
    expect(WithSeededMathRandom(8, () => Math.random())).not.toBe(a[0]);
    expect(() => WithSeededMathRandom(7, () => {
      throw new Error("boom");
    })).toThrow("boom");
    expect(Math.random).toBe(original);
  });
});
