/**
 * A classifier of one categorical attribute (e.g. facesjs's `eyes`) from image features: ridge regression one
 * class against the rest, the class with the highest score wins. Not as sharp as a multinomial logistic
 * regression, but closed-form, deterministic, and one Gram matrix serves every class of every attribute, so
 * fitting probes of all attributes costs one pass over the training images.
 */
import { FitRidgeModels, PredictRidge, type FitRidgeOptions, type RidgeModel } from "./ridgeRegression.js";

/** One attribute's training labels: a class index per training row (-1 where the image lacks the label). */
export interface AttributeLabels {
  readonly name: string;
  readonly classes: readonly string[];
  readonly labels: Int32Array;
}

/** A fitted classifier: one ridge model per class. */
export interface AttributeClassifier {
  readonly name: string;
  readonly classes: readonly string[];
  readonly models: readonly RidgeModel[];
}

/**
 * Fits one classifier per attribute on the rows of `features` (`d` values each).
 * A row without a label (-1) counts as "not this class" for every class of that attribute.
 */
export function FitAttributeClassifiers(features: Float32Array, d: number, attributes: readonly AttributeLabels[], options: FitRidgeOptions = {}): AttributeClassifier[] {
  const rows = Math.floor(features.length / d);
  const targets: Float64Array[] = [];
  for (const attribute of attributes) {
    if (attribute.labels.length !== rows) throw new Error(`attribute ${attribute.name}: ${attribute.labels.length} labels for ${rows} feature rows`);
    attribute.classes.forEach((_, c) => targets.push(Float64Array.from(attribute.labels, (label) => (label === c ? 1 : 0))));
  }
  const models = FitRidgeModels(features, d, targets, options);
  let next = 0;
  return attributes.map((attribute) => ({ name: attribute.name, classes: attribute.classes, models: attribute.classes.map(() => models[next++]) }));
}

/** The predicted class index of every row of `features`. */
export function ClassifyRows(classifier: AttributeClassifier, features: Float32Array): Int32Array {
  const d = classifier.models[0]?.weights.length ?? 0;
  const rows = d > 0 ? Math.floor(features.length / d) : 0;
  const out = new Int32Array(rows);
  for (let row = 0; row < rows; row++) {
    let best = 0;
    let bestScore = -Infinity;
    classifier.models.forEach((model, c) => {
      const score = PredictRidge(model, features, row);
      if (score > bestScore) {
        bestScore = score;
        best = c;
      }
    });
    out[row] = best;
  }
  return out;
}

/** Share of rows whose predicted class equals the label (rows labelled -1 are skipped); NaN when none are labelled. */
export function ClassificationAccuracy(predicted: ArrayLike<number>, labels: ArrayLike<number>): number {
  let right = 0;
  let counted = 0;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] < 0) continue;
    counted++;
    if (predicted[i] === labels[i]) right++;
  }
  return counted > 0 ? right / counted : Number.NaN;
}
