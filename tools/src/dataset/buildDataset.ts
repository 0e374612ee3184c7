/**
 * Builds a data set: validates the request, renders every image on the worker pool, writes PNGs (and the
 * packed tensor) in index order into a staging folder, then writes dataset.json and moves the folder into
 * place (see datasetWriter.ts). Same options → byte-identical folder.
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { CreateDatasetSourceAsync } from "./createDatasetSource.js";
import {
  DefaultBackground,
  ParseBackground,
  ParseSourceText,
  type DatasetSourceInfo,
  type FolderFit,
  type SourceSpec,
} from "./datasetSources.js";
import {
  DatasetContentHash,
  DatasetFormat,
  DatasetFormatVersion,
  SerialiseDatasetManifest,
  type DatasetImageEntry,
  type DatasetManifest,
} from "./datasetManifest.js";
import { BeginDatasetOutputAsync, CheckOutputDirAsync, type DatasetStaging } from "./datasetWriter.js";
import { DefaultWorkerCount, RunRenderPoolAsync } from "./datasetWorkerPool.js";
import { DefaultMinImageSize, ScanImageFolderAsync } from "./folderSource.js";
import { PackedDatasetWriter, PackedFileName } from "./packedDataset.js";
import { ToolsVersion } from "./packageVersions.js";
import type { RenderJob } from "./renderJob.js";
import { DeriveImageSeed, HashSeed, HashString, SeededPermutation } from "./seededRandom.js";

/** Largest `--count`. */
export const MaxDatasetCount = 10_000_000;
/** Accepted resolutions: powers of two (what the progressive generator grows to). */
export const MinResolution = 8;
export const MaxResolution = 1024;

/** What to build. */
export interface BuildDatasetOptions {
  /** `facesjs`, `dicebear:<style>` or `folder:PATH`. */
  source: string;
  /** Images to make; required for generators, optional for folders (default: all usable files). */
  count?: number;
  /** Side length in pixels (power of two, 8..1024). */
  res: number;
  out: string;
  seed?: number;
  /** Fraction of images set aside for evaluation, 0 ≤ f < 1 (default 0). */
  holdout?: number;
  workers?: number;
  /** `#rrggbb` or `seeded` (default {@link DefaultBackground}). */
  background?: string;
  /** Folder sources: make images square by cropping (default) or padding. */
  fit?: FolderFit;
  /** Folder sources: smallest accepted side (default {@link DefaultMinImageSize}). */
  minSize?: number;
  /** Also write images.npy (default true). */
  pack?: boolean;
  /** Replace an existing complete data set at `out`. */
  force?: boolean;
  /** Folder sources: licence name and credit text to record. */
  licence?: string;
  credits?: string;
  signal?: AbortSignal;
  /** Progress: items processed so far of `total` (folders count skipped files too). */
  onProgress?: (done: number, total: number) => void;
}

/** What was built. */
export interface BuildDatasetResult {
  dir: string;
  manifest: DatasetManifest;
  contentHash: string;
  /** 0 when the jobs ran on the calling thread. */
  workerThreads: number;
  seconds: number;
}

/** Thrown for invalid requests (bad option values); the CLI reports these as usage errors. */
export class DatasetOptionsError extends Error {
  override readonly name = "DatasetOptionsError";
}

function IsPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
}

/** Checks option values; throws {@link DatasetOptionsError} with a message naming the option. */
export function ValidateBuildOptions(options: BuildDatasetOptions): void {
  const fail = (message: string): never => {
    throw new DatasetOptionsError(message);
  };
  let parsed;
  try {
    parsed = ParseSourceText(options.source);
  } catch (error) {
    fail(`--source: ${(error as Error).message}`);
  }
  if (options.count !== undefined && (!Number.isInteger(options.count) || options.count < 1 || options.count > MaxDatasetCount)) {
    fail(`--count must be an integer in 1..${MaxDatasetCount}, got ${options.count}`);
  }
  if (options.count === undefined && parsed!.kind !== "folder") fail(`--count is required for the ${options.source} source`);
  if (!IsPowerOfTwo(options.res) || options.res < MinResolution || options.res > MaxResolution) {
    fail(`--res must be a power of two in ${MinResolution}..${MaxResolution}, got ${options.res}`);
  }
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) fail(`--seed must be an integer in 0..4294967295, got ${seed}`);
  const holdout = options.holdout ?? 0;
  if (!(holdout >= 0 && holdout < 1)) fail(`--holdout must be a fraction in [0, 1), got ${holdout}`);
  if (options.workers !== undefined && (!Number.isInteger(options.workers) || options.workers < 1 || options.workers > 256)) {
    fail(`--workers must be an integer in 1..256, got ${options.workers}`);
  }
  try {
    ParseBackground(options.background ?? DefaultBackground);
  } catch (error) {
    fail(`--background: ${(error as Error).message}`);
  }
  if (options.fit !== undefined && options.fit !== "crop" && options.fit !== "pad") fail(`--fit must be crop or pad, got ${options.fit}`);
  if (options.minSize !== undefined && (!Number.isInteger(options.minSize) || options.minSize < 1)) fail(`--min-size must be a positive integer`);
  if (!options.out) fail("--out is required");
}

/** Holdout indices: a seeded choice of round(f·N) images (at least one left for training). */
export function ChooseHoldout(count: number, fraction: number, seed: number): number[] {
  const holdout = Math.min(Math.round(count * fraction), count - 1);
  if (holdout <= 0) return [];
  return SeededPermutation(count, HashSeed(seed, HashString("holdout")))
    .slice(0, holdout)
    .sort((a, b) => a - b);
}

/** Builds a data set (see the module comment). */
export async function BuildDatasetAsync(options: BuildDatasetOptions): Promise<BuildDatasetResult> {
  const started = performance.now();
  ValidateBuildOptions(options);
  const parsed = ParseSourceText(options.source);
  const seed = options.seed ?? 0;
  const background = ParseBackground(options.background ?? DefaultBackground);
  // Fail on an unusable output before rendering anything.
  const outProblem = await CheckOutputDirAsync(options.out, options.force ?? false);
  if (outProblem) throw new Error(outProblem);

  let spec: SourceSpec;
  if (parsed.kind === "folder") {
    const files = await ScanImageFolderAsync(parsed.path);
    if (files.length === 0) throw new Error(`no usable images in ${parsed.path}: no PNG, JPEG or WebP files found`);
    spec = { kind: "folder", root: parsed.path, files, fit: options.fit ?? "crop", minSize: options.minSize ?? DefaultMinImageSize, background };
  } else if (parsed.kind === "dicebear") {
    spec = { kind: "dicebear", style: parsed.style, background };
  } else {
    spec = { kind: "facesjs", background };
  }
  const folderLicence = { name: options.licence, credits: options.credits };
  // The main thread's copy supplies the info (licence, versions, labels) and checks the packages load.
  const info: DatasetSourceInfo = (await CreateDatasetSourceAsync(spec, folderLicence)).info;
  const total = spec.kind === "folder" ? spec.files.length : options.count!;
  const wanted = options.count ?? total;
  const jobs: RenderJob[] = Array.from({ length: total }, (_, index) => ({ index, seed: DeriveImageSeed(seed, index) }));

  const staging: DatasetStaging = await BeginDatasetOutputAsync(options.out, options.force ?? false);
  const pack = options.pack ?? true;
  let packed: PackedDatasetWriter | null = null;
  try {
    packed = pack ? await PackedDatasetWriter.CreateAsync(join(staging.stagingDir, PackedFileName), options.res) : null;
    const digits = Math.max(6, String(wanted - 1).length);
    const images: Omit<DatasetImageEntry, "split">[] = [];
    const skipped = { unreadable: 0, tiny: 0, duplicate: 0 };
    const seenFiles = new Set<string>();
    const { workerThreads } = await RunRenderPoolAsync({
      spec,
      res: options.res,
      jobs,
      workers: options.workers ?? DefaultWorkerCount(),
      signal: options.signal,
      folderLicence,
      onResult: async (jobNumber, { outcome, png }) => {
        options.onProgress?.(jobNumber + 1, total);
        if (!outcome.ok) {
          skipped[outcome.reason]++;
          return;
        }
        const image = outcome.image;
        if (image.sourceHash !== undefined) {
          if (seenFiles.has(image.sourceHash)) {
            skipped.duplicate++;
            return;
          }
          seenFiles.add(image.sourceHash);
        }
        const file = `images/${String(images.length).padStart(digits, "0")}.png`;
        await staging.writeFileAsync(file, png!);
        await packed?.AppendAsync(image.rgb);
        images.push({
          file,
          pixelSha256: createHash("sha256").update(image.rgb).digest("hex"),
          ...(spec.kind === "folder" ? { origin: image.origin } : { seed: jobs[jobNumber].seed }),
          labels: image.labels,
          numeric: image.numeric,
        });
        if (images.length >= wanted) return false;
      },
    });
    if (images.length === 0) {
      throw new Error(
        `no usable images in ${options.source.slice("folder:".length)}: ${skipped.unreadable} unreadable, ${skipped.tiny} smaller than ${options.minSize ?? DefaultMinImageSize} px, ${skipped.duplicate} duplicates`,
      );
    }
    const packedInfo = packed ? await packed.CloseAsync() : null;
    packed = null;
    const holdoutIndices = ChooseHoldout(images.length, options.holdout ?? 0, seed);
    const holdoutSet = new Set(holdoutIndices);
    const body: Omit<DatasetManifest, "contentHash"> = {
      format: DatasetFormat,
      formatVersion: DatasetFormatVersion,
      source: { spec: info.spec, kind: info.kind, title: info.title },
      generator: { name: "@npc-faces/tools", version: ToolsVersion() },
      versions: info.versions,
      licence: info.licence,
      seed,
      count: images.length,
      resolution: options.res,
      channels: 3,
      background,
      fit: spec.kind === "folder" ? spec.fit : null,
      imageFormat: "png",
      holdout: { fraction: options.holdout ?? 0, count: holdoutIndices.length, indices: holdoutIndices },
      labelSchema: info.labelSchema,
      skipped,
      packed: packedInfo
        ? {
            file: PackedFileName,
            dtype: "uint8",
            layout: "NHWC",
            shape: [images.length, options.res, options.res, 3],
            byteLength: packedInfo.byteLength,
            offset: packedInfo.offset,
            sha256: packedInfo.sha256,
          }
        : null,
      images: images.map((image, i) => ({ ...image, split: holdoutSet.has(i) ? "holdout" : "train" })),
    };
    const contentHash = DatasetContentHash(body);
    const manifest: DatasetManifest = { ...body, contentHash };
    await staging.commitAsync(SerialiseDatasetManifest(manifest));
    return { dir: staging.outDir, manifest, contentHash, workerThreads, seconds: (performance.now() - started) / 1000 };
  } catch (error) {
    await packed?.DiscardAsync();
    await staging.abortAsync();
    throw error;
  }
}
