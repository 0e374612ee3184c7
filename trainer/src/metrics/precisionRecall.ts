/**
 * Improved precision and recall (Kynkäänniemi et al. 2019, "Improved Precision and Recall Metric for Assessing
 * Generative Models"): each set's manifold is the union of balls around its feature vectors, each ball reaching
 * that vector's k-th nearest neighbour in its own set.
 *  - precision: share of generated vectors inside the data manifold (fidelity: are the faces plausible?);
 *  - recall: share of data vectors inside the generated manifold (coverage: is every kind of face drawn?).
 * Recall is the figure that falls when a generator drops modes, which the mean-distance diversity ratio
 * (./diversity.ts) does not see when the faces it keeps are spread as widely as the data.
 * Both depend on the sample count and k, so compare them only at the same count and k, and beside the data's
 * own real-vs-real figures.
 */

/** Default neighbourhood size (the paper's choice). */
export const DefaultPrecisionRecallK = 3;

/** Precision and recall of a generated feature set against a data feature set. */
export interface PrecisionRecall {
  /** Share of generated vectors within the data manifold, 0..1. */
  readonly precision: number;
  /** Share of data vectors within the generated manifold, 0..1. */
  readonly recall: number;
  /** The neighbourhood size used. */
  readonly k: number;
}

/** Squared Euclidean distances between every row of `a` and every row of `b` (|a|×|b|, row-major, float64). */
export function SquaredDistanceMatrix(a: readonly ArrayLike<number>[], b: readonly ArrayLike<number>[]): Float64Array {
  const d = a[0]?.length ?? 0;
  const rowsA = a.map((v) => Float64Array.from(v));
  const rowsB = b.map((v) => Float64Array.from(v));
  for (const row of [...rowsA, ...rowsB]) if (row.length !== d) throw new Error(`precision/recall: feature vectors of different lengths (${d} and ${row.length})`);
  const out = new Float64Array(a.length * b.length);
  for (let i = 0; i < rowsA.length; i++) {
    const x = rowsA[i];
    for (let j = 0; j < rowsB.length; j++) {
      const y = rowsB[j];
      let s = 0;
      for (let t = 0; t < d; t++) {
        const diff = x[t] - y[t];
        s += diff * diff;
      }
      out[i * rowsB.length + j] = s;
    }
  }
  return out;
}

/** Squared radius of each vector's ball: the squared distance to its k-th nearest other vector of the same set. */
export function KthNeighbourRadii(features: readonly ArrayLike<number>[], k: number): Float64Array {
  const n = features.length;
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`precision/recall: k must be a positive integer, got ${k}`);
  if (n <= k) throw new Error(`precision/recall: a set of ${n} vectors has no ${k}-th neighbour (need more than k)`);
  const distances = SquaredDistanceMatrix(features, features);
  const radii = new Float64Array(n);
  const row = new Float64Array(n - 1);
  for (let i = 0; i < n; i++) {
    let m = 0;
    for (let j = 0; j < n; j++) if (j !== i) row[m++] = distances[i * n + j];
    row.sort();
    radii[i] = row[k - 1];
  }
  return radii;
}

/** Share of `queries` rows within the ball of at least one `manifold` row (distances: queries × manifold). */
function CoveredShare(distances: Float64Array, queries: number, radii: Float64Array): number {
  const m = radii.length;
  let covered = 0;
  for (let i = 0; i < queries; i++) {
    for (let j = 0; j < m; j++) {
      if (distances[i * m + j] <= radii[j]) {
        covered++;
        break;
      }
    }
  }
  return covered / queries;
}

/** Improved precision and recall of `generated` against `data` (see the file comment). */
export function PrecisionRecallOf(generated: readonly ArrayLike<number>[], data: readonly ArrayLike<number>[], k = DefaultPrecisionRecallK): PrecisionRecall {
  const dataRadii = KthNeighbourRadii(data, k);
  const generatedRadii = KthNeighbourRadii(generated, k);
  const generatedToData = SquaredDistanceMatrix(generated, data);
  // Transpose once so that the recall pass reads rows too.
  const dataToGenerated = new Float64Array(generatedToData.length);
  for (let i = 0; i < generated.length; i++) for (let j = 0; j < data.length; j++) dataToGenerated[j * generated.length + i] = generatedToData[i * data.length + j];
  return {
    precision: CoveredShare(generatedToData, generated.length, dataRadii),
    recall: CoveredShare(dataToGenerated, data.length, generatedRadii),
    k,
  };
}
