/**
 * `npc-faces train` end to end with the built CLI: a tiny run (wasm) writes checkpoint, log and sample grids
 * and resumes; bad input gives one clear line each: empty folder, unreadable image, mixed sizes, unknown
 * preset, corrupted checkpoint for --resume, resuming nothing, overwriting a run.
 */
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import sharp from "sharp";
import { RunCliAsync } from "./cliTestData.js";

let dir = "";

async function SolidPngAsync(path: string, size: number, rgb: [number, number, number]): Promise<void> {
  await sharp({ create: { width: size, height: size, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } }).png().toFile(path);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "npcf-train-cli-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("npc-faces train", () => {
  it("trains a tiny run, writes checkpoint, log and grids, and resumes", async () => {
    const data = join(dir, "two");
    await import("node:fs/promises").then((fs) => fs.mkdir(data));
    await SolidPngAsync(join(data, "a.png"), 16, [255, 0, 0]);
    await SolidPngAsync(join(data, "b.png"), 16, [0, 0, 255]);
    const run = join(dir, "run");
    const common = ["train", "--data", data, "--out", run, "--preset", "tiny", "--batch", "4", "--tick", "0.008", "--backend", "wasm"];
    const first = await RunCliAsync([...common, "--kimg", "0.008"]);
    expect(first.code, first.stderr).toBe(0);
    expect((await readdir(run)).sort()).toEqual(["checkpoint.ckpt", "log.jsonl", "options.json", "samples"]);
    expect((await readdir(join(run, "samples"))).sort()).toEqual(["latest.png", "tick-000000.png", "tick-000001.png"]);
    const again = await RunCliAsync([...common, "--kimg", "0.008"]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already holds a run .*--resume/);
    const resumed = await RunCliAsync([...common, "--kimg", "0.016", "--resume"]);
    expect(resumed.code, resumed.stderr).toBe(0);
    const log = (await readFile(join(run, "log.jsonl"), "utf8")).trim().split("\n").map((l) => JSON.parse(l));
    expect(log.map((l) => l.tick)).toEqual([1, 2]);
    expect(log[1].kimg).toBeCloseTo(0.016);

    // Corrupt the checkpoint: --resume refuses with a clear message.
    const bytes = await readFile(join(run, "checkpoint.ckpt"));
    bytes[bytes.length - 100] ^= 0xff;
    await writeFile(join(run, "checkpoint.ckpt"), bytes);
    const corrupted = await RunCliAsync([...common, "--kimg", "0.024", "--resume"]);
    expect(corrupted.code).toBe(1);
    expect(corrupted.stderr).toMatch(/checkpoint .*checkpoint\.ckpt: corrupted or truncated/);
  });

  it("reports bad input in one line", async () => {
    const empty = join(dir, "empty");
    const unreadable = join(dir, "unreadable");
    const mixed = join(dir, "mixed");
    const fs = await import("node:fs/promises");
    for (const d of [empty, unreadable, mixed]) await fs.mkdir(d);
    await writeFile(join(unreadable, "broken.png"), "not a png");
    await SolidPngAsync(join(mixed, "a.png"), 16, [1, 2, 3]);
    await SolidPngAsync(join(mixed, "b.png"), 32, [1, 2, 3]);
    const out = join(dir, "bad-run");
    const cases: [string[], number, RegExp][] = [
      [["--data", empty], 1, /no images/],
      [["--data", unreadable], 1, /cannot read image broken\.png/],
      [["--data", mixed], 1, /mixed sizes: a\.png is 16x16, b\.png is 32x32/],
      [["--data", mixed, "--preset", "huge"], 2, /unknown preset "huge" \(known: tiny, tinyfine, npc64, npc64wide, npc64fine, npc128, game64, game128, paper256\)/],
      [["--data", join(dir, "nowhere")], 1, /no such folder/],
      [["--data", mixed, "--lr", "abc"], 2, /--lr must be a positive number, got "abc"/],
      [["--data", mixed, "--lr", "0x10"], 2, /--lr must be a positive number, got "0x10"/],
      [["--data", mixed, "--gamma", "-1"], 2, /--gamma must be a number >= 0, got "-1"/],
      [["--data", empty, "--resume"], 1, /no images/],
      // On resume the label loss is the checkpoint's business (RunTrainingAsync checks it there), not the fresh options'.
      [["--data", empty, "--resume", "--label-loss", "1"], 1, /no images/],
    ];
    for (const [args, code, message] of cases) {
      const result = await RunCliAsync(["train", "--out", out, "--preset", "tiny", "--backend", "wasm", ...args]);
      expect(result.code, result.stderr).toBe(code);
      expect(result.stderr).toMatch(message);
      expect(result.stderr.trim().split("\n")).toHaveLength(1);
    }
  });

  it("refuses engine and device choices that cannot run, saying why", async () => {
    const data = join(dir, "engine-data");
    await import("node:fs/promises").then((fs) => fs.mkdir(data));
    await SolidPngAsync(join(data, "a.png"), 16, [255, 0, 0]);
    await SolidPngAsync(join(data, "b.png"), 16, [0, 0, 255]);
    const common = ["train", "--data", data, "--preset", "tiny", "--batch", "4", "--kimg", "0.004"];
    const cases: [string[], NodeJS.ProcessEnv, number, RegExp][] = [
      [["--engine", "tfjs", "--device", "webgpu"], {}, 2, /--device chooses onnxruntime's provider: it needs --engine ort/],
      [["--engine", "ort", "--progressive"], {}, 2, /--progressive trains with the tfjs engine only/],
      [["--engine", "ort", "--workers", "2"], {}, 2, /--workers sets the tfjs engine's worker threads/],
      [["--engine", "ort", "--label-loss", "1"], {}, 2, /labelLoss \(--label-loss\): needs a conditional run \(--cond\)/],
      [["--engine", "tfjs", "--cond", "--label-loss", "1"], {}, 2, /labelLoss \(--label-loss\): only the onnxruntime engine/],
      [["--engine", "ort", "--label-loss", "-1"], {}, 2, /--label-loss/],
      // No Vulkan driver: the WebGPU provider finds no adapter, and the message says how to make one visible.
      [["--engine", "ort", "--device", "webgpu"], { VK_ICD_FILENAMES: join(dir, "no-such-driver.json"), VK_DRIVER_FILES: join(dir, "no-such-driver.json") }, 1, /--device webgpu: .*Vulkan driver/],
    ];
    for (const [args, env, code, message] of cases) {
      const result = await RunCliAsync([...common, "--out", join(dir, `engine-${args.join("")}`), ...args], env);
      expect(result.code, result.stderr).toBe(code);
      expect(result.stderr).toMatch(message);
    }
  });

  it("documents every flag and its default in --help", async () => {
    const help = await RunCliAsync(["train", "--help"]);
    for (const flag of ["--data", "--out", "--preset", "--kimg", "--batch", "--gamma", "--cond", "--progressive", "--aug", "--resume", "--resume-from", "--engine", "--device", "--backend", "--label-loss"]) expect(help.stdout).toContain(flag);
    expect(help.stdout).toMatch(/default:\s+"game64"/); // wrapped where the line ends
    expect(help.stdout).toMatch(/CUDA 11\.x \+ cuDNN 8/);
  });
});
