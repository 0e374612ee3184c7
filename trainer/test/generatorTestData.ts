/** Shared test data for the tfjs generator tests: weights with every path active, inputs from seeds. */
import { LatentFromSeed, NoiseFromSeed } from "@npc-faces/runtime";
import { tf } from "../src/backends/tfjsBackend.js";
import { type GeneratorConfig, type GeneratorWeights, GeneratorParameterSpecs, NoiseResolutions, NumWs } from "../src/networks/architecture.js";
import type { GeneratorInputs } from "../src/networks/generatorNetwork.js";
import { InitializeGeneratorWeights } from "../src/networks/initializeGeneratorWeights.js";

/** Initial weights with non-zero noise strengths, biases and w_avg, so that every term of the forward matters. */
export function ActiveWeights(config: GeneratorConfig, seed: number): GeneratorWeights {
  const weights = InitializeGeneratorWeights(config, seed);
  GeneratorParameterSpecs(config).forEach((spec, index) => {
    const v = weights.get(spec.name)!;
    const wobble = (i: number) => Math.sin(1.7 * i + index); // deterministic, in [-1, 1]
    if (spec.name.endsWith(".noise_strength")) v[0] = 0.3 / spec.gain;
    else if (spec.name.endsWith("affine.bias")) for (let i = 0; i < v.length; i++) v[i] = (1 + 0.2 * wobble(i)) / spec.gain;
    else if (spec.name.endsWith(".bias") || spec.name === "mapping.w_avg") for (let i = 0; i < v.length; i++) v[i] = (0.2 * wobble(i)) / spec.gain;
  });
  return weights;
}

/** Plain arrays of one batch's inputs (backend-independent), for building tensors on any backend. */
export interface InputArrays {
  n: number;
  z: Float32Array;
  zMix: Float32Array;
  mix: Float32Array;
  psi: Float32Array;
  noiseStrength: Float32Array;
  noise: Float32Array[];
}

/** Inputs of faces `seeds` (mix seeds `seed + 1000`), from the runtime's seed streams. */
export function SeedInputs(config: GeneratorConfig, seeds: number[], options: { psi?: number; mix?: number; noiseStrength?: number } = {}): InputArrays {
  const n = seeds.length;
  const numWs = NumWs(config);
  const z = new Float32Array(n * config.zDim);
  const zMix = new Float32Array(n * config.zDim);
  seeds.forEach((s, i) => {
    z.set(LatentFromSeed(s, config.zDim), i * config.zDim);
    zMix.set(LatentFromSeed(s + 1000, config.zDim), i * config.zDim);
  });
  const mix = new Float32Array(n * numWs);
  // Default: mix the second half of the layers (coarse from own z, fine from mix z).
  for (let i = 0; i < n; i++) for (let l = 0; l < numWs; l++) mix[i * numWs + l] = options.mix ?? (l >= numWs / 2 ? 1 : 0);
  const noise = NoiseResolutions(config).map((r, layer) => {
    const out = new Float32Array(n * r * r);
    seeds.forEach((s, i) => out.set(NoiseFromSeed(s, layer, r), i * r * r));
    return out;
  });
  return {
    n,
    z,
    zMix,
    mix,
    psi: new Float32Array(n).fill(options.psi ?? 0.7),
    noiseStrength: new Float32Array(n).fill(options.noiseStrength ?? 1),
    noise,
  };
}

/** Tensors on the current backend from {@link InputArrays}. */
export function InputTensors(config: GeneratorConfig, a: InputArrays): GeneratorInputs {
  const res = NoiseResolutions(config);
  return {
    z: tf.tensor2d(a.z, [a.n, config.zDim]),
    zMix: tf.tensor2d(a.zMix, [a.n, config.zDim]),
    mix: tf.tensor2d(a.mix, [a.n, NumWs(config)]),
    psi: tf.tensor2d(a.psi, [a.n, 1]),
    noiseStrength: tf.tensor2d(a.noiseStrength, [a.n, 1]),
    noise: a.noise.map((v, i) => tf.tensor4d(v, [a.n, res[i], res[i], 1])),
  };
}

/** Largest |a - b| divided by the largest |a|. */
export function RelativeMaxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(a[i]));
  }
  return diff / scale;
}

/** Largest |a - b|. */
export function MaxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff = Math.max(diff, Math.abs(a[i] - b[i]));
  return diff;
}

/** Largest |a - b| of two tensors of one shape. */
export function TensorMaxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return MaxAbsDiff(a.dataSync(), b.dataSync());
}

/** ‖actual − expected‖ / ‖expected‖ (the lengths must match). */
export function RelativeL2(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) throw new Error(`lengths differ: ${actual.length} vs ${expected.length}`);
  let num = 0;
  let den = 0;
  for (let i = 0; i < expected.length; i++) {
    num += (actual[i] - expected[i]) ** 2;
    den += expected[i] ** 2;
  }
  return Math.sqrt(num / den);
}

/** A seeded uniform [0, 1) stream (Mulberry32) and a normal stream (Box–Muller) drawing from it: test data only. */
export function SeededRandom(seed: number): { uniform: () => number; normal: () => number } {
  let state = seed >>> 0;
  const uniform = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const normal = () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
  return { uniform, normal };
}
