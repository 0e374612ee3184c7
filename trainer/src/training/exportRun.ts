/**
 * Exports a training run's EMA generator as a contract model file with named controls:
 *  - label directions (conditional models): for each label column, the mean w of latents whose training label
 *    rows lack that label, with it set, minus their mean w as they are (ADA's "mean w per class"), kind "label", acting on
 *    every style layer; range 0..1 for a categorical value (1 = the full shift toward it) and -1..1 for a numeric
 *    label (skin tone: -1 toward its lowest value, dark, +1 toward its highest, light);
 *  - unsupervised SeFa directions for any model (kind "sefa", -3..3).
 */
import { GetGeneratorPreset, NumWs, type GeneratorConfig } from "../networks/architecture.js";
import { MappingForward } from "../networks/generatorNetwork.js";
import { tf } from "../backends/tfjsBackend.js";
import { ExportGeneratorOnnx, type ExportControl } from "../export/exportGeneratorOnnx.js";
import { UnsupervisedControls } from "../export/sefaDirections.js";
import { GeneratorParameterSpecs, type GeneratorWeights } from "../networks/architecture.js";
import { LatentFromSeed, type ModelLabel } from "@npc-faces/runtime";
import { ReadCheckpointAsync } from "./checkpoint.js";
import { TrainingGeneratorConfig } from "./trainingOptions.js";
import { RunFiles } from "./trainingLoop.js";
import { join } from "node:path";
import { stat } from "node:fs/promises";

/** Options of {@link ExportRunAsync}. */
export interface ExportRunOptions {
  /** Model name (default: `<preset>-<kimg>kimg`). */
  readonly name?: string;
  /** Number of SeFa controls (default 4). */
  readonly unsupervisedControls?: number;
  readonly weightType?: "float32" | "float16";
  /** Latents per label value for label directions (default 512). */
  readonly labelSamples?: number;
  /** Rows of the model's `labelTable` (training label vectors that faces draw their unset labels from; default 512). */
  readonly labelTableRows?: number;
  /** The data set the run trained on: its licences and credits go into the model's provenance. */
  readonly dataset?: ExportRunDataset;
  /** What the runtime feeds when a request sets none (default `{ psi: 0.7, noiseStrength: 1 }`). */
  readonly defaults?: { readonly psi: number; readonly noiseStrength: number };
  /** What truncation pulls toward (see `ExportOptions.truncationCentre`; default `labels` for conditional runs, `average` otherwise). */
  readonly truncationCentre?: "average" | "labels";
}

/** What an export knows about the run's data set (checked against the checkpoint's data identity). */
export interface ExportRunDataset {
  /** Content hash; must equal the one the run trained on, or one of `formerIds`. */
  readonly id: string;
  /** Content hashes the same data had in earlier formats. */
  readonly formerIds?: readonly string[];
  readonly licenses: readonly string[];
  readonly credits: readonly string[];
  /** The training split's mean label vector for the checkpoint's label columns (the reference of label directions). */
  readonly labelMean?: (labelNames: readonly string[]) => Float32Array;
  /** Numeric labels whose training values are all 0 or 1 (drawn as yes/no per face; other numeric labels uniformly). */
  readonly binaryLabels?: readonly string[];
  /** The training split's label vectors for the checkpoint's label columns, in data-set order. */
  readonly trainingLabels?: (labelNames: readonly string[]) => readonly Float32Array[];
}

/**
 * `rows` label vectors spread evenly over the training split (data-set order; the sets are shuffled when made),
 * rounded to 4 decimals to keep the metadata small.
 */
export function LabelTable(trainingLabels: readonly Float32Array[], rows: number): number[][] {
  return SpreadRows(trainingLabels, rows).map((row) => Array.from(row, (v) => Math.round(v * 1e4) / 1e4));
}

/** At most `count` of `rows`, spread evenly over them. */
function SpreadRows(rows: readonly Float32Array[], count: number): Float32Array[] {
  const n = Math.min(count, rows.length);
  return Array.from({ length: n }, (_, i) => rows[Math.floor((i * rows.length) / n)]);
}

/** Mean w over `samples` fixed latents, latent i with label row floor(i · rows / samples) of `labels`. */
function MeanW(config: GeneratorConfig, weights: GeneratorWeights, labels: readonly Float32Array[], samples: number): Float32Array {
  return tf.tidy(() => {
    const gained = new Map<string, tf.Tensor>();
    for (const spec of GeneratorParameterSpecs(config)) if (spec.name.startsWith("mapping.")) gained.set(spec.name, tf.mul(tf.tensor(weights.get(spec.name)!, spec.shape as number[]), spec.gain));
    const z = new Float32Array(samples * config.zDim);
    const label = new Float32Array(samples * config.labelDim);
    for (let i = 0; i < samples; i++) {
      z.set(LatentFromSeed(i, config.zDim), i * config.zDim);
      label.set(labels[Math.floor((i * labels.length) / samples)], i * config.labelDim);
    }
    const w = MappingForward(config, (n) => gained.get(n)!, tf.tensor2d(z, [samples, config.zDim]), tf.tensor2d(label, [samples, config.labelDim]));
    return Float32Array.from(tf.mean(w, 0).dataSync());
  });
}

/** The attribute of a label column: `gender` for the categorical column `gender=male`, a numeric column itself. */
function LabelAttribute(column: string): string {
  return column.split("=")[0];
}

/** Each attribute's label columns (indices), in column order: `gender` -> the columns `gender=male`, `gender=female`. */
function AttributeColumns(labelNames: readonly string[]): Map<string, number[]> {
  const groups = new Map<string, number[]>();
  labelNames.forEach((column, k) => {
    const attribute = LabelAttribute(column);
    groups.set(attribute, [...(groups.get(attribute) ?? []), k]);
  });
  return groups;
}

/**
 * Label-direction controls of a conditional model (see the file comment). `reference` is what a direction starts
 * from: the data set's label rows, or one label vector for every latent (a mix, e.g. uniform per attribute, when
 * the data set is not at hand). A column's direction is measured on the rows that lack its label (value below 1;
 * all rows when none do): each latent keeps its row, once as it is and once with the column's attribute set to it.
 * Rows that already have the label would only shrink the shift (a control toward `gender=female` on rows half of
 * which are female would move a male face halfway).
 */
export function LabelControls(config: GeneratorConfig, weights: GeneratorWeights, labelNames: readonly string[], reference: readonly Float32Array[], samples = 512): ExportControl[] {
  if (reference.length === 0) throw new Error("LabelControls: the reference has no label rows");
  const bad = reference.findIndex((row) => !(row instanceof Float32Array) || row.length !== labelNames.length);
  if (bad >= 0) throw new Error(`LabelControls: reference row ${bad} is not a Float32Array of ${labelNames.length} labels`);
  // One reference row is a label mix (the data set was not given): the descriptions say so.
  const over = (which: string) => (reference.length > 1 ? `over the data set's label rows ${which}` : "from one label mix (the labels' defaults)");
  const layers = Array.from({ length: NumWs(config) }, (_, i) => i);
  const groups = AttributeColumns(labelNames);
  const used = new Set<string>();
  return labelNames.map((column, j) => {
    const lacking = reference.filter((row) => row[j] < 1);
    const rows = SpreadRows(lacking.length > 0 ? lacking : reference, samples);
    const base = MeanW(config, weights, rows, samples);
    // Replace the column's attribute group by a one-hot on this value (numeric columns: set to 1).
    const group = groups.get(LabelAttribute(column))!;
    const set = rows.map((row) => {
      const label = Float32Array.from(row);
      for (const k of group) label[k] = 0;
      label[j] = 1;
      return label;
    });
    const mean = MeanW(config, weights, set, samples);
    let name = `label_${column.toLowerCase().replace(/[^a-z0-9]+/g, "_").replace(/^_+|_+$/g, "")}`;
    while (used.has(name)) name += "_";
    used.add(name);
    // A numeric label is a scale: its control also runs the other way (the direction reversed).
    const numeric = !column.includes("=");
    return {
      name, label: column, kind: "label" as const, min: numeric ? -1 : 0, max: 1, default: 0, layers,
      description: numeric
        ? `Toward high (+1) or low (-1) ${column}: mean w with ${column} = 1 minus the mean w, ${over("below 1")}.`
        : `Shift toward ${column}: mean w with that label minus the mean w, ${over("without it")}.`,
      direction: Float32Array.from(mean, (v, i) => v - base[i]),
    };
  });
}

/** Builds the model file bytes of the run in `runDir` (its checkpoint's EMA generator). Runs on the current tfjs backend. */
export async function ExportRunAsync(runDir: string, options: ExportRunOptions = {}): Promise<Uint8Array> {
  const path = join(runDir, RunFiles.checkpoint);
  if (!(await stat(runDir).catch(() => null))?.isDirectory()) throw new Error(`--run ${runDir}: no such folder`);
  const checkpoint = await ReadCheckpointAsync(path);
  const { options: training, data, state } = checkpoint;
  GetGeneratorPreset(training.preset);
  const config = TrainingGeneratorConfig(training, data.labelNames.length);
  const weights = state.generatorEma;
  const dataset = options.dataset;
  if (dataset && data.id !== null && dataset.id !== data.id && !dataset.formerIds?.includes(data.id)) {
    throw new Error(`--data: that data set (${dataset.id}) is not the one the run trained on (${data.id})`);
  }
  const controls: ExportControl[] = [];
  let labels;
  let labelTable: number[][] | undefined;
  if (config.labelDim > 0) {
    const groups = AttributeColumns(data.labelNames);
    // The data set's label mix when known, else uniform per attribute: the labels' defaults.
    let mean = dataset?.labelMean?.(data.labelNames);
    if (mean && mean.length !== config.labelDim) throw new Error(`--data: ${mean.length} label means for ${config.labelDim} label columns`);
    if (!mean) {
      mean = new Float32Array(config.labelDim);
      for (const ks of groups.values()) for (const k of ks) mean[k] = ks.length > 1 ? 1 / ks.length : 0.5;
    }
    const rows = dataset?.trainingLabels?.(data.labelNames) ?? [];
    // Directions start from the data's own label rows: a mix of one-hots (the mean) is a label no face has, and the
    // mapping's normalised label embedding magnifies a shift from it (the faces smear at a control's maximum).
    controls.push(...LabelControls(config, weights, data.labelNames, rows.length > 0 ? rows : [mean], options.labelSamples ?? 512));
    const reference = mean;
    // How a face draws an attribute the caller leaves unset: one value of a categorical group, yes/no, or a scalar
    // (which kind a numeric label is, only the data set knows: without it every face gets the mean).
    const sampling = (name: string, ks: number[]): ModelLabel["sampling"] => {
      if (ks.length > 1) return "onehot";
      if (data.labelNames[ks[0]].includes("=")) return "bernoulli";
      if (!dataset?.binaryLabels) return undefined;
      return dataset.binaryLabels.includes(name) ? "bernoulli" : "uniform";
    };
    labels = [...groups].map(([name, ks]) => ({ name, offset: ks[0], values: ks.map((k) => data.labelNames[k].slice(name.length + 1) || name), default: ks.map((k) => reference[k]), sampling: sampling(name, ks) }));
    if (rows.length > 0) labelTable = LabelTable(rows, options.labelTableRows ?? 512);
  }
  const count = options.unsupervisedControls ?? 4;
  if (count > 0) controls.push(...UnsupervisedControls(config, weights, count));
  return ExportGeneratorOnnx({
    config,
    weights,
    name: options.name ?? `${training.preset}-${(state.imagesSeen / 1000).toFixed(state.imagesSeen < 10000 ? 1 : 0)}kimg`,
    controls,
    labels,
    labelTable,
    defaults: options.defaults,
    truncationCentre: options.truncationCentre ?? (config.labelDim > 0 ? "labels" : "average"),
    provenance: {
      trained: true,
      dataset: data.id ?? undefined,
      licenses: [...(dataset?.licenses ?? [])],
      credits: [...(dataset?.credits ?? [])],
      kimg: state.imagesSeen / 1000,
      tool: "npc-faces train",
      notes: `preset ${training.preset}, batch ${training.batch}, aug ${training.aug}, seed ${training.seed}`,
    },
    weightType: options.weightType ?? "float32",
  });
}
