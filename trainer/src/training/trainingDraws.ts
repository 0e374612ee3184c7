/**
 * The random inputs of one training phase as plain arrays, drawn in one fixed order from {@link TrainingRandom}.
 * Both engines (tfjs: trainingLoop.ts, onnxruntime: ../ortTraining) draw through these functions, so the same
 * seed gives both the same latents, noise, mixing, batches and labels, step for step.
 */
import { type GeneratorConfig, NoiseResolutions, NumWs } from "../networks/architecture.js";
import type { TrainingData } from "./trainingLoop.js";
import { RandomPurpose, type TrainingRandom } from "./trainingRandom.js";

/** Generator inputs of `n` fakes. */
export interface FakeDraws {
  readonly n: number;
  /** [n, zDim] */
  readonly z: Float32Array;
  /** [n, zDim] */
  readonly zMix: Float32Array;
  /** [n, numWs]: 1 where a layer takes zMix's w */
  readonly mix: Float32Array;
  /** One [n, r, r] map per conv layer (NoiseResolutions order). */
  readonly noise: readonly Float32Array[];
  /** [n, labelDim] drawn from the data set's labels (conditional models), else null. */
  readonly label: Float32Array | null;
}

/** Latents, style mixing (stylegan2-ada: one cutoff per minibatch in [1, numWs), with probability `styleMixing`), noise, labels. */
export function DrawFakeInputs(random: TrainingRandom, config: GeneratorConfig, styleMixing: number, data: TrainingData, n: number): FakeDraws {
  const { zDim, labelDim } = config;
  const numWs = NumWs(config);
  const z = random.normal(RandomPurpose.Latent, n * zDim);
  const zMix = random.normal(RandomPurpose.Latent, n * zDim);
  const mixing = random.uniform(RandomPurpose.StyleMixing) < styleMixing;
  const cutoff = 1 + random.integer(RandomPurpose.StyleMixing, numWs - 1);
  const mix = new Float32Array(n * numWs);
  if (mixing) for (let i = 0; i < n; i++) for (let l = cutoff; l < numWs; l++) mix[i * numWs + l] = 1;
  const noise = NoiseResolutions(config).map((r) => random.normal(RandomPurpose.Noise, n * r * r));
  let label: Float32Array | null = null;
  if (labelDim > 0 && data.labels) {
    label = new Float32Array(n * labelDim);
    const picks = random.uint32(RandomPurpose.Label, n);
    for (let i = 0; i < n; i++) {
      const index = picks[i] % data.count;
      label.set(data.labels.subarray(index * labelDim, (index + 1) * labelDim), i * labelDim);
    }
  }
  return { n, z, zMix, mix, noise, label };
}

/** `n` random training images, NHWC [n, R, R, 3] in [-1, 1], and their labels ([n, labelDim], or null). */
export function DrawRealBatch(random: TrainingRandom, data: TrainingData, labelDim: number, n: number): { readonly pixels: Float32Array; readonly label: Float32Array | null } {
  const { resolution: r, count, labels } = data;
  const size = r * r * 3;
  const pixels = new Float32Array(n * size);
  const label = labelDim > 0 ? new Float32Array(n * labelDim) : null;
  const picks = random.uint32(RandomPurpose.BatchIndex, n);
  for (let i = 0; i < n; i++) {
    const index = picks[i] % count;
    const src = data.images.subarray(index * size, (index + 1) * size);
    for (let j = 0; j < size; j++) pixels[i * size + j] = src[j] / 127.5 - 1;
    if (label && labels) label.set(labels.subarray(index * labelDim, (index + 1) * labelDim), i * labelDim);
  }
  return { pixels, label };
}

/** Path-length noise y ~ N(0, 1) / R, NHWC [m, R, R, 3]. */
export function DrawPathLengthNoise(random: TrainingRandom, resolution: number, m: number): Float32Array {
  const noise = random.normal(RandomPurpose.PathLengthNoise, m * resolution * resolution * 3);
  for (let i = 0; i < noise.length; i++) noise[i] /= resolution;
  return noise;
}
