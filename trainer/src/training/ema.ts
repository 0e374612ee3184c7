/**
 * The generator's exponential moving average (stylegan2-ada): G_ema = lerp(G, G_ema, beta) after every step,
 * with beta from a half-life in images and a ramp-up that shortens the half-life early in training.
 */
import { tf } from "../backends/tfjsBackend.js";

/** Options of {@link EmaBeta}. */
export interface EmaOptions {
  /** Half-life of the average in thousands of images (stylegan2-ada: batch * 10 / 32). */
  readonly halfLifeKimg: number;
  /** Ramp-up: the half-life is at most `rampup * imagesSeen` (stylegan2-ada 0.05); null = none. */
  readonly rampup: number | null;
}

/** Decay factor of one step of `batch` images after `imagesSeen` images. */
export function EmaBeta(batch: number, imagesSeen: number, options: EmaOptions): number {
  let halfLife = options.halfLifeKimg * 1000;
  if (options.rampup !== null) halfLife = Math.min(halfLife, imagesSeen * options.rampup);
  return 0.5 ** (batch / Math.max(halfLife, 1e-8));
}

/**
 * ema = source + beta * (ema - source) for trainable parameters; non-trainable ones (w_avg) are copied.
 * Both maps must have the same keys and shapes.
 */
export function UpdateEma(ema: ReadonlyMap<string, tf.Variable>, source: ReadonlyMap<string, tf.Variable>, beta: number): void {
  tf.tidy(() => {
    for (const [name, s] of source) {
      const e = ema.get(name);
      if (!e) throw new Error(`EMA: missing parameter "${name}"`);
      if (!s.trainable) e.assign(s);
      else e.assign(tf.add(s, tf.mul(tf.sub(e, s), beta)));
    }
  });
}

/** Decay of the tracked mean of w (stylegan2-ada `w_avg_beta`), updated from every mapping call of a training step. */
export const WAvgBeta = 0.995;

/** {@link UpdateEma} on plain arrays: ema = source + beta * (ema - source) in place. */
export function UpdateEmaArrays(ema: Float32Array, source: Float32Array, beta: number): void {
  for (let i = 0; i < ema.length; i++) ema[i] = source[i] + beta * (ema[i] - source[i]);
}
