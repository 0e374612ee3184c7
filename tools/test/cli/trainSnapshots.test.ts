/**
 * `npc-faces train --keep-snapshots` and `npc-faces export --run RUN --snapshot KIMG` with the built CLI on the tiny
 * preset: the newest N checkpoints stay beside the latest, --resume goes on keeping them, and exporting a kept
 * snapshot gives the same file as exporting the run had at that point; `checkpoint average` writes a run folder
 * with the kept snapshots' mean G_ema that exports, and refuses bad ranges and folders it must not write.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ReadModelMetadata } from "@npc-faces/runtime";
import { ParseCheckpoint } from "@npc-faces/trainer";
import { RunCliAsync } from "./cliTestData.js";

let dir = "";
let data = "";
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "npcf-keep-"));
  data = join(dir, "data");
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const TrainArgs = ["--preset", "tiny", "--batch", "4", "--tick", "0.008", "--snap", "1", "--backend", "wasm"];
// A CLI run takes about a CPU second; on the shared 2-core machine under load it can wait much longer.
const Timeout = 400_000;

describe("npc-faces train --keep-snapshots / export --snapshot / checkpoint average", () => {
  it("keeps the newest checkpoints, exports a chosen one, averages them", async () => {
    const made = await RunCliAsync(["dataset", "--source", "facesjs", "--count", "6", "--res", "16", "--out", data, "--no-progress"]);
    expect(made.code, made.stderr).toBe(0);
    const run = join(dir, "run");
    const trained = await RunCliAsync(["train", "--data", data, "--out", run, "--kimg", "0.024", "--keep-snapshots", "2", ...TrainArgs]);
    expect(trained.code, trained.stderr).toBe(0);
    expect(await readdir(join(run, "snapshots"))).toEqual(["kimg-000000.016", "kimg-000000.024"]);
    // The newest snapshot is the run's final checkpoint.
    expect((await readFile(join(run, "snapshots", "kimg-000000.024", "checkpoint.ckpt"))).equals(await readFile(join(run, "checkpoint.ckpt")))).toBe(true);

    const latest = join(dir, "latest.onnx");
    const atEnd = join(dir, "at-0.024.onnx");
    const earlier = join(dir, "at-0.016.onnx");
    for (const [args, out] of [[[], latest], [["--snapshot", "0.024"], atEnd], [["--snapshot", "kimg-000000.016"], earlier]] as const) {
      const exported = await RunCliAsync(["export", "--run", run, ...args, "--out", out]);
      expect(exported.code, exported.stderr).toBe(0);
    }
    expect((await readFile(atEnd)).equals(await readFile(latest))).toBe(true);
    expect((await readFile(earlier)).equals(await readFile(latest))).toBe(false);
    expect(ReadModelMetadata(new Uint8Array(await readFile(earlier))).provenance.kimg).toBeCloseTo(0.016, 6);

    const resumed = await RunCliAsync(["train", "--data", data, "--out", run, "--resume", "--kimg", "0.032", "--keep-snapshots", "2", ...TrainArgs.slice(2)]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(await readdir(join(run, "snapshots"))).toEqual(["kimg-000000.024", "kimg-000000.032"]);

    // checkpoint average: a run folder whose G_ema is the kept snapshots' mean; it exports like a run.
    const averaged = join(dir, "avg");
    const average = await RunCliAsync(["checkpoint", "average", "--run", run, "--from", "0", "--to", "0.032", "--out", averaged]);
    expect(average.code, average.stderr).toBe(0);
    expect(average.stdout).toMatch(/averaged G_ema of 2 snapshots .*\(0\.024, 0\.032 kimg\)/);
    const avgCheckpoint = ParseCheckpoint(await readFile(join(averaged, "checkpoint.ckpt")), "avg");
    expect(avgCheckpoint.extra?.averagedKimg).toEqual([0.024, 0.032]);
    expect(avgCheckpoint.state.imagesSeen).toBe(32);
    expect((await readFile(join(averaged, "log.jsonl"), "utf8")).trim().split("\n")).toHaveLength(4);
    const avgModel = join(dir, "avg.onnx");
    expect((await RunCliAsync(["export", "--run", averaged, "--out", avgModel])).code).toBe(0);
    const latestAgain = join(dir, "latest-0.032.onnx");
    expect((await RunCliAsync(["export", "--run", run, "--out", latestAgain])).code).toBe(0);
    expect((await readFile(avgModel)).equals(await readFile(latestAgain))).toBe(false);
    const again = await RunCliAsync(["checkpoint", "average", "--run", run, "--from", "0.024", "--to", "0.032", "--out", averaged]);
    expect(again.code, again.stderr).toBe(0); // an earlier average is replaced
    for (const [args, code, message] of [
      [["--from", "0.03", "--to", "1"], 1, /1 kept snapshot of .* in that range, at least 2 needed \(kept: 0\.024, 0\.032\)/],
      [["--from", "1", "--to", "0"], 2, /--from 1 is after --to 0/],
      [["--from", "x", "--to", "1"], 2, /expected a kimg >= 0, got "x"/],
    ] as const) {
      const refused = await RunCliAsync(["checkpoint", "average", "--run", run, ...args, "--out", join(dir, "avg2")]);
      expect(refused.code).toBe(code);
      expect(refused.stderr).toMatch(message);
    }
    const intoRun = await RunCliAsync(["checkpoint", "average", "--run", run, "--from", "0", "--to", "1", "--out", join(run, "snapshots")]);
    expect(intoRun.code).toBe(2);
    expect(intoRun.stderr).toMatch(/is the run folder or inside it/);
    // A folder holding a training run's checkpoint is never overwritten.
    const other = join(dir, "other-run");
    await mkdir(other);
    const training = await readFile(join(run, "checkpoint.ckpt"));
    await writeFile(join(other, "checkpoint.ckpt"), training);
    const overTraining = await RunCliAsync(["checkpoint", "average", "--run", run, "--from", "0", "--to", "1", "--out", other]);
    expect(overTraining.code).toBe(1);
    expect(overTraining.stderr).toMatch(/holds a checkpoint\.ckpt that `checkpoint average` did not write/);
    expect((await readFile(join(other, "checkpoint.ckpt"))).equals(training)).toBe(true);

    const missing = await RunCliAsync(["export", "--run", run, "--snapshot", "0.016", "--out", join(dir, "x.onnx")]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/--snapshot 0\.016: .* has no snapshot at 0\.016 kimg \(kept: 0\.024, 0\.032\)/);
    const noRun = await RunCliAsync(["export", "--snapshot", "1", "--out", join(dir, "x.onnx")]);
    expect(noRun.code).toBe(2);
    expect(noRun.stderr).toMatch(/--snapshot needs --run/);
  }, Timeout);
});
