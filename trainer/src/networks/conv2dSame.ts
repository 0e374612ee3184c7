/**
 * The one place the trainer's networks call a convolution.
 *
 * Every conv of the generator (and later the discriminator) goes through {@link Conv2dSame}, so a custom
 * gradient can be swapped in here for backends that lack a kernel (tfjs-backend-wasm has no
 * `Conv2DBackpropFilter`; see ENVIRONMENT.md for the fast formulations measured there).
 */
import { tf } from "../backends/tfjsBackend.js";

/**
 * Stride-1 convolution with 'same' zero padding: x NHWC [N, H, W, Cin], w HWIO [kh, kw, Cin, Cout] (odd kh, kw)
 * -> [N, H, W, Cout].
 */
export function Conv2dSame(x: tf.Tensor4D, w: tf.Tensor4D): tf.Tensor4D {
  return tf.conv2d(x, w, 1, "same");
}
