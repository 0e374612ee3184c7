/**
 * Fréchet distance between two feature sets, each modelled as a Gaussian (Heusel et al. 2017, "FID"):
 *
 *   FD = |μ1 - μ2|² + tr Σ1 + tr Σ2 - 2 tr (Σ1 Σ2)^½
 *
 * with unbiased (n - 1) covariances, all in float64. tr (Σ1 Σ2)^½ is the sum of the square roots of the
 * eigenvalues of Σ1 Σ2, which equal those of the symmetric positive semi-definite Σ1^½ Σ2 Σ1^½ (so no
 * complex matrix square root is needed, unlike scipy's sqrtm):
 *  - from statistics ({@link FrechetDistanceFromStatistics}): Σ1^½ from the eigen-decomposition of Σ1, then
 *    the eigenvalues of Σ1^½ Σ2 Σ1^½ (two d x d decompositions);
 *  - from features with fewer samples than dimensions ({@link FrechetDistance}, the usual case here: a few
 *    hundred images, 2048 features): with centred sample matrices X1 (n1 x d), X2 (n2 x d),
 *    Σ1 Σ2 = X1ᵀ X1 X2ᵀ X2 / ((n1-1)(n2-1)) has the same non-zero eigenvalues as M Mᵀ / ((n1-1)(n2-1)) with
 *    M = X1 X2ᵀ (n1 x n2), so tr (Σ1 Σ2)^½ = (sum of singular values of M) / sqrt((n1-1)(n2-1)): one
 *    min(n1, n2)-sized decomposition, exact, and much cheaper than d x d.
 * FD is biased upwards for small n (its value depends on the sample count): compare figures at equal counts.
 */
import { SymmetricEigen } from "./symmetricEigen.js";

/** Mean and covariance of a feature set. */
export interface FeatureStatistics {
  readonly count: number;
  readonly dimension: number;
  readonly mean: Float64Array;
  /** Row-major d x d, unbiased (divided by count - 1). */
  readonly covariance: Float64Array;
}

/** Checks that a feature set is non-empty and of one dimension; returns it. */
function Dimension(features: readonly ArrayLike<number>[], what: string): number {
  if (features.length < 2) throw new Error(`${what}: need at least 2 feature vectors, got ${features.length}`);
  const d = features[0].length;
  for (const f of features) if (f.length !== d) throw new Error(`${what}: feature vectors of different lengths (${d} and ${f.length})`);
  return d;
}

/** Per-dimension mean (float64). */
export function FeatureMean(features: readonly ArrayLike<number>[]): Float64Array {
  const d = features[0]?.length ?? 0;
  const mean = new Float64Array(d);
  for (const f of features) for (let i = 0; i < d; i++) mean[i] += f[i];
  for (let i = 0; i < d; i++) mean[i] /= features.length;
  return mean;
}

/** Centred copies of the features (float64), one row per sample. */
function Centred(features: readonly ArrayLike<number>[], mean: Float64Array): Float64Array[] {
  return features.map((f) => Float64Array.from(mean, (m, i) => f[i] - m));
}

function Dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** Mean and unbiased covariance of a feature set (float64; d x d memory: 32 MB at d = 2048). */
export function ComputeFeatureStatistics(features: readonly ArrayLike<number>[]): FeatureStatistics {
  const d = Dimension(features, "ComputeFeatureStatistics");
  const mean = FeatureMean(features);
  const rows = Centred(features, mean);
  const covariance = new Float64Array(d * d);
  for (const r of rows) {
    for (let i = 0; i < d; i++) {
      const ri = r[i];
      if (ri === 0) continue;
      const base = i * d;
      for (let j = i; j < d; j++) covariance[base + j] += ri * r[j];
    }
  }
  const scale = 1 / (features.length - 1);
  for (let i = 0; i < d; i++) {
    for (let j = i; j < d; j++) {
      const v = covariance[i * d + j] * scale;
      covariance[i * d + j] = v;
      covariance[j * d + i] = v;
    }
  }
  return { count: features.length, dimension: d, mean, covariance };
}

/** Sum of sqrt(max(λ, 0)) over the eigenvalues of a symmetric PSD matrix (tiny negative values are rounding). */
function TraceSqrt(matrix: Float64Array, n: number): number {
  let sum = 0;
  for (const v of SymmetricEigen(matrix, n).values) if (v > 0) sum += Math.sqrt(v);
  return sum;
}

/** Fréchet distance from two sets of statistics (two d x d eigen-decompositions; seconds at d = 2048). */
export function FrechetDistanceFromStatistics(a: FeatureStatistics, b: FeatureStatistics): number {
  if (a.dimension !== b.dimension) throw new Error(`FrechetDistance: dimensions differ (${a.dimension} vs ${b.dimension})`);
  const d = a.dimension;
  // Σ1^½ = V diag(sqrt λ) Vᵀ
  const eig = SymmetricEigen(a.covariance, d, { vectors: true });
  const v = eig.vectors!;
  const scaled = new Float64Array(d * d); // V diag(λ^¼), so Σ1^½ = scaled scaledᵀ
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) scaled[i * d + j] = v[i * d + j] * Math.sqrt(Math.sqrt(Math.max(eig.values[j], 0)));
  const root = new Float64Array(d * d);
  const rows = Array.from({ length: d }, (_, i) => scaled.subarray(i * d, (i + 1) * d));
  for (let i = 0; i < d; i++) for (let j = i; j < d; j++) root[i * d + j] = root[j * d + i] = Dot(rows[i] as Float64Array, rows[j] as Float64Array);
  // A = Σ1^½ Σ2 Σ1^½ (symmetric): T = Σ2 Σ1^½, A = Σ1^½ T.
  const t = MatMul(b.covariance, root, d);
  const product = MatMul(root, t, d);
  for (let i = 0; i < d; i++) for (let j = i + 1; j < d; j++) product[i * d + j] = product[j * d + i] = (product[i * d + j] + product[j * d + i]) / 2;
  return Combine(a.mean, b.mean, Trace(a.covariance, d) + Trace(b.covariance, d), TraceSqrt(product, d));
}

/**
 * Fréchet distance between two feature sets (vectors of one length). Uses the sample-space form when either
 * set has no more samples than dimensions, else the statistics form (see the file comment). Float64 throughout.
 */
export function FrechetDistance(a: readonly ArrayLike<number>[], b: readonly ArrayLike<number>[]): number {
  const d = Dimension(a, "FrechetDistance");
  if (Dimension(b, "FrechetDistance") !== d) throw new Error(`FrechetDistance: dimensions differ (${d} vs ${b[0].length})`);
  if (Math.min(a.length, b.length) > d) return FrechetDistanceFromStatistics(ComputeFeatureStatistics(a), ComputeFeatureStatistics(b));
  const meanA = FeatureMean(a);
  const meanB = FeatureMean(b);
  // Rows of the smaller set index the Gram-like matrix M Mᵀ.
  const [small, large] = a.length <= b.length ? [Centred(a, meanA), Centred(b, meanB)] : [Centred(b, meanB), Centred(a, meanA)];
  const n1 = small.length;
  const n2 = large.length;
  // M = small · largeᵀ (n1 x n2), then M Mᵀ (n1 x n1).
  const m = small.map((r) => Float64Array.from(large, (s) => Dot(r, s)));
  const mmt = new Float64Array(n1 * n1);
  for (let i = 0; i < n1; i++) for (let j = i; j < n1; j++) mmt[i * n1 + j] = mmt[j * n1 + i] = Dot(m[i], m[j]);
  const traceA = small.reduce((s, r) => s + Dot(r, r), 0) / (n1 - 1);
  const traceB = large.reduce((s, r) => s + Dot(r, r), 0) / (n2 - 1);
  return Combine(meanA, meanB, traceA + traceB, TraceSqrt(mmt, n1) / Math.sqrt((n1 - 1) * (n2 - 1)));
}

/** |μ1 - μ2|² + (tr Σ1 + tr Σ2) - 2 tr (Σ1 Σ2)^½, clamped at 0 (rounding can make identical sets slightly negative). */
function Combine(meanA: Float64Array, meanB: Float64Array, traces: number, traceSqrt: number): number {
  let diff = 0;
  for (let i = 0; i < meanA.length; i++) diff += (meanA[i] - meanB[i]) ** 2;
  return Math.max(0, diff + traces - 2 * traceSqrt);
}

function Trace(m: Float64Array, d: number): number {
  let t = 0;
  for (let i = 0; i < d; i++) t += m[i * d + i];
  return t;
}

/** Row-major d x d product a · b (i-k-j order: contiguous inner loop). */
function MatMul(a: Float64Array, b: Float64Array, d: number): Float64Array {
  const out = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    const oi = i * d;
    for (let k = 0; k < d; k++) {
      const aik = a[i * d + k];
      if (aik === 0) continue;
      const bk = k * d;
      for (let j = 0; j < d; j++) out[oi + j] += aik * b[bk + j];
    }
  }
  return out;
}
