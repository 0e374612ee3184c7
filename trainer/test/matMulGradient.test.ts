/**
 * The trainer's MatMul (../src/networks/matMul.ts) has a custom gradient written as products of the transposed small
 * operands, and a transposed forward form for large right operands: both orders of its gradient must equal tfjs's
 * own matMul gradients (float32 cpu backend), on a small product and on one past the large-operand threshold.
 */
import { describe, expect, it } from "vitest";
import { InitializeTfjsBackendAsync, tf } from "../src/backends/tfjsBackend.js";
import { MatMul } from "../src/networks/matMul.js";

function Values(n: number, seed: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + seed) * 0.5);
}

function MaxRelativeDifference(a: tf.Tensor, b: tf.Tensor): number {
  const x = a.dataSync();
  const y = b.dataSync();
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < y.length; i++) {
    diff = Math.max(diff, Math.abs(x[i] - y[i]));
    norm = Math.max(norm, Math.abs(y[i]));
  }
  return diff / norm;
}

describe("MatMul's custom gradient", () => {
  // [M, K] x [K, N]: a fully connected layer, and D's big FC (K·N ≥ 2^20 takes the transposed forward form).
  for (const [m, k, n] of [[3, 5, 4], [2, 1024, 1025]] as const) {
    it(`first and second order equal tfjs's matMul gradients, [${m}, ${k}] x [${k}, ${n}]`, async () => {
      await InitializeTfjsBackendAsync("cpu");
      tf.tidy(() => {
        const a = tf.tensor2d(Values(m * k, 1), [m, k]);
        const b = tf.tensor2d(Values(k * n, 2), [k, n]);
        const r = tf.tensor2d(Values(m * n, 3), [m, n]);
        expect(MaxRelativeDifference(MatMul(a, b), tf.matMul(a, b))).toBeLessThan(1e-6);
        // L = Σ r·(a b) + Σ (a b)²: its gradient depends on a and b, so its own gradient exercises the second order.
        const loss = (f: (x: tf.Tensor2D, y: tf.Tensor2D) => tf.Tensor2D) => (x: tf.Tensor, y: tf.Tensor) => {
          const p = f(x as tf.Tensor2D, y as tf.Tensor2D);
          return tf.add(tf.sum(tf.mul(p, r)), tf.sum(tf.square(p))) as tf.Scalar;
        };
        const [da, db] = tf.grads(loss(MatMul))([a, b]);
        const [ea, eb] = tf.grads(loss((x, y) => tf.matMul(x, y)))([a, b]);
        expect(MaxRelativeDifference(da, ea)).toBeLessThan(1e-5);
        expect(MaxRelativeDifference(db, eb)).toBeLessThan(1e-5);
        // Second order: the gradient of |dL/da|² + |dL/db|² with respect to a and b.
        const second = (f: (x: tf.Tensor2D, y: tf.Tensor2D) => tf.Tensor2D) => (x: tf.Tensor, y: tf.Tensor) => {
          const [gx, gy] = tf.grads(loss(f))([x, y]);
          return tf.add(tf.sum(tf.square(gx)), tf.sum(tf.square(gy))) as tf.Scalar;
        };
        const [sa, sb] = tf.grads(second(MatMul))([a, b]);
        const [ta, tb] = tf.grads(second((x, y) => tf.matMul(x, y)))([a, b]);
        expect(MaxRelativeDifference(sa, ta)).toBeLessThan(1e-4);
        expect(MaxRelativeDifference(sb, tb)).toBeLessThan(1e-4);
      });
    });
  }
});
