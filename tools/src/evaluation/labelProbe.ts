/**
 * Linear probes of data-set labels: ridge regression from pixel features (pixelFeatures.ts) to one label
 * column, fitted on training images and scored on images it did not see. A probe that predicts held-out
 * labels well is a measuring instrument for that attribute on generated faces (control-check uses it so).
 *
 * Label columns are named as the trainer names them (and a model's label controls record them): `attribute`
 * for a numeric label, scaled to 0..1 by the schema's range, and `attribute=value` for one categorical value
 * (1 when the image has that value, else 0).
 */
import type { DatasetManifest } from "../dataset/datasetManifest.js";
import { LabelVector } from "../training/loadTrainingData.js";
import { FitRidgeModels, PredictRidge, type FitRidgeOptions, type RidgeModel } from "./ridgeRegression.js";
import type { PixelFeatureLayout } from "./pixelFeatures.js";

/** How well a probe predicts labels it was not fitted on. */
export interface ProbeQuality {
  /** Images scored. */
  readonly count: number;
  /** Pearson correlation of predictions and labels (NaN when either is constant). */
  readonly r: number;
  /** The label takes only the values 0 and 1 (a yes/no attribute or a categorical value). */
  readonly binary: boolean;
  /** Binary labels: share of images where prediction ≥ 0.5 matches label = 1; else null. */
  readonly accuracy: number | null;
  /** Binary labels: the accuracy of always answering the majority value, for comparison; else null. */
  readonly baseline: number | null;
}

/** A fitted probe of one label column. */
export interface LabelProbe {
  readonly column: string;
  readonly layout: PixelFeatureLayout;
  readonly model: RidgeModel;
  readonly quality: ProbeQuality;
}

/** Whether a data set has the label column `column` (see the file comment). */
export function HasLabelColumn(manifest: Pick<DatasetManifest, "labelSchema">, column: string): boolean {
  const eq = column.indexOf("=");
  if (eq < 0) return column in manifest.labelSchema.numeric;
  return manifest.labelSchema.categorical[column.slice(0, eq)]?.includes(column.slice(eq + 1)) ?? false;
}

/**
 * The value of `column` for every image of the data set, in data-set order, as the trainer feeds it
 * ({@link LabelVector}: 0 where an image lacks it).
 * @throws when the data set has no such column
 */
export function LabelColumnValues(manifest: Pick<DatasetManifest, "labelSchema" | "images">, column: string): Float64Array {
  if (!HasLabelColumn(manifest, column)) throw new Error(`the data set has no label column "${column}"`);
  return Float64Array.from(manifest.images, (entry) => LabelVector(manifest, entry, [column])[0]);
}

/** Pearson correlation of two equally long series (NaN when one is constant or they are shorter than 2). */
export function PearsonCorrelation(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  if (b.length !== n) throw new Error(`correlation of series of ${n} and ${b.length} values`);
  if (n < 2) return Number.NaN;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i];
    mb += b[i];
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = a[i] - ma;
    const db = b[i] - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : Number.NaN;
}

/** Scores predictions against labels (see {@link ProbeQuality}); `binary` says whether to report accuracies. */
export function MeasureProbeQuality(predictions: ArrayLike<number>, labels: ArrayLike<number>, binary: boolean): ProbeQuality {
  const count = labels.length;
  let accuracy: number | null = null;
  let baseline: number | null = null;
  if (binary && count > 0) {
    let right = 0;
    let ones = 0;
    for (let i = 0; i < count; i++) {
      if (predictions[i] >= 0.5 === labels[i] >= 0.5) right++;
      if (labels[i] >= 0.5) ones++;
    }
    accuracy = right / count;
    baseline = Math.max(ones, count - ones) / count;
  }
  return { count, r: PearsonCorrelation(predictions, labels), binary, accuracy, baseline };
}

/** Predictions of a probe for every row of a feature matrix. */
export function PredictProbe(probe: LabelProbe, features: Float32Array): Float64Array {
  const rows = features.length / probe.layout.length;
  return Float64Array.from({ length: rows }, (_, row) => PredictRidge(probe.model, features, row));
}

/** Training and scoring images of {@link FitLabelProbes}: features and one value array per column. */
export interface ProbeImages {
  /** Rows of `layout.length` values. */
  readonly features: Float32Array;
  /** `columns[k]`'s value for each row. */
  readonly values: readonly ArrayLike<number>[];
}

/**
 * Fits one probe per column on `fit` (ridge, penalty chosen on part of `fit`) and scores each on `score`.
 * A column is binary when every fit and score value is 0 or 1.
 */
export function FitLabelProbes(columns: readonly string[], layout: PixelFeatureLayout, fit: ProbeImages, score: ProbeImages, options: FitRidgeOptions = {}): LabelProbe[] {
  const models = FitRidgeModels(fit.features, layout.length, fit.values, options);
  return columns.map((column, k) => {
    const binary = [fit.values[k], score.values[k]].every((values) => Array.prototype.every.call(values, (v: number) => v === 0 || v === 1));
    const probe = { column, layout, model: models[k], quality: MeasureProbeQuality([], [], false) };
    return { ...probe, quality: MeasureProbeQuality(PredictProbe(probe, score.features), score.values[k], binary) };
  });
}
