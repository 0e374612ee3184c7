/**
 * Does a model copy its training images? For each generated face, find the nearest image of the data set's
 * whole training split in a cheap pixel space (each image area-averaged to 32×32 RGB, Euclidean distance),
 * and do the same for held-out real images, which are new draws from the same source and so by construction
 * not copies of training images. A model that memorised would put its faces much nearer to training images
 * than fresh real images are (a copy: distance ~0); a model that did not gives distances like the held-out
 * ones.
 *
 * Why 32×32 RGB: every one of 19,000 training images must be searched, which rules out InceptionV3 features
 * (~2 images/s here); at 32×32 a 64 px facesjs face keeps its hair style, eye shapes, mouth and colours (the
 * features that make one face differ from another) in 3,072 values, and a copy stays a copy at any size.
 * Distances are the RMS difference per pixel channel on the 0..255 scale, so they read the same at any
 * feature size.
 */
import type { FaceGenerator } from "@npc-faces/runtime";
import type { OpenedDataset } from "../dataset/packedDataset.js";
import { DatasetFeaturesAsync, SplitIndices } from "./datasetFeatures.js";
import { FindNearest, SummariseDistances, type DistanceSummary } from "./nearestNeighbours.js";
import { CommonFeatureRes, MakePixelFeatureLayout, PixelFeatures } from "./pixelFeatures.js";

/** Default side of the search features (lowered to divide both image sides). */
export const DefaultNearestFeatureRes = 32;
/** Default distance (RMS, 0..255 scale) below which a pair counts as an exact duplicate. */
export const DefaultDuplicateThreshold = 2;

/** A training image found as a nearest neighbour. */
export interface TrainingMatch {
  /** Index in the data set. */
  readonly index: number;
  /** Its file, relative to the data-set folder. */
  readonly file: string;
  /** RMS difference per pixel channel, 0..255 scale. */
  readonly distance: number;
}

/** A generated face and its nearest training image. */
export interface GeneratedMatch {
  readonly seed: number;
  readonly nearest: TrainingMatch;
}

/** A held-out real image and its nearest training image. */
export interface HeldOutMatch {
  readonly index: number;
  readonly file: string;
  readonly nearest: TrainingMatch;
}

/** The figures. */
export interface MemorisationSummary {
  readonly generated: DistanceSummary;
  /** Null when the data set holds out no images. */
  readonly heldOut: DistanceSummary | null;
  /** Median distance of generated faces / of held-out images (about 1 or more: not copies). */
  readonly medianRatio: number | null;
  /** Smallest distance of generated faces / of held-out images. */
  readonly minRatio: number | null;
  readonly duplicateThreshold: number;
  /** Generated faces nearer than the threshold to a training image. */
  readonly duplicates: number;
  /** Held-out images nearer than the threshold (the source repeating itself, not the model). */
  readonly heldOutDuplicates: number | null;
}

/** What {@link FindNearestTrainingImagesAsync} returns: the report, and the pixels to draw a sheet. */
export interface MemorisationResult {
  readonly featureRes: number;
  readonly trainImages: number;
  readonly psi: number;
  readonly generated: readonly GeneratedMatch[];
  readonly heldOut: readonly HeldOutMatch[];
  readonly summary: MemorisationSummary;
  /** RGBA of each generated face (model resolution). */
  readonly generatedPixels: readonly Uint8Array[];
  /** RGB of each generated face's nearest training image (data-set resolution). */
  readonly nearestPixels: readonly Uint8Array[];
}

/** Options of {@link FindNearestTrainingImagesAsync}. */
export interface MemorisationOptions {
  readonly generator: FaceGenerator;
  readonly dataset: OpenedDataset;
  /** Generated faces (seeds firstSeed, firstSeed+1, …) and most held-out images. */
  readonly count: number;
  readonly firstSeed?: number;
  /** Truncation (default 1: the full distribution, where copies would show). */
  readonly psi?: number;
  readonly featureRes?: number;
  readonly duplicateThreshold?: number;
  readonly onProgress?: (phase: string, done: number, total: number) => void;
}

/**
 * Runs the check (see the file comment).
 * @throws when the data set has no training images
 */
export async function FindNearestTrainingImagesAsync(options: MemorisationOptions): Promise<MemorisationResult> {
  const { generator, dataset, count } = options;
  const train = SplitIndices(dataset, "train");
  if (train.length === 0) throw new Error("the data set has no training images");
  const progress = options.onProgress ?? (() => undefined);
  const layout = MakePixelFeatureLayout(CommonFeatureRes(options.featureRes ?? DefaultNearestFeatureRes, [dataset.resolution, generator.resolution]));
  const references = await DatasetFeaturesAsync(dataset, train, layout, { onProgress: (d, t) => progress("training images", d, t) });
  const match = (query: Float32Array): TrainingMatch => {
    const found = FindNearest(references.features, layout.length, query);
    const index = train[found.index];
    return { index, file: dataset.manifest.images[index].file, distance: found.distance * 255 };
  };

  const firstSeed = options.firstSeed ?? 0;
  const psi = options.psi ?? 1;
  const seeds = Array.from({ length: count }, (_, i) => firstSeed + i);
  const generatedPixels: Uint8Array[] = [];
  for (let start = 0; start < count; start += generator.maxBatch) {
    const faces = await generator.generateAsync(seeds.slice(start, start + generator.maxBatch).map((seed) => ({ seed, psi })));
    generatedPixels.push(...faces.map((f) => f.data));
    progress("faces", generatedPixels.length, count);
  }
  const generated = seeds.map((seed, i) => ({ seed, nearest: match(PixelFeatures(generatedPixels[i], generator.resolution, 4, layout)) }));
  const nearestPixels = await Promise.all(generated.map((g) => dataset.ReadImageAsync(g.nearest.index)));

  const holdout = SplitIndices(dataset, "holdout").slice(0, count);
  const heldOut: HeldOutMatch[] = [];
  if (holdout.length > 0) {
    const queries = await DatasetFeaturesAsync(dataset, holdout, layout);
    holdout.forEach((index, k) => {
      heldOut.push({ index, file: dataset.manifest.images[index].file, nearest: match(queries.features.subarray(k * layout.length, (k + 1) * layout.length)) });
    });
  }

  const threshold = options.duplicateThreshold ?? DefaultDuplicateThreshold;
  const generatedSummary = SummariseDistances(generated.map((g) => g.nearest.distance));
  const heldOutSummary = heldOut.length > 0 ? SummariseDistances(heldOut.map((h) => h.nearest.distance)) : null;
  const ratio = (a: number, b: number | undefined) => (b === undefined ? null : b > 0 ? a / b : null);
  return {
    featureRes: layout.res,
    trainImages: train.length,
    psi,
    generated,
    heldOut,
    summary: {
      generated: generatedSummary,
      heldOut: heldOutSummary,
      medianRatio: ratio(generatedSummary.median, heldOutSummary?.median),
      minRatio: ratio(generatedSummary.min, heldOutSummary?.min),
      duplicateThreshold: threshold,
      duplicates: generated.filter((g) => g.nearest.distance < threshold).length,
      heldOutDuplicates: heldOut.length > 0 ? heldOut.filter((h) => h.nearest.distance < threshold).length : null,
    },
    generatedPixels,
    nearestPixels,
  };
}
