/**
 * Exact nearest-neighbour search by brute force over feature vectors (Euclidean distance), and summaries of
 * the distances found. Brute force is exact and fast enough here: 32 queries against 19,000 vectors of 3,072
 * values is ~2·10⁹ multiply-adds, a few seconds; the row-wise early exit skips most of each far vector.
 */

/** The nearest reference vector of one query. */
export interface NearestMatch {
  /** Row of the reference matrix. */
  readonly index: number;
  /** RMS difference per feature value (the Euclidean distance / √length), in feature units. */
  readonly distance: number;
}

/**
 * The reference row nearest to `query`. Ties keep the lowest row, so the answer does not depend on how the
 * search is split, only on the reference order when two rows are exactly as near.
 * @param references rows of `length` values, row-major
 */
export function FindNearest(references: Float32Array, length: number, query: Float32Array): NearestMatch {
  if (query.length !== length) throw new Error(`query has ${query.length} values, expected ${length}`);
  const rows = Math.floor(references.length / length);
  if (rows === 0 || rows * length !== references.length) throw new Error(`reference matrix of ${references.length} values is not a whole number (>= 1) of rows of ${length}`);
  let best = Number.POSITIVE_INFINITY;
  let bestRow = 0;
  // Check the running sum against the best every `stride` values: most rows are far and stop early.
  const stride = Math.min(length, 192);
  for (let row = 0; row < rows; row++) {
    const base = row * length;
    let sum = 0;
    let j = 0;
    while (j < length && sum < best) {
      const stop = Math.min(length, j + stride);
      for (; j < stop; j++) {
        const d = references[base + j] - query[j];
        sum += d * d;
      }
    }
    if (j === length && sum < best) {
      best = sum;
      bestRow = row;
    }
  }
  return { index: bestRow, distance: Math.sqrt(best / length) };
}

/** Location and spread of a set of distances. */
export interface DistanceSummary {
  readonly count: number;
  readonly min: number;
  readonly median: number;
  readonly mean: number;
  readonly max: number;
}

/** Summary of `values` (at least one). */
export function SummariseDistances(values: readonly number[]): DistanceSummary {
  if (values.length === 0) throw new Error("SummariseDistances: no values");
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { count: sorted.length, min: sorted[0], median, mean: sorted.reduce((a, b) => a + b, 0) / sorted.length, max: sorted[sorted.length - 1] };
}
