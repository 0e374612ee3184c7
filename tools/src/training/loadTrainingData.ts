/**
 * Loads what `npc-faces train --data DIR` trains on: a data set built by `npc-faces dataset` (dataset.json +
 * packed tensor or PNGs, labels one-hot encoded per attribute value), or a plain folder of same-sized square
 * images (unlabelled). Every bad input ends in one clear message naming the file.
 */
import { readdir, stat } from "node:fs/promises";
import { extname, join } from "node:path";
import type { TrainingData } from "@npc-faces/trainer";
import { DatasetManifestFile, type DatasetImageEntry, type DatasetManifest } from "../dataset/datasetManifest.js";
import { FormerDatasetContentHashes, OpenDatasetAsync } from "../dataset/packedDataset.js";

const ImageExtensions = new Set([".png", ".jpg", ".jpeg", ".webp"]);

/** Label columns of a manifest: `attribute=value` for each categorical value, `attribute` for numeric ones. */
export function LabelColumns(schema: { categorical: Record<string, string[]>; numeric: Record<string, { min: number; max: number }> }): string[] {
  const columns: string[] = [];
  for (const attribute of Object.keys(schema.categorical).sort()) for (const value of schema.categorical[attribute]) columns.push(`${attribute}=${value}`);
  for (const attribute of Object.keys(schema.numeric).sort()) columns.push(attribute);
  return columns;
}

/**
 * The label columns a run conditions on when `--labels` names some: each name is a numeric label (one column,
 * preferred where a categorical label has the same name), a categorical attribute (one column per value) or one
 * `attribute=value` column. Order follows `names`, so it fixes the model's label vector.
 */
export function SelectLabelColumns(schema: { categorical: Record<string, string[]>; numeric: Record<string, { min: number; max: number }> }, names: readonly string[]): string[] {
  const columns: string[] = [];
  for (const name of names) {
    const eq = name.indexOf("=");
    if (name in schema.numeric) columns.push(name);
    else if (name in schema.categorical) columns.push(...schema.categorical[name].map((v) => `${name}=${v}`));
    else if (eq > 0 && schema.categorical[name.slice(0, eq)]?.includes(name.slice(eq + 1))) columns.push(name);
    else {
      const known = [...Object.keys(schema.numeric), ...Object.keys(schema.categorical).filter((k) => !(k in schema.numeric))].sort();
      throw new Error(`--labels: the data set has no label "${name}" (it has: ${known.join(", ") || "none"})`);
    }
  }
  if (new Set(columns).size !== columns.length) throw new Error(`--labels: a label column is named twice (${names.join(",")})`);
  return columns;
}

/** One image's label vector: 1/0 for `attribute=value` columns, numeric labels scaled to 0..1 by the schema's range. */
export function LabelVector(manifest: Pick<DatasetManifest, "labelSchema">, entry: Pick<DatasetImageEntry, "labels" | "numeric">, columns: readonly string[]): Float32Array {
  const out = new Float32Array(columns.length);
  columns.forEach((column, j) => {
    const eq = column.indexOf("=");
    if (eq >= 0) {
      if (entry.labels[column.slice(0, eq)] === column.slice(eq + 1)) out[j] = 1;
    } else {
      const range = manifest.labelSchema.numeric[column];
      const v = entry.numeric[column];
      if (range && v !== undefined) out[j] = (v - range.min) / Math.max(range.max - range.min, 1e-12);
    }
  });
  return out;
}

/** Mean label vector of a data set's training split: the label mix a conditional model was trained on. */
export function MeanTrainingLabels(manifest: Pick<DatasetManifest, "labelSchema" | "images">, columns: readonly string[]): Float32Array {
  const sum = new Float64Array(columns.length);
  let count = 0;
  for (const entry of manifest.images) {
    if (entry.split !== "train") continue;
    LabelVector(manifest, entry, columns).forEach((v, j) => (sum[j] += v));
    count++;
  }
  return Float32Array.from(sum, (v) => v / Math.max(count, 1));
}

/** Options of {@link LoadTrainingDataAsync}. */
export interface LoadTrainingDataOptions {
  /** Labels to keep (see {@link SelectLabelColumns}); default: every label column of the data set. */
  readonly labels?: readonly string[];
}

/** Reads a data set folder or a folder of images into memory. */
export async function LoadTrainingDataAsync(dir: string, options: LoadTrainingDataOptions = {}): Promise<TrainingData> {
  const info = await stat(dir).catch(() => null);
  if (!info) throw new Error(`--data ${dir}: no such folder`);
  if (!info.isDirectory()) throw new Error(`--data ${dir}: not a folder`);
  const names = await readdir(dir);
  if (names.includes(DatasetManifestFile)) return LoadDatasetAsync(dir, options);
  if (options.labels?.length) throw new Error(`--labels: ${dir} is a plain image folder without labels`);
  return LoadImageFolderAsync(dir, names);
}

async function LoadDatasetAsync(dir: string, options: LoadTrainingDataOptions): Promise<TrainingData> {
  const dataset = await OpenDatasetAsync(dir);
  try {
    const { manifest } = dataset;
    const train = manifest.images.map((entry, index) => ({ entry, index })).filter((x) => x.entry.split === "train");
    if (train.length === 0) throw new Error(`--data ${dir}: the data set has no training images`);
    const r = dataset.resolution;
    const size = r * r * 3;
    const images = new Uint8Array(train.length * size);
    for (let i = 0; i < train.length; i++) {
      try {
        images.set(await dataset.ReadImageAsync(train[i].index), i * size);
      } catch (error) {
        throw new Error(`--data ${dir}: cannot read ${train[i].entry.file}: ${(error as Error).message}`);
      }
    }
    const labelNames = options.labels?.length ? SelectLabelColumns(manifest.labelSchema, options.labels) : LabelColumns(manifest.labelSchema);
    let labels: Float32Array | null = null;
    if (labelNames.length > 0) {
      labels = new Float32Array(train.length * labelNames.length);
      train.forEach(({ entry }, i) => labels!.set(LabelVector(manifest, entry, labelNames), i * labelNames.length));
    }
    return { count: train.length, resolution: r, images, labelNames, labels, id: manifest.contentHash, formerIds: FormerDatasetContentHashes(manifest) };
  } finally {
    await dataset.CloseAsync();
  }
}

async function LoadImageFolderAsync(dir: string, names: string[]): Promise<TrainingData> {
  const files = names.filter((n) => ImageExtensions.has(extname(n).toLowerCase())).sort();
  if (files.length === 0) throw new Error(`--data ${dir}: no images (and no ${DatasetManifestFile}); build a data set with \`npc-faces dataset\` or point --data at a folder of PNG/JPEG images`);
  const sharp = (await import("sharp")).default;
  let first: { file: string; size: number } | null = null;
  const chunks: Uint8Array[] = [];
  for (const file of files) {
    let decoded: { data: Buffer; info: { width: number; height: number } };
    try {
      decoded = await sharp(join(dir, file)).removeAlpha().toColourspace("srgb").raw().toBuffer({ resolveWithObject: true });
    } catch (error) {
      throw new Error(`--data ${dir}: cannot read image ${file} (${(error as Error).message.split("\n")[0]})`);
    }
    const { width, height } = decoded.info;
    if (width !== height) throw new Error(`--data ${dir}: ${file} is ${width}x${height}, images must be square (use \`npc-faces dataset --source folder:${dir}\` to crop them)`);
    if (!first) first = { file, size: width };
    else if (width !== first.size) {
      throw new Error(`--data ${dir}: mixed sizes: ${first.file} is ${first.size}x${first.size}, ${file} is ${width}x${height} (use \`npc-faces dataset --source folder:${dir}\` to resize them)`);
    }
    chunks.push(new Uint8Array(decoded.data.buffer, decoded.data.byteOffset, decoded.data.byteLength));
  }
  const size = first!.size;
  if ((size & (size - 1)) !== 0 || size < 8) throw new Error(`--data ${dir}: images are ${size}x${size}; training needs a power of two >= 8`);
  const images = new Uint8Array(files.length * size * size * 3);
  chunks.forEach((c, i) => images.set(c, i * size * size * 3));
  return { count: files.length, resolution: size, images, labelNames: [], labels: null };
}
