/**
 * The output manifest of a manifest bake (contract, see docs/baking.md): `faces.json` maps each NPC id to its
 * file and content hash. A sharded bake writes `faces.shard-<i>-of-<n>.json` instead (same document plus a
 * `shard` field); merging the shards' files gives exactly the `faces.json` of one unsharded bake.
 */
import { z } from "zod";
import { NpcIdPattern } from "@npc-faces/runtime";
import type { BakeShard } from "./shard.js";

/** Value of the `format` field. */
export const BakedFacesFormatName = "npc-faces-baked";
/** Version of the document. */
export const BakedFacesFormatVersion = 1;
/** File name of an unsharded (or merged) bake's output manifest. */
export const BakedFacesFileName = "faces.json";

/** File name of shard `index` of `count`'s output manifest. */
export function ShardManifestFileName(shard: BakeShard): string {
  return `faces.shard-${shard.index}-of-${shard.count}.json`;
}

/** Pattern of shard output manifest names (captures index and count). */
export const ShardManifestFilePattern = /^faces\.shard-(\d+)-of-(\d+)\.json$/;

const Sha256 = z.string().regex(/^[0-9a-f]{64}$/);

/** One baked face. */
export const BakedFaceSchema = z.strictObject({
  /** File name inside the output folder: `<npc id>.png`, never a path (a merge must not write elsewhere). */
  file: z.string().regex(new RegExp(`^${NpcIdPattern.source.slice(1, -1)}\\.png$`), "expected a plain <npc id>.png file name"),
  /** SHA-256 of the file, lowercase hex. */
  sha256: Sha256,
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  /** The cache key the file was baked for (see bakeCache.ts). */
  key: Sha256,
});
export type BakedFace = z.infer<typeof BakedFaceSchema>;

/** The whole document. */
export const BakedFacesSchema = z.strictObject({
  format: z.literal(BakedFacesFormatName),
  formatVersion: z.literal(BakedFacesFormatVersion),
  /** `npc-faces <version>` that baked the files. */
  tool: z.string(),
  model: z.strictObject({ name: z.string(), sha256: Sha256 }),
  /** Side of every face in pixels. */
  size: z.number().int().positive(),
  /** NPCs in the whole manifest (all shards together). */
  npcCount: z.number().int().nonnegative(),
  /** Only in a shard's file. */
  shard: z.strictObject({ index: z.number().int().positive(), count: z.number().int().positive() }).optional(),
  /** By NPC id, sorted by id. */
  faces: z.record(z.string(), BakedFaceSchema),
});
export type BakedFaces = z.infer<typeof BakedFacesSchema>;

/** Canonical text of a document: ids sorted (code-unit order), 2-space indent, final newline; same input, same bytes. */
export function SerializeBakedFaces(doc: BakedFaces): string {
  const faces: Record<string, BakedFace> = {};
  for (const id of Object.keys(doc.faces).sort(CompareIds)) {
    const f = doc.faces[id];
    faces[id] = { file: f.file, sha256: f.sha256, width: f.width, height: f.height, key: f.key };
  }
  const ordered: BakedFaces = {
    format: doc.format,
    formatVersion: doc.formatVersion,
    tool: doc.tool,
    model: { name: doc.model.name, sha256: doc.model.sha256 },
    size: doc.size,
    npcCount: doc.npcCount,
    ...(doc.shard ? { shard: { index: doc.shard.index, count: doc.shard.count } } : {}),
    faces,
  };
  return `${JSON.stringify(ordered, null, 2)}\n`;
}

/**
 * Parses an output manifest.
 * @throws Error naming the file and the first problem's path
 */
export function ParseBakedFaces(text: string, source: string): BakedFaces {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`${source}: not valid JSON (${(error as Error).message})`);
  }
  const result = BakedFacesSchema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new Error(`${source}: not an npc-faces output manifest (${issue.path.join(".") || "(document)"}: ${issue.message})`);
  }
  return result.data;
}

/** Order of ids everywhere (files, atlases): plain code-unit order, locale-independent. */
export function CompareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
