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
  /** Per data vector, 1 when it lies inside the generated manifold (recall is their mean): which data the generator misses. */
  readonly recalled: Uint8Array;
}

/** The vectors as float64 rows of one length (checked). */
function Rows(sets: readonly (readonly ArrayLike<number>[])[]): Float64Array[][] {
  const d = sets[0][0]?.length ?? 0;
  return sets.map((set) =>
    set.map((v) => {
      if (v.length !== d) throw new Error(`precision/recall: feature vectors of different lengths (${d} and ${v.length})`);
      return Float64Array.from(v);
    }),
  );
}

function SquaredDistance(x: Float64Array, y: Float64Array): number {
  let s = 0;
  for (let t = 0; t < x.length; t++) {
    const diff = x[t] - y[t];
    s += diff * diff;
  }
  return s;
}

/** Squared Euclidean distances between every row of `a` and every row of `b` (|a|×|b|, row-major; for small sets). */
export function SquaredDistanceMatrix(a: readonly ArrayLike<number>[], b: readonly ArrayLike<number>[]): Float64Array {
  const [rowsA, rowsB] = Rows([a, b]);
  const out = new Float64Array(a.length * b.length);
  for (let i = 0; i < rowsA.length; i++) for (let j = 0; j < rowsB.length; j++) out[i * rowsB.length + j] = SquaredDistance(rowsA[i], rowsB[j]);
  return out;
}

/**
 * Squared radius of each vector's ball: the squared distance to its k-th nearest other vector of the same set.
 * Row by row, so memory stays linear in the set size (a 50,000-image evaluation would need 20 GB as a matrix).
 */
export function KthNeighbourRadii(features: readonly ArrayLike<number>[], k: number): Float64Array {
  const n = features.length;
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`precision/recall: k must be a positive integer, got ${k}`);
  if (n <= k) throw new Error(`precision/recall: a set of ${n} vectors has no ${k}-th neighbour (need more than k)`);
  const [rows] = Rows([features]);
  const radii = new Float64Array(n);
  const row = new Float64Array(n - 1);
  for (let i = 0; i < n; i++) {
    let m = 0;
    for (let j = 0; j < n; j++) if (j !== i) row[m++] = SquaredDistance(rows[i], rows[j]);
    row.sort();
    radii[i] = row[k - 1];
  }
  return radii;
}

/** Per query, 1 when it lies inside the ball (squared radius `radii[j]`) of at least one `manifold` vector, else 0. */
function CoveredFlags(queries: readonly Float64Array[], manifold: readonly Float64Array[], radii: Float64Array): Uint8Array {
  return Uint8Array.from(queries, (q) => (manifold.some((m, j) => SquaredDistance(q, m) <= radii[j]) ? 1 : 0));
}

function Share(flags: Uint8Array): number {
  return flags.reduce((sum, f) => sum + f, 0) / flags.length;
}

/** Improved precision and recall of `generated` against `data` (see the file comment). */
export function PrecisionRecallOf(generated: readonly ArrayLike<number>[], data: readonly ArrayLike<number>[], k = DefaultPrecisionRecallK): PrecisionRecall {
  const dataRadii = KthNeighbourRadii(data, k);
  const generatedRadii = KthNeighbourRadii(generated, k);
  const [generatedRows, dataRows] = Rows([generated, data]);
  const recalled = CoveredFlags(dataRows, generatedRows, generatedRadii);
  return { precision: Share(CoveredFlags(generatedRows, dataRows, dataRadii)), recall: Share(recalled), k, recalled };
}
