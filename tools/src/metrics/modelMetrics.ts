/**
 * Quality metrics of a model file (or any face generator) against a data-set folder, and the data set's own
 * "floor": the trainer's source-agnostic metrics (`ComputeMetricsAsync`, `ComputeFloorMetricsAsync` in
 * `@npc-faces/trainer`) fed from a data set built by `npc-faces dataset` and a model loaded with
 * onnxruntime-node. These live in the tools package because the data-set reader and onnxruntime-node do.
 *
 * Data images: the held-out split (images the model never trained on), or the training split when the data
 * set holds out fewer than 2 images (then the figures also reward memorisation; `dataSplit` says which).
 */
import { stat } from "node:fs/promises";
import type { FaceGenerator } from "@npc-faces/runtime";
import { LoadFaceGeneratorFileAsync } from "@npc-faces/runtime/node";
import {
  ComputeFloorMetricsAsync,
  ComputeMetricsAsync,
  DefaultMetricsCount,
  type GeneratedImageSource,
  type ImageMetrics,
  type MetricsImageSet,
  type MetricsProgress,
  type ModelMetrics,
} from "@npc-faces/trainer";
import { DatasetManifestFile } from "../dataset/datasetManifest.js";
import { OpenDatasetAsync, type OpenedDataset } from "../dataset/packedDataset.js";
import { RecallByLabelOf, type RecallByLabel } from "./recallByLabel.js";

/** Which split the generated images were compared against. */
export type MetricsDataSplit = "holdout" | "train";

/** A model's figures plus where the data came from. */
export interface ModelMetricsReport extends Omit<ModelMetrics, "recalled"> {
  /** The data-set folder. */
  readonly data: string;
  /** Content hash of the data set (figures compare only on the same data set). */
  readonly dataset: string;
  readonly dataSplit: MetricsDataSplit;
  /** With `recallBy`: recall per value of those categorical labels of the data images (./recallByLabel.ts). */
  readonly recallByLabel?: RecallByLabel;
}

/** The data set's floor plus where the data came from. */
export interface DataFloorReport extends ImageMetrics {
  readonly data: string;
  readonly dataset: string;
}

/** The images of one split of an opened data set, in data-set order. */
function SplitImages(dataset: OpenedDataset, split: MetricsDataSplit): MetricsImageSet & { readonly indices: readonly number[] } {
  const indices = dataset.manifest.images.flatMap((entry, index) => (entry.split === split ? [index] : []));
  const r = dataset.resolution;
  return {
    id: `${dataset.manifest.contentHash}:${split}`,
    count: indices.length,
    indices,
    async readImageAsync(i: number) {
      return { width: r, height: r, channels: 3 as const, data: await dataset.ReadImageAsync(indices[i]) };
    },
  };
}

/**
 * Opens a data-set folder for the metrics.
 * @throws with a message naming `--data` when the folder is missing or not a data set
 */
export async function OpenMetricsDataAsync(dir: string): Promise<OpenedDataset> {
  const info = await stat(dir).catch(() => null);
  if (!info) throw new Error(`--data ${dir}: no such folder`);
  if (!info.isDirectory()) throw new Error(`--data ${dir}: not a folder`);
  try {
    return await OpenDatasetAsync(dir);
  } catch (error) {
    const message = (error as Error).message;
    if (message.includes(`no ${DatasetManifestFile}`)) {
      throw new Error(`--data ${dir}: not an npc-faces data set (no ${DatasetManifestFile}); make one with \`npc-faces dataset --source folder:${dir} --out DIR\``);
    }
    throw new Error(`--data ${message}`);
  }
}

/** Options of {@link ComputeModelMetricsAsync}: a model file or a generator, and a data-set folder. */
export interface ModelMetricsOptions {
  /** An `.onnx` model file (loaded with onnxruntime-node). */
  readonly modelPath?: string;
  /** Or a generator already loaded (e.g. a `FaceGenerator`, or a training run's wrapper). */
  readonly generator?: GeneratedImageSource;
  /** A data set built by `npc-faces dataset`. */
  readonly dataDir: string;
  /** Generated images, and most data images (default 256). */
  readonly count?: number;
  /** Truncation (default 1). */
  readonly psi?: number;
  /** Noise multiplier (default: the model's). */
  readonly noiseStrength?: number;
  /** First seed of the generated faces (default 0). */
  readonly firstSeed?: number;
  /** Neighbourhood size of precision and recall (default 3). */
  readonly k?: number;
  /** Categorical labels of the data set to break recall down by (see {@link RecallByLabelOf}; default none). */
  readonly recallBy?: readonly string[];
  readonly onProgress?: MetricsProgress;
}

/** FD, KID, diversity, precision and recall of a model against a data set's held-out images (see the file comment). */
export async function ComputeModelMetricsAsync(options: ModelMetricsOptions): Promise<ModelMetricsReport> {
  if ((options.modelPath === undefined) === (options.generator === undefined)) throw new Error("ComputeModelMetricsAsync: give exactly one of modelPath and generator");
  const dataset = await OpenMetricsDataAsync(options.dataDir);
  let loaded: FaceGenerator | null = null;
  try {
    const holdout = SplitImages(dataset, "holdout");
    const data = holdout.count >= 2 ? holdout : SplitImages(dataset, "train");
    const generator = options.generator ?? (loaded = await LoadFaceGeneratorFileAsync(options.modelPath!));
    const recallBy = options.recallBy ?? [];
    const { recalled, ...metrics } = await ComputeMetricsAsync({
      generator, data, count: options.count ?? DefaultMetricsCount, psi: options.psi, noiseStrength: options.noiseStrength, firstSeed: options.firstSeed, k: options.k, perImageRecall: recallBy.length > 0, onProgress: options.onProgress,
    });
    const compared = data.indices.slice(0, metrics.dataCount).map((i) => dataset.manifest.images[i]);
    const recallByLabel = recalled ? RecallByLabelOf(compared, recalled, recallBy) : undefined;
    return { ...metrics, data: options.dataDir, dataset: dataset.manifest.contentHash, dataSplit: data === holdout ? "holdout" : "train", ...(recallByLabel ? { recallByLabel } : {}) };
  } finally {
    await loaded?.disposeAsync();
    await dataset.CloseAsync();
  }
}

/**
 * The floor of a data set: the metrics between its first `count` training images and its held-out images
 * (the same held-out images and count a model is measured on), i.e. what a perfect generator would score.
 * @throws when the data set holds out fewer than 2 images
 */
export async function ComputeDataFloorAsync(dataDir: string, options: { count?: number; k?: number; onProgress?: MetricsProgress } = {}): Promise<DataFloorReport> {
  const dataset = await OpenMetricsDataAsync(dataDir);
  try {
    const holdout = SplitImages(dataset, "holdout");
    if (holdout.count < 2) throw new Error(`--data ${dataDir}: the data set holds out ${holdout.count} images; the floor needs at least 2 (build it with --holdout 0.1)`);
    const metrics = await ComputeFloorMetricsAsync({ reference: SplitImages(dataset, "train"), data: holdout, count: options.count ?? DefaultMetricsCount, k: options.k, onProgress: options.onProgress });
    return { ...metrics, data: dataDir, dataset: dataset.manifest.contentHash };
  } finally {
    await dataset.CloseAsync();
  }
}
