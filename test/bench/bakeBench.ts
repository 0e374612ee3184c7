/**
 * Bake benchmark (issues 8, 13): `npc-faces bake --manifest` of 256 faces on both engines (canonical: the default,
 * the game's exact bytes; native: onnxruntime-node) with 1 and 2 workers (faces/s, scaling ratio, canonical vs
 * native side by side), and ms per face against the runtime's floor (GFLOP per face / peak conv GFLOP/s of onnxruntime-node,
 * measured in the same run). Model: the bundled default model (`@npc-faces/default-model`).
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ReadModelFile } from "@npc-faces/runtime";
import { DefaultModelPath, FaceEngines } from "@npc-faces/runtime/node";
import { GeneratorFlopsPerFace, type GeneratorConfig } from "@npc-faces/trainer";
import { BakeManifestFileAsync, Sha256Hex } from "@npc-faces/tools";
import { FormatTable } from "./benchUtil.js";
import { MeasurePeakConvGflopsAsync } from "./runtimeBench.js";

/** Faces per bake. */
const FaceCount = 256;

/** Runs the bake benchmark and returns the lines to print. */
export async function RunBakeBenchAsync(workerCounts = [1, 2]): Promise<string[]> {
  const modelPath = DefaultModelPath();
  const bytes = new Uint8Array(await readFile(modelPath));
  const { metadata } = ReadModelFile(bytes, modelPath);
  let gflop: number | undefined;
  try {
    gflop = GeneratorFlopsPerFace(metadata.architecture as unknown as GeneratorConfig) / 1e9;
  } catch {
    gflop = undefined; // a model whose metadata does not carry the architecture description
  }
  const peak = await MeasurePeakConvGflopsAsync();
  const floorMs = gflop !== undefined ? (gflop / peak.gflops) * 1000 : Number.NaN;

  const dir = await mkdtemp(join(tmpdir(), "npc-faces-bake-bench-"));
  try {
    const manifest = join(dir, "npcs.json");
    const npcs = Array.from({ length: FaceCount }, (_, i) => ({ id: `npc_${i}`, name: `NPC ${i}`, seed: 1000 + i }));
    await writeFile(manifest, JSON.stringify({ format: "npc-faces-manifest", formatVersion: 1, model: { sha256: Sha256Hex(bytes) }, npcs }));
    const rows: (string | number)[][] = [["engine", "workers", "faces", "s", "faces/s", "ms/face", "floor ms/face", "x floor", "scaling", "vs native"]];
    const rates = new Map<string, number>();
    // Native first, so the canonical rows can show their ratio to it (same machine, same run).
    for (const engine of [...FaceEngines].reverse()) {
      for (const workers of workerCounts) {
        // --force: every run does all the inference (worker start-up and model load included in the time).
        const summary = await BakeManifestFileAsync({ manifest, model: modelPath, outDir: join(dir, `out-${engine}-${workers}`), workers, engine, force: true });
        const rate = summary.baked / summary.seconds;
        rates.set(`${engine}/${workers}`, rate);
        const ms = 1000 / rate;
        const native = rates.get(`native/${workers}`)!;
        rows.push([engine, workers, summary.baked, summary.seconds, rate, ms, floorMs, ms / floorMs, rate / rates.get(`${engine}/${workerCounts[0]}`)!, rate / native]);
      }
    }
    const cached = await BakeManifestFileAsync({ manifest, model: modelPath, outDir: join(dir, `out-canonical-${workerCounts[0]}`) });
    return [
      `Bake (npc-faces bake --manifest, ${FaceCount} faces of "${metadata.name}" ${metadata.resolution}x${metadata.resolution}, batch 8): ` +
        `peak 3x3 conv ${peak.gflops.toFixed(1)} GFLOP/s (${peak.shape}), ${gflop !== undefined ? `${gflop.toFixed(3)} GFLOP/face` : "GFLOP/face unknown"}`,
      ...FormatTable(rows),
      `ms/face = wall time / faces (pool start, PNG encoding and atomic writes included); x floor = ms/face / floor (floor: GFLOP/face / peak, all cores); native: 1 worker runs onnxruntime's default threads (all cores), N workers 1 thread each; canonical: one WASM thread per worker (pinned: its bytes must not depend on the thread count); scaling = faces/s / faces/s with 1 worker of the same engine; vs native = faces/s / native faces/s with as many workers.`,
      `Unchanged rerun: ${cached.cached} cached, ${cached.baked} baked in ${(cached.seconds * 1000).toFixed(0)} ms.`,
    ];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
