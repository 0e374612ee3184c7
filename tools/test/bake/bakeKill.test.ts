/**
 * A manifest bake killed with SIGKILL in the middle: the next run completes, no file is corrupt, temporary files
 * are cleaned, and the faces finished before the kill are reused (not rebaked). The kill point is the test's: a
 * preloaded hook (fixtures/holdAfterFaces.mjs) lets exactly 8 faces be written, reports it and holds the next
 * write, so a fast machine cannot finish the bake before the kill.
 */
import { spawn } from "node:child_process";
import type { Readable } from "node:stream";
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { CliBin } from "../cli/cliTestData.js";
import { BakeCliAsync, ExportTinyModelAsync, FileSha256Async, SameSnapshot, SnapshotAsync, TestNpcs, WriteManifestAsync } from "./bakeTestUtils.js";

let dir: string;
let model: string;
let manifest: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "npc-faces-kill-"));
  model = join(dir, "tiny.onnx");
  await ExportTinyModelAsync(model);
  manifest = await WriteManifestAsync(join(dir, "npcs.json"), await FileSha256Async(model), TestNpcs(150));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Faces written before the kill. */
const KillAfter = 8;
const HoldHook = new URL("./fixtures/holdAfterFaces.mjs", import.meta.url).href;

/** Resolves when the hook reports that it holds the bake; rejects if the bake exits first. */
function HeldAsync(signal: Readable, stderr: Readable, exited: Promise<unknown>): Promise<void> {
  let err = "";
  stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
  return new Promise((resolve, reject) => {
    let text = "";
    signal.on("data", (chunk: Buffer) => {
      text += chunk.toString();
      if (text.includes(`held ${KillAfter}\n`)) resolve();
    });
    void exited.then(() => reject(new Error(`the bake ended before writing ${KillAfter} faces: ${err}`)));
  });
}

it("survives SIGKILL mid-bake: the rerun completes, nothing is corrupt, finished faces are not redone", async () => {
  const out = join(dir, "out");
  // One worker (the hook counts per thread), small batches and a resize.
  const args = ["bake", "--model", model, "--manifest", manifest, "--out", out, "--workers", "1", "--batch", "2", "--size", "48", "--no-progress"];
  const child = spawn(process.execPath, ["--import", HoldHook, CliBin, ...args], { stdio: ["ignore", "ignore", "pipe", "pipe"], env: { ...process.env, NPC_FACES_TEST_HOLD_AFTER: String(KillAfter) } });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once("exit", (_code, signal) => resolve(signal)));
  await HeldAsync(child.stdio[3] as Readable, child.stderr!, exited);
  child.kill("SIGKILL");
  expect(await exited).toBe("SIGKILL");

  const finished = (await readdir(out)).filter((n) => /^npc_\d+\.png$/.test(n));
  expect(finished).toHaveLength(KillAfter);
  expect(await readdir(out)).not.toContain("faces.json"); // killed before the end
  const before = new Map<string, { mtimeMs: number; bytes: Buffer }>();
  for (const name of finished) before.set(name, { mtimeMs: (await stat(join(out, name))).mtimeMs, bytes: await readFile(join(out, name)) });

  const rerun = await BakeCliAsync(model, args.slice(3));
  expect(rerun.stderr).toBe("");
  expect(rerun.code).toBe(0);
  const match = /^baked (\d+) faces?, (\d+) cached/.exec(rerun.stdout);
  expect(match, rerun.stdout).not.toBeNull();
  expect(Number(match![2])).toBe(finished.length);
  expect(Number(match![1]) + Number(match![2])).toBe(150);
  for (const [name, old] of before) {
    const now = await stat(join(out, name));
    expect(now.mtimeMs, name).toBe(old.mtimeMs); // not rewritten
  }
  const names = await readdir(out);
  expect(names.filter((n) => n.endsWith(".tmp"))).toEqual([]);

  // The result equals an uninterrupted bake, byte for byte.
  const clean = join(dir, "clean");
  const full = await BakeCliAsync(model, ["--manifest", manifest, "--out", clean, "--workers", "2", "--size", "48"]);
  expect(full.code).toBe(0);
  expect(SameSnapshot(await SnapshotAsync(out), await SnapshotAsync(clean))).toBe(true);
});
