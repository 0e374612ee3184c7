/**
 * Moves a run to a preset with more channels at some resolutions (e.g. `npc64wide` -> `npc64fine`: 64 channels at
 * 64x64 instead of 32), so that capacity can be added to a trained run by resuming it instead of retraining it.
 *
 * G, its EMA copy and D compute exactly what they computed before (Net2Net's function-preserving widening, with
 * zeros): every new output channel of a layer gets fresh weights as a new run of the wider preset has them, and
 * every layer that reads a new channel reads it through zero weights, so it adds nothing until training moves
 * them. The equalised learning rate multiplies a weight by 1/sqrt(fan-in) at run time; where the fan-in grows, the
 * old stored weights are scaled by gain_old / gain_new so that the weights in use stay the same. Adam's moments
 * follow the gradient in stored units (which that scale changes by gain_new / gain_old); a new entry starts with
 * m = 0 and v = the mean of its parameter's old v, so that its first steps are the size of its neighbours' rather
 * than Adam's first step of lr / sqrt(1 - beta2) on an empty v.
 *
 * Only the channels above 4x4 may change: the 4x4 block's channels also size the learned constant, D's epilogue and
 * the conditional projection, whose layouts a wider copy would scramble.
 */
import { type GeneratorConfig, type ParameterSpec, BlockResolutions, ChannelsAt, GeneratorParameterSpecs } from "../networks/architecture.js";
import { DiscriminatorParameterSpecs } from "../networks/discriminatorArchitecture.js";
import { InitializeDiscriminatorWeights } from "../networks/discriminatorNetwork.js";
import { InitializeGeneratorWeights } from "../networks/initializeGeneratorWeights.js";
import type { AdamState } from "./adam.js";
import type { TrainingStateSnapshot } from "./trainingLoop.js";
import { DiscriminatorOptionsOf, TrainingGeneratorConfig, type TrainingOptions } from "./trainingOptions.js";

/** Why `to` is not `from` with more channels above 4x4, or null when it is. */
export function ChannelGrowthRefusal(from: GeneratorConfig, to: GeneratorConfig): string | null {
  const channels = (config: GeneratorConfig) => BlockResolutions(config).map((r) => `${r}: ${ChannelsAt(config, r)}`).join(", ");
  const { channelBase: _b, channelMax: _m, channelMin: _n, ...fromRest } = from;
  const { channelBase: _b2, channelMax: _m2, channelMin: _n2, ...toRest } = to;
  const keys = new Set([...Object.keys(fromRest), ...Object.keys(toRest)]) as Set<keyof typeof fromRest>;
  const differs = [...keys].filter((key) => fromRest[key] !== toRest[key]);
  if (differs.length > 0) return `it differs in more than channels (${differs.map((key) => `${key} ${fromRest[key]} -> ${toRest[key]}`).join(", ")})`;
  if (ChannelsAt(to, 4) !== ChannelsAt(from, 4)) return `it changes the channels at 4x4 (${ChannelsAt(from, 4)} -> ${ChannelsAt(to, 4)}), which only a new run can`;
  if (BlockResolutions(from).some((r) => ChannelsAt(to, r) < ChannelsAt(from, r))) return `it has fewer channels somewhere (channels by resolution ${channels(from)} -> ${channels(to)})`;
  return null;
}

/**
 * `values` (stored, shape `from`) in shape `to`: old entries × `scale`; an entry whose last index (the output
 * channel) is new is taken from `fresh`, any other new entry (a new input channel) is `fill`.
 */
function GrowTensor(values: Float32Array, from: readonly number[], to: readonly number[], scale: number, fresh: Float32Array | null, fill: number): Float32Array {
  if (from.length !== to.length || from.some((n, axis) => axis < from.length - 2 && n !== to[axis])) {
    throw new Error(`cannot widen a [${from.join(", ")}] parameter to [${to.join(", ")}]`);
  }
  const size = to.reduce((a, b) => a * b, 1);
  const out = new Float32Array(size);
  const rank = to.length;
  const outChannels = to[rank - 1];
  const oldOut = from[rank - 1];
  const inChannels = rank >= 2 ? to[rank - 2] : 1;
  const oldIn = rank >= 2 ? from[rank - 2] : 1;
  const outer = size / (outChannels * inChannels); // the leading axes, which do not change
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inChannels; i++) {
      for (let c = 0; c < outChannels; c++) {
        const at = (o * inChannels + i) * outChannels + c;
        if (c >= oldOut) out[at] = fresh ? fresh[at] : fill;
        else if (i >= oldIn) out[at] = fill;
        else out[at] = values[(o * oldIn + i) * oldOut + c] * scale;
      }
    }
  }
  return out;
}

const SameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((n, i) => n === b[i]);

/** Weights and Adam moments of one network, grown from the specs `from` to `to` (same names and order). */
function GrowNetwork(weights: ReadonlyMap<string, Float32Array>, adam: AdamState | null, from: readonly ParameterSpec[], to: readonly ParameterSpec[], fresh: ReadonlyMap<string, Float32Array>): { weights: Map<string, Float32Array>; adam: AdamState | null } {
  const newSpecs = new Map(to.map((spec) => [spec.name, spec]));
  const grown = new Map(weights);
  const m = adam ? [...adam.m] : [];
  const v = adam ? [...adam.v] : [];
  let moment = 0; // index of the trainable parameter's moments
  for (const old of from) {
    const spec = newSpecs.get(old.name);
    if (!spec) throw new Error(`the wider preset has no parameter ${old.name}`);
    const index = old.trainable ? moment++ : -1;
    if (SameShape(old.shape, spec.shape) || !weights.has(old.name)) continue;
    const ratio = old.gain / spec.gain; // keeps stored * gain, the weight in use
    grown.set(old.name, GrowTensor(weights.get(old.name)!, old.shape, spec.shape, ratio, fresh.get(old.name)!, 0));
    if (adam && index >= 0) {
      const oldV = adam.v[index];
      let meanV = 0;
      for (const x of oldV) meanV += x;
      meanV = (meanV / Math.max(1, oldV.length)) / (ratio * ratio);
      m[index] = GrowTensor(adam.m[index], old.shape, spec.shape, 1 / ratio, null, 0);
      v[index] = GrowTensor(oldV, old.shape, spec.shape, 1 / (ratio * ratio), null, meanV);
    }
  }
  return { weights: grown, adam: adam ? { step: adam.step, m, v } : null };
}

/**
 * `state`, made by a run with `options` (and `labelDim` label columns), moved to preset `preset`; throws when that
 * preset is not the run's with more channels above 4x4 (see the file comment).
 */
export function GrowChannels(state: TrainingStateSnapshot, options: TrainingOptions, preset: string, labelDim: number): TrainingStateSnapshot {
  const wider = { ...options, preset };
  const from = TrainingGeneratorConfig(options, labelDim);
  const to = TrainingGeneratorConfig(wider, labelDim);
  const refusal = ChannelGrowthRefusal(from, to);
  if (refusal) throw new Error(`preset ${options.preset} cannot grow into ${preset}: ${refusal}`);
  const gFrom = GeneratorParameterSpecs(from);
  const gTo = GeneratorParameterSpecs(to);
  const gFresh = InitializeGeneratorWeights(to, options.seed);
  const g = GrowNetwork(state.generator, state.adamG, gFrom, gTo, gFresh);
  const gEma = GrowNetwork(state.generatorEma, null, gFrom, gTo, gFresh);
  const dOptions = DiscriminatorOptionsOf(options);
  const d = GrowNetwork(state.discriminator, state.adamD, DiscriminatorParameterSpecs(from, dOptions), DiscriminatorParameterSpecs(to, dOptions), InitializeDiscriminatorWeights(to, options.seed, dOptions));
  return { ...state, generator: g.weights, generatorEma: gEma.weights, discriminator: d.weights, adamG: g.adam!, adamD: d.adam! };
}
