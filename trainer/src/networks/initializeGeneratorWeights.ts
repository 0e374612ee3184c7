/**
 * Deterministic initial generator weights from a seed, and the estimate of `w_avg` (the centre that
 * truncation pulls toward).
 */
import { FillStandardNormal, LatentFromSeed, SeedStream } from "@npc-faces/runtime";
import { tf } from "../backends/tfjsBackend.js";
import { type GeneratorConfig, type GeneratorWeights, GeneratorParameterSpecs } from "./architecture.js";
import { MappingForward } from "./generatorNetwork.js";

/**
 * Initial stored weights: parameter i of `GeneratorParameterSpecs(config)` is
 * `FillStandardNormal(seed, SeedStream.ParameterInit(i)) * init.scale` (rounded to float32) or its constant.
 * Pure integer/IEEE arithmetic, no tfjs: the same seed gives the same bytes on every machine.
 * `mapping.w_avg` starts at 0 as specified (as stylegan2-ada, which then tracks it during training); use
 * {@link EstimateWAvg} for a model that is exported without training.
 */
export function InitializeGeneratorWeights(config: GeneratorConfig, seed: number): GeneratorWeights {
  const weights: GeneratorWeights = new Map();
  GeneratorParameterSpecs(config).forEach((spec, index) => {
    const values = new Float32Array(spec.shape.reduce((a, b) => a * b, 1));
    if (spec.init.kind === "normal") {
      FillStandardNormal(seed, SeedStream.ParameterInit(index), values);
      const scale = spec.init.scale;
      if (scale !== 1) for (let i = 0; i < values.length; i++) values[i] *= scale;
    } else {
      values.fill(spec.init.value);
    }
    weights.set(spec.name, values);
  });
  return weights;
}

/** Default number of latents averaged by {@link EstimateWAvg}. */
export const DefaultWAvgSamples = 2048;

/**
 * The mean mapping output over a fixed set of latents: z_i = `LatentFromSeed(i, zDim)` for i = 0..samples-1.
 * Conditional models use `label` for every sample (default: uniform, 1/labelDim per entry).
 * Runs on the current tfjs backend. Store the result as `mapping.w_avg`:
 * `weights.set("mapping.w_avg", EstimateWAvg(config, weights))`.
 */
export function EstimateWAvg(config: GeneratorConfig, weights: GeneratorWeights, samples = DefaultWAvgSamples, label?: Float32Array): Float32Array {
  if (!Number.isInteger(samples) || samples < 1) throw new Error(`samples must be a positive integer, got ${samples}`);
  const specs = GeneratorParameterSpecs(config).filter((s) => s.name.startsWith("mapping.") && s.trainable);
  const labelVector = label ?? new Float32Array(config.labelDim).fill(1 / Math.max(1, config.labelDim));
  if (labelVector.length !== config.labelDim) throw new Error(`label: expected ${config.labelDim} values, got ${labelVector.length}`);
  const chunk = 256;
  const sum = new Float64Array(config.wDim);
  tf.tidy(() => {
    const gained = new Map<string, tf.Tensor>();
    for (const spec of specs) {
      const values = weights.get(spec.name);
      if (!values) throw new Error(`weights: missing parameter "${spec.name}"`);
      gained.set(spec.name, tf.mul(tf.tensor(values, spec.shape as number[], "float32"), spec.gain));
    }
    const param = (name: string) => gained.get(name)!;
    for (let start = 0; start < samples; start += chunk) {
      const count = Math.min(chunk, samples - start);
      const z = new Float32Array(count * config.zDim);
      for (let i = 0; i < count; i++) z.set(LatentFromSeed(start + i, config.zDim), i * config.zDim);
      const labels = config.labelDim > 0 ? tf.tile(tf.tensor2d(labelVector, [1, config.labelDim]), [count, 1]) as tf.Tensor2D : undefined;
      const w = tf.tidy(() => MappingForward(config, param, tf.tensor2d(z, [count, config.zDim]), labels).dataSync());
      for (let i = 0; i < count; i++) for (let j = 0; j < config.wDim; j++) sum[j] += w[i * config.wDim + j];
    }
  });
  return Float32Array.from(sum, (v) => v / samples);
}
