/**
 * Pixel features (see pixelFeatures.ts) of one split of a data set, read in large contiguous batches (one read
 * from the packed tensor per batch) so that all 19,000 training images of a 64 px set take seconds.
 */
import type { OpenedDataset } from "../dataset/packedDataset.js";
import { WritePixelFeatures, type PixelFeatureLayout } from "./pixelFeatures.js";

/** Which images of a data set: its training or its held-out split. */
export type DatasetSplit = "train" | "holdout";

/** Features of some images of a data set. */
export interface DatasetFeatures {
  /** Data-set indices of the images, in data-set order. */
  readonly indices: number[];
  /** indices.length × layout.length features, row-major. */
  readonly features: Float32Array;
  readonly layout: PixelFeatureLayout;
}

/** The data-set indices of a split, in order. */
export function SplitIndices(dataset: OpenedDataset, split: DatasetSplit): number[] {
  return dataset.manifest.images.flatMap((entry, index) => (entry.split === split ? [index] : []));
}

/** Images read per batch (64 px: 12 MiB). */
const BatchImages = 1024;

/** Options of {@link DatasetFeaturesAsync}. */
export interface DatasetFeaturesOptions {
  /** Called with images done and the total after each batch. */
  readonly onProgress?: (done: number, total: number) => void;
  /** Called with each image's position in `indices` and its R×R×3 pixels (valid during the call only). */
  readonly onImage?: (position: number, pixels: Uint8Array) => void;
}

/** Features of the given data-set indices (ascending), reading the contiguous ranges that hold them. */
export async function DatasetFeaturesAsync(dataset: OpenedDataset, indices: readonly number[], layout: PixelFeatureLayout, options: DatasetFeaturesOptions = {}): Promise<DatasetFeatures> {
  const side = dataset.resolution;
  const bytes = side * side * 3;
  for (let k = 1; k < indices.length; k++) if (!(indices[k] > indices[k - 1])) throw new Error("DatasetFeaturesAsync: indices must be ascending");
  const features = new Float32Array(indices.length * layout.length);
  let i = 0;
  while (i < indices.length) {
    // One read covers indices[i] and the following ones less than BatchImages data-set images further.
    const start = indices[i];
    let end = i;
    while (end < indices.length && indices[end] < start + BatchImages) end++;
    const pixels = await dataset.ReadBatchAsync(start, indices[end - 1] - start + 1);
    for (let k = i; k < end; k++) {
      const image = pixels.subarray((indices[k] - start) * bytes, (indices[k] - start + 1) * bytes);
      WritePixelFeatures(image, side, 3, layout, features, k * layout.length);
      options.onImage?.(k, image);
    }
    i = end;
    options.onProgress?.(i, indices.length);
  }
  return { indices: [...indices], features, layout };
}
