/**
 * StyleGAN2's modulated convolution in the "activation modulation" form: scale the input channels by the
 * style, convolve with the shared weight, scale the output channels by the demodulation coefficient.
 * Mathematically equal to convolving each sample with its own weight `W * s` (demodulated), but one batched
 * conv instead of N (the textbook form is checked against this one in the tests).
 */
import { tf } from "../backends/tfjsBackend.js";
import { Conv2dSame } from "./conv2dSame.js";
import { Up2x } from "./filteredResampling.js";
import { MatMul } from "./matMul.js";

/** Options of {@link ModulatedConv2d}. */
export interface ModulatedConv2dOptions {
  /** Divide each output channel by the norm of its modulated weight (convs: true, toRGB: false). */
  readonly demodulate: boolean;
  /** 2x filtered up-sampling (see {@link Up2x}) between modulation and convolution. */
  readonly up: boolean;
}

/** Added under the square root of the demodulation, as stylegan2-ada. */
export const DemodulationEpsilon = 1e-8;

/**
 * Modulated convolution: x NHWC [N, H, W, Cin], weight (already multiplied by its gain) HWIO [k, k, Cin, Cout],
 * styles [N, Cin] -> [N, H', W', Cout] with H' = 2H when `up`.
 *
 * y = conv(up?(x * s), W) * d, with d[n, o] = 1 / sqrt(sum_i s[n, i]^2 * sum_{kh,kw} W[kh, kw, i, o]^2 + 1e-8).
 */
export function ModulatedConv2d(x: tf.Tensor4D, weight: tf.Tensor4D, styles: tf.Tensor2D, options: ModulatedConv2dOptions): tf.Tensor4D {
  return tf.tidy(() => {
    const [n, , , cIn] = x.shape;
    const cOut = weight.shape[3];
    let h: tf.Tensor4D = tf.mul(x, tf.reshape(styles, [n, 1, 1, cIn]));
    if (options.up) h = Up2x(h);
    let y = Conv2dSame(h, weight);
    if (options.demodulate) {
      const wSquaredSum = tf.sum(tf.square(weight), [0, 1]) as tf.Tensor2D; // [Cin, Cout]
      const d = tf.rsqrt(tf.add(MatMul(tf.square(styles), wSquaredSum), DemodulationEpsilon)); // [N, Cout]
      y = tf.mul(y, tf.reshape(d, [n, 1, 1, cOut]));
    }
    return y;
  });
}
