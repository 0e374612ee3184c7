/**
 * Kernel distance ("KID", Bińkowski et al. 2018, "Demystifying MMD GANs"): the unbiased estimate of the
 * squared maximum mean discrepancy between two feature sets with the cubic polynomial kernel
 *
 *   k(x, y) = (xᵀy / d + 1)³,
 *   MMD²_u = Σ_{i≠j} k(x_i, x_j) / (m(m-1)) + Σ_{i≠j} k(y_i, y_j) / (m(m-1)) - 2 Σ_{i,j} k(x_i, y_j) / m²,
 *
 * averaged over random subsets of m samples drawn without replacement from each set (as stylegan2-ada's
 * metrics/kernel_inception_distance.py: 100 subsets of at most 1000). Unlike the Fréchet distance it is
 * unbiased, so it is meaningful for the few hundred images a small data set holds out; it can be slightly
 * negative when both sets come from one distribution. Subsets are drawn from a seeded Philox stream, so the
 * value is deterministic. Kernel values are computed once per pair (float64), subsets only index them.
 */
import { Philox4x32, SeedStream } from "@npc-faces/runtime";

/** `SeedStream.Training` purpose of the subset draws. */
export const KernelDistanceStreamPurpose = 0x4001;

/** Options of {@link KernelDistance}. */
export interface KernelDistanceOptions {
  /** Number of subsets averaged (default 100). */
  readonly subsets?: number;
  /** Largest subset size (default 1000; the smaller set's size when that is less). */
  readonly subsetSize?: number;
  /** Seed of the subset draws (default 0). */
  readonly seed?: number;
}

/** KID and its spread. */
export interface KernelDistanceResult {
  /** Mean of MMD²_u over the subsets. */
  readonly kid: number;
  /** Standard deviation over the subsets (0 when every subset is the whole set). */
  readonly std: number;
  readonly subsets: number;
  readonly subsetSize: number;
}

/** k(x_i, y_j) for all pairs, row-major (na x nb). */
function KernelMatrix(a: readonly ArrayLike<number>[], b: readonly ArrayLike<number>[], d: number): Float64Array {
  const out = new Float64Array(a.length * b.length);
  const bb = b.map((v) => Float64Array.from(v as ArrayLike<number>));
  for (let i = 0; i < a.length; i++) {
    const x = Float64Array.from(a[i] as ArrayLike<number>);
    for (let j = 0; j < b.length; j++) {
      const y = bb[j];
      let s = 0;
      for (let k = 0; k < d; k++) s += x[k] * y[k];
      out[i * b.length + j] = (s / d + 1) ** 3;
    }
  }
  return out;
}

/** Draws `m` distinct indices of 0..n-1 (partial Fisher–Yates on Philox draws). */
function Subset(n: number, m: number, seed: number, subset: number, side: number): Int32Array {
  const perm = Int32Array.from({ length: n }, (_, i) => i);
  const block = new Uint32Array(4);
  for (let i = 0; i < m; i++) {
    if (i % 4 === 0) Philox4x32(i / 4, subset, side, 0, seed, SeedStream.Training(KernelDistanceStreamPurpose), block);
    const j = i + Math.floor((block[i % 4] / 4294967296) * (n - i));
    const t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
  return perm.subarray(0, m);
}

/** Kernel distance (unbiased MMD², cubic kernel) between two feature sets; see the file comment. */
export function KernelDistance(a: readonly ArrayLike<number>[], b: readonly ArrayLike<number>[], options: KernelDistanceOptions = {}): KernelDistanceResult {
  if (a.length < 2 || b.length < 2) throw new Error(`KernelDistance: need at least 2 feature vectors per set, got ${a.length} and ${b.length}`);
  const d = a[0].length;
  for (const f of [...a, ...b]) if (f.length !== d) throw new Error(`KernelDistance: feature vectors of different lengths (${d} and ${f.length})`);
  const subsets = Math.max(1, Math.floor(options.subsets ?? 100));
  const m = Math.min(a.length, b.length, Math.max(2, Math.floor(options.subsetSize ?? 1000)));
  const seed = (options.seed ?? 0) >>> 0;
  const kaa = KernelMatrix(a, a, d);
  const kbb = KernelMatrix(b, b, d);
  const kab = KernelMatrix(a, b, d);
  const na = a.length;
  const nb = b.length;
  // When each subset must be the whole of both sets, every draw gives the same value: compute it once.
  const count = m === na && m === nb ? 1 : subsets;
  const values: number[] = [];
  for (let s = 0; s < count; s++) {
    const x = m === na ? Int32Array.from({ length: m }, (_, i) => i) : Subset(na, m, seed, s, 0);
    const y = m === nb ? Int32Array.from({ length: m }, (_, i) => i) : Subset(nb, m, seed, s, 1);
    let within = 0;
    let cross = 0;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < m; j++) {
        if (i !== j) within += kaa[x[i] * na + x[j]] + kbb[y[i] * nb + y[j]];
        cross += kab[x[i] * nb + y[j]];
      }
    }
    values.push(within / (m * (m - 1)) - (2 * cross) / (m * m));
  }
  const kid = values.reduce((s, v) => s + v, 0) / values.length;
  const std = Math.sqrt(values.reduce((s, v) => s + (v - kid) ** 2, 0) / values.length);
  return { kid, std, subsets: count, subsetSize: m };
}
