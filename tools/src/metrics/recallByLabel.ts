/**
 * Recall broken down by the data images' own labels: of the held-out faces with `glasses: glasses1-primary`, how many
 * lie inside the generated faces' k-NN manifold? Overall recall says that modes are dropped; this says which ones
 * (issue 15: a model that draws glasses, pale skin or long hair badly misses those faces first).
 */
import type { DatasetImageEntry } from "../dataset/datasetManifest.js";

/** One value of an attribute among the data images compared. */
export interface LabelRecall {
  readonly value: string;
  /** Data images with this value. */
  readonly images: number;
  /** Share of them inside the generated manifold. */
  readonly recall: number;
}

/** Per attribute, its values' recall, lowest first (ties: more images first, then by name). */
export type RecallByLabel = Record<string, readonly LabelRecall[]>;

/**
 * Groups `recalled` (per image of `images`, the data images compared, in order: 1 inside the generated manifold, 0
 * outside) by each of `attributes`.
 * @throws when an image lacks one of the attributes
 */
export function RecallByLabelOf(images: readonly Pick<DatasetImageEntry, "labels" | "file">[], recalled: ArrayLike<number>, attributes: readonly string[]): RecallByLabel {
  const out: Record<string, LabelRecall[]> = {};
  for (const attribute of attributes) {
    const counts = new Map<string, { images: number; recalled: number }>();
    images.forEach((entry, i) => {
      const value = entry.labels[attribute];
      if (value === undefined) throw new Error(`--recall-by: ${entry.file} has no label "${attribute}"`);
      const c = counts.get(value) ?? { images: 0, recalled: 0 };
      c.images++;
      if (recalled[i] === 1) c.recalled++;
      counts.set(value, c);
    });
    out[attribute] = [...counts]
      .map(([value, c]) => ({ value, images: c.images, recall: c.recalled / c.images }))
      .sort((a, b) => a.recall - b.recall || b.images - a.images || a.value.localeCompare(b.value));
  }
  return out;
}
