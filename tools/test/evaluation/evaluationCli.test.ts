/**
 * `npc-faces nearest` and `npc-faces control-check` through the built CLI: the files and reports they make,
 * and bad inputs (one clear line, exit status 1 or 2, nothing written).
 */
import { copyFile, mkdir, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BuildDatasetAsync } from "../../src/dataset/buildDataset.js";
import { ExportTinyModelAsync, RunCliAsync } from "../cli/cliTestData.js";
import { MakeTempDirAsync } from "../dataset/datasetTestUtils.js";
import { BuildFacesjsDatasetAsync, WriteTinyLabelModelAsync } from "./evaluationTestData.js";

let temp: Awaited<ReturnType<typeof MakeTempDirAsync>>;
const at = (...parts: string[]) => join(temp.dir, ...parts);

beforeAll(async () => {
  temp = await MakeTempDirAsync("npc-faces-evaluation-cli-");
  await BuildFacesjsDatasetAsync(at("data"), 240);
  // A data set without labels: a folder source made of a few of those images.
  await mkdir(at("plain-images"));
  for (const name of (await readdir(at("data", "images"))).slice(0, 6)) await copyFile(at("data", "images", name), at("plain-images", name));
  await BuildDatasetAsync({ source: `folder:${at("plain-images")}`, res: 64, out: at("plain"), holdout: 0.5, workers: 1 });
  await WriteTinyLabelModelAsync(at("label.onnx"));
  await ExportTinyModelAsync(at("sefa.onnx"));
  await mkdir(at("out"));
}, 600_000);
afterAll(async () => temp?.cleanupAsync());

/** Exactly one stderr line, `npc-faces: error: ...`, matching `pattern`. */
function ExpectOneErrorLine(stderr: string, pattern: RegExp): void {
  const lines = stderr.trim().split("\n");
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^npc-faces: error: /);
  expect(lines[0]).toMatch(pattern);
}

describe("npc-faces nearest", () => {
  it("writes the pair sheet and its legend, and prints both distributions, the ratio and the duplicate count", async () => {
    const out = at("out", "sheets", "nearest.png");
    const result = await RunCliAsync(["nearest", "--model", at("label.onnx"), "--data", at("data"), "--out", out, "--count", "8", "--first-seed", "3"]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/generated\s+\d+\.\d+/);
    expect(result.stdout).toMatch(/held-out \(8\)\s+\d+\.\d+/);
    expect(result.stdout).toMatch(/ratio generated\/held-out: median \d+\.\d+, min \d+\.\d+/);
    expect(result.stdout).toMatch(/exact duplicates \(distance < 2\): 0 of 8 generated, 0 of 8 held-out/);
    // 8 pairs, 4 per row, 128 px cells (the data set's 64 px, the larger side, times the default --scale 2).
    const meta = await sharp(out).metadata();
    expect([meta.width, meta.height]).toEqual([6 * 2 + 4 * (128 * 2 + 2) + 3 * 12, 6 * 2 + 2 * 128 + 12]);
    const legend = JSON.parse(await readFile(at("out", "sheets", "nearest.json"), "utf8"));
    expect(legend.sheet).toBe("nearest.png");
    expect(legend.pairs.map((p: { seed: number }) => p.seed)).toEqual([3, 4, 5, 6, 7, 8, 9, 10]);
    const manifest = JSON.parse(await readFile(at("data", "dataset.json"), "utf8"));
    for (const pair of legend.pairs) {
      expect(manifest.images[pair.nearestIndex]).toMatchObject({ file: pair.nearest, split: "train" });
      expect(pair.distance).toBeGreaterThan(0);
    }
    expect(legend.heldOut).toHaveLength(8);
    expect(legend.summary).toMatchObject({ duplicates: 0, heldOutDuplicates: 0, duplicateThreshold: 2 });
    expect(legend.summary.medianRatio).toBeCloseTo(legend.summary.generated.median / legend.summary.heldOut.median, 2);
  }, 600_000);

  it("bad inputs: one line, exit 1 or 2, nothing written", async () => {
    const out = at("out", "bad", "n.png");
    const missing = await RunCliAsync(["nearest", "--model", at("label.onnx"), "--data", at("nope"), "--out", out]);
    expect(missing.code).toBe(1);
    ExpectOneErrorLine(missing.stderr, /--data .*nope: no such folder/);
    const badModel = await RunCliAsync(["nearest", "--model", at("data", "dataset.json"), "--data", at("data"), "--out", out]);
    expect(badModel.code).toBe(1);
    ExpectOneErrorLine(badModel.stderr, /--model /);
    const notPng = await RunCliAsync(["nearest", "--model", at("label.onnx"), "--data", at("data"), "--out", at("out", "bad", "n.jpg")]);
    expect(notPng.code).toBe(2);
    ExpectOneErrorLine(notPng.stderr, /--out .*n\.jpg: expected a \.png file name/);
    const badCount = await RunCliAsync(["nearest", "--model", at("label.onnx"), "--data", at("data"), "--out", out, "--count", "0"]);
    expect(badCount.code).toBe(2);
    expect(await readdir(at("out"))).not.toContain("bad");
  }, 600_000);
});

describe("npc-faces control-check", () => {
  it("reports every label control with its probe's held-out quality (table and --json), exit 0", async () => {
    const json = await RunCliAsync(["control-check", "--model", at("label.onnx"), "--data", at("data"), "--seeds", "0-3", "--json"]);
    expect(json.stderr).toBe("");
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout);
    expect(report.seeds).toEqual([0, 1, 2, 3]);
    expect(report.scoring).toEqual({ split: "holdout", count: 24 });
    expect(report.controls.map((c: { control: string }) => c.control)).toEqual(["label_skin_tone", "label_glasses", "label_gender_male", "label_gender_female"]);
    expect(report.controls[0]).toMatchObject({ column: "skin_tone", min: -1, max: 1, movement: { seeds: 4 } });
    expect(report.controls[0].probe.r).toBeGreaterThan(0.5);
    expect(report.directQuality.find((d: { column: string }) => d.column === "skin_tone").r).toBeGreaterThan(0.99);

    const table = await RunCliAsync(["control-check", "--model", at("label.onnx"), "--data", at("data"), "--seeds", "0-3"]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^ {2}control\s+probe \(held-out\)\s+right way\s+mean change$/m);
    expect(table.stdout).toMatch(/^ {2}label_skin_tone\s+r \d\.\d\d\s+\d\/4 \(\d+%\)\s+[+-]\d\.\d{3}$/m);
    expect(table.stdout).toMatch(/^ {4}cheek lightness\s+r \d\.\d{3}\s+\d\/4/m);
    expect(table.stdout).toMatch(/^ {4}bridge darkness\s+r -?\d\.\d{3}\s+\d\/4/m);
    expect(table.stdout).toMatch(/^ {2}label_gender_male\s+acc \d\.\d\d \(base \d\.\d\d\), r -?\d\.\d\d\s+\d\/4/m);
  }, 600_000);

  it("bad inputs: missing data set, data set without labels, model without label controls, bad seeds", async () => {
    const missing = await RunCliAsync(["control-check", "--model", at("label.onnx"), "--data", at("nope")]);
    expect(missing.code).toBe(1);
    ExpectOneErrorLine(missing.stderr, /--data .*nope: no such folder/);
    const unlabelled = await RunCliAsync(["control-check", "--model", at("label.onnx"), "--data", at("plain")]);
    expect(unlabelled.code).toBe(1);
    ExpectOneErrorLine(unlabelled.stderr, /--data .*plain: the data set has no labels/);
    const noControls = await RunCliAsync(["control-check", "--model", at("sefa.onnx"), "--data", at("data")]);
    expect(noControls.code).toBe(1);
    ExpectOneErrorLine(noControls.stderr, /--model .*sefa\.onnx has no label controls \(kind "label"; it has: direction_0/);
    const badSeeds = await RunCliAsync(["control-check", "--model", at("label.onnx"), "--data", at("data"), "--seeds", "5-2"]);
    expect(badSeeds.code).toBe(2);
    ExpectOneErrorLine(badSeeds.stderr, /--seeds/);
    for (const r of [missing, unlabelled, noControls, badSeeds]) expect(r.stdout).toBe("");
  }, 600_000);
});
