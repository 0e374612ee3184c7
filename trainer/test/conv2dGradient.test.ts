/**
 * The custom convolution gradient (conv2dSame.ts): against tfjs's own gradient on cpu, against finite differences
 * on wasm (first and second order, as R1 needs), and a wasm training-step smoke check.
 */
import { describe, expect, it } from "vitest";
import { FillStandardNormal } from "@npc-faces/runtime";
import { InitializeTfjsBackendAsync, tf } from "../src/backends/tfjsBackend.js";
import { Conv2dPadded, Conv2dSame } from "../src/networks/conv2dSame.js";

function Normal(seed: number, shape: number[]): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(FillStandardNormal(seed, 7, new Float32Array(n)), shape);
}

function MaxRelDiff(a: tf.Tensor, b: tf.Tensor): number {
  const x = a.dataSync();
  const y = b.dataSync();
  let scale = 1e-6;
  for (let i = 0; i < y.length; i++) scale = Math.max(scale, Math.abs(y[i]));
  let d = 0;
  for (let i = 0; i < x.length; i++) d = Math.max(d, Math.abs(x[i] - y[i]));
  return d / scale;
}

describe("Conv2dSame custom gradient", () => {
  it("matches tfjs's own conv2d gradient on cpu (3x3, 1x1, padded), first and second order", async () => {
    await InitializeTfjsBackendAsync("cpu");
    for (const k of [3, 1]) {
      const x = Normal(1, [2, 5, 6, 3]);
      const w = Normal(2, [k, k, 3, 4]);
      const r = Normal(3, [2, 5, 6, 4]);
      const ours = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(Conv2dSame(a as tf.Tensor4D, b as tf.Tensor4D), r)))([x, w]);
      const theirs = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, "same"), r)))([x, w]);
      expect(MaxRelDiff(ours[0], theirs[0])).toBeLessThan(1e-5);
      expect(MaxRelDiff(ours[1], theirs[1])).toBeLessThan(1e-5);
      // Second order (R1-style): d/dw of |d/dx f|^2.
      const r1 = (conv: (a: tf.Tensor4D, b: tf.Tensor4D) => tf.Tensor4D) =>
        tf.grad((b: tf.Tensor) => {
          const gx = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.square(conv(a as tf.Tensor4D, b as tf.Tensor4D)), r)))(x);
          return tf.sum(tf.square(gx));
        })(w);
      expect(MaxRelDiff(r1(Conv2dSame), r1((a, b) => tf.conv2d(a, b, 1, "same")))).toBeLessThan(1e-4);
    }
    const x = Normal(4, [2, 6, 5, 2]);
    const w = Normal(5, [3, 3, 2, 3]);
    const ours = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(Conv2dPadded(a as tf.Tensor4D, b as tf.Tensor4D, [[0, 2], [1, 0]]))))([x, w]);
    const theirs = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.square(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, [[0, 0], [0, 2], [1, 0], [0, 0]]))))([x, w]);
    expect(MaxRelDiff(ours[0], theirs[0])).toBeLessThan(1e-5);
    expect(MaxRelDiff(ours[1], theirs[1])).toBeLessThan(1e-5);
  });

  it("matches central finite differences on wasm (first and second order)", async () => {
    await InitializeTfjsBackendAsync("wasm");
    const x = Normal(11, [2, 4, 4, 2]);
    const w = Normal(12, [3, 3, 2, 3]);
    const r = Normal(13, [2, 4, 4, 3]);
    const f = (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.square(Conv2dSame(a as tf.Tensor4D, b as tf.Tensor4D)), r));
    // Second-order objective: |d f / d x|^2 as a function of w.
    const g2 = (b: tf.Tensor) => tf.sum(tf.square(tf.grad((a: tf.Tensor) => f(a, b))(x)));
    const [gx, gw] = tf.grads(f)([x, w]);
    const gw2 = tf.grad(g2)(w);
    const eps = 1e-2;
    const probe = (t: tf.Tensor, i: number, fn: (v: tf.Tensor) => tf.Scalar | tf.Tensor): number => {
      const v = t.dataSync().slice();
      v[i] += eps;
      const plus = fn(tf.tensor(v, t.shape)).dataSync()[0];
      v[i] -= 2 * eps;
      const minus = fn(tf.tensor(v, t.shape)).dataSync()[0];
      return (plus - minus) / (2 * eps);
    };
    for (const i of [0, 5, 17, 31]) {
      const numX = probe(x, i, (v) => f(v, w));
      expect(Math.abs(numX - gx.dataSync()[i])).toBeLessThan(2e-2 * Math.max(1, Math.abs(numX)));
    }
    for (const i of [0, 7, 26, 53]) {
      const numW = probe(w, i, (v) => f(x, v));
      expect(Math.abs(numW - gw.dataSync()[i])).toBeLessThan(2e-2 * Math.max(1, Math.abs(numW)));
      const numW2 = probe(w, i, (v) => g2(v));
      expect(Math.abs(numW2 - gw2.dataSync()[i])).toBeLessThan(3e-2 * Math.max(1, Math.abs(numW2)));
    }
  });
});

describe("Conv2dSame filterGradient: false", () => {
  it("keeps the input gradient exactly and returns a zero filter gradient (wasm)", async () => {
    await InitializeTfjsBackendAsync("wasm");
    const x = Normal(21, [2, 5, 5, 3]) as tf.Tensor4D;
    const w = Normal(22, [3, 3, 3, 4]) as tf.Tensor4D;
    const r = Normal(23, [2, 5, 5, 4]);
    const grads = (filterGradient: boolean) => tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(Conv2dSame(a as tf.Tensor4D, b as tf.Tensor4D, { filterGradient }), r)))([x, w]);
    const [dxFull, dwFull] = grads(true);
    const [dx, dw] = grads(false);
    expect(Array.from(dx.dataSync())).toEqual(Array.from(dxFull.dataSync()));
    expect(tf.max(tf.abs(dw)).dataSync()[0]).toBe(0);
    expect(tf.max(tf.abs(dwFull)).dataSync()[0]).toBeGreaterThan(0);
  });
});
