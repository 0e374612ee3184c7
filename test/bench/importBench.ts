/**
 * Import benchmark (issue 20): ms per face of imported StyleGAN2 generators at 256 and 1024 px through FaceGenerator
 * on onnxruntime-node (this CPU, default threads), next to the same sizes with the npc-faces architecture (what
 * NVIDIA's zero-bordered filters, transposed-conv up-sampling and conv_clamp cost). The generators have NVIDIA's
 * published sizes (z = w = 512, 8 mapping layers, channel_base 16384 at 256 px and 32768 at 1024 px, channel_max 512,
 * conv_clamp 256) and seeded random weights. When NPC_FACES_STYLEGAN2_ADA names a stylegan2-ada-pytorch checkout (and
 * a Python with torch is found, see nvidiaReference.ts), the weights come from a real NVIDIA pickle written by
 * tools/scripts/importParity.py and go through `npc-faces import` (its time is reported), with NVIDIA's own
 * per-face time on this CPU from the same script.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FaceGenerator, type FaceRequest } from "@npc-faces/runtime";
import { CreateNodeBackend } from "@npc-faces/runtime/node";
import { ExportGeneratorOnnx, GeneratorFlopsPerFace, InitializeGeneratorWeights, type GeneratorConfig } from "@npc-faces/trainer";
import { ImportCheckpointAsync, RepoRoot } from "@npc-faces/tools";
import { FormatTable, MedianMsAsync } from "./benchUtil.js";
import { DefaultTorchPython, StyleGan2CheckoutVariable, TorchPythonVariable } from "./nvidiaReference.js";

/** NVIDIA's sizes at a resolution, with the options `npc-faces import` sets for its pickles. */
function NvidiaConfig(resolution: number, imported: boolean): GeneratorConfig {
  const base: GeneratorConfig = { resolution, zDim: 512, wDim: 512, labelDim: 0, mappingLayers: 8, mappingLrMultiplier: 0.01, channelBase: resolution < 512 ? 16384 : 32768, channelMax: 512 };
  return imported ? { ...base, resampling: "zeroPad", upsampleConv: "transposedConv", convClamp: 256, synthesis: "skip", noise: "seeded" } : base;
}

/** A model with seeded random weights (w_avg left at 0: the figures do not depend on it). */
function RandomModel(config: GeneratorConfig): Uint8Array {
  return ExportGeneratorOnnx({ config, weights: InitializeGeneratorWeights(config, 1), name: "bench", controls: [], provenance: { trained: false, licenses: [], credits: [], kimg: 0, tool: "npc-faces bench" } });
}

/** The imported model from a real NVIDIA pickle, or undefined (and why) when the checkout is not configured. */
async function NvidiaPickleModelAsync(resolution: number): Promise<{ bytes: Uint8Array; importSeconds: number; nvidiaSeconds: number } | string> {
  const checkout = process.env[StyleGan2CheckoutVariable];
  if (!checkout) return `${StyleGan2CheckoutVariable} not set`;
  const python = process.env[TorchPythonVariable] ?? DefaultTorchPython;
  if (!existsSync(python)) return `${python} not found`;
  const scratch = mkdtempSync(join(tmpdir(), "npc-faces-import-bench-"));
  try {
    execFileSync(python, [join(RepoRoot, "tools", "scripts", "importParity.py"), scratch, "nvidia", String(resolution)], { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env } });
    const reference = JSON.parse(readFileSync(join(scratch, `nvidia-${resolution}.json`), "utf8")) as { file: string; seconds: number };
    const file = new Uint8Array(readFileSync(join(scratch, reference.file)));
    const started = performance.now();
    const { bytes } = await ImportCheckpointAsync({ bytes: file, fileName: reference.file, licence: "bench", controls: 4 });
    return { bytes, importSeconds: (performance.now() - started) / 1000, nvidiaSeconds: reference.seconds };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

async function MsPerFaceAsync(bytes: Uint8Array, batch: number): Promise<number> {
  const generator = await FaceGenerator.loadAsync(bytes, { backend: CreateNodeBackend(), maxBatch: batch });
  const requests: FaceRequest[] = Array.from({ length: batch }, (_, i) => ({ seed: 1000 + i }));
  const ms = (await MedianMsAsync(() => generator.generateAsync(requests), { warmup: 1, minRuns: 3, minMs: 2000 })) / batch;
  await generator.disposeAsync();
  return ms;
}

/** Runs the import benchmark and returns the lines to print. */
export async function RunImportBenchAsync(resolutions = [256, 1024]): Promise<string[]> {
  const rows: (string | number)[][] = [["resolution", "GFLOP/face", "weights", "import s", "imported ms/face", "npc-faces arch ms/face", "imported / npc-faces"]];
  const notes: string[] = [];
  for (const resolution of resolutions) {
    const imported = NvidiaConfig(resolution, true);
    const real = await NvidiaPickleModelAsync(resolution);
    const bytes = typeof real === "string" ? RandomModel(imported) : real.bytes;
    const ms = await MsPerFaceAsync(bytes, 1);
    const own = await MsPerFaceAsync(RandomModel(NvidiaConfig(resolution, false)), 1);
    rows.push([`${resolution} px`, GeneratorFlopsPerFace(imported) / 1e9, typeof real === "string" ? "random (TS)" : "NVIDIA pickle", typeof real === "string" ? "-" : real.importSeconds, ms, own, ms / own]);
    notes.push(typeof real === "string" ? `${resolution} px: not imported from a pickle (${real}); NVIDIA not measured` : `${resolution} px: NVIDIA's own generator on this CPU (torch, 2 threads, force_fp32, one call): ${(real.nvidiaSeconds * 1000).toFixed(0)} ms/face`);
  }
  return ["Imported generators (NVIDIA sizes, conv_clamp 256), batch 1, onnxruntime-node CPU, default threads, seeded noise:", ...FormatTable(rows), ...notes];
}
