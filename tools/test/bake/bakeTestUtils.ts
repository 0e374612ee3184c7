/**
 * Shared helpers of the manifest-bake tests: manifests, folder snapshots, and the built CLI.
 */
import { createHash } from "node:crypto";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { RunCliAsync, type CliResult } from "../cli/cliTestData.js";

export { ExportTinyModelAsync, RunCliAsync, type CliResult } from "../cli/cliTestData.js";

/** One manifest NPC (fields as in docs/manifest.md). */
export type TestNpc = { id: string; name: string; seed: number } & Record<string, unknown>;

/** `count` NPCs `npc_000`..: seeds 7k+1, every fifth with psi 0.5. */
export function TestNpcs(count: number): TestNpc[] {
  return Array.from({ length: count }, (_, i) => ({ id: `npc_${String(i).padStart(3, "0")}`, name: `NPC ${i}`, seed: 7 * i + 1, ...(i % 5 === 0 ? { psi: 0.5 } : {}) }));
}

/** Writes a manifest for `modelSha256` and returns its path. */
export async function WriteManifestAsync(path: string, modelSha256: string, npcs: readonly unknown[]): Promise<string> {
  await writeFile(path, JSON.stringify({ format: "npc-faces-manifest", formatVersion: 1, model: { sha256: modelSha256, name: "tiny" }, npcs }, null, 2));
  return path;
}

/** SHA-256 of a file, hex. */
export async function FileSha256Async(path: string): Promise<string> {
  return createHash("sha256").update(await readFile(path)).digest("hex");
}

/** Every file of a folder (not recursive) by name -> bytes. */
export async function SnapshotAsync(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const name of (await readdir(dir)).sort()) out.set(name, await readFile(join(dir, name)));
  return out;
}

/** True when two snapshots have the same names and bytes. */
export function SameSnapshot(a: Map<string, Buffer>, b: Map<string, Buffer>): boolean {
  if (a.size !== b.size) return false;
  for (const [name, bytes] of a) if (!b.get(name)?.equals(bytes)) return false;
  return true;
}

/** `npc-faces bake --model <model> ...args`. */
export function BakeCliAsync(model: string, args: readonly string[]): Promise<CliResult> {
  return RunCliAsync(["bake", "--model", model, "--no-progress", ...args]);
}
