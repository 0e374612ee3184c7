/**
 * Do a conditional model's label controls do what their names say? For each label control (kind "label",
 * e.g. `label_glasses`, recorded with its label column, e.g. `glasses`), and each seed, generate the face at
 * the control's minimum and at its maximum (everything else at the model's defaults) and measure the
 * attribute on both with a linear probe of that label column (labelProbe.ts) fitted on the data set the model
 * was trained on. A control "moves the right way" for a seed when the probe's prediction rises from minimum
 * to maximum. Skin tone, glasses and facial hair also get a direct measurement (directMeasures.ts): the cheek
 * lightness, and how much darker the nose bridge / the mouth surroundings are than the cheeks.
 *
 * The probes are scored on images they were not fitted on (the data set's held-out split), so the report
 * shows whether each probe measures its attribute at all before its verdict on the control is read.
 */
import type { FaceGenerator, FaceRequest, ModelControl } from "@npc-faces/runtime";
import type { OpenedDataset } from "../dataset/packedDataset.js";
import { DirectMeasureOf, type DirectMeasure } from "./directMeasures.js";
import { DatasetFeaturesAsync, SplitIndices } from "./datasetFeatures.js";
import { FitLabelProbes, HasLabelColumn, LabelColumnValues, PearsonCorrelation, PredictProbe, type ProbeQuality } from "./labelProbe.js";
import { CommonFeatureRes, MakePixelFeatureLayout, WritePixelFeatures } from "./pixelFeatures.js";

/** Default most training images the probes are fitted on. */
export const DefaultProbeImages = 4000;
/** Default side of the probes' pixel features: 16×16×3 = 768 values (the Gram pass stays about a second). */
export const DefaultProbeFeatureRes = 16;
/** Most images the probes are scored on. */
export const MaxScoreImages = 1000;
/** Fewest held-out images worth scoring on; with fewer, the last training images are held back instead. */
export const MinHoldoutImages = 20;

/** The label controls of a model (kind "label"), in metadata order. */
export function LabelControlsOf(controls: readonly ModelControl[]): ModelControl[] {
  return controls.filter((c) => c.kind === "label");
}

/** How a measurement changed from control minimum to maximum over the seeds. */
export interface ControlMovement {
  readonly seeds: number;
  /** Seeds where the measurement rose (the control's direction). */
  readonly movedRight: number;
  readonly fraction: number;
  /** Mean of (at maximum − at minimum), in the measurement's units (label units: 0..1). */
  readonly meanChange: number;
}

/** One label control's result. */
export interface ControlCheckRow {
  readonly control: string;
  /** The label column it shifts toward (the control's `label`). */
  readonly column: string;
  readonly min: number;
  readonly max: number;
  /** The probe of `column`, scored on images it was not fitted on. */
  readonly probe: ProbeQuality;
  /** Movement of the probe's prediction. */
  readonly movement: ControlMovement;
  /** Columns with a direct measurement (skin tone, glasses, facial hair): its movement (CIE L* / 100). */
  readonly direct: { readonly measure: string; readonly movement: ControlMovement } | null;
}

/** A direct measurement against its label on the scoring images. */
export interface DirectMeasureQuality {
  readonly measure: string;
  readonly column: string;
  /** Pearson correlation with the label. */
  readonly r: number;
  readonly count: number;
}

/** The whole report. */
export interface ControlCheckReport {
  /** Side of the probes' pixel features. */
  readonly featureRes: number;
  /** Training images the probes were fitted on. */
  readonly probeImages: number;
  /** Images the probes were scored on: the held-out split, or the training images after the fitted ones. */
  readonly scoring: { readonly split: "holdout" | "train"; readonly count: number };
  /** The direct measurements of the controls' columns against their labels on the scoring images. */
  readonly directQuality: readonly DirectMeasureQuality[];
  readonly seeds: readonly number[];
  readonly psi: number;
  readonly controls: readonly ControlCheckRow[];
}

/** Options of {@link CheckControlDirectionsAsync}. */
export interface ControlCheckOptions {
  readonly generator: FaceGenerator;
  /** The data set with the label columns the controls name (normally the one the model trained on). */
  readonly dataset: OpenedDataset;
  readonly seeds: readonly number[];
  /** Most training images to fit the probes on (default {@link DefaultProbeImages}). */
  readonly probeImages?: number;
  /** Side of the probes' pixel features (default {@link DefaultProbeFeatureRes}; lowered to divide both image sides). */
  readonly featureRes?: number;
  /** Truncation of the generated faces (default: the model's default psi). */
  readonly psi?: number;
  readonly onProgress?: (phase: string, done: number, total: number) => void;
}

/**
 * Runs the check (see the file comment).
 * @throws when the model has no label controls, the data set lacks a column one of them names, or it has
 * too few images to fit and score probes
 */
export async function CheckControlDirectionsAsync(options: ControlCheckOptions): Promise<ControlCheckReport> {
  const { generator, dataset, seeds } = options;
  const controls = LabelControlsOf(generator.controls);
  if (controls.length === 0) throw new Error("the model has no label controls (kind \"label\")");
  const { manifest } = dataset;
  for (const c of controls) {
    if (!HasLabelColumn(manifest, c.label)) throw new Error(`the data set has no label column "${c.label}" (control ${c.name} shifts toward it)`);
  }
  if (seeds.length === 0) throw new Error("no seeds");
  const columns = [...new Set(controls.map((c) => c.label))];
  const values = columns.map((column) => LabelColumnValues(manifest, column));

  // Which images fit the probes and which score them.
  const train = SplitIndices(dataset, "train");
  const holdout = SplitIndices(dataset, "holdout");
  let fitIndices: number[];
  let scoreIndices: number[];
  let split: "holdout" | "train";
  if (holdout.length >= MinHoldoutImages) {
    split = "holdout";
    scoreIndices = holdout.slice(0, MaxScoreImages);
    fitIndices = train.slice(0, options.probeImages ?? DefaultProbeImages);
  } else {
    split = "train";
    const held = Math.min(MaxScoreImages, Math.floor(train.length / 5));
    scoreIndices = train.slice(train.length - held);
    fitIndices = train.slice(0, Math.min(options.probeImages ?? DefaultProbeImages, train.length - held));
  }
  if (fitIndices.length < 10 || scoreIndices.length < 2) {
    throw new Error(`the data set has too few images to fit and score probes (${train.length} training, ${holdout.length} held-out)`);
  }

  const modelSide = generator.resolution;
  const layout = MakePixelFeatureLayout(CommonFeatureRes(options.featureRes ?? DefaultProbeFeatureRes, [dataset.resolution, modelSide]));
  const progress = options.onProgress ?? (() => undefined);
  const fit = await DatasetFeaturesAsync(dataset, fitIndices, layout, { onProgress: (d, t) => progress("probe images", d, t) });
  const direct = columns.map(DirectMeasureOf).filter((m): m is DirectMeasure => m !== undefined);
  const scoreDirect = direct.map((): number[] => []);
  const score = await DatasetFeaturesAsync(dataset, scoreIndices, layout, {
    onImage: direct.length > 0 ? (_, pixels) => direct.forEach((m, j) => scoreDirect[j].push(m.measure(pixels, dataset.resolution, 3))) : undefined,
  });
  const pick = (indices: readonly number[], k: number) => Float64Array.from(indices, (i) => values[k][i]);
  const probes = FitLabelProbes(
    columns,
    layout,
    { features: fit.features, values: columns.map((_, k) => pick(fitIndices, k)) },
    { features: score.features, values: columns.map((_, k) => pick(scoreIndices, k)) },
  );
  const directQuality = direct.map((m, j): DirectMeasureQuality => ({
    measure: m.name, column: m.column, r: PearsonCorrelation(scoreDirect[j], pick(scoreIndices, columns.indexOf(m.column))), count: scoreDirect[j].length,
  }));

  // The faces: each control at its minimum and maximum per seed; identical requests (a control's default is
  // usually its minimum, so every "minimum" face is the plain seed) are generated once.
  const psi = options.psi ?? generator.metadata.defaults.psi;
  const requestOf = (seed: number, control: ModelControl, value: number): FaceRequest =>
    value === control.default ? { seed, psi } : { seed, psi, controls: { [control.name]: value } };
  const unique = new Map<string, FaceRequest>();
  for (const c of controls) for (const seed of seeds) for (const v of [c.min, c.max]) unique.set(JSON.stringify(requestOf(seed, c, v)), requestOf(seed, c, v));
  const keys = [...unique.keys()];
  const faceFeatures = new Float32Array(keys.length * layout.length);
  const faceDirect = direct.map(() => new Float64Array(keys.length));
  const chunk = Math.max(generator.maxBatch, 16);
  for (let start = 0; start < keys.length; start += chunk) {
    const faces = await generator.generateAsync(keys.slice(start, start + chunk).map((k) => unique.get(k)!));
    faces.forEach((face, i) => {
      WritePixelFeatures(face.data, modelSide, 4, layout, faceFeatures, (start + i) * layout.length);
      direct.forEach((m, j) => (faceDirect[j][start + i] = m.measure(face.data, modelSide, 4)));
    });
    progress("faces", Math.min(start + chunk, keys.length), keys.length);
  }
  const row = new Map(keys.map((k, i) => [k, i]));
  const predictions = probes.map((p) => PredictProbe(p, faceFeatures));

  const rows = controls.map((c): ControlCheckRow => {
    const k = columns.indexOf(c.label);
    const pairs = seeds.map((seed) => [row.get(JSON.stringify(requestOf(seed, c, c.min)))!, row.get(JSON.stringify(requestOf(seed, c, c.max)))!] as const);
    const movement = (measure: ArrayLike<number>): ControlMovement => {
      const changes = pairs.map(([lo, hi]) => measure[hi] - measure[lo]);
      const movedRight = changes.filter((d) => d > 0).length;
      return { seeds: seeds.length, movedRight, fraction: movedRight / seeds.length, meanChange: changes.reduce((a, b) => a + b, 0) / seeds.length };
    };
    const j = direct.findIndex((m) => m.column === c.label);
    return {
      control: c.name,
      column: c.label,
      min: c.min,
      max: c.max,
      probe: probes[k].quality,
      movement: movement(predictions[k]),
      direct: j < 0 ? null : { measure: direct[j].name, movement: movement(faceDirect[j]) },
    };
  });
  return { featureRes: layout.res, probeImages: fitIndices.length, scoring: { split, count: scoreIndices.length }, directQuality, seeds: [...seeds], psi, controls: rows };
}
