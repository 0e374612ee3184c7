/**
 * `npc-faces import` through the built binary: a written model that `info` describes (licence, source hash, kimg),
 * `--json`, and one-line refusals (exit 1, or 2 for a missing licence) that leave nothing behind.
 */
import { existsSync, readdirSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RunCliAsync } from "../cli/cliTestData.js";

const Fixtures = fileURLToPath(new URL("./fixtures/", import.meta.url));
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "npc-faces-import-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("npc-faces import", () => {
  it("writes a model whose info shows the licence, the source and its hash", async () => {
    const out = join(dir, "models", "snapshot.onnx");
    const result = await RunCliAsync(["import", join(Fixtures, "network-snapshot-000120.pkl"), "--licence", "CC BY 4.0 (fixture)", "--credit", "the team", "--out", out]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^imported G_ema of network-snapshot-000120\.pkl \(nvidia-pkl, 64x64, skip, 2 mapping layers, seeded noise, 4 SeFa controls\) to .*snapshot\.onnx/);
    const info = await RunCliAsync(["info", out]);
    expect(info.code).toBe(0);
    expect(info.stdout).toMatch(/licenses\s+CC BY 4\.0 \(fixture\)/);
    expect(info.stdout).toMatch(/credits\s+the team/);
    expect(info.stdout).toMatch(/trained\s+yes, 120 kimg/);
    expect(info.stdout).toMatch(/imported\s+nvidia-pkl network-snapshot-000120\.pkl \(G_ema, 64 px, 120 kimg\), sha256 [0-9a-f]{64}/);
  });

  it("--json and --noise constant on a rosinality checkpoint", async () => {
    const out = join(dir, "rosinality.onnx");
    const result = await RunCliAsync(["import", join(Fixtures, "rosinality-64.pt"), "--licence", "MIT", "--noise", "constant", "--controls", "2", "--out", out, "--json"]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const json = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(Object.keys(json)[0]).toBe("command");
    expect(json).toMatchObject({ command: "import", format: "rosinality-pt", generator: "g_ema", kimg: null, file: out, resolution: 64, noise: "constant", controls: ["direction_0", "direction_1"] });
    const info = await RunCliAsync(["info", out]);
    expect(info.stdout).toMatch(/noise\s+constant maps inside the graph/);
  });

  for (const [file, args, code, message] of [
    ["hostile-os-system.pkl", ["--licence", "x"], 1, /^npc-faces: error: hostile-os-system\.pkl: pickle: refused global "posix\.system"/],
    ["nvidia-discriminator-only.pkl", ["--licence", "x"], 1, /^npc-faces: error: nvidia-discriminator-only\.pkl: a discriminator-only pickle/],
    ["nvidia-wrong-class.pkl", ["--licence", "x"], 1, /unknown class "Discriminator"/],
    ["nvidia-orig-16.reference.json", ["--licence", "x"], 1, /not a PyTorch StyleGAN2 file/],
    ["nvidia-orig-16.pkl", [], 2, /--licence <text> is required/],
    ["missing.pkl", ["--licence", "x"], 1, /missing\.pkl: cannot read the file \(ENOENT\)/],
  ] as const) {
    it(`refuses ${file} in one line and writes nothing`, async () => {
      const outDir = join(dir, `refused-${file}`);
      const result = await RunCliAsync(["import", join(Fixtures, file), ...args, "--out", join(outDir, "model.onnx")]);
      expect(result.code).toBe(code);
      expect(result.stdout).toBe("");
      expect(result.stderr).toMatch(message);
      expect(result.stderr.trim().split("\n")).toHaveLength(1);
      expect(existsSync(outDir) ? readdirSync(outDir) : []).toEqual([]);
    });
  }
});
