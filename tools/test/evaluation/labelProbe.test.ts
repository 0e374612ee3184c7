import { describe, expect, it } from "vitest";
import { CreateSeededRandom } from "../../src/dataset/seededRandom.js";
import { Cholesky, CholeskySolve, FitRidgeModels, GramMatrix, PredictRidge, SolveRidge, CrossProduct } from "../../src/evaluation/ridgeRegression.js";
import { FitLabelProbes, HasLabelColumn, LabelColumnValues, MeasureProbeQuality, PearsonCorrelation } from "../../src/evaluation/labelProbe.js";
import { MakePixelFeatureLayout } from "../../src/evaluation/pixelFeatures.js";

/** Deterministic uniform numbers in [0, 1): the data-set tools' seeded generator. */
const Random = CreateSeededRandom;

/** n×d features in 0..1 (like pixels) and a planted linear target y = X·w + b + noise. */
function Planted(n: number, d: number, seed: number, noise: number): { x: Float32Array; y: Float64Array; w: Float64Array; b: number } {
  const random = Random(seed);
  const x = Float32Array.from({ length: n * d }, () => random());
  const w = Float64Array.from({ length: d }, () => random() * 2 - 1);
  const b = 0.3;
  const y = Float64Array.from({ length: n }, (_, i) => {
    let sum = b + (random() - 0.5) * noise;
    for (let j = 0; j < d; j++) sum += w[j] * x[i * d + j];
    return sum;
  });
  return { x, y, w, b };
}

describe("ridge regression (closed form)", () => {
  it("recovers a planted linear relation", () => {
    const { x, y, w, b } = Planted(600, 24, 1, 0.01);
    const [model] = FitRidgeModels(x, 24, [y]);
    for (let j = 0; j < 24; j++) expect(model.weights[j]).toBeCloseTo(w[j], 1);
    expect(model.bias).toBeCloseTo(b, 1);
    const predictions = Array.from({ length: 600 }, (_, i) => PredictRidge(model, x, i));
    expect(PearsonCorrelation(predictions, y)).toBeGreaterThan(0.999);
  });

  it("solves (XᵀX + λI)·β = Xᵀy exactly, with the intercept unpenalised (checked by direct sums)", () => {
    const n = 80;
    const d = 6;
    const { x, y } = Planted(n, d, 2, 0.5);
    const lambda = 3.5;
    const [model] = FitRidgeModels(x, d, [y], { relativeLambdas: [1] });
    // With one penalty nothing is held back and λ = mean diagonal of XᵀX: compute it directly.
    let diagonal = 0;
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) diagonal += x[i * d + j] ** 2;
    expect(model.lambda).toBeCloseTo(diagonal / d, 9);
    const direct = SolveRidge(GramMatrix(x, d, [...Array(n).keys()]), CrossProduct(x, d, [...Array(n).keys()], y), d, lambda);
    // Gradient of ‖Xw + b − y‖² + λ‖w‖² is zero at the solution: Xᵀr + λw = 0 and Σr = 0.
    for (const m of [model, direct]) {
      const residual = Array.from({ length: n }, (_, i) => PredictRidge(m, x, i) - y[i]);
      for (let j = 0; j < d; j++) {
        let g = m.lambda * m.weights[j];
        for (let i = 0; i < n; i++) g += x[i * d + j] * residual[i];
        expect(Math.abs(g)).toBeLessThan(1e-9);
      }
      expect(Math.abs(residual.reduce((a, v) => a + v, 0))).toBeLessThan(1e-9);
    }
    // And it is a minimum: any small step makes the objective worse.
    const objective = (weights: Float64Array, bias: number) => {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += (PredictRidge({ weights, bias, lambda }, x, i) - y[i]) ** 2;
      return sum + lambda * weights.reduce((a, v) => a + v * v, 0);
    };
    const best = objective(direct.weights, direct.bias);
    const random = Random(3);
    for (let k = 0; k < 20; k++) {
      const step = Float64Array.from(direct.weights, (v) => v + (random() - 0.5) * 1e-3);
      expect(objective(step, direct.bias + (random() - 0.5) * 1e-3)).toBeGreaterThan(best);
    }
  });

  it("a larger penalty shrinks the weights; the chosen penalty is one of those offered", () => {
    const { x, y } = Planted(200, 10, 4, 2);
    const [small] = FitRidgeModels(x, 10, [y], { relativeLambdas: [1e-4] });
    const [large] = FitRidgeModels(x, 10, [y], { relativeLambdas: [10] });
    const norm = (w: Float64Array) => Math.hypot(...w);
    expect(norm(large.weights)).toBeLessThan(norm(small.weights) / 2);
    const [chosen] = FitRidgeModels(x, 10, [y]);
    expect(chosen.lambda).toBeGreaterThan(0);
  });

  it("Cholesky solves a known system and refuses a matrix that is not positive definite", () => {
    const a = Float64Array.from([4, 2, 2, 3]);
    const solution = CholeskySolve(Cholesky(a, 2), 2, [2, 1]);
    expect(4 * solution[0] + 2 * solution[1]).toBeCloseTo(2, 12);
    expect(2 * solution[0] + 3 * solution[1]).toBeCloseTo(1, 12);
    expect(() => Cholesky(Float64Array.from([1, 2, 2, 1]), 2)).toThrow(/not positive definite/);
  });
});

describe("label probes", () => {
  it("measure a planted attribute on unseen rows, and show no skill on a label unrelated to the features", () => {
    const layout = MakePixelFeatureLayout(2); // 12 values
    const all = Planted(900, layout.length, 5, 0.05);
    const binary = Float64Array.from(all.y, (v) => (v > 0.3 + all.w.reduce((a, w) => a + w / 2, 0) ? 1 : 0));
    const random = Random(6);
    const noise = Float64Array.from({ length: 900 }, () => random());
    const split = (values: Float64Array, from: number, to: number) => values.slice(from, to);
    const fit = { features: all.x.slice(0, 600 * 12), values: [split(all.y, 0, 600), split(binary, 0, 600), split(noise, 0, 600)] };
    const score = { features: all.x.slice(600 * 12), values: [split(all.y, 600, 900), split(binary, 600, 900), split(noise, 600, 900)] };
    const [linear, yesNo, unrelated] = FitLabelProbes(["linear", "yes", "noise"], layout, fit, score);
    expect(linear.quality.binary).toBe(false);
    expect(linear.quality.r).toBeGreaterThan(0.99);
    expect(yesNo.quality.binary).toBe(true);
    expect(yesNo.quality.accuracy!).toBeGreaterThan(0.9);
    expect(yesNo.quality.accuracy!).toBeGreaterThan(yesNo.quality.baseline!);
    expect(Math.abs(unrelated.quality.r)).toBeLessThan(0.2);
  });

  it("accuracy and majority baseline", () => {
    const q = MeasureProbeQuality([0.9, 0.2, 0.6, 0.4], [1, 0, 0, 0], true);
    expect(q.accuracy).toBe(0.75);
    expect(q.baseline).toBe(0.75);
    expect(MeasureProbeQuality([1, 2], [1, 2], false).accuracy).toBeNull();
  });

  it("label columns as the trainer names them: numeric scaled by the schema's range, attribute=value as 1/0", () => {
    const manifest = {
      labelSchema: { categorical: { gender: ["male", "female"] }, numeric: { skin_tone: { min: 0, max: 2, description: "" } } },
      images: [
        { labels: { gender: "male" }, numeric: { skin_tone: 1 } },
        { labels: { gender: "female" }, numeric: {} },
      ],
    } as unknown as Parameters<typeof LabelColumnValues>[0];
    expect([...LabelColumnValues(manifest, "skin_tone")]).toEqual([0.5, 0]);
    expect([...LabelColumnValues(manifest, "gender=male")]).toEqual([1, 0]);
    expect([...LabelColumnValues(manifest, "gender=female")]).toEqual([0, 1]);
    expect(HasLabelColumn(manifest, "gender=other")).toBe(false);
    expect(HasLabelColumn(manifest, "gender")).toBe(false);
    expect(() => LabelColumnValues(manifest, "hat")).toThrow(/no label column "hat"/);
  });
});
