/**
 * `--json` on the commands that produce results (bake, bake merge, sheet, export, dataset, dataset sheet,
 * checkpoint info): exactly one JSON object on stdout, nothing else there, `command` first (docs/cli.md).
 */
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RunCliAsync } from "./cliTestData.js";

const Repo = resolve(import.meta.dirname, "..", "..", "..");
const DefaultModel = join(Repo, "models", "default.onnx");
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "npc-faces-json-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs the CLI and parses its stdout as one JSON object (which must be all of stdout). */
async function RunJsonAsync(args: readonly string[]): Promise<Record<string, unknown>> {
  const result = await RunCliAsync([...args, "--json"]);
  expect(result.stderr, args.join(" ")).toBe("");
  expect(result.code, args.join(" ")).toBe(0);
  const value = JSON.parse(result.stdout) as unknown;
  expect(typeof value === "object" && value !== null && !Array.isArray(value)).toBe(true);
  return value as Record<string, unknown>;
}

describe("--json", () => {
  it("bake --seeds, bake --manifest, sheet, export --stamp and export --untrained", async () => {
    const seeds = await RunJsonAsync(["bake", "--seeds", "3,5", "--out", join(dir, "seeds"), "--no-progress"]);
    expect(Object.keys(seeds)[0]).toBe("command");
    expect(seeds).toMatchObject({ command: "bake", mode: "seeds", outDir: join(dir, "seeds"), count: 2, size: 64, engine: "canonical", model: { path: DefaultModel, name: "npc64-default" } });
    expect(seeds.faces).toEqual([
      { seed: 3, file: join(dir, "seeds", "face-3.png") },
      { seed: 5, file: join(dir, "seeds", "face-5.png") },
    ]);
    expect((seeds.model as { sha256: string }).sha256).toMatch(/^[0-9a-f]{64}$/);

    const manifestFile = join(dir, "npcs.json");
    const sha256 = (seeds.model as { sha256: string }).sha256;
    await writeFile(manifestFile, JSON.stringify({ format: "npc-faces-manifest", formatVersion: 1, model: { sha256 }, npcs: [{ id: "guard", name: "Guard", seed: 7 }] }));
    const manifest = await RunJsonAsync(["bake", "--manifest", manifestFile, "--out", join(dir, "manifest"), "--workers", "1", "--no-progress"]);
    expect(manifest).toMatchObject({ command: "bake", mode: "manifest", outDir: join(dir, "manifest"), total: 1, baked: 1, cached: 0, workers: 1 });
    expect(existsSync(manifest.facesFile as string)).toBe(true);

    const sheet = await RunJsonAsync(["sheet", "seeds", "--seeds", "0-1", "--out", join(dir, "sheet.png")]);
    expect(sheet).toMatchObject({ command: "sheet", kind: "seeds", file: join(dir, "sheet.png"), legendFile: join(dir, "sheet.json"), tiles: 2, generated: 2 });
    expect(sheet.legend).toBeTypeOf("object");

    const stamp = await RunJsonAsync(["export", "--stamp", DefaultModel, "--out", join(dir, "stamped.onnx")]);
    expect(stamp).toMatchObject({ command: "export", mode: "stamp", source: DefaultModel, file: join(dir, "stamped.onnx"), name: "npc64-default", resolution: 64 });
    expect(stamp.graphSha256).toMatch(/^[0-9a-f]{64}$/);

    const untrained = await RunJsonAsync(["export", "--preset", "tiny", "--untrained", "--seed", "3", "--controls", "2", "--out", join(dir, "tiny.onnx")]);
    expect(untrained).toMatchObject({ command: "export", mode: "untrained", preset: "tiny", seed: 3, weightType: "float32", file: join(dir, "tiny.onnx"), name: "tiny-untrained", controls: ["direction_0", "direction_1"] });
    expect(untrained.sha256).toMatch(/^[0-9a-f]{64}$/);
  }, 180_000);

  it("dataset, dataset sheet and checkpoint info", async () => {
    const data = join(dir, "data");
    const dataset = await RunJsonAsync(["dataset", "--source", "facesjs", "--count", "4", "--res", "16", "--out", data, "--workers", "1", "--no-progress"]);
    expect(dataset).toMatchObject({ command: "dataset", dir: data, manifestFile: join(data, "dataset.json"), count: 4, resolution: 16, source: "facesjs", train: 4, holdout: 0 });
    expect(dataset.contentHash).toMatch(/^sha256:[0-9a-f]{64}$/);

    const sheet = await RunJsonAsync(["dataset", "sheet", data, join(dir, "contact.png")]);
    expect(sheet).toMatchObject({ command: "dataset sheet", dir: data, file: join(dir, "contact.png"), images: 4 });

    const checkpoint = await RunJsonAsync(["checkpoint", "info", join(Repo, "models", "training", "checkpoint.npcfckpt.gz")]);
    expect(checkpoint).toMatchObject({ command: "checkpoint info", data: { resolution: 64 } });
    expect(checkpoint.kimg).toBeGreaterThan(0);
    expect(checkpoint.options).toBeTypeOf("object");
  }, 180_000);
});
