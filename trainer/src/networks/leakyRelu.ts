/**
 * Leaky ReLU that is differentiable to any order on every backend. tfjs's `leakyRelu` gradient uses `greater`,
 * which has no gradient itself, so R1 (a gradient of a gradient through D) and path-length regularisation (the
 * same through G) fail through it. Here
 *
 *   lrelu(x) * gain = x * m(x),   m(x) = ((1 + a) / 2 + (1 - a) / 2 * sign(x)) * gain
 *
 * with a custom gradient dy * m(x): m is piecewise constant (`sign` has a zero gradient), so the gradient is
 * again differentiable (d/dx = 0 almost everywhere, d/d(dy) = m), to any order. The custom gradient also
 * skips the product rule's dead branch (x * d m/dx = 0), which tfjs would otherwise compute in full.
 */
import { tf } from "../backends/tfjsBackend.js";

const cache = new Map<string, (x: tf.Tensor) => tf.Tensor>();

function Slopes(x: tf.Tensor, slope: number, gain: number): tf.Tensor {
  return tf.add(tf.mul(tf.sign(x), ((1 - slope) / 2) * gain), ((1 + slope) / 2) * gain);
}

/** lrelu(x, slope) * gain, differentiable to any order. */
export function LeakyReluAnyOrder<T extends tf.Tensor>(x: T, slope: number, gain = 1): T {
  const key = `${slope},${gain}`;
  let f = cache.get(key);
  if (!f) {
    f = tf.customGrad(((input: tf.Tensor, save: tf.GradSaveFunc) => {
      save([input]);
      return {
        value: tf.mul(input, Slopes(input, slope, gain)),
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.mul(dy, Slopes(saved[0], slope, gain)),
      };
    }) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (x: tf.Tensor) => tf.Tensor;
    cache.set(key, f);
  }
  return f(x) as T;
}
