/** Improved precision and recall on synthetic features whose answer is known: mode dropping, off-manifold samples. */
import { FillStandardNormal } from "@npc-faces/runtime";
import { describe, expect, it } from "vitest";
import { KthNeighbourRadii, PrecisionRecallOf, SquaredDistanceMatrix } from "../src/metrics/precisionRecall.js";
import { CompareFeatureSets } from "../src/metrics/computeMetrics.js";

/** `n` vectors (d = 8) from a mixture of `modes` tight Gaussian clusters on the axes, cluster i at 10·e_i. */
function Mixture(n: number, modes: readonly number[], seed: number, offset = 0): Float32Array[] {
  const d = 8;
  const noise = FillStandardNormal(seed, 3, new Float32Array(n * d));
  return Array.from({ length: n }, (_, i) => {
    const v = noise.subarray(i * d, (i + 1) * d).map((x) => x * 0.5);
    v[modes[i % modes.length]] += 10;
    v[7] += offset;
    return v;
  });
}

describe("precision and recall", () => {
  it("distances and k-th neighbour radii are exact on a line", () => {
    const points = [[0], [1], [3], [6]].map((p) => Float32Array.from(p));
    expect(Array.from(SquaredDistanceMatrix(points.slice(0, 2), points))).toEqual([0, 1, 9, 36, 1, 0, 4, 25]);
    expect(Array.from(KthNeighbourRadii(points, 1))).toEqual([1, 1, 4, 9]);
    expect(Array.from(KthNeighbourRadii(points, 2))).toEqual([9, 4, 9, 25]);
    expect(() => KthNeighbourRadii(points, 4)).toThrow(/no 4-th neighbour/);
  });

  it("a generator from the data distribution scores like real vs real; dropping modes lowers recall, not precision", () => {
    const modes = [0, 1, 2, 3, 4, 5];
    const data = Mixture(300, modes, 1);
    const same = PrecisionRecallOf(Mixture(300, modes, 2), data);
    expect(same.k).toBe(3);
    // k = 3 balls in 8-d miss some same-distribution samples: real vs real is below 1, and is the yardstick.
    expect(same.precision).toBeGreaterThan(0.75);
    expect(same.recall).toBeGreaterThan(0.75);
    const dropped = PrecisionRecallOf(Mixture(300, [0, 1], 3), data);
    expect(dropped.precision).toBeGreaterThan(0.75);
    // Two of six modes covered: at most a third of the data is inside the generated manifold.
    expect(dropped.recall).toBeGreaterThan(0.2);
    expect(dropped.recall).toBeLessThan(0.34);
    expect(dropped.recall).toBeLessThan(same.recall / 2);
    // Which data it misses: every recalled data vector is of a drawn mode (data vector i is of mode i mod 6).
    const recalled = [...dropped.recalled.keys()].filter((i) => dropped.recalled[i] === 1);
    expect(recalled.length / data.length).toBe(dropped.recall);
    expect(recalled.every((i) => i % 6 < 2)).toBe(true);
  });

  it("samples off the data manifold lower precision", () => {
    const modes = [0, 1, 2, 3];
    const data = Mixture(200, modes, 4);
    const off = PrecisionRecallOf(Mixture(200, modes, 5, 20), data);
    expect(off.precision).toBeLessThan(0.05);
    expect(off.recall).toBeLessThan(0.05);
  });

  it("CompareFeatureSets reports them and shrinks k for tiny sets", () => {
    const data = Mixture(40, [0, 1, 2, 3], 6);
    const figures = CompareFeatureSets(Mixture(40, [0], 7), data);
    expect(figures.k).toBe(3);
    expect(figures.recall).toBeLessThan(0.4);
    expect(figures.diversityRatio).toBeGreaterThan(0); // mean distance alone does not tell the two apart as clearly
    expect(CompareFeatureSets(Mixture(3, [0], 8), Mixture(3, [0], 9)).k).toBe(2);
  });
});
