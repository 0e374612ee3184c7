/**
 * End-to-end: the built `npc-faces` binary exports a tiny untrained model, inspects it and bakes faces.
 */
import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ReadBakeProvenance, ProvenanceKeys } from "../../src/bake/bakeProvenance.js";
import { DecodePngRgba, ReadPngText } from "../../src/bake/pngProvenance.js";
import { ToolLabel, ToolVersion } from "../../src/toolInfo.js";
import { ExportTinyModelAsync, MapLimitAsync, RunCliAsync, type CliResult } from "./cliTestData.js";

let dir: string;
let model: string;
let modelSha256: string;
let exported: CliResult;
/** Seeds 1-4 baked with all defaults, once for the whole file. */
let base: string;
let baseResult: CliResult;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "npc-faces-cli-"));
  model = join(dir, "models", "tiny.onnx");
  exported = await ExportTinyModelAsync(model);
  modelSha256 = createHash("sha256").update(await readFile(model)).digest("hex");
  base = join(dir, "base");
  baseResult = await Bake(["--seeds", "1-4", "--out", base]);
  expect(baseResult.stderr).toBe("");
  expect(baseResult.code).toBe(0);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function Bake(args: readonly string[]): Promise<CliResult> {
  return RunCliAsync(["bake", "--model", model, ...args]);
}

async function ReadFace(folder: string, seed: number): Promise<Uint8Array> {
  return new Uint8Array(await readFile(join(folder, `face-${seed}.png`)));
}

function Pixels(png: Uint8Array): Uint8Array {
  return DecodePngRgba(png).data;
}

function Same(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a).equals(Buffer.from(b));
}

describe("npc-faces export + info", () => {
  it("exports a contract model and says so in one line", () => {
    expect(exported.stdout).toMatch(/^exported "tiny-untrained" \(16x16, 4 controls, float32 weights, untrained seed 0\) to .*tiny\.onnx: .*sha256 [0-9a-f]{12}/);
    expect(exported.stdout.trim().split("\n")).toHaveLength(1);
  });

  it("is deterministic, and honours --seed, --controls, --fp16 and --name", async () => {
    const again = join(dir, "again.onnx");
    const custom = join(dir, "custom.onnx");
    const [, customResult] = await Promise.all([
      ExportTinyModelAsync(again, ["--seed", "0"]),
      ExportTinyModelAsync(custom, ["--seed", "5", "--controls", "2", "--fp16", "--name", "Custom tiny"]),
    ]);
    expect(Same(await readFile(again), await readFile(model))).toBe(true);
    expect(customResult.stdout).toMatch(/2 controls, float16 weights, untrained seed 5/);
    const info = await RunCliAsync(["info", custom, "--json"]);
    expect(info.code).toBe(0);
    const metadata = JSON.parse(info.stdout);
    expect(metadata.name).toBe("Custom tiny");
    expect(metadata.controls.map((c: { name: string }) => c.name)).toEqual(["direction_0", "direction_1"]);
    expect((await readFile(custom)).length).toBeLessThan((await readFile(model)).length);
  });

  it("info prints a human summary with hash, sizes, controls and provenance", async () => {
    const info = await RunCliAsync(["info", model]);
    expect(info.code).toBe(0);
    expect(info.stderr).toBe("");
    const text = info.stdout;
    expect(text).toMatch(/^name +tiny-untrained$/m);
    expect(text).toContain(`sha256      ${modelSha256}`);
    expect(text).toMatch(/^resolution +16x16$/m);
    expect(text).toMatch(/^latents +z 32, w 32, 6 style layers/m);
    expect(text).toMatch(/^defaults +psi 0\.7 \(toward the average face\), noise strength 1$/m);
    expect(text).toMatch(/^controls \(4\)$/m);
    expect(text).toMatch(/^ {2}direction_0 +"Direction 0" +sefa +-3\.\.3 +default 0 +layers 0-5$/m);
    expect(text).toMatch(/^labels \(0, label vector 0\): none/m);
    expect(text).toMatch(/^ {2}trained +no \(random weights\)$/m);
    expect(text).toMatch(new RegExp(`^ {2}tool +npc-faces ${ToolVersion.replace(/\./g, "\\.")}$`, "m"));
    expect(text).toMatch(/^ {2}notes +untrained: random weights, for plumbing tests$/m);
  });

  it("info --json prints the metadata document", async () => {
    const info = await RunCliAsync(["info", "--json", model]);
    expect(info.code).toBe(0);
    const metadata = JSON.parse(info.stdout);
    expect(metadata).toMatchObject({ format: "npc-faces-model", formatVersion: 1, name: "tiny-untrained", resolution: 16, zDim: 32, wDim: 32, numWs: 6 });
    expect(metadata.provenance).toEqual({ trained: false, licenses: [], credits: [], kimg: 0, tool: ToolLabel, notes: "untrained: random weights, for plumbing tests" });
  });
});

describe("npc-faces bake", () => {
  it("writes face-<seed>.png per seed and a one-line summary", async () => {
    expect((await readdir(base)).sort()).toEqual(["face-1.png", "face-2.png", "face-3.png", "face-4.png"]);
    expect(baseResult.stdout).toMatch(/^baked 4 faces \(seeds 1-4, 16x16\) into .*base in [\d.]+ s \([\d.]+ faces\/s, [\d.]+ KiB\); model "tiny-untrained" sha256 [0-9a-f]{12}\n$/);
  });

  it("is byte-identical when run again (also with other batch sizes and explicit default psi)", async () => {
    const again = join(dir, "again");
    const explicit = join(dir, "explicit");
    const results = await Promise.all([Bake(["--seeds", "1-4", "--out", again]), Bake(["--seeds", "4,3", "--out", explicit, "--psi", "0.7", "--batch", "1"])]);
    results.forEach((r) => expect(r.code, r.stderr).toBe(0));
    for (const seed of [1, 2, 3, 4]) expect(Same(await ReadFace(again, seed), await ReadFace(base, seed)), `seed ${seed}`).toBe(true);
    for (const seed of [3, 4]) expect(Same(await ReadFace(explicit, seed), await ReadFace(base, seed)), `seed ${seed}`).toBe(true);
  });

  it("gives different seeds different faces", async () => {
    const faces = await Promise.all([1, 2, 3, 4].map(async (seed) => Buffer.from(Pixels(await ReadFace(base, seed))).toString("hex")));
    expect(new Set(faces).size).toBe(4);
  });

  it("changes the face with --psi, --mix-seed/--mix/--crossover and --control; records --noise-strength", async () => {
    const variants: [string, string[]][] = [
      ["psi", ["--psi", "0.2"]],
      ["mix", ["--mix-seed", "99"]],
      ["half-mix", ["--mix-seed", "99", "--mix", "0.5"]],
      ["crossover", ["--mix-seed", "99", "--crossover", "3"]],
      ["control", ["--control", "direction_0=2", "--control", "direction_1=-1"]],
    ];
    const results = await MapLimitAsync(variants, 3, ([name, args]) => Bake(["--seeds", "1", "--out", join(dir, name), ...args]));
    results.forEach((r, i) => expect(r.code, `${variants[i][0]}: ${r.stderr}`).toBe(0));
    const original = Buffer.from(Pixels(await ReadFace(base, 1))).toString("hex");
    const pictures = await Promise.all(variants.map(async ([name]) => Buffer.from(Pixels(await ReadFace(join(dir, name), 1))).toString("hex")));
    pictures.forEach((p, i) => expect(p, variants[i][0]).not.toBe(original));
    expect(new Set(pictures).size).toBe(variants.length);
    // Untrained models have zero learned noise scales (as StyleGAN2 initialises them): --noise-strength is
    // recorded, but cannot change the picture yet.
    const noise = await Bake(["--seeds", "1", "--out", join(dir, "noise"), "--noise-strength", "0"]);
    expect(noise.code, noise.stderr).toBe(0);
    expect(ReadBakeProvenance(await ReadFace(join(dir, "noise"), 1))!.params.noiseStrength).toBe(0);
    const params = ReadBakeProvenance(await ReadFace(join(dir, "crossover"), 1))!.params;
    expect(params).toMatchObject({ mixSeed: 99, mix: 1, crossover: 3 });
    expect(ReadBakeProvenance(await ReadFace(join(dir, "control"), 1))!.params.controls).toEqual({ direction_0: 2, direction_1: -1, direction_2: 0, direction_3: 0 });
  });

  it("records provenance in PNG text chunks", async () => {
    const png = await ReadFace(base, 3);
    const text = ReadPngText(png);
    expect(text[ProvenanceKeys.software]).toBe(`npc-faces ${ToolVersion}`);
    expect(text[ProvenanceKeys.seed]).toBe("3");
    expect(text[ProvenanceKeys.modelSha256]).toBe(modelSha256);
    expect(text[ProvenanceKeys.modelName]).toBe("tiny-untrained");
    expect(text[ProvenanceKeys.description]).toMatch(/not a photograph of a real person/);
    expect(ReadBakeProvenance(png)).toEqual({
      format: "npc-faces-bake",
      version: 1,
      tool: ToolLabel,
      engine: "canonical",
      model: { name: "tiny-untrained", sha256: modelSha256, resolution: 16, trained: false, licenses: [], credits: [] },
      seed: 3,
      params: { psi: 0.7, noiseStrength: 1, mixSeed: null, mix: 0, crossover: 0, controls: { direction_0: 0, direction_1: 0, direction_2: 0, direction_3: 0 }, size: 16, filter: null },
    });
    expect(JSON.parse(text[ProvenanceKeys.params])).toEqual(ReadBakeProvenance(png)!.params);
  });

  it("resizes with --size and records it", async () => {
    const out = join(dir, "sized");
    const result = await Bake(["--seeds", "2", "--out", out, "--size", "40"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/40x40/);
    const png = await ReadFace(out, 2);
    const image = DecodePngRgba(png);
    expect([image.width, image.height]).toEqual([40, 40]);
    expect(ReadBakeProvenance(png)!.params).toMatchObject({ size: 40, filter: "lanczos3" });
  });

  it("warns about control values outside their range but bakes them", async () => {
    const result = await Bake(["--seeds", "1", "--out", join(dir, "far"), "--control", "direction_2=5"]);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe("npc-faces: warning: --control direction_2=5 is outside its range -3..3 (extrapolating)\n");
  });

  it("documents every flag and its default in --help", async () => {
    const [bake, exportHelp, info, top] = await Promise.all([
      RunCliAsync(["bake", "--help"]),
      RunCliAsync(["export", "--help"]),
      RunCliAsync(["info", "--help"]),
      RunCliAsync(["--version"]),
    ]);
    for (const flag of ["--model", "--seeds", "--out", "--psi", "--noise-strength", "--mix-seed", "--mix ", "--crossover", "--control", "--label", "--size", "--batch", "--threads", "--no-progress"]) {
      expect(bake.stdout, flag).toContain(flag);
    }
    expect(bake.stdout).toMatch(/faces per inference run \(1\.\.256\) \(default: 8\)/);
    expect(bake.stdout).toContain("face-<seed>.png");
    for (const flag of ["--untrained", "--preset", "--out", "--seed", "--controls", "--fp16", "--name"]) expect(exportHelp.stdout, flag).toContain(flag);
    expect(exportHelp.stdout).toMatch(/--controls <count>.*\(default: 4\)/s);
    expect(exportHelp.stdout).toMatch(/choices:\s+"tiny",\s+"tinyfine",\s+"npc64",\s+"npc64wide",\s+"npc64fine",\s+"npc128",\s+"game64",\s+"game128",\s+"paper256"/);
    expect(info.stdout).toContain("--json");
    expect([bake.code, exportHelp.code, info.code, top.code]).toEqual([0, 0, 0, 0]);
    expect(top.stdout.trim()).toBe(ToolVersion);
  });
});
