/**
 * A manifest bake (`npc-faces bake`, the built CLI) interrupted 20 times at random points (seeded; SIGKILL, and
 * every third time SIGINT; at a random moment or after a random number of faces), each time rerun, finishes with a
 * folder byte-equal to an uninterrupted bake: faces, faces.json and the atlas pages.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { CliBin, ExportTinyModelAsync, RunCliAsync } from "../../tools/test/cli/cliTestData.js";
import { ReportSoak, Scaled } from "./soakUtil.js";

const Interruptions = Scaled(20);
const Npcs = 3_000;

/** Mulberry32: the kill moments are random but the same on every run of the soak. */
function SeededRandom(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function SnapshotAsync(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const name of (await readdir(dir)).sort()) out.set(name, createHash("sha256").update(await readFile(join(dir, name))).digest("hex"));
  return out;
}

/** Faces in the output folder so far. */
async function FaceCountAsync(dir: string): Promise<number> {
  return (await readdir(dir).catch(() => [] as string[])).filter((n) => /^npc_\d+\.png$/.test(n)).length;
}

/**
 * Runs a bake and kills it with `signal` when `kill` says so: after `ms`, or once the output folder holds `faces`
 * faces (polled), unless it ends first; resolves how it ended.
 */
function BakeUntilAsync(args: readonly string[], out: string, kill: { ms: number } | { faces: number }, signal: NodeJS.Signals): Promise<{ killed: boolean; code: number | null }> {
  const child = spawn(process.execPath, [CliBin, ...args], { stdio: ["ignore", "ignore", "ignore"] });
  let timer: ReturnType<typeof setTimeout> | undefined;
  let poll: ReturnType<typeof setInterval> | undefined;
  if ("ms" in kill) timer = setTimeout(() => child.kill(signal), kill.ms);
  else {
    poll = setInterval(() => {
      void FaceCountAsync(out).then((n) => {
        if (n >= kill.faces) child.kill(signal);
      });
    }, 20);
  }
  return new Promise((resolve) => {
    child.on("exit", (code, sig) => {
      clearTimeout(timer);
      clearInterval(poll);
      resolve({ killed: sig !== null || code === 130, code });
    });
  });
}

it(`a bake interrupted ${Interruptions} times at random finishes byte-equal to an uninterrupted bake`, async () => {
  const dir = await mkdtemp(join(tmpdir(), "npcf-soak-interrupt-"));
  try {
    const model = join(dir, "tiny.onnx");
    await ExportTinyModelAsync(model);
    const sha256 = createHash("sha256").update(await readFile(model)).digest("hex");
    const npcs = Array.from({ length: Npcs }, (_, i) => ({ id: `npc_${String(i).padStart(4, "0")}`, name: `NPC ${i}`, seed: 7 * i + 1, ...(i % 5 === 0 ? { psi: 0.5 } : {}) }));
    const manifest = join(dir, "npcs.json");
    await writeFile(manifest, JSON.stringify({ format: "npc-faces-manifest", formatVersion: 1, model: { sha256, name: "tiny" }, npcs }));
    const bake = (out: string) => ["bake", "--model", model, "--manifest", manifest, "--out", out, "--atlas", "512x512", "--no-progress"];

    const cleanStart = performance.now();
    const clean = await RunCliAsync(bake(join(dir, "clean")));
    expect(clean.code, clean.stderr).toBe(0);
    const cleanSeconds = (performance.now() - cleanStart) / 1000;

    // Half the kills at a random moment of the first 3 s (the CLI and its workers starting, the cache check), half
    // once a random number of further faces (1 to 1/40 of the bake) is on disk: mid-bake on any machine's speed.
    const random = SeededRandom(20);
    const out = join(dir, "interrupted");
    let interrupted = 0;
    let attempts = 0;
    const kills: string[] = [];
    while (interrupted < Interruptions && attempts < Interruptions * 3) {
      attempts++;
      const signal = attempts % 3 === 0 ? "SIGINT" : "SIGKILL";
      const kill = random() < 0.5 ? { ms: Math.round(200 + random() * 2800) } : { faces: (await FaceCountAsync(out)) + 1 + Math.floor(random() * (Npcs / 40)) };
      const result = await BakeUntilAsync(bake(out), out, kill, signal);
      if (!result.killed) break; // it finished before the kill: nothing left to interrupt
      interrupted++;
      kills.push(`${signal} ${"ms" in kill ? `at ${kill.ms} ms` : `at ${kill.faces} faces`}`);
    }
    const facesBeforeFinal = (await readdir(out)).filter((n) => /^npc_\d+\.png$/.test(n)).length;
    const final = await RunCliAsync(bake(out));
    expect(final.code, final.stderr).toBe(0);
    const [a, b] = await Promise.all([SnapshotAsync(out), SnapshotAsync(join(dir, "clean"))]);
    const differing = [...new Set([...a.keys(), ...b.keys()])].filter((name) => a.get(name) !== b.get(name));
    ReportSoak("bake-interrupted", {
      npcs: Npcs, interruptions: interrupted, attempts, kills, facesBeforeFinalRun: facesBeforeFinal,
      finalRun: final.stdout.trim().split("\n")[0], uninterruptedSeconds: Math.round(cleanSeconds * 10) / 10, files: a.size, differingFiles: differing.length,
    });
    expect(interrupted).toBe(Interruptions);
    expect(facesBeforeFinal).toBeGreaterThan(0); // some kills landed mid-bake
    expect(differing).toEqual([]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
