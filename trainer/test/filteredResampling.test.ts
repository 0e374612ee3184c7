/** [1,3,3,1] 2x up/down-sampling: equals half-pixel bilinear resizing, matches its definition, differentiable on wasm. */
import { describe, expect, it } from "vitest";
import { InitializeTfjsBackendAsync, tf } from "../src/backends/tfjsBackend.js";
import { Down2x, Up2x } from "../src/networks/filteredResampling.js";
import { MaxAbsDiff } from "./generatorTestData.js";

function RandomValues(size: number, seed: number): Float32Array {
  const out = new Float32Array(size);
  let s = seed >>> 0;
  for (let i = 0; i < size; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

/** Down2x by its definition, per axis with edge clamping, in float64. */
function ReferenceDown2x(x: Float32Array, [n, h, w, c]: number[]): Float64Array {
  const at = (b: number, i: number, j: number, k: number) =>
    x[((b * h + Math.min(h - 1, Math.max(0, i))) * w + Math.min(w - 1, Math.max(0, j))) * c + k];
  const taps = [-1, 0, 1, 2];
  const f = [1 / 8, 3 / 8, 3 / 8, 1 / 8];
  const out = new Float64Array(n * (h / 2) * (w / 2) * c);
  let o = 0;
  for (let b = 0; b < n; b++)
    for (let i = 0; i < h / 2; i++)
      for (let j = 0; j < w / 2; j++)
        for (let k = 0; k < c; k++) {
          let sum = 0;
          // Clamping per axis, then the separable filter (clamp of a clamped index is the same index).
          for (let a = 0; a < 4; a++) for (let bb = 0; bb < 4; bb++) sum += f[a] * f[bb] * at(b, 2 * i + taps[a], 2 * j + taps[bb], k);
          out[o++] = sum;
        }
  return out;
}

const shapes: [number, number, number, number][] = [
  [2, 4, 4, 3],
  [1, 5, 3, 2],
  [1, 1, 1, 4],
  [3, 8, 2, 1],
];

describe("Up2x", () => {
  it("equals tf.image.resizeBilinear(x, [2h, 2w], false, true) on the cpu backend", async () => {
    await InitializeTfjsBackendAsync("cpu");
    shapes.forEach((shape, i) => {
      const x = tf.tensor4d(RandomValues(shape.reduce((a, b) => a * b), i + 1), shape);
      const ours = Up2x(x);
      const ref = tf.image.resizeBilinear(x, [2 * shape[1], 2 * shape[2]], false, true);
      expect(ours.shape).toEqual(ref.shape);
      expect(MaxAbsDiff(ours.dataSync(), ref.dataSync())).toBeLessThanOrEqual(1e-6);
      tf.dispose([x, ours, ref]);
    });
  });

  it("is linear and keeps constants", async () => {
    await InitializeTfjsBackendAsync("cpu");
    const x = tf.fill([1, 3, 5, 2], 0.625) as tf.Tensor4D;
    expect(MaxAbsDiff(Up2x(x).dataSync(), new Float32Array(120).fill(0.625))).toBe(0);
  });
});

describe("Down2x", () => {
  it("is the [1,3,3,1]/8 filter with edge clamping at stride 2", async () => {
    await InitializeTfjsBackendAsync("cpu");
    for (const shape of [[2, 4, 4, 3], [1, 2, 6, 2], [1, 8, 2, 1]] as [number, number, number, number][]) {
      const values = RandomValues(shape.reduce((a, b) => a * b), 7);
      const ours = Down2x(tf.tensor4d(values, shape));
      expect(ours.shape).toEqual([shape[0], shape[1] / 2, shape[2] / 2, shape[3]]);
      expect(MaxAbsDiff(ours.dataSync(), ReferenceDown2x(values, shape))).toBeLessThanOrEqual(1e-6);
    }
  });

  it("is a quarter of Up2x's adjoint: <Up2x(a), b> = 4 <a, Down2x(b)>", async () => {
    await InitializeTfjsBackendAsync("cpu");
    const a = tf.tensor4d(RandomValues(2 * 3 * 5 * 2, 3), [2, 3, 5, 2]);
    const b = tf.tensor4d(RandomValues(2 * 6 * 10 * 2, 4), [2, 6, 10, 2]);
    const left = tf.sum(tf.mul(Up2x(a), b)).dataSync()[0];
    const right = 4 * tf.sum(tf.mul(a, Down2x(b))).dataSync()[0];
    expect(Math.abs(left - right)).toBeLessThan(1e-4);
  });

  it("rejects odd sizes", async () => {
    await InitializeTfjsBackendAsync("cpu");
    expect(() => Down2x(tf.zeros([1, 3, 4, 1]))).toThrow(/even/);
  });
});

describe("gradients", () => {
  it("exist on the wasm backend and equal the cpu backend's", async () => {
    const shape: [number, number, number, number] = [2, 4, 6, 3];
    const x = RandomValues(2 * 4 * 6 * 3, 11);
    const r = RandomValues(2 * 8 * 12 * 3, 12);
    const grads = async (backend: "cpu" | "wasm") => {
      await InitializeTfjsBackendAsync(backend);
      const weightsUp = tf.tensor4d(r, [2, 8, 12, 3]);
      const gUp = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(Up2x(t as tf.Tensor4D), weightsUp)))(tf.tensor4d(x, shape));
      const weightsDown = tf.tensor4d(x, shape);
      const gDown = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(Down2x(t as tf.Tensor4D), weightsDown)))(tf.tensor4d(r, [2, 8, 12, 3]));
      return { up: gUp.dataSync().slice(), down: gDown.dataSync().slice() };
    };
    const cpu = await grads("cpu");
    const wasm = await grads("wasm");
    expect(MaxAbsDiff(cpu.up, wasm.up)).toBeLessThan(1e-5);
    expect(MaxAbsDiff(cpu.down, wasm.down)).toBeLessThan(1e-5);
    // The adjoint relation again, through the gradients: grad of <Up2x(x), r> is Up2x^T r = 4 Down2x(r).
    await InitializeTfjsBackendAsync("cpu");
    const down = Down2x(tf.tensor4d(r, [2, 8, 12, 3])).dataSync();
    expect(MaxAbsDiff(cpu.up, Float32Array.from(down, (v) => 4 * v))).toBeLessThan(1e-5);
  });
});
