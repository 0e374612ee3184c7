/**
 * 10,000 baked faces in one process (manifest bakes of 1,000 NPCs each, the canonical engine on the worker pool):
 * the resident set size after each bake does not grow.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Sha256HexAsync } from "@npc-faces/runtime";
import { expect, it } from "vitest";
import { BakeManifestFileAsync } from "../../tools/src/bake/manifestBake.js";
import { TinyModelAsync } from "../../runtime/test/testModels.js";
import { CollectGarbage, MiB, ReportSoak, Scaled } from "./soakUtil.js";

const Faces = Scaled(10_000);
const PerBake = Math.min(1_000, Faces);

it(`${Faces} baked faces: stable RSS`, async () => {
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
    ReportSoak("baked-faces", {
      faces: Faces, bakes: samples.length, seconds: Math.round(seconds * 10) / 10, facesPerSecond: Math.round(Faces / seconds),
      rssMiB: samples.map((s) => s.rssMiB), heapMiB: samples.map((s) => s.heapMiB), rssGrowthMiB,
      rssPeakMiB: Math.max(...samples.map((s) => s.rssMiB)),
    });
    expect(rssGrowthMiB).toBeLessThan(64);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
