/**
 * The one place the trainer's networks call a convolution.
 *
 * Every conv of the generator and the discriminator goes through {@link Conv2dSame}. tfjs-backend-wasm has no
 * `Conv2DBackpropFilter` kernel and runs `conv2dTranspose` ~10x slower than `conv2d`, so the gradients are
 * supplied here (tf.customGrad) as plain forward convolutions, the formulations measured fastest on wasm
 * (ENVIRONMENT.md, docs/training.md):
 *
 *  - forward  y  = conv(x, w, pad p)                               (p = (k-1)/2 per side: 'same')
 *  - input    dx = conv(dy, flip(w)^T, pad k-1-p)                  (flip kh/kw, swap in/out channels)
 *  - filter   dw = conv(x^T[C,H,W,N], dy^T[Ho,Wo,N,Cout], pad p)^T  (batch and channels swap roles)
 *
 * Both gradients are themselves {@link Conv2dPadded} calls with the same custom gradient, so the gradient is
 * differentiable again on every backend (R1 and path-length regularisation differentiate through gradients).
 * The cpu backend uses the same code path, which lets the tests compare it with tfjs's own gradient.
 */
import { tf } from "../backends/tfjsBackend.js";

/** Spatial padding [[top, bottom], [left, right]]. */
type Padding2D = readonly [readonly [number, number], readonly [number, number]];

/**
 * Stride-1 convolution with explicit zero padding (x NHWC, w HWIO), with a custom, recursively differentiable
 * gradient made only of forward convolutions and transposes/reverses of the small operands.
 */
export function Conv2dPadded(x: tf.Tensor4D, w: tf.Tensor4D, padding: Padding2D): tf.Tensor4D {
  return ConvCustom(x, w, padding, true);
}

/** Options of {@link Conv2dSame}. */
export interface Conv2dOptions {
  /**
   * False: the gradient with respect to `w` is returned as zeros without computing it (tf.customGrad computes
   * every input's gradient eagerly). For a network whose weights are constants of this backward pass, e.g. D
   * in the generator step; the input gradient and everything higher-order stay exact. Default true.
   */
  readonly filterGradient?: boolean;
}

/** flip(w)^T in plain JS: wT[a, b, o, i] = w[kh-1-a, kw-1-b, i, o], in 32x32 tiles (cache-friendly). */
function FlipSwapJs(w: tf.Tensor4D): tf.Tensor4D {
  const [kh, kw, ci, co] = w.shape;
  const src = w.dataSync() as Float32Array;
  const dst = new Float32Array(src.length);
  const plane = ci * co;
  const taps = kh * kw;
  for (let k = 0; k < taps; k++) {
    const s0 = (taps - 1 - k) * plane;
    const d0 = k * plane;
    for (let i0 = 0; i0 < ci; i0 += 32) {
      const i1 = Math.min(ci, i0 + 32);
      for (let o0 = 0; o0 < co; o0 += 32) {
        const o1 = Math.min(co, o0 + 32);
        for (let i = i0; i < i1; i++) for (let o = o0; o < o1; o++) dst[d0 + o * ci + i] = src[s0 + i * co + o];
      }
    }
  }
  return tf.tensor4d(dst, [kh, kw, co, ci]);
}

/**
 * The kernel of the input gradient, flip(w)^T (spatial flip, in/out channels swapped). A permutation that is
 * its own inverse, so its gradient is itself (any order). On wasm/cpu (tensors in CPU memory) it is one JS
 * pass: tfjs-backend-wasm's `Reverse` runs ~120 ms on a 3x3x512x512 kernel (~10x this); other backends use
 * reverse + transpose. Exact (a permutation) either way.
 */
const FlipSwap = tf.customGrad(((w: tf.Tensor4D) => {
  const backend = tf.getBackend();
  const value = backend === "wasm" || backend === "cpu" ? FlipSwapJs(w) : (tf.transpose(tf.reverse(w, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D);
  return { value, gradFunc: (dy: tf.Tensor4D) => FlipSwap(dy) };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (w: tf.Tensor4D) => tf.Tensor4D;

const customCache = new Map<string, (x: tf.Tensor4D, w: tf.Tensor4D) => tf.Tensor4D>();

function TfjsPadding(p: Padding2D): "valid" | [[number, number], [number, number], [number, number], [number, number]] {
  if (p[0][0] === 0 && p[0][1] === 0 && p[1][0] === 0 && p[1][1] === 0) return "valid";
  return [[0, 0], [p[0][0], p[0][1]], [p[1][0], p[1][1]], [0, 0]];
}

function ConvCustom(x: tf.Tensor4D, w: tf.Tensor4D, padding: Padding2D, filterGradient: boolean): tf.Tensor4D {
  const key = `${padding[0][0]},${padding[0][1]},${padding[1][0]},${padding[1][1]},${filterGradient}`;
  let f = customCache.get(key);
  if (!f) {
    const [[pt, pb], [pl, pr]] = padding;
    const tfPad = TfjsPadding(padding);
    f = tf.customGrad(((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const [x4, w4, save] = args as [tf.Tensor4D, tf.Tensor4D, tf.GradSaveFunc];
      save([x4, w4]);
      return {
        value: tf.conv2d(x4, w4, 1, tfPad),
        gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
          const [xs, ws] = saved as [tf.Tensor4D, tf.Tensor4D];
          const g = dy as tf.Tensor4D;
          const [kh, kw] = ws.shape;
          // Input gradient: correlation of dy with the flipped, in/out-swapped kernel; the complementary padding
          // makes the output exactly x's size (for 'same' it is 'same' again).
          const wT = FlipSwap(ws);
          const dx = ConvCustom(g, wT, [[kh - 1 - pt, kh - 1 - pb], [kw - 1 - pl, kw - 1 - pr]], true);
          if (!filterGradient) return [dx, tf.zerosLike(ws)];
          // Filter gradient: batch and channels swap roles and dy becomes the (large) kernel. Only x, dy and the
          // small result are transposed (large transposes are slow on wasm, see ENVIRONMENT.md).
          const xT = tf.transpose(xs, [3, 1, 2, 0]) as tf.Tensor4D; // [Cin, H, W, N]
          const dyT = tf.transpose(g, [1, 2, 0, 3]) as tf.Tensor4D; // [Ho, Wo, N, Cout]
          const dw = tf.transpose(ConvCustom(xT, dyT, padding, true), [1, 2, 0, 3]) as tf.Tensor4D; // [kh, kw, Cin, Cout]
          return [dx, dw];
        },
      };
    }) as Parameters<typeof tf.customGrad>[0]) as unknown as (x: tf.Tensor4D, w: tf.Tensor4D) => tf.Tensor4D;
    customCache.set(key, f);
  }
  return f(x, w);
}

/**
 * Stride-1 convolution with 'same' zero padding: x NHWC [N, H, W, Cin], w HWIO [kh, kw, Cin, Cout] (odd kh, kw)
 * -> [N, H, W, Cout]. Differentiable to any order on every backend (custom gradient, see the file comment).
 */
export function Conv2dSame(x: tf.Tensor4D, w: tf.Tensor4D, options: Conv2dOptions = {}): tf.Tensor4D {
  const [kh, kw] = w.shape;
  if (kh % 2 !== 1 || kw % 2 !== 1) throw new Error(`Conv2dSame: kernel must be odd-sized, got ${kh}x${kw}`);
  const ph = (kh - 1) / 2;
  const pw = (kw - 1) / 2;
  return ConvCustom(x, w, [[ph, ph], [pw, pw]], options.filterGradient ?? true);
}
