/**
 * Matrix product for the networks' fully connected layers and the demodulation, with a custom gradient that
 * avoids tfjs-backend-wasm's slow paths: `matMul(dy, b, false, true)` and `matMul(a, dy, true)` run ~5x slower
 * than a plain product when the batch (M) is small (measured on a [8, 8192] x [8192, 512] layer: 41-65 ms and
 * 78 ms versus ~12 ms). The gradients are written as plain products of the transposed *small* operands:
 *
 *   da = (b @ dy^T)^T,   db = a^T @ dy
 *
 * Both are again {@link MatMul} calls, so the product is differentiable to any order (R1, path length).
 *
 * The forward pass with a large right operand (a weight of >= 1 M values, e.g. D's [8192, 512] FC) is computed
 * as (b^T @ a^T)^T: XNNPACK packs the right operand on every call, as the weights are fresh tensors each step
 * (gain-scaled), and packing 4 M values takes ~60 ms, while transposing b and using it as the left operand
 * takes ~25 ms (measured on wasm, batch 8). The same product on every backend.
 */
import { tf } from "../backends/tfjsBackend.js";

/** Size of a right operand from which the forward product avoids packing it (see the file comment). */
const LargeRightOperand = 1 << 20;

type MatMulFn = (a: tf.Tensor2D, b: tf.Tensor2D) => tf.Tensor2D;

const MatMulCustom: MatMulFn = tf.customGrad(((a: tf.Tensor2D, b: tf.Tensor2D, save: tf.GradSaveFunc) => {
  save([a, b]);
  return {
    value: b.size >= LargeRightOperand && a.shape[0] < b.shape[1] ? tf.transpose(tf.matMul(tf.transpose(b), tf.transpose(a))) : tf.matMul(a, b),
    gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
      const [as, bs] = saved as [tf.Tensor2D, tf.Tensor2D];
      return [tf.transpose(MatMulCustom(bs, tf.transpose(dy))), MatMulCustom(tf.transpose(as), dy)];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as MatMulFn;

/** a [M, K] @ b [K, N] -> [M, N], differentiable to any order with wasm-friendly gradients. */
export function MatMul(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return MatMulCustom(a, b);
}
