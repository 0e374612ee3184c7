/** The metrics' math: symmetric eigen-decomposition, Fréchet distance (closed forms), KID, diversity. */
import { FillStandardNormal } from "@npc-faces/runtime";
import { describe, expect, it } from "vitest";
import { Diversity, MeanPairwiseDistance } from "../src/metrics/diversity.js";
import { ComputeFeatureStatistics, FrechetDistance, FrechetDistanceFromStatistics, type FeatureStatistics } from "../src/metrics/frechetDistance.js";
import { KernelDistance } from "../src/metrics/kernelDistance.js";
import { SymmetricEigen } from "../src/metrics/symmetricEigen.js";

/** n vectors of length d, N(mean, scale²) per component, from a seed. */
function Gaussian(n: number, d: number, seed: number, scale = 1, mean = 0): Float32Array[] {
  const all = FillStandardNormal(seed, 7, new Float32Array(n * d));
  return Array.from({ length: n }, (_, i) => all.subarray(i * d, (i + 1) * d).map((v) => v * scale + mean));
}

/** A random orthogonal matrix (Gram–Schmidt of Gaussian columns), row-major. */
function RandomOrthogonal(d: number, seed: number): Float64Array {
  const cols = Gaussian(d, d, seed).map((c) => Float64Array.from(c));
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < i; j++) {
      const dot = cols[i].reduce((s, v, k) => s + v * cols[j][k], 0);
      for (let k = 0; k < d; k++) cols[i][k] -= dot * cols[j][k];
    }
    const norm = Math.hypot(...cols[i]);
    for (let k = 0; k < d; k++) cols[i][k] /= norm;
  }
  const q = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let k = 0; k < d; k++) q[k * d + i] = cols[i][k];
  return q;
}

/** Q diag(values) Qᵀ. */
function WithEigenvalues(q: Float64Array, values: number[]): Float64Array {
  const d = values.length;
  const out = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) for (let k = 0; k < d; k++) out[i * d + j] += q[i * d + k] * values[k] * q[j * d + k];
  return out;
}

describe("SymmetricEigen", () => {
  it("solves a 2x2 case and a random 40x40 matrix (A V = V Λ, Vᵀ V = I)", () => {
    expect(Array.from(SymmetricEigen([2, 1, 1, 2], 2).values)).toEqual([expect.closeTo(1, 12), expect.closeTo(3, 12)]);
    const n = 40;
    const g = Gaussian(n, n, 3).map((r) => Float64Array.from(r));
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) a[i * n + j] = g[i][j] + g[j][i];
    const { values, vectors } = SymmetricEigen(a, n, { vectors: true });
    const v = vectors!;
    let worst = 0;
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < n; c++) {
        let av = 0;
        for (let k = 0; k < n; k++) av += a[i * n + k] * v[k * n + c];
        worst = Math.max(worst, Math.abs(av - values[c] * v[i * n + c]));
        let dot = 0;
        for (let k = 0; k < n; k++) dot += v[k * n + i] * v[k * n + c];
        worst = Math.max(worst, Math.abs(dot - (i === c ? 1 : 0)));
      }
    }
    expect(worst).toBeLessThan(1e-10);
    for (let i = 1; i < n; i++) expect(values[i]).toBeGreaterThanOrEqual(values[i - 1]);
    const only = SymmetricEigen(a, n).values;
    for (let i = 0; i < n; i++) expect(only[i]).toBeCloseTo(values[i], 10);
  });

  it("handles diagonal, rank-deficient and 1x1 matrices", () => {
    expect(Array.from(SymmetricEigen([3, 0, 0, 0, -1, 0, 0, 0, 2], 3).values)).toEqual([-1, 2, 3]);
    const u = [1, 2, 3];
    const rank1 = u.flatMap((x) => u.map((y) => x * y));
    const values = SymmetricEigen(rank1, 3).values;
    expect(values[2]).toBeCloseTo(14, 12);
    expect(Math.abs(values[0]) + Math.abs(values[1])).toBeLessThan(1e-12);
    expect(Array.from(SymmetricEigen([5], 1).values)).toEqual([5]);
  });
});

describe("Fréchet distance", () => {
  it("matches the closed form for commuting covariances: |Δμ|² + Σ (√a - √b)²", () => {
    const d = 6;
    const q = RandomOrthogonal(d, 5);
    const a = [0.5, 1, 2, 3, 0.1, 4];
    const b = [1, 1, 0.5, 5, 0.3, 0.2];
    const meanA = Float64Array.from([0, 1, 2, 0, 0, 1]);
    const meanB = Float64Array.from([1, 1, 0, 0, 2, 1]);
    const sa: FeatureStatistics = { count: 100, dimension: d, mean: meanA, covariance: WithEigenvalues(q, a) };
    const sb: FeatureStatistics = { count: 100, dimension: d, mean: meanB, covariance: WithEigenvalues(q, b) };
    let expected = 1 + 4 + 4;
    for (let i = 0; i < d; i++) expected += (Math.sqrt(a[i]) - Math.sqrt(b[i])) ** 2;
    expect(FrechetDistanceFromStatistics(sa, sb)).toBeCloseTo(expected, 9);
    expect(FrechetDistanceFromStatistics(sb, sa)).toBeCloseTo(expected, 9);
  });

  it("is 0 for one set, |c|² for a shifted copy, and both routes agree", () => {
    const x = Gaussian(12, 20, 1); // n < d: sample-space route
    expect(FrechetDistance(x, x)).toBeLessThan(1e-9);
    const shifted = x.map((v) => v.map((t) => t + 0.5));
    expect(FrechetDistance(x, shifted)).toBeCloseTo(20 * 0.25, 6);
    const y = Gaussian(9, 20, 2, 1.5, 0.2);
    const viaStats = FrechetDistanceFromStatistics(ComputeFeatureStatistics(x), ComputeFeatureStatistics(y));
    expect(FrechetDistance(x, y)).toBeCloseTo(viaStats, 5);
    expect(FrechetDistance(y, x)).toBeCloseTo(viaStats, 5);
    // n > d: statistics route; Gaussian samples of N(0, I) vs N(1, 4I) in 3-d approach 3 + 3·(2-1)² = 6.
    const p = Gaussian(4000, 3, 3);
    const r = Gaussian(4000, 3, 4, 2, 1);
    expect(FrechetDistance(p, r)).toBeGreaterThan(5.5);
    expect(FrechetDistance(p, r)).toBeLessThan(6.5);
  });

  it("rejects mismatched or too small sets", () => {
    expect(() => FrechetDistance([new Float32Array(3)], [new Float32Array(3), new Float32Array(3)])).toThrow(/at least 2/);
    expect(() => FrechetDistance(Gaussian(3, 4, 1), Gaussian(3, 5, 2))).toThrow(/dimensions differ/);
  });
});

describe("kernel distance (KID)", () => {
  it("is ~0 for one distribution and clearly positive for a shifted one; deterministic per seed", () => {
    const a = Gaussian(200, 16, 11);
    const b = Gaussian(200, 16, 12);
    const c = Gaussian(200, 16, 13, 1, 0.5);
    const same = KernelDistance(a, b, { subsets: 20, subsetSize: 100 });
    const shifted = KernelDistance(a, c, { subsets: 20, subsetSize: 100 });
    expect(Math.abs(same.kid)).toBeLessThan(0.02);
    expect(shifted.kid).toBeGreaterThan(0.1);
    expect(shifted.kid).toBeGreaterThan(20 * Math.abs(same.kid));
    expect(KernelDistance(a, c, { subsets: 20, subsetSize: 100 })).toEqual(shifted);
    expect(KernelDistance(a, c, { subsets: 20, subsetSize: 100, seed: 1 }).kid).not.toBe(shifted.kid);
    expect(shifted.subsetSize).toBe(100);
  });

  it("computes the unbiased MMD² of the whole sets when they are small", () => {
    const a = [Float32Array.of(1, 0), Float32Array.of(0, 1)];
    const b = [Float32Array.of(1, 1), Float32Array.of(0, 0)];
    const k = (x: Float32Array, y: Float32Array) => ((x[0] * y[0] + x[1] * y[1]) / 2 + 1) ** 3;
    const expected = (2 * k(a[0], a[1]) + 2 * k(b[0], b[1])) / 2 - (2 * (k(a[0], b[0]) + k(a[0], b[1]) + k(a[1], b[0]) + k(a[1], b[1]))) / 4;
    const result = KernelDistance(a, b);
    expect(result.kid).toBeCloseTo(expected, 12);
    expect(result.subsets).toBe(1);
    expect(result.std).toBe(0);
  });
});

describe("diversity", () => {
  it("flags a collapsed generator and passes a varied one", () => {
    const data = Gaussian(60, 32, 21);
    const varied = Gaussian(60, 32, 22);
    const one = Gaussian(1, 32, 23)[0];
    const noise = Gaussian(60, 32, 24, 0.05);
    const collapsed = noise.map((v) => v.map((t, i) => t + one[i]));
    const ok = Diversity(varied, data);
    expect(ok.ratio).toBeGreaterThan(0.9);
    expect(ok.ratio).toBeLessThan(1.1);
    expect(ok.collapsed).toBe(false);
    const bad = Diversity(collapsed, data);
    expect(bad.ratio).toBeLessThan(0.1);
    expect(bad.collapsed).toBe(true);
    expect(MeanPairwiseDistance([Float32Array.of(0, 0), Float32Array.of(3, 4), Float32Array.of(3, 4)])).toBeCloseTo(10 / 3, 12);
  });
});
