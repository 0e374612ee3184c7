/**
 * The incremental-bake cache. The cache is the output folder itself: every baked PNG carries, in a text chunk,
 * the key it was baked for, and a face counts as done only when its file exists, is a complete PNG (every chunk
 * CRC-checked up to IEND) and carries the expected key. Files are only ever renamed into place complete
 * (WriteFileAtomicAsync), so a bake killed at any point leaves finished faces that are reused, and at most
 * temporary files, which {@link RemoveStaleTempFilesAsync} deletes on the next run.
 */
import type { FaceEngine } from "@npc-faces/runtime/node";
import { createHash } from "node:crypto";
import { readdir, readFile, unlink } from "node:fs/promises";
import { WriteFileAtomicAsync } from "./atomicWrite.js";
import { join } from "node:path";
import type { BakeParameters } from "./bakeProvenance.js";
import { ReadPngText } from "./pngProvenance.js";
import { CanonicalJson } from "../canonicalJson.js";

/** PNG text keyword of the cache key. */
export const CacheKeyKeyword = "npc-faces:cache-key";
/** PNG text keyword of the NPC id. */
export const NpcIdKeyword = "npc-faces:npc-id";
/** Version of the byte format of baked files (PNG encoder, chunk layout): part of every key. */
export const BakeOutputFormat = "png-1";

/** Everything that decides the bytes of a baked face. */
export interface FaceCacheKeyInput {
  /** SHA-256 of the model file. */
  readonly modelSha256: string;
  /** `npc-faces <version>`: written into the file, so it shapes the bytes. */
  readonly tool: string;
  /** canonical or native: native pixels differ slightly, so neither engine's files stand in for the other's. */
  readonly engine: FaceEngine;
  readonly npcId: string;
  readonly seed: number;
  /** The resolved parameters (defaults filled in), output size included. */
  readonly params: BakeParameters;
  readonly labels?: Readonly<Record<string, string>>;
}

/** SHA-256 (hex) of model hash + resolved request + output options: the cache key of one face. */
export function FaceCacheKey(input: FaceCacheKeyInput): string {
  return createHash("sha256")
    .update(CanonicalJson({ output: BakeOutputFormat, ...input, labels: input.labels ?? {} }))
    .digest("hex");
}

/** SHA-256 of bytes, lowercase hex. */
export function Sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** A baked face found valid in the output folder. */
export interface CachedFace {
  readonly sha256: string;
  readonly width: number;
  readonly height: number;
  readonly bytes: number;
}

/**
 * Checks whether `path` holds a complete face baked for `key`.
 * @returns its hash and size, or undefined when the file is missing, damaged, or baked for another key
 */
export async function CheckCachedFaceAsync(path: string, key: string): Promise<CachedFace | undefined> {
  let png: Uint8Array;
  try {
    png = new Uint8Array(await readFile(path));
  } catch {
    return undefined;
  }
  try {
    // ReadPngText walks every chunk, checks each CRC and demands IEND: a truncated or altered file fails here.
    if (ReadPngText(png)[CacheKeyKeyword] !== key) return undefined;
  } catch {
    return undefined;
  }
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  return { sha256: Sha256Hex(png), width: view.getUint32(16), height: view.getUint32(20), bytes: png.length };
}

/** Temporary files of WriteFileAtomicAsync: `.<name>.<pid>-<12 hex>.tmp`. */
const TempFilePattern = /^\..+\.(\d+)-[0-9a-f]{12}\.tmp$/;

function IsProcessAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Deletes temporary files left in `dir` by bakes that were killed (their process is gone); files of a bake
 * still running are kept. A missing folder is fine.
 * @returns the number of files removed
 */
export async function RemoveStaleTempFilesAsync(dir: string): Promise<number> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    const match = TempFilePattern.exec(name);
    if (!match || IsProcessAlive(Number(match[1]))) continue;
    await unlink(join(dir, name)).then(
      () => removed++,
      () => undefined,
    );
  }
  return removed;
}

/** Writes `bytes` atomically unless the file already holds exactly them (unchanged outputs keep their mtime). */
export async function WriteIfChangedAsync(path: string, bytes: Uint8Array): Promise<boolean> {
  const old = await readFile(path).catch(() => undefined);
  if (old && Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).equals(old)) return false;
  await WriteFileAtomicAsync(path, bytes);
  return true;
}
