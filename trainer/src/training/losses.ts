/**
 * StyleGAN2-ADA's losses (stylegan2-ada-pytorch `training/loss.py`, StyleGAN2Loss): non-saturating logistic
 * loss for G and D, R1 on reals, path-length regularisation. Each function returns a scalar to differentiate;
 * the training loop picks the variables and the lazy-regularisation multipliers.
 */
import { tf } from "../backends/tfjsBackend.js";
import type { DiscriminatorNetwork } from "../networks/discriminatorNetwork.js";
import type { GeneratorNetwork, GrowthProgress } from "../networks/generatorNetwork.js";
import { PathLengthDecay } from "./trainingOptions.js";

/** Image augmentation applied before every discriminator call (identity when null). */
export type AugmentFunction = ((images: tf.Tensor4D) => tf.Tensor4D) | null;

/** softplus(x) = max(x, 0) + log(1 + exp(-|x|)): stable, and built from ops with gradients on every backend. */
export function Softplus(x: tf.Tensor): tf.Tensor {
  return tf.add(tf.relu(x), tf.log1p(tf.exp(tf.neg(tf.abs(x)))));
}

/** Scores images with the discriminator after augmentation. */
export function DiscriminatorScores(D: DiscriminatorNetwork, images: tf.Tensor4D, label: tf.Tensor2D | undefined, augment: AugmentFunction, progress?: { resolution: number; alpha: number }): tf.Tensor2D {
  return D.forward(augment ? augment(images) : images, label, progress);
}

/** G main loss: mean softplus(-D(G(z))) (non-saturating logistic). */
export function GeneratorMainLoss(fakeScores: tf.Tensor2D): tf.Scalar {
  return tf.mean(Softplus(tf.neg(fakeScores))) as tf.Scalar;
}

/** D main loss: mean softplus(D(fake)) + mean softplus(-D(real)). */
export function DiscriminatorMainLoss(fakeScores: tf.Tensor2D, realScores: tf.Tensor2D): tf.Scalar {
  return tf.add(tf.mean(Softplus(fakeScores)), tf.mean(Softplus(tf.neg(realScores)))) as tf.Scalar;
}

/**
 * R1 penalty: mean over the batch of |d sum(D(real)) / d real|^2 (the gradient through the augmentation, as
 * stylegan2-ada). The caller scales it by gamma / 2 x the lazy interval. Returns the penalty and the scores.
 */
export function R1Penalty(D: DiscriminatorNetwork, real: tf.Tensor4D, label: tf.Tensor2D | undefined, augment: AugmentFunction, progress?: { resolution: number; alpha: number }): tf.Scalar {
  const gradient = tf.grad((x: tf.Tensor) => tf.sum(DiscriminatorScores(D, x as tf.Tensor4D, label, augment, progress)))(real);
  return tf.mean(tf.sum(tf.square(gradient), [1, 2, 3])) as tf.Scalar;
}

/**
 * Path-length regularisation: J^T y with y ~ N(0, 1) / sqrt(H W) projected on the images; the penalty is
 * mean((|J^T y| - plMean')^2) against the moved target plMean' = plMean + PathLengthDecay x (mean length - plMean),
 * differentiated through that mean too (stylegan2-ada). Returns the penalty and the mean length (the caller moves
 * plMean by the same rule outside the gradient).
 */
export function PathLengthPenalty(
  G: GeneratorNetwork,
  ws: tf.Tensor3D,
  noise: readonly tf.Tensor4D[],
  noiseStrength: tf.Tensor2D,
  plNoise: tf.Tensor4D,
  plMean: number,
  progress?: GrowthProgress,
): { penalty: tf.Scalar; meanLength: tf.Scalar } {
  const gradient = tf.grad((w: tf.Tensor) => tf.sum(tf.mul(G.synthesis(w as tf.Tensor3D, noise, noiseStrength, progress), plNoise)))(ws);
  const lengths = tf.sqrt(tf.mean(tf.sum(tf.square(gradient), 2), 1));
  const meanLength = tf.mean(lengths) as tf.Scalar;
  const target = tf.add(plMean, tf.mul(tf.sub(meanLength, plMean), PathLengthDecay));
  return { penalty: tf.mean(tf.square(tf.sub(lengths, target))) as tf.Scalar, meanLength };
}
