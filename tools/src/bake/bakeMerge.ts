/**
 * Merging the outputs of a sharded bake (`--shard i/n`) into one folder: the faces are copied (hash-checked)
 * and the shards' `faces.shard-<i>-of-<n>.json` become one `faces.json`, byte for byte the one an unsharded bake
 * writes. `npc-faces bake merge` is its command line.
 */
import { readdir, readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { EnsureFolderAsync } from "./atomicWrite.js";
import { BuildAtlasAsync, type AtlasBuildSummary } from "./bakeAtlas.js";
import { Sha256Hex, WriteIfChangedAsync } from "./bakeCache.js";
import { BakedFacesFileName, ParseBakedFaces, SerializeBakedFaces, ShardManifestFilePattern, type BakedFace, type BakedFaces } from "./bakedFacesManifest.js";
import { CheckOutputFolderAsync } from "./bakeSeeds.js";
import type { AtlasSize } from "./atlasPacker.js";
import { PlanAtlas } from "./atlasPacker.js";

/** A merge that cannot be done; nothing was written. */
export class BakeMergeError extends Error {
  override readonly name = "BakeMergeError";
}

/** Options of {@link MergeBakeShardsAsync}. */
export interface MergeBakeShardsOptions {
  /** Folders holding the shards' outputs (one or more shard files each). */
  readonly shardDirs: readonly string[];
  readonly outDir: string;
  /** Also build the atlas of all faces. */
  readonly atlas?: AtlasSize;
}

/** What a merge did. */
export interface MergeBakeShardsSummary {
  readonly shards: number;
  readonly faces: number;
  /** Files copied (others were already identical in the output folder). */
  readonly copied: number;
  readonly facesFile: string;
  readonly atlas?: AtlasBuildSummary;
}

/**
 * Checks that the shard files form one complete bake (same tool, model, size and manifest size; shards 1..n
 * each exactly once; no id twice; every file present with its hash), then writes the merged folder.
 * @throws BakeMergeError before anything is written
 */
export async function MergeBakeShardsAsync(options: MergeBakeShardsOptions): Promise<MergeBakeShardsSummary> {
  if (options.shardDirs.length === 0) throw new BakeMergeError("no shard folders given");
  const found: { dir: string; file: string; doc: BakedFaces }[] = [];
  for (const dir of options.shardDirs) {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (error) {
      throw new BakeMergeError(`${dir}: cannot read the folder (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
    const shardFiles = names.filter((n) => ShardManifestFilePattern.test(n)).sort();
    if (shardFiles.length === 0) throw new BakeMergeError(`${dir}: no faces.shard-<i>-of-<n>.json (not the output of npc-faces bake --shard)`);
    for (const name of shardFiles) {
      const file = join(dir, name);
      try {
        found.push({ dir, file, doc: ParseBakedFaces(await readFile(file, "utf8"), file) });
      } catch (error) {
        throw new BakeMergeError((error as Error).message);
      }
    }
  }
  const first = found[0].doc;
  const count = first.shard?.count ?? 0;
  const seen = new Map<number, string>();
  for (const { file, doc } of found) {
    if (!doc.shard) throw new BakeMergeError(`${file}: has no shard field`);
    const differs =
      doc.shard.count !== count ? `${doc.shard.count} shards, not ${count}` :
      doc.model.sha256 !== first.model.sha256 ? `model ${doc.model.sha256.slice(0, 12)}…, not ${first.model.sha256.slice(0, 12)}…` :
      doc.tool !== first.tool ? `tool "${doc.tool}", not "${first.tool}"` :
      doc.size !== first.size ? `size ${doc.size}, not ${first.size}` :
      doc.npcCount !== first.npcCount ? `a manifest of ${doc.npcCount} NPCs, not ${first.npcCount}` : undefined;
    if (differs) throw new BakeMergeError(`${file}: not from the same bake as ${found[0].file} (${differs})`);
    const other = seen.get(doc.shard.index);
    if (other !== undefined) throw new BakeMergeError(`shard ${doc.shard.index}/${count} given twice (${other} and ${file})`);
    seen.set(doc.shard.index, file);
  }
  const missing = Array.from({ length: count }, (_, i) => i + 1).filter((i) => !seen.has(i));
  if (missing.length > 0) throw new BakeMergeError(`incomplete: shard${missing.length === 1 ? "" : "s"} ${missing.map((i) => `${i}/${count}`).join(", ")} missing`);

  const faces: Record<string, BakedFace> = {};
  const sources = new Map<string, string>();
  for (const { dir, file, doc } of found) {
    for (const [id, face] of Object.entries(doc.faces)) {
      if (sources.has(id)) throw new BakeMergeError(`"${id}" is in ${sources.get(id)} and ${file}`);
      sources.set(id, join(dir, face.file));
      faces[id] = face;
    }
  }
  if (sources.size !== first.npcCount) throw new BakeMergeError(`the shards hold ${sources.size} faces, the manifest had ${first.npcCount}`);
  const contents = new Map<string, Uint8Array>();
  for (const [id, path] of sources) {
    let png: Uint8Array;
    try {
      png = new Uint8Array(await readFile(path));
    } catch {
      throw new BakeMergeError(`${path}: missing (listed for "${id}")`);
    }
    if (Sha256Hex(png) !== faces[id].sha256) throw new BakeMergeError(`${path}: content does not match its hash in the shard's output manifest`);
    contents.set(id, png);
  }
  if (options.atlas) PlanAtlas(options.atlas, first.size, [...sources.keys()]); // too small: fail before writing
  await CheckOutputFolderAsync(options.outDir);

  const outDir = resolve(options.outDir);
  await EnsureFolderAsync(outDir);
  let copied = 0;
  for (const [id, png] of contents) if (await WriteIfChangedAsync(join(outDir, faces[id].file), png)) copied++;
  const { shard: _shard, ...merged } = first;
  const document: BakedFaces = { ...merged, faces };
  const facesFile = join(outDir, BakedFacesFileName);
  await WriteIfChangedAsync(facesFile, new TextEncoder().encode(SerializeBakedFaces(document)));
  const atlas = options.atlas ? await BuildAtlasAsync(outDir, document, options.atlas) : undefined;
  return { shards: count, faces: sources.size, copied, facesFile, ...(atlas ? { atlas } : {}) };
}
