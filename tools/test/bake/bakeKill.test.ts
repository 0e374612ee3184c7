/**
 * A manifest bake killed with SIGKILL in the middle: the next run completes, no file is corrupt, temporary files
 * are cleaned, and the faces finished before the kill are reused (not rebaked).
 */
import { spawn } from "node:child_process";
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

it("survives SIGKILL mid-bake: the rerun completes, nothing is corrupt, finished faces are not redone", async () => {
  const out = join(dir, "out");
  // One worker, small batches and a resize: slow enough to be caught in the middle.
  const args = ["bake", "--model", model, "--manifest", manifest, "--out", out, "--workers", "1", "--batch", "2", "--size", "48", "--no-progress"];
  const child = spawn(process.execPath, [CliBin, ...args], { stdio: "ignore" });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once("exit", (_code, signal) => resolve(signal)));
  const pngs = async (): Promise<string[]> => (await readdir(out).catch(() => [] as string[])).filter((n) => /^npc_\d+\.png$/.test(n));
  const deadline = Date.now() + 60_000;
  while ((await pngs()).length < 8) {
    if (Date.now() > deadline) throw new Error("the bake wrote no faces within 60 s");
    await new Promise((r) => setTimeout(r, 10));
  }
  child.kill("SIGKILL");
  expect(await exited).toBe("SIGKILL");

  const finished = await pngs();
  expect(finished.length).toBeGreaterThanOrEqual(8);
  expect(finished.length).toBeLessThan(150);
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
