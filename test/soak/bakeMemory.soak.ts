/**
 * 10,000 baked faces: one `npc-faces bake` of 10,000 NPCs (the built CLI, canonical engine, 2 workers) whose resident
 * set size, sampled from /proc every 1,000 faces, stays flat; and 10 bakes of 1,000 NPCs in one process (as a watch
 * mode or the editor would run them), whose JS heap stays flat and whose RSS is reported.
 */
import { spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Sha256HexAsync } from "@npc-faces/runtime";
import { expect, it } from "vitest";
import { BakeManifestFileAsync } from "../../tools/src/bake/manifestBake.js";
import { TinyModelAsync } from "../../runtime/test/testModels.js";
import { CliBin } from "../../tools/test/cli/cliTestData.js";
import { CollectGarbage, MiB, ReportSoak, Scaled } from "./soakUtil.js";

const Faces = Scaled(10_000);
const PerBake = Math.min(1_000, Faces);

/** VmRSS of a process (all its threads) in MiB, from /proc; null once it is gone. */
async function ProcessRssMiBAsync(pid: number): Promise<number | null> {
  const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => null);
  const kb = status && /^VmRSS:\s+(\d+) kB/m.exec(status);
  return kb ? Math.round((Number(kb[1]) / 1024) * 10) / 10 : null;
}

it(`one bake of ${Faces} faces (CLI): stable RSS`, async () => {
  const dir = await mkdtemp(join(tmpdir(), "npcf-soak-bake-cli-"));
  try {
    const model = join(dir, "tiny.onnx");
    const bytes = await TinyModelAsync();
    await writeFile(model, bytes);
    const sha256 = await Sha256HexAsync(bytes);
    const manifest = join(dir, "npcs.json");
    const npcs = Array.from({ length: Faces }, (_, i) => ({ id: `npc_${i}`, name: `NPC ${i}`, seed: i, ...(i % 5 === 0 ? { psi: 0.5 } : {}) }));
    await writeFile(manifest, JSON.stringify({ format: "npc-faces-manifest", formatVersion: 1, model: { sha256, name: "tiny" }, npcs }));
    const out = join(dir, "out");
    const start = performance.now();
    const child = spawn(process.execPath, [CliBin, "bake", "--model", model, "--manifest", manifest, "--out", out, "--workers", "2", "--no-progress"], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    let running = true;
    void exited.then(() => (running = false));
    const step = Faces / 10;
    const samples: { faces: number; rssMiB: number }[] = [];
    let peak = 0;
    while (running) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      const rss = await ProcessRssMiBAsync(child.pid!);
      if (rss === null) break;
      peak = Math.max(peak, rss);
      const faces = (await readdir(out).catch(() => [] as string[])).filter((n) => n.endsWith(".png")).length;
      if (faces >= (samples.length + 1) * step) samples.push({ faces, rssMiB: rss });
    }
    expect(await exited, stderr).toBe(0);
    const seconds = (performance.now() - start) / 1000;
    // Growth judged from the first sample (1,000 faces in: pools started, WASM compiled) to the largest later one.
    const rssGrowthMiB = Math.round((Math.max(...samples.map((s) => s.rssMiB)) - samples[0].rssMiB) * 10) / 10;
    ReportSoak("baked-faces-one-bake", {
      faces: Faces, seconds: Math.round(seconds * 10) / 10, facesPerSecond: Math.round(Faces / seconds),
      rssMiBEvery1000Faces: samples.map((s) => s.rssMiB), rssGrowthMiB, rssPeakMiB: peak,
    });
    expect(samples.length).toBeGreaterThanOrEqual(5);
    expect(rssGrowthMiB).toBeLessThan(48);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

it(`${Faces} baked faces in bakes of ${PerBake} in one process: stable JS heap (RSS reported)`, async () => {
  const dir = await mkdtemp(join(tmpdir(), "npcf-soak-bake-"));
  try {
    const model = join(dir, "tiny.onnx");
    const bytes = await TinyModelAsync();
    await writeFile(model, bytes);
    const sha256 = await Sha256HexAsync(bytes);
    const samples: { faces: number; rssMiB: number; heapMiB: number }[] = [];
    const start = performance.now();
    for (let done = 0; done < Faces; done += PerBake) {
      const npcs = Array.from({ length: PerBake }, (_, i) => ({ id: `npc_${done + i}`, name: `NPC ${done + i}`, seed: done + i, ...(i % 5 === 0 ? { psi: 0.5 } : {}) }));
      const manifest = join(dir, "npcs.json");
      await writeFile(manifest, JSON.stringify({ format: "npc-faces-manifest", formatVersion: 1, model: { sha256, name: "tiny" }, npcs }));
      const out = join(dir, "out");
      const summary = await BakeManifestFileAsync({ manifest, model, outDir: out, workers: 2 });
      expect(summary.baked).toBe(PerBake);
      await rm(out, { recursive: true });
      CollectGarbage();
      const memory = process.memoryUsage();
      samples.push({ faces: done + PerBake, rssMiB: MiB(memory.rss), heapMiB: MiB(memory.heapUsed) });
    }
    const seconds = (performance.now() - start) / 1000;
    // The first bake includes one-time growth (module loading, WASM compilation): growth is judged from there on.
    const rssGrowthMiB = Math.round((samples.at(-1)!.rssMiB - samples[0].rssMiB) * 10) / 10;
    const heapGrowthMiB = Math.round((samples.at(-1)!.heapMiB - samples[0].heapMiB) * 10) / 10;
    ReportSoak("baked-faces-repeated-bakes", {
      faces: Faces, bakes: samples.length, seconds: Math.round(seconds * 10) / 10, facesPerSecond: Math.round(Faces / seconds),
      rssMiB: samples.map((s) => s.rssMiB), heapMiB: samples.map((s) => s.heapMiB), rssGrowthMiB,
      rssPeakMiB: Math.max(...samples.map((s) => s.rssMiB)), heapGrowthMiB,
    });
    // Each bake starts and ends its own worker pool; the JS heap is what this process keeps.
    expect(heapGrowthMiB).toBeLessThan(8);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
