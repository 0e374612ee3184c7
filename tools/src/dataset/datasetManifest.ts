/**
 * `dataset.json`: the schema (zod) of a finished data set's manifest, its content hash, and reading it.
 *
 * The manifest is written last, so its presence marks a complete data set. The content hash is the SHA-256
 * of the manifest's canonical JSON (sorted keys) without the `contentHash` field; the manifest lists every image's pixel hash, so
 * the hash covers pixels, labels, split and settings, and not PNG compression details.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { CanonicalJson } from "../canonicalJson.js";

/** File name of the manifest inside a data-set folder. */
export const DatasetManifestFile = "dataset.json";
/** `format` value of every manifest. */
export const DatasetFormat = "npc-faces-dataset";
/** Current manifest layout version. */
export const DatasetFormatVersion = 1;

const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, "expected a lowercase hex SHA-256");

/** One image's entry. */
export const DatasetImageSchema = z.object({
  /** Path of the PNG relative to the data-set folder, e.g. `images/000042.png`. */
  file: z.string().min(1),
  /** SHA-256 of the image's raw RGB pixels (R×R×3 bytes, row-major). */
  pixelSha256: Sha256,
  split: z.enum(["train", "holdout"]),
  /** Per-image seed (generators). */
  seed: z.number().int().min(0).max(0xffffffff).optional(),
  /** Source file relative to the folder (folder sources). */
  origin: z.string().optional(),
  labels: z.record(z.string(), z.string()),
  numeric: z.record(z.string(), z.number()),
});

/** Packed pixels: all images in one uint8 tensor. */
export const PackedSchema = z.object({
  file: z.string().min(1),
  dtype: z.literal("uint8"),
  layout: z.literal("NHWC"),
  shape: z.tuple([z.number().int().positive(), z.number().int().positive(), z.number().int().positive(), z.literal(3)]),
  /** Bytes of the pixels (after `offset`). */
  byteLength: z.number().int().positive(),
  /** Where the pixels start: 128 in `images.npy` (its header), 0 in the headerless `images.u8` of older data sets. */
  offset: z.number().int().nonnegative().default(0),
  /** SHA-256 of the pixels. */
  sha256: Sha256,
});

/** The whole manifest. */
export const DatasetManifestSchema = z.object({
  format: z.literal(DatasetFormat),
  formatVersion: z.literal(DatasetFormatVersion),
  source: z.object({
    spec: z.string(),
    kind: z.enum(["facesjs", "dicebear", "folder"]),
    title: z.string(),
  }),
  generator: z.object({ name: z.string(), version: z.string() }),
  versions: z.record(z.string(), z.string()),
  licence: z.object({
    name: z.string(),
    url: z.string().nullable(),
    credits: z.string(),
    attributionRequired: z.boolean(),
  }),
  seed: z.number().int().min(0).max(0xffffffff),
  count: z.number().int().positive(),
  resolution: z.number().int().positive(),
  channels: z.literal(3),
  background: z.string(),
  fit: z.enum(["crop", "pad"]).nullable(),
  imageFormat: z.literal("png"),
  holdout: z.object({
    fraction: z.number().min(0).max(1),
    count: z.number().int().min(0),
    indices: z.array(z.number().int().min(0)),
  }),
  labelSchema: z.object({
    categorical: z.record(z.string(), z.array(z.string())),
    numeric: z.record(z.string(), z.object({ min: z.number(), max: z.number(), description: z.string() })),
  }),
  skipped: z.object({ unreadable: z.number().int(), tiny: z.number().int(), duplicate: z.number().int() }),
  packed: PackedSchema.nullable(),
  images: z.array(DatasetImageSchema),
  contentHash: Sha256,
});

/** A parsed, validated `dataset.json`. */
export type DatasetManifest = z.infer<typeof DatasetManifestSchema>;
/** One image entry of a manifest. */
export type DatasetImageEntry = z.infer<typeof DatasetImageSchema>;

/** The content hash of a manifest: SHA-256 of its canonical JSON without `contentHash`. */
export function DatasetContentHash(manifest: Omit<DatasetManifest, "contentHash"> | DatasetManifest): string {
  const { contentHash: _ignored, ...rest } = manifest as DatasetManifest;
  return createHash("sha256").update(CanonicalJson(rest)).digest("hex");
}

/** The exact bytes written to dataset.json (pretty-printed, trailing newline). */
export function SerialiseDatasetManifest(manifest: DatasetManifest): string {
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

/**
 * Reads and validates `DIR/dataset.json`: schema, internal consistency (counts, shapes) and content hash.
 * Throws with a clear message when the folder is not a complete data set.
 */
export async function ReadDatasetAsync(dir: string): Promise<DatasetManifest> {
  const path = join(dir, DatasetManifestFile);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    throw new Error(`${dir} is not a complete npc-faces data set (no ${DatasetManifestFile})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`${path} is not valid JSON: ${(error as Error).message}`);
  }
  const parsed = DatasetManifestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${path} is not a valid data-set manifest: ${issue.path.join(".") || "(root)"}: ${issue.message}`);
  }
  const manifest = parsed.data;
  if (manifest.images.length !== manifest.count) throw new Error(`${path}: count ${manifest.count} but ${manifest.images.length} images listed`);
  if (manifest.holdout.indices.length !== manifest.holdout.count) throw new Error(`${path}: holdout count does not match its indices`);
  if (manifest.packed) {
    const [n, h, w] = manifest.packed.shape;
    if (n !== manifest.count || h !== manifest.resolution || w !== manifest.resolution) throw new Error(`${path}: packed shape does not match count/resolution`);
  }
  // Hash the JSON as read (a parsed copy drops fields this version does not know).
  const expected = DatasetContentHash(json as DatasetManifest);
  if (expected !== manifest.contentHash) throw new Error(`${path}: content hash mismatch (the manifest was edited or is corrupt)`);
  return manifest;
}
