/**
 * `npc-faces train --keep-snapshots` and `npc-faces export --run RUN --snapshot KIMG` with the built CLI on the tiny
 * preset: the newest N checkpoints stay beside the latest, --resume goes on keeping them, and exporting a kept
 * snapshot gives the same file as exporting the run had at that point.
 */
import { readdir, readFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ReadModelMetadata } from "@npc-faces/runtime";
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

describe("npc-faces train --keep-snapshots / export --snapshot", () => {
  it("keeps the newest checkpoints and exports a chosen one", async () => {
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

    const missing = await RunCliAsync(["export", "--run", run, "--snapshot", "0.016", "--out", join(dir, "x.onnx")]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/--snapshot 0\.016: .* has no snapshot at 0\.016 kimg \(kept: 0\.024, 0\.032\)/);
    const noRun = await RunCliAsync(["export", "--snapshot", "1", "--out", join(dir, "x.onnx")]);
    expect(noRun.code).toBe(2);
    expect(noRun.stderr).toMatch(/--snapshot needs --run/);
  }, Timeout);
});
