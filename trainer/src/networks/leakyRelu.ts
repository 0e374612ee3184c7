/**
 * Leaky ReLU that is differentiable to any order on every backend. tfjs's `leakyRelu` gradient uses `greater`,
 * which has no gradient itself, so R1 (a gradient of a gradient) fails through it. Here
 * lrelu(x) = x * ((1 + a) / 2 + (1 - a) / 2 * sign(x)); `sign` has a (zero) gradient, so every order works.
 */
import { tf } from "../backends/tfjsBackend.js";

/** lrelu(x, slope) * gain, twice differentiable. */
export function LeakyReluAnyOrder<T extends tf.Tensor>(x: T, slope: number, gain = 1): T {
  return tf.tidy(() => tf.mul(x, tf.add(tf.mul(tf.sign(x), ((1 - slope) / 2) * gain), ((1 + slope) / 2) * gain)) as T);
}
