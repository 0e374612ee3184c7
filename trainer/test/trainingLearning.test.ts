/**
 * Real training on wasm at the tiny preset: on two solid-colour images (red and blue), the generated colour
 * statistics move from the initial ones toward the data's within a bounded number of steps. Fails when
 * gradients are wrong (sign, scale or missing).
 */
import { describe, expect, it } from "vitest";
import { InitializeTfjsBackendAsync, tf } from "../src/backends/tfjsBackend.js";
import { TrainingRun, type TrainingData } from "../src/training/trainingLoop.js";
import { ResolveTrainingOptions } from "../src/training/trainingOptions.js";
import { LatentFromSeed, NoiseFromSeed } from "@npc-faces/runtime";
import { NoiseResolutions, NumWs } from "../src/networks/architecture.js";
import type { GeneratorNetwork } from "../src/networks/generatorNetwork.js";

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

describe("training on wasm (tiny preset)", () => {
  it("moves the generated colours toward two solid-colour images within 40 steps", async () => {
    await InitializeTfjsBackendAsync("wasm");
    const options = ResolveTrainingOptions({ preset: "tiny", batch: 4, aug: "none", seed: 3, learningRate: 0.01 });
    const run = new TrainingRun(options, SolidColourData());
    const before = DistanceToData(run.Gema);
    const steps = 40;
    for (let i = 0; i < steps; i++) run.trainStep();
    const after = DistanceToData(run.Gema);
    // Measured: 1.26 -> 0.54 (seed 3); random or sign-flipped gradients do not get below ~1.
    expect(after).toBeLessThan(before * 0.7);
    run.dispose();
  });
});
