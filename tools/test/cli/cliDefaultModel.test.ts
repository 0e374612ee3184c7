/**
 * The built `npc-faces` binary without `--model` (or, for `info`, without a file): bake, info, metrics and editor
 * use the bundled default model (`@npc-faces/default-model`) and say so in `--help`.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FaceGenerator } from "@npc-faces/runtime";
import { DefaultModelPath, LoadDefaultFaceGeneratorAsync } from "@npc-faces/runtime/node";
import { ReadBakeProvenance } from "@npc-faces/tools";
import { CliBin, RunCliAsync } from "./cliTestData.js";

const GoldenFile = new URL("../../../runtime/test/defaultModel.golden.json", import.meta.url);

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

  it("bake --seeds 0-63: writes the canonical faces, byte for byte the runtime's golden (the game's pixels)", async () => {
    const out = join(dir, "seeds");
    const result = await RunCliAsync(["bake", "--seeds", "0-63", "--out", out, "--no-progress"]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`model "${generator.metadata.name}" sha256 ${generator.modelHash.slice(0, 12)}`);
    const golden = JSON.parse(await readFile(GoldenFile, "utf8")) as { model: { sha256: string }; faces: Record<string, string> };
    expect(golden.model.sha256).toBe(generator.modelHash);
    for (let seed = 0; seed < 64; seed++) {
      const png = await readFile(join(out, `face-${seed}.png`));
      expect(ReadBakeProvenance(png)?.engine).toBe("canonical");
      const { data } = await sharp(png).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
      expect(createHash("sha256").update(data).digest("hex"), `face-${seed}.png vs the canonical golden`).toBe(golden.faces[`seed ${seed}`]);
    }
  });

  it("bake --label: fixes a label of the (conditional) default model for every seed, as the runtime draws it; bad labels are refused", async () => {
    const label = generator.metadata.labels.find((l) => l.values.length > 1)!;
    const value = label.values[label.values.length - 1];
    const out = join(dir, "labelled");
    const result = await RunCliAsync(["bake", "--seeds", "0-3", "--out", out, "--label", `${label.name}=${value}`, "--no-progress"]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const seeds = [0, 1, 2, 3];
    const expected = await generator.generateAsync(seeds.map((seed) => ({ seed, labels: { [label.name]: value } })));
    const plain = await generator.generateAsync(seeds.map((seed) => ({ seed })));
    let changed = 0;
    for (const seed of seeds) {
      const png = await readFile(join(out, `face-${seed}.png`));
      expect(ReadBakeProvenance(png)?.params.labels).toEqual({ [label.name]: value });
      const { data } = await sharp(png).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
      expect(Buffer.from(data).equals(Buffer.from(expected[seed].data)), `face-${seed}.png`).toBe(true);
      if (!Buffer.from(data).equals(Buffer.from(plain[seed].data))) changed++;
    }
    expect(changed).toBeGreaterThan(0); // some seeds drew the other value on their own
    const [badValue, badName] = await Promise.all([
      RunCliAsync(["bake", "--seeds", "0", "--out", join(dir, "bad-value"), "--label", `${label.name}=nonsense`]),
      RunCliAsync(["bake", "--seeds", "0", "--out", join(dir, "bad-name"), "--label", "newt_eyes=1"]),
    ]);
    expect(badValue.code).toBe(2);
    expect(badValue.stderr).toContain(`--label: label "${label.name}": unknown value "nonsense" (known: ${label.values.join(", ")})`);
    expect(badName.code).toBe(2);
    expect(badName.stderr).toContain(`--label: unknown label "newt_eyes" (model "${generator.metadata.name}" has: `);
  });

  it("bake --engine native: close to the canonical faces (at most 1 level on a few bytes), recorded as native", async () => {
    const out = join(dir, "native");
    const result = await RunCliAsync(["bake", "--seeds", "0-15", "--out", out, "--engine", "native", "--no-progress"]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const canonical = await generator.generateAsync(Array.from({ length: 16 }, (_, seed) => ({ seed })));
    let differing = 0;
    for (let seed = 0; seed < 16; seed++) {
      const png = await readFile(join(out, `face-${seed}.png`));
      expect(ReadBakeProvenance(png)?.engine).toBe("native");
      const { data } = await sharp(png).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
      for (let i = 0; i < data.length; i++) {
        const d = Math.abs(data[i] - canonical[seed].data[i]);
        expect(d, `face-${seed}.png byte ${i}`).toBeLessThanOrEqual(1);
        if (d > 0) differing++;
      }
    }
    expect(differing / (16 * canonical[0].data.length)).toBeLessThanOrEqual(0.001);
  });

  it("bake: --threads above 1 needs --engine native (the canonical engine is single-threaded)", async () => {
    const result = await RunCliAsync(["bake", "--seeds", "1", "--out", join(dir, "threads"), "--threads", "2"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--threads: the canonical engine runs single-threaded/);
    const bad = await RunCliAsync(["bake", "--seeds", "1", "--out", join(dir, "threads"), "--engine", "gpu"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--engine/);
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
