/** Shared data and measurements of the training tests. */
import { LatentFromSeed, NoiseFromSeed } from "@npc-faces/runtime";
import { tf } from "../src/backends/tfjsBackend.js";
import { NoiseResolutions, NumWs } from "../src/networks/architecture.js";
import type { GeneratorNetwork } from "../src/networks/generatorNetwork.js";
import type { TrainingData } from "../src/training/trainingLoop.js";

/** Two 16x16 images: pure red and pure blue. */
export function SolidColourData(): TrainingData {
  const r = 16;
  const images = new Uint8Array(2 * r * r * 3);
  for (let p = 0; p < r * r; p++) {
    images.set([255, 0, 0], p * 3);
    images.set([0, 0, 255], (r * r + p) * 3);
  }
  return { count: 2, resolution: r, images, labelNames: [], labels: null };
}

/**
 * Mean over `n` fixed-seed faces of G (no mixing, psi 1) of the mean absolute distance (in [-1, 1] units) of
 * each face to the nearer of the two data images: 0 when every face is pure red or pure blue.
 */
export function DistanceToData(G: GeneratorNetwork, n = 16): number {
  return tf.tidy(() => {
    const c = G.config;
    const z = tf.tensor2d(Array.from({ length: n }, (_, i) => [...LatentFromSeed(1000 + i, c.zDim)]).flat(), [n, c.zDim]);
    const noise = NoiseResolutions(c).map((r, l) => tf.tensor4d(Array.from({ length: n }, (_, i) => [...NoiseFromSeed(1000 + i, l, r)]).flat(), [n, r, r, 1]));
    const image = G.forward({ z, zMix: z, mix: tf.zeros([n, NumWs(c)]), psi: tf.ones([n, 1]), noiseStrength: tf.ones([n, 1]), noise });
    const toRed = tf.mean(tf.abs(tf.sub(image, tf.tensor1d([1, -1, -1]))), [1, 2, 3]);
    const toBlue = tf.mean(tf.abs(tf.sub(image, tf.tensor1d([-1, -1, 1]))), [1, 2, 3]);
    return tf.mean(tf.minimum(toRed, toBlue)).dataSync()[0];
  });
}
