/**
 * 2x up- and down-sampling of NHWC feature maps with the [1, 3, 3, 1] filter and edge clamping.
 *
 * Built only from 4D slices, concat, reshape, mul and add, which have gradients on every tfjs backend (the
 * wasm backend lacks some gradient kernels), so training and inference share this code unchanged, to any
 * order of differentiation. Avoid `tf.mirrorPad` for edge clamping: its tfjs gradient drops the mirrored
 * contributions (it only slices `dy`).
 *
 * Per axis, with x[-1] := x[0] and x[n] := x[n-1] (edge clamping):
 *  - up:   y[2i] = 1/4 x[i-1] + 3/4 x[i],   y[2i+1] = 3/4 x[i] + 1/4 x[i+1]
 *    This is exactly bilinear resizing with half-pixel centres (`tf.image.resizeBilinear(x, [2h, 2w], false,
 *    true)`, onnxruntime `Resize` mode=linear, coordinate_transformation_mode=half_pixel).
 *  - down: y[i] = (x[2i-1] + 3 x[2i] + 3 x[2i+1] + x[2i+2]) / 8
 *    i.e. the [1,3,3,1]/8 filter at stride 2. With edge clamping this is exactly 1/2 x the adjoint (transpose)
 *    of the 1D up-sampling, so in 2D `<Up2x(a), b> = 4 <a, Down2x(b)>`. In the interior it equals the
 *    antialiased bilinear (triangle filter) 2x reduction of PIL/TF; at the borders it replicates the edge
 *    instead of renormalising the filter. (StyleGAN2's `downsample2d` uses the same filter with zero padding.)
 */
import { tf } from "../backends/tfjsBackend.js";

/** Up-samples one spatial axis (1 = H, 2 = W) of an NHWC tensor by 2. */
function Up2xAxis(x: tf.Tensor4D, axis: 1 | 2): tf.Tensor4D {
  const n = x.shape[axis];
  const [N, H, W, C] = x.shape;
  let prev: tf.Tensor4D;
  let next: tf.Tensor4D;
  if (n === 1) {
    prev = x;
    next = x;
  } else {
    const first = axis === 1 ? tf.slice(x, [0, 0, 0, 0], [N, 1, W, C]) : tf.slice(x, [0, 0, 0, 0], [N, H, 1, C]);
    const last = axis === 1 ? tf.slice(x, [0, n - 1, 0, 0], [N, 1, W, C]) : tf.slice(x, [0, 0, n - 1, 0], [N, H, 1, C]);
    const head = axis === 1 ? tf.slice(x, [0, 0, 0, 0], [N, n - 1, W, C]) : tf.slice(x, [0, 0, 0, 0], [N, H, n - 1, C]);
    const tail = axis === 1 ? tf.slice(x, [0, 1, 0, 0], [N, n - 1, W, C]) : tf.slice(x, [0, 0, 1, 0], [N, H, n - 1, C]);
    prev = tf.concat([first, head], axis); // x[i-1], clamped
    next = tf.concat([tail, last], axis); // x[i+1], clamped
  }
  const centre = tf.mul(x, 0.75);
  const even = tf.add(centre, tf.mul(prev, 0.25));
  const odd = tf.add(centre, tf.mul(next, 0.25));
  // Interleave even/odd as a 4D concat ([rows, n, 1, inner] twice -> [rows, n, 2, inner]): tfjs-backend-wasm
  // runs 5D slices (the gradient of `stack`/`unstack`) in slow JS loops, ~100x slower than this.
  const [rows, inner] = axis === 1 ? [N, W * C] : [N * H, C];
  const pair = tf.concat([tf.reshape(even, [rows, n, 1, inner]), tf.reshape(odd, [rows, n, 1, inner])], 2);
  const shape: [number, number, number, number] = axis === 1 ? [N, 2 * H, W, C] : [N, H, 2 * W, C];
  return tf.reshape(pair, shape);
}

/** Down-samples one spatial axis (1 = H, 2 = W) of an NHWC tensor by 2 (the axis length must be even). */
function Down2xAxis(x: tf.Tensor4D, axis: 1 | 2): tf.Tensor4D {
  const [N, H, W, C] = x.shape;
  const n = x.shape[axis];
  if (n % 2 !== 0) throw new Error(`Down2x: spatial size must be even, got ${n}`);
  const m = n / 2;
  // [rows, m, 2, inner]: even/odd samples are index 0/1 of axis 2 (kept 4D: wasm's 5D slices are slow).
  const [rows, inner] = axis === 1 ? [N, W * C] : [N * H, C];
  const pairs = tf.reshape(x, [rows, m, 2, inner]);
  const pick = (k: number, from: number, count: number): tf.Tensor4D => {
    const cut: [number, number, number, number] = axis === 1 ? [N, count, W, C] : [N, H, count, C];
    return tf.reshape(tf.slice(pairs, [0, from, k, 0], [rows, count, 1, inner]), cut);
  };
  const even = pick(0, 0, m); // x[2i]
  const odd = pick(1, 0, m); // x[2i+1]
  let prevOdd: tf.Tensor4D; // x[2i-1], x[-1] := x[0]
  let nextEven: tf.Tensor4D; // x[2i+2], x[n] := x[n-1]
  if (m === 1) {
    prevOdd = even;
    nextEven = odd;
  } else {
    prevOdd = tf.concat([pick(0, 0, 1), pick(1, 0, m - 1)], axis);
    nextEven = tf.concat([pick(0, 1, m - 1), pick(1, m - 1, 1)], axis);
  }
  const centre = tf.mul(tf.add(even, odd), 3 / 8);
  return tf.add(centre, tf.mul(tf.add(prevOdd, nextEven), 1 / 8));
}

/**
 * 2x up-sampling of an NHWC tensor with the [1,3,3,1] filter and edge clamping; equals bilinear resizing
 * with half-pixel centres. Differentiable on every backend.
 */
export function Up2x(x: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => Up2xAxis(Up2xAxis(x, 1), 2));
}

/**
 * 2x down-sampling of an NHWC tensor: the [1,3,3,1]/8 filter per axis with edge clamping, at stride 2
 * (see the file comment for the exact definition). H and W must be even. Differentiable on every backend.
 */
export function Down2x(x: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => Down2xAxis(Down2xAxis(x, 1), 2));
}
