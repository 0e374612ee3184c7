/** Leaky ReLU differentiable twice (finite differences on wasm) and a path-length step that runs and moves G. */
import { describe, expect, it } from "vitest";
import { InitializeTfjsBackendAsync, tf } from "../src/backends/tfjsBackend.js";
import { LeakyReluAnyOrder } from "../src/networks/leakyRelu.js";
import { TrainingRun } from "../src/training/trainingLoop.js";
import { ResolveTrainingOptions } from "../src/training/trainingOptions.js";
import { SolidColourData } from "./trainingTestData.js";

describe("LeakyReluAnyOrder", () => {
  it("equals leakyRelu * gain and has first and second derivatives matching finite differences (wasm)", async () => {
    await InitializeTfjsBackendAsync("wasm");
    const xs = [-1.3, -0.4, 0.25, 0.9, 2.1];
    const r = [0.7, -1.1, 0.3, 1.5, -0.6];
    const x = tf.tensor1d(xs);
    const ref = tf.mul(tf.leakyRelu(x, 0.2), Math.SQRT2).dataSync();
    const ours = LeakyReluAnyOrder(x, 0.2, Math.SQRT2).dataSync();
    for (let i = 0; i < xs.length; i++) expect(Math.abs(ours[i] - ref[i])).toBeLessThan(1e-6);
    // f(x) = sum(r * lrelu(x)^2): f' = 2 r lrelu(x) m(x), and d/dx <f'(x), v> needs the second derivative.
    const f = (t: tf.Tensor) => tf.sum(tf.mul(tf.square(LeakyReluAnyOrder(t, 0.2, Math.SQRT2)), tf.tensor1d(r)));
    const g = tf.grad(f);
    const v = tf.tensor1d([0.3, -0.2, 0.5, 0.1, -0.4]);
    const hv = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(g(t), v)))(x).dataSync();
    const h = 1e-2;
    const g1 = tf.tidy(() => g(tf.add(x, tf.mul(v, h))).dataSync());
    const g0 = tf.tidy(() => g(tf.sub(x, tf.mul(v, h))).dataSync());
    const first = g(x).dataSync();
    for (let i = 0; i < xs.length; i++) {
      const m = xs[i] > 0 ? Math.SQRT2 : 0.2 * Math.SQRT2;
      expect(first[i]).toBeCloseTo(2 * r[i] * xs[i] * m * m, 4);
      // Hessian is diagonal (2 r m^2): (H v)_i = (g(x + h v) - g(x - h v))_i / 2h.
      expect(hv[i]).toBeCloseTo((g1[i] - g0[i]) / (2 * h), 2);
      expect(hv[i]).not.toBe(0);
    }
  });
});

describe("path-length regularisation", () => {
  it("runs on wasm (G differentiated twice) and changes G's weights", async () => {
    await InitializeTfjsBackendAsync("wasm");
    const options = ResolveTrainingOptions({ preset: "tiny", batch: 4, aug: "none", plWeight: 2, plInterval: 1, gamma: 0, seed: 3 });
    const run = new TrainingRun(options, SolidColourData());
    // Same run without the regulariser, to show the path-length step itself moves G.
    const plain = new TrainingRun({ ...options, plWeight: 0 }, SolidColourData());
    const stats = run.trainStep();
    plain.trainStep();
    expect(stats.pathLength).not.toBeNull();
    expect(Number.isFinite(stats.pathLength!)).toBe(true);
    expect(stats.pathLength!).toBeGreaterThan(0);
    const a = run.G.getWeights();
    const b = plain.G.getWeights();
    let diff = 0;
    for (const [name, values] of a) {
      const other = b.get(name)!;
      for (let i = 0; i < values.length; i++) diff = Math.max(diff, Math.abs(values[i] - other[i]));
    }
    expect(diff).toBeGreaterThan(0);
    run.dispose();
    plain.dispose();
  });
});
