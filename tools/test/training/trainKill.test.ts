/**
 * Kill-safe training, at the process level with the built CLI: a real `npc-faces train` run is stopped with SIGINT,
 * SIGTERM (checkpoint, exit 130) and SIGKILL (at a tick, and in the middle of a checkpoint write), resumed with
 * `--resume` each time, and its final checkpoint is bit-identical (weights, EMA, Adam, RNG counters, ADA state) to
 * an uninterrupted run of the same length. A data-parallel worker that dies ends the run with one clear line and
 * a checkpoint that resumes to the same weights as an uninterrupted run. The stop points are the test's: a
 * preloaded hook (fixtures/trainHooks.mjs) holds the run at a chosen log append or checkpoint write and says so.
 */
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ParseCheckpoint, type CheckpointContents } from "../../../trainer/src/training/checkpoint.js";
import { CliBin } from "../cli/cliTestData.js";

const Hook = new URL("./fixtures/trainHooks.mjs", import.meta.url).href;
/** A run that should end in seconds; a hang fails the test instead of the suite's timeout. */
const HangLimitMs = 90_000;

let dir = "";
let data = "";

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "npcf-train-kill-"));
  data = join(dir, "data");
  await mkdir(data);
  for (let i = 0; i < 4; i++) {
    await sharp({ create: { width: 16, height: 16, channels: 3, background: { r: i * 60, g: 255 - i * 50, b: i * 20 } } }).png().toFile(join(data, `${i}.png`));
  }
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface TrainRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
  /** What the hook reported before the kill ("" when nothing was held). */
  readonly held: string;
}

/**
 * Runs `npc-faces train` with the hook; with `kill`, waits until the hook holds the run and sends that signal
 * (the hook releases its hold on SIGINT/SIGTERM). Kills with SIGKILL and reports a hang after {@link HangLimitMs}.
 */
function TrainAsync(args: readonly string[], env: Record<string, string> = {}, kill?: NodeJS.Signals): Promise<TrainRun> {
  const child = spawn(process.execPath, ["--import", Hook, CliBin, "train", ...args], {
    stdio: ["ignore", "ignore", "pipe", "pipe"],
    env: { ...process.env, NPC_FACES_DEBUG: "", NPC_FACES_TEST_HOLD: "", NPC_FACES_TEST_WORKER_EXIT: "", ...env },
  });
  let stderr = "";
  let held = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  (child.stdio[3] as Readable).on("data", (chunk: Buffer) => {
    held += chunk.toString();
    if (kill && held.includes("\n")) child.kill(kill);
  });
  const timer = setTimeout(() => {
    stderr += "\n[test: killed after a hang]";
    child.kill("SIGKILL");
  }, HangLimitMs);
  return new Promise((resolve) => {
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stderr, held: held.trim() });
    });
  });
}

async function CheckpointAsync(run: string): Promise<CheckpointContents> {
  return ParseCheckpoint(await readFile(join(run, "checkpoint.ckpt")), run);
}

/** Every stored tensor, counter and random/ADA state equal bit for bit. */
function ExpectSameState(actual: CheckpointContents, expected: CheckpointContents): void {
  const a = actual.state;
  const e = expected.state;
  expect({ imagesSeen: a.imagesSeen, step: a.step, plMean: a.plMean, random: a.random, augment: a.augment })
    .toEqual({ imagesSeen: e.imagesSeen, step: e.step, plMean: e.plMean, random: e.random, augment: e.augment });
  const tensors = (s: CheckpointContents["state"]) => [
    ...(["generator", "generatorEma", "discriminator"] as const).flatMap((g) => [...s[g]].map(([name, v]) => [`${g}/${name}`, v] as const)),
    ...(["adamG", "adamD"] as const).flatMap((g) => [...s[g].m.map((v, i) => [`${g}/m${i}`, v] as const), ...s[g].v.map((v, i) => [`${g}/v${i}`, v] as const)]),
  ];
  const expectedTensors = new Map(tensors(e));
  const differing = tensors(a).filter(([name, v]) => {
    const other = expectedTensors.get(name);
    return !other || !Buffer.from(v.buffer, v.byteOffset, v.byteLength).equals(Buffer.from(other.buffer, other.byteOffset, other.byteLength));
  });
  expect(differing.map(([name]) => name)).toEqual([]);
  expect(tensors(a).length).toBe(expectedTensors.size);
  expect(a.adamG.step).toBe(e.adamG.step);
  expect(a.adamD.step).toBe(e.adamD.step);
}

// 8 steps of 4 images, a tick (log line, grid, checkpoint) every 2 steps, ADA on (its p moves from step 4 on).
const Common = ["--preset", "tiny", "--batch", "4", "--tick", "0.008", "--snap", "1", "--kimg", "0.032", "--backend", "wasm", "--seed", "3"];

describe("npc-faces train stopped and resumed", () => {
  it("SIGINT, SIGTERM, SIGKILL at a tick and SIGKILL mid-checkpoint, each resumed: final state bit-identical to an uninterrupted run", async () => {
    const reference = join(dir, "reference");
    const run = join(dir, "interrupted");
    const args = ["--data", data, "--out", run, ...Common];
    const [straight, sigint] = await Promise.all([
      TrainAsync(["--data", data, "--out", reference, ...Common]),
      // Ctrl-C while tick 1's log line is being written: the run finishes the tick, checkpoints and exits 130.
      TrainAsync(args, { NPC_FACES_TEST_HOLD: "log:1" }, "SIGINT"),
    ]);
    expect(straight.code, straight.stderr).toBe(0);
    expect(sigint.held).toBe("held log 1");
    expect(sigint.code, sigint.stderr).toBe(130);
    expect(sigint.stderr).toMatch(/interrupted; the checkpoint was written, continue with --resume/);
    expect((await CheckpointAsync(run)).state.step).toBe(2);

    // SIGTERM the same way (the resumed process's first log line is tick 2).
    const sigterm = await TrainAsync([...args, "--resume"], { NPC_FACES_TEST_HOLD: "log:1" }, "SIGTERM");
    expect(sigterm.code, sigterm.stderr).toBe(130);
    expect((await CheckpointAsync(run)).state.step).toBe(4);

    // SIGKILL with tick 3's checkpoint half written (all bytes in the temporary file, not yet renamed): the
    // previous checkpoint is untouched and the run resumes from it.
    const before = await readFile(join(run, "checkpoint.ckpt"));
    const midWrite = await TrainAsync([...args, "--resume"], { NPC_FACES_TEST_HOLD: "checkpoint:1" }, "SIGKILL");
    expect(midWrite.held).toBe("held checkpoint 1");
    expect(midWrite.signal).toBe("SIGKILL");
    expect((await readFile(join(run, "checkpoint.ckpt"))).equals(before)).toBe(true);
    expect((await readdir(run)).some((name) => name.includes(".tmp-"))).toBe(true); // the kill left its temporary file

    // SIGKILL at tick 3's log line, after resuming from step 4 again: nothing of the killed steps survives.
    const atTick = await TrainAsync([...args, "--resume"], { NPC_FACES_TEST_HOLD: "log:1" }, "SIGKILL");
    expect(atTick.signal).toBe("SIGKILL");
    expect((await CheckpointAsync(run)).state.step).toBe(4);

    const last = await TrainAsync([...args, "--resume"]);
    expect(last.code, last.stderr).toBe(0);
    expect((await readdir(run)).filter((name) => name.includes(".tmp-"))).toEqual([]); // the resume removed it
    const finished = await CheckpointAsync(run);
    const expected = await CheckpointAsync(reference);
    expect(finished.state.step).toBe(8);
    expect(expected.state.augment).toMatchObject({ controller: { p: expect.any(Number) } });
    expect((expected.state.augment as { controller: { p: number } }).controller.p).toBeGreaterThan(0); // ADA state took part
    ExpectSameState(finished, expected);
    // The log holds each tick once: tick 3's line from the process killed mid-checkpoint was dropped on resume.
    const log = (await readFile(join(run, "log.jsonl"), "utf8")).trim().split("\n").map((l) => JSON.parse(l) as { tick: number; step: number });
    expect(log.map((l) => [l.tick, l.step])).toEqual([[1, 2], [2, 4], [3, 6], [4, 8]]);
  }, 300_000);

  it("a data-parallel worker that dies ends the run with one clear line and a checkpoint that resumes exactly", async () => {
    const reference = join(dir, "workers-reference");
    const run = join(dir, "workers-crash");
    const args = ["--data", data, "--out", run, ...Common, "--workers", "2"];
    const thrown = join(dir, "workers-throw");
    const [straight, crashed, threw] = await Promise.all([
      TrainAsync(["--data", data, "--out", reference, ...Common, "--workers", "2"]),
      // Worker 1 exits on its 5th step, outside any sync point: worker 0 is left waiting in the step's all-reduce.
      TrainAsync(args, { NPC_FACES_TEST_WORKER_EXIT: "1:5" }),
      // Worker 0 dies of an uncaught exception on its 3rd step instead.
      TrainAsync(["--data", data, "--out", thrown, ...Common, "--workers", "2"], { NPC_FACES_TEST_WORKER_EXIT: "0:3:throw" }),
    ]);
    expect(threw.code, threw.stderr).toBe(1);
    expect(threw.stderr.trim().split("\n").at(-1)).toMatch(/^npc-faces: error: training worker 0 crashed at step 2: simulated crash; the last checkpoint .*checkpoint\.ckpt \(0\.008 kimg\) is kept: continue with --resume$/);
    expect((await CheckpointAsync(thrown)).state.step).toBe(2);
    expect(straight.code, straight.stderr).toBe(0);
    expect(crashed.code, crashed.stderr).toBe(1);
    const lines = crashed.stderr.trim().split("\n");
    expect(lines.at(-1)).toMatch(/^npc-faces: error: training worker 1 stopped unexpectedly \(exit code 7\) at step 4; the last checkpoint .*checkpoint\.ckpt \(0\.016 kimg\) is kept: continue with --resume$/);
    expect((await CheckpointAsync(run)).state.step).toBe(4);

    const resumed = await TrainAsync([...args, "--resume"]);
    expect(resumed.code, resumed.stderr).toBe(0);
    ExpectSameState(await CheckpointAsync(run), await CheckpointAsync(reference));
  }, 300_000);
});
