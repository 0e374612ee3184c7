/**
 * The built `npc-faces` binary without `--model` (or, for `info`, without a file): bake, info, metrics and editor
 * use the bundled default model (`@npc-faces/default-model`) and say so in `--help`.
 */
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FaceGenerator } from "@npc-faces/runtime";
import { DefaultModelPath, LoadDefaultFaceGeneratorAsync } from "@npc-faces/runtime/node";
import { CliBin, RunCliAsync } from "./cliTestData.js";

const DefaultModelHelp = "default: the bundled default model (@npc-faces/default-model)";

let dir: string;
let generator: FaceGenerator;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "npc-faces-cli-default-"));
  generator = await LoadDefaultFaceGeneratorAsync();
});
afterAll(async () => {
  await generator?.disposeAsync();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Commander wraps long help lines: compare with runs of whitespace collapsed. */
const Unwrapped = (text: string): string => text.replace(/\s+/g, " ");

describe("commands without --model use the bundled default model", () => {
  it("says so in the --help of bake, info, metrics and editor", async () => {
    const results = await Promise.all(["bake", "info", "metrics", "editor"].map((command) => RunCliAsync([command, "--help"])));
    for (const [i, result] of results.entries()) {
      expect(result.code, ["bake", "info", "metrics", "editor"][i]).toBe(0);
      expect(Unwrapped(result.stdout), ["bake", "info", "metrics", "editor"][i]).toContain(DefaultModelHelp);
    }
  });

  it("info: prints the default model's summary, and its metadata with --json", async () => {
    const [summary, json] = await Promise.all([RunCliAsync(["info"]), RunCliAsync(["info", "--json"])]);
    expect(summary.stderr).toBe("");
    expect(summary.code).toBe(0);
    expect(summary.stdout).toMatch(new RegExp(`^name +${generator.metadata.name}$`, "m"));
    expect(summary.stdout).toContain(`${DefaultModelPath()} (`);
    expect(summary.stdout).toMatch(new RegExp(`^sha256 +${generator.modelHash}$`, "m"));
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ name: generator.metadata.name, resolution: generator.metadata.resolution });
  });

  it("bake --seeds: writes the default model's faces", async () => {
    const out = join(dir, "seeds");
    const result = await RunCliAsync(["bake", "--seeds", "3,5", "--out", out, "--no-progress"]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`model "${generator.metadata.name}" sha256 ${generator.modelHash.slice(0, 12)}`);
    const faces = await generator.generateAsync([{ seed: 3 }, { seed: 5 }]);
    for (const [i, seed] of [3, 5].entries()) {
      const { data, info } = await sharp(join(out, `face-${seed}.png`)).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
      expect([info.width, info.height]).toEqual([faces[i].width, faces[i].height]);
      expect(data.equals(Buffer.from(faces[i].data)), `face-${seed}.png`).toBe(true);
    }
  });

  it("bake --manifest: bakes with the default model and records it in faces.json", async () => {
    const manifest = join(dir, "npcs.json");
    await writeFile(manifest, JSON.stringify({ format: "npc-faces-manifest", formatVersion: 1, model: { sha256: generator.modelHash }, npcs: [{ id: "guard", name: "Guard", seed: 11 }, { id: "smith", name: "Smith", seed: 12 }] }));
    const out = join(dir, "manifest");
    const result = await RunCliAsync(["bake", "--manifest", manifest, "--out", out, "--workers", "1", "--no-progress"]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`model "${generator.metadata.name}" sha256 ${generator.modelHash.slice(0, 12)}`);
    const faces = JSON.parse(await readFile(join(out, "faces.json"), "utf8")) as { model: { name: string; sha256: string } };
    expect(faces.model).toMatchObject({ name: generator.metadata.name, sha256: generator.modelHash });
  });

  it("metrics: needs no --model (the data set is checked first)", async () => {
    const result = await RunCliAsync(["metrics", "--data", join(dir, "no-such-data")]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/--data .*no-such-data: no such folder/);
    expect(result.stderr).not.toMatch(/--model/);
  });

  it("editor: serves the default model", async () => {
    const child = spawn(process.execPath, [CliBin, "editor", "--root", dir, "--manifest", join(dir, "m.json"), "--port", "0"], { stdio: ["ignore", "pipe", "pipe"] });
    try {
      let out = "";
      const url = await new Promise<string>((resolve, reject) => {
        let err = "";
        child.stdout.on("data", (chunk: Buffer) => {
          out += chunk.toString();
          const match = /npc-faces editor: (http:\/\/127\.0\.0\.1:\d+\/)\n.*\n/.exec(out);
          if (match) resolve(match[1]);
        });
        child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
        child.once("exit", (code) => reject(new Error(`exited ${code}: ${err}`)));
      });
      expect(out).toContain(`model ${DefaultModelPath()} "${generator.metadata.name}" sha256 ${generator.modelHash.slice(0, 12)}`);
      const info = (await (await fetch(`${url}api/model-info`)).json()) as { name: string; sha256: string };
      expect(info).toMatchObject({ name: generator.metadata.name, sha256: generator.modelHash });
    } finally {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    }
  }, 120_000);
});
