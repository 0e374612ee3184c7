/**
 * Adds label columns to a conditional run's state, so that a run can be conditioned on one more attribute (e.g.
 * facesjs's `accessory`, whose values an unconditioned generator dropped) by resuming it instead of retraining it.
 *
 * The new columns come after the old ones and G and D compute exactly what they computed before for any label whose
 * new columns are 0: the label embeddings (`mapping.embed` of G and its EMA copy, `discriminator.mapping.embed`) get
 * zero rows for the new columns, and their old rows are scaled by sqrt(new/old) because the equalised learning rate
 * multiplies a weight by 1/sqrt(fan-in) at run time. Adam's moments follow the gradient in stored units, which that
 * gain scales by sqrt(old/new): m by sqrt(old/new), v by old/new, zero for the new rows. D's label head (AC-GAN's
 * auxiliary classifier, fan-in C4) gets its new output columns as a fresh head has them and zero moments.
 */
import { GeneratorParameterSpecs, type ParameterSpec } from "../networks/architecture.js";
import { DiscriminatorLabelHead, DiscriminatorParameterSpecs } from "../networks/discriminatorArchitecture.js";
import { InitializeDiscriminatorWeights } from "../networks/discriminatorNetwork.js";
import type { AdamState } from "./adam.js";
import type { TrainingStateSnapshot } from "./trainingLoop.js";
import { DiscriminatorOptionsOf, TrainingGeneratorConfig, type TrainingOptions } from "./trainingOptions.js";

/** The columns of `newNames` past `oldNames`, or an error saying why the old ones are not its prefix. */
export function AddedLabelColumns(oldNames: readonly string[], newNames: readonly string[]): string[] {
  const prefix = newNames.slice(0, oldNames.length);
  if (newNames.length <= oldNames.length || prefix.some((name, i) => name !== oldNames[i])) {
    const columns = (names: readonly string[]) => `${names.length} columns: ${names.slice(0, 3).join(", ")}${names.length > 3 ? ", …" : ""}`;
    throw new Error(`a run can only gain label columns after its own (${columns(oldNames)}); list its labels first and the new ones after them (got ${columns(newNames)})`);
  }
  return newNames.slice(oldNames.length);
}

/** Rows of a row-major [rows, columns] matrix, `rows` grown to `newRows` (old rows × `scale`, new rows 0). */
function GrowRows(values: Float32Array, rows: number, newRows: number, scale: number): Float32Array {
  const columns = values.length / rows;
  const out = new Float32Array(newRows * columns);
  for (let i = 0; i < values.length; i++) out[i] = values[i] * scale;
  return out;
}

/** A row-major [rows, columns] matrix grown to `newColumns`, the new columns taken from `fill` ([rows, newColumns]). */
function GrowColumns(values: Float32Array, columns: number, newColumns: number, fill: Float32Array | null): Float32Array {
  const rows = values.length / columns;
  const out = fill ? Float32Array.from(fill) : new Float32Array(rows * newColumns);
  for (let r = 0; r < rows; r++) out.set(values.subarray(r * columns, (r + 1) * columns), r * newColumns);
  return out;
}

/** Index of each trainable parameter's moments in an Adam state (one array per trainable spec, in spec order). */
function MomentIndex(specs: readonly ParameterSpec[]): Map<string, number> {
  return new Map(specs.filter((s) => s.trainable).map((s, i) => [s.name, i]));
}

/** A copy of `state` with the moments of the named parameters replaced by `grow(m or v, "m" | "v")`. */
function GrowMoments(state: AdamState, index: ReadonlyMap<string, number>, grown: ReadonlyMap<string, (moment: Float32Array, kind: "m" | "v") => Float32Array>): AdamState {
  const m = [...state.m];
  const v = [...state.v];
  for (const [name, grow] of grown) {
    const i = index.get(name)!;
    m[i] = grow(state.m[i], "m");
    v[i] = grow(state.v[i], "v");
  }
  return { step: state.step, m, v };
}

/** `state`, made by a run with `options` and `oldNames` label columns, grown to `newNames` (see the file comment). */
export function GrowLabelColumns(state: TrainingStateSnapshot, options: TrainingOptions, oldNames: readonly string[], newNames: readonly string[]): TrainingStateSnapshot {
  if (!options.cond) throw new Error("only a conditional run has label columns to grow");
  AddedLabelColumns(oldNames, newNames);
  const oldDim = oldNames.length;
  const newDim = newNames.length;
  const weightScale = Math.sqrt(newDim / oldDim);
  const momentScale = { m: Math.sqrt(oldDim / newDim), v: oldDim / newDim };
  const embedMoments = (moment: Float32Array, kind: "m" | "v") => GrowRows(moment, oldDim, newDim, momentScale[kind]);

  const gSpecs = GeneratorParameterSpecs(TrainingGeneratorConfig(options, oldDim));
  const growG = (weights: ReadonlyMap<string, Float32Array>) => {
    const out = new Map(weights);
    out.set("mapping.embed.weight", GrowRows(weights.get("mapping.embed.weight")!, oldDim, newDim, weightScale));
    return out;
  };

  const dOptions = DiscriminatorOptionsOf(options);
  const dSpecs = DiscriminatorParameterSpecs(TrainingGeneratorConfig(options, oldDim), dOptions);
  const discriminator = new Map(state.discriminator);
  const dEmbed = "discriminator.mapping.embed.weight";
  discriminator.set(dEmbed, GrowRows(state.discriminator.get(dEmbed)!, oldDim, newDim, weightScale));
  const dGrown = new Map([[dEmbed, embedMoments]]);
  const headWeight = `${DiscriminatorLabelHead}.weight`;
  const headBias = `${DiscriminatorLabelHead}.bias`;
  if (state.discriminator.has(headWeight)) {
    const fresh = InitializeDiscriminatorWeights(TrainingGeneratorConfig(options, newDim), options.seed, dOptions);
    discriminator.set(headWeight, GrowColumns(state.discriminator.get(headWeight)!, oldDim, newDim, fresh.get(headWeight)!));
    discriminator.set(headBias, GrowColumns(state.discriminator.get(headBias)!, oldDim, newDim, fresh.get(headBias)!));
    dGrown.set(headWeight, (moment) => GrowColumns(moment, oldDim, newDim, null));
    dGrown.set(headBias, (moment) => GrowColumns(moment, oldDim, newDim, null));
  }

  return {
    ...state,
    generator: growG(state.generator),
    generatorEma: growG(state.generatorEma),
    discriminator,
    adamG: GrowMoments(state.adamG, MomentIndex(gSpecs), new Map([["mapping.embed.weight", embedMoments]])),
    adamD: GrowMoments(state.adamD, MomentIndex(dSpecs), dGrown),
  };
}
