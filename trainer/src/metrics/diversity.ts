/**
 * A mode-collapse alarm: the mean pairwise Euclidean distance between the feature vectors of generated
 * images, divided by the same figure for data images. A generator that covers the data's variety scores
 * near 1; one that collapsed onto a few faces scores near 0 (identical images have distance 0). Below
 * {@link CollapseRatio} (0.5) the metrics flag a likely collapse. Cheap, label-free, and readable on its own,
 * which the Fréchet and kernel distances are not (they mix fidelity and variety in one number).
 */

/** Diversity ratios below this flag a likely mode collapse. */
export const CollapseRatio = 0.5;

/** Mean of |f_i - f_j| over all pairs i < j (float64). */
export function MeanPairwiseDistance(features: readonly ArrayLike<number>[]): number {
  const n = features.length;
  if (n < 2) throw new Error(`MeanPairwiseDistance: need at least 2 feature vectors, got ${n}`);
  const rows = features.map((f) => Float64Array.from(f as ArrayLike<number>));
  const d = rows[0].length;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const a = rows[i];
    if (a.length !== d) throw new Error(`MeanPairwiseDistance: feature vectors of different lengths (${d} and ${a.length})`);
    for (let j = i + 1; j < n; j++) {
      const b = rows[j];
      let s = 0;
      for (let k = 0; k < d; k++) {
        const t = a[k] - b[k];
        s += t * t;
      }
      sum += Math.sqrt(s);
    }
  }
  return sum / ((n * (n - 1)) / 2);
}

/** Diversity of generated images relative to data images. */
export interface DiversityResult {
  /** Mean pairwise feature distance among generated images. */
  readonly generated: number;
  /** The same among data images. */
  readonly data: number;
  /** generated / data (1 = as varied as the data). */
  readonly ratio: number;
  /** ratio < {@link CollapseRatio}. */
  readonly collapsed: boolean;
}

/** Compares the variety of generated and data features (see the file comment). */
export function Diversity(generated: readonly ArrayLike<number>[], data: readonly ArrayLike<number>[]): DiversityResult {
  const g = MeanPairwiseDistance(generated);
  const d = MeanPairwiseDistance(data);
  const ratio = d > 0 ? g / d : g > 0 ? Infinity : 1;
  return { generated: g, data: d, ratio, collapsed: ratio < CollapseRatio };
}
