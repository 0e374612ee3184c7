/**
 * Attribute coverage of a generator: does it draw every eye, mouth and hairstyle of its data, about as often
 * as the data does? A probe per categorical label of the data set is fitted on training images, scored on held-out
 * images (its accuracy says how far to trust it), then classifies generated faces and the same number of held-out
 * images; ../evaluation/classCoverage.ts turns the predicted classes into the effective number of classes and the
 * classes that reach half their training share. The real row goes through the same probe, so its errors blur both
 * rows alike. Two probes: a small convolutional network trained with random shifts (../evaluation/convolutionalProbe.ts,
 * the default: it reads a style drawn a pixel or two off as that style) and ridge one-vs-rest on pixel features
 * (../evaluation/attributeClassifier.ts: a template matcher, minutes faster to fit, and misled by a one-pixel shift).
 */
import type { FaceRequest } from "@npc-faces/runtime";
import { InitializeTfjsBackendAsync, type GeneratedImageSource } from "@npc-faces/trainer";
import { ClassifyRows, ClassificationAccuracy, FitAttributeClassifiers, type AttributeLabels } from "../evaluation/attributeClassifier.js";
import { ReadProbeFileAsync, WriteProbeFileAsync, type ProbeKey, type ProbeKind, type ProbePayload } from "../evaluation/attributeProbeFile.js";
import { ConvolutionalProbe, DefaultProbeEpochs } from "../evaluation/convolutionalProbe.js";
import { ClassShares, CountClasses, EffectiveClassCount, MeasureClassCoverage, type ClassCoverage } from "../evaluation/classCoverage.js";
import { DatasetFeaturesAsync, SplitIndices } from "../evaluation/datasetFeatures.js";
import { CommonFeatureRes, MakePixelFeatureLayout, WritePixelFeatures, type PixelFeatureLayout } from "../evaluation/pixelFeatures.js";
import type { OpenedDataset } from "../dataset/packedDataset.js";

/** Default generated faces (and most held-out images) classified per attribute. */
export const DefaultCoverageCount = 1000;
/** Default training images the probes are fitted on, per probe (the network's mouths need the 8,000: 90% held out, 73% on 4,000). */
export const DefaultProbeImages: Readonly<Record<ProbeKind, number>> = { cnn: 8000, pixels: 4000 };
/** Default probe (see the file comment). */
export const DefaultProbeKind: ProbeKind = "cnn";
/**
 * Default side of the pixel features. 32 (64 px faces: 2×2 blocks) is what tells facesjs's eyes and mouths apart
 * (held-out accuracy: eyes 97%, mouths 93%, against 74% and 47% at 16), at 16-64× the fitting cost of 16.
 */
export const DefaultProbeFeatureRes = 32;
/** Ridge penalties the probes choose among (relative to the mean diagonal of XᵀX), per class. */
const ProbeRelativeLambdas = [1e-3, 1e-2, 1e-1];

/** One attribute's coverage, generated vs held-out real images. */
export interface AttributeCoverage {
  readonly attribute: string;
  /** Classes of the data set's schema. */
  readonly classes: number;
  /** Classes present among the training images (the most either row can reach). */
  readonly trainingClasses: number;
  /** Effective number of classes of the training labels themselves. */
  readonly trainingEffectiveClasses: number;
  /** The probe's accuracy on held-out images it was not fitted on. */
  readonly probeAccuracy: number;
  /** Accuracy of always answering the most common training class, for comparison. */
  readonly probeBaseline: number;
  /** Held-out real images, classified by the probe. */
  readonly real: ClassCoverage;
  /** Generated faces, classified by the probe. */
  readonly generated: ClassCoverage;
  /** generated.effectiveClasses / real.effectiveClasses. */
  readonly effectiveRatio: number;
  /**
   * Conditional models: the share of generated faces that the probe reads as the value their labels asked for
   * (set or drawn by the seed), over the faces that asked for one; `probeAccuracy` is its ceiling. Absent when
   * the model takes no such attribute.
   */
  readonly labelAgreement?: number;
  /** With {@link AttributeCoverageOptions.setLabels}: each value set in the request, read back (see {@link SetLabelReadBack}). */
  readonly setLabel?: SetLabelReadBack;
  /** Per class, which styles a model draws too rarely, too often, or in place of which others (see {@link ClassDetail}). */
  readonly perClass: Readonly<Record<string, ClassDetail>>;
}

/** One class of an attribute: its shares as the probe reads them, and (conditional models) how often it is drawn when asked for. */
export interface ClassDetail {
  /** Share of the training labels. */
  readonly training: number;
  /** Share of the held-out real images the probe reads as this class. */
  readonly real: number;
  /** Share of the generated faces the probe reads as this class. */
  readonly generated: number;
  /** Conditional models: generated faces whose labels asked for this class. */
  readonly asked?: number;
  /** Of those, the share read as this class (absent when none asked for it). */
  readonly follows?: number;
  /** Of those, the class most often read instead, and its share (absent when none was misread). */
  readonly readInstead?: { readonly value: string; readonly share: number };
}

/**
 * Each of an attribute's values set in the request (`labels: { eyes: "eye5" }`) on the same seeds, everything else
 * as the model defaults it: how often the probe reads the set value back, the control's view of the coverage (a
 * value the seed never draws can still be reached by asking, and the reverse).
 */
export interface SetLabelReadBack {
  /** Seeds per value (firstSeed..). */
  readonly seeds: number;
  /** Share of all (value, seed) faces read as their value. */
  readonly readBack: number;
  /** Values read back on at least half their seeds. */
  readonly valuesReached: number;
  /** Values set: the model's values of the attribute that the probe knows. */
  readonly values: number;
  /** Per value, the share of its seeds read back. */
  readonly perValue: Readonly<Record<string, number>>;
}

/** The attribute coverage of a generator against a data set. */
export interface AttributeCoverageReport {
  readonly attributes: readonly AttributeCoverage[];
  /** The probe: "cnn" or "pixels". */
  readonly probe: ProbeKind;
  /** What the probe is and how it sees images, e.g. "ridge one-vs-rest on pixels 32x32". */
  readonly probeFeatures: string;
  readonly probeImages: number;
  /** With {@link AttributeCoverageOptions.probeFile}: whether the probes were read from it or fitted (and written to it). */
  readonly probes?: "read" | "fitted";
  /** Held-out images classified (the real row and the probe accuracy). */
  readonly realCount: number;
  /** Generated faces classified. */
  readonly generatedCount: number;
  readonly seconds: number;
}

/** Options of {@link ComputeAttributeCoverageAsync}. */
export interface AttributeCoverageOptions {
  readonly generator: GeneratedImageSource;
  /** Side of the generated faces (for the feature resolution). */
  readonly generatorResolution: number;
  /** An opened data set with held-out images (the caller closes it). */
  readonly dataset: OpenedDataset;
  /** Categorical labels to measure (default: every one of the schema with ≥ 2 classes among the training images). */
  readonly attributes?: readonly string[];
  /** Generated faces and most held-out images (default 1000). */
  readonly count?: number;
  readonly probeImages?: number;
  /** Which probe (default {@link DefaultProbeKind}). */
  readonly probe?: ProbeKind;
  /** pixels: side of the pixel features (default 32). */
  readonly featureRes?: number;
  /** cnn: passes over the training images (default {@link DefaultProbeEpochs}). */
  readonly probeEpochs?: number;
  /** Keep the fitted probes in this file: read when fitted on the same data set and settings, else fitted and written (see ../evaluation/attributeProbeFile.ts). */
  readonly probeFile?: string;
  readonly psi?: number;
  readonly noiseStrength?: number;
  readonly firstSeed?: number;
  readonly batchSize?: number;
  /** Conditional models: the value of each attribute a request gets (e.g. the runtime's `FaceLabelValues`), for `labelAgreement`. */
  readonly labelsOf?: (request: FaceRequest) => Readonly<Record<string, string>>;
  /** Conditional models: set each value of each measured attribute the model takes (its label values by attribute) on `seeds` seeds. */
  readonly setLabels?: { readonly values: Readonly<Record<string, readonly string[]>>; readonly seeds: number };
  readonly onProgress?: (phase: "probe" | "probe epochs" | "coverage" | "set labels", done: number, total: number) => void;
}

/** Class index of each image's label (-1 where it has none or an unknown value). */
function ClassIndices(dataset: OpenedDataset, indices: readonly number[], attribute: string, classes: readonly string[]): Int32Array {
  return ClassIndicesOf(indices.map((i) => dataset.manifest.images[i].labels), attribute, classes);
}

/** Class index of `attribute` in each label record (-1 where it has none or an unknown value). */
function ClassIndicesOf(labels: readonly Readonly<Record<string, string>>[], attribute: string, classes: readonly string[]): Int32Array {
  const index = new Map(classes.map((c, i) => [c, i]));
  return Int32Array.from(labels, (l) => index.get(l[attribute] ?? "") ?? -1);
}

/** How the faces that asked for class `c` were read: their count, the share read as `c`, and the commonest other reading. */
function AskedFor(c: number, requested: Int32Array, predicted: Int32Array, classes: readonly string[]): Pick<ClassDetail, "asked" | "follows" | "readInstead"> {
  const readAs = new Int32Array(classes.length);
  let asked = 0;
  requested.forEach((r, i) => {
    if (r !== c) return;
    asked++;
    readAs[predicted[i]]++;
  });
  if (asked === 0) return { asked };
  let other = -1;
  readAs.forEach((n, k) => {
    if (k !== c && n > 0 && (other < 0 || n > readAs[other])) other = k;
  });
  return { asked, follows: readAs[c] / asked, ...(other >= 0 ? { readInstead: { value: classes[other], share: readAs[other] / asked } } : {}) };
}

/** The requests of the `count` generated faces (seeds firstSeed..). */
function GeneratedRequests(options: AttributeCoverageOptions, count: number): FaceRequest[] {
  return Array.from({ length: count }, (_, i) => ({
    seed: ((options.firstSeed ?? 0) + i) >>> 0,
    psi: options.psi ?? 1,
    ...(options.noiseStrength === undefined ? {} : { noiseStrength: options.noiseStrength }),
  }));
}

/** Pixel features of the generated faces of `all`. */
async function GeneratedFeaturesAsync(options: AttributeCoverageOptions, layout: PixelFeatureLayout, all: readonly FaceRequest[], phase: "coverage" | "set labels" = "coverage"): Promise<Float32Array> {
  const count = all.length;
  const out = new Float32Array(count * layout.length);
  const batch = Math.max(1, options.batchSize ?? 8);
  for (let start = 0; start < count; start += batch) {
    const requests = all.slice(start, start + batch);
    const faces = await options.generator.generateAsync(requests);
    faces.forEach((face, k) => {
      if (face.width !== face.height) throw new Error(`attribute coverage: a ${face.width}×${face.height} face is not square`);
      WritePixelFeatures(face.data, face.width, 4, layout, out, (start + k) * layout.length);
    });
    options.onProgress?.(phase, Math.min(count, start + batch), count);
  }
  return out;
}

/** A fitted probe, ready to read every attribute from rows of `layout` features. */
interface FittedProbe {
  readonly layout: PixelFeatureLayout;
  readonly description: string;
  /** With a probe file: whether the probe was read from it or fitted (and written). */
  readonly source?: "read" | "fitted";
  /** The class index of each row, per attribute (in the order the probe was fitted with). */
  classifyAsync(features: Float32Array): Promise<Int32Array[]>;
  dispose(): void;
}

/** Reads the probe from `options.probeFile` when it holds one fitted on the same key, else fits it (and writes it there). */
async function LoadOrFitProbeAsync(options: AttributeCoverageOptions, kind: ProbeKind, train: readonly number[], attributes: readonly AttributeLabels[]): Promise<FittedProbe> {
  const { dataset } = options;
  const sides = [dataset.resolution, options.generatorResolution];
  // The network reads whole images at the side both share; the ridge probe reads area-averaged pixels.
  const layout = MakePixelFeatureLayout(kind === "cnn" ? CommonFeatureRes(Math.min(...sides), sides) : CommonFeatureRes(options.featureRes ?? DefaultProbeFeatureRes, sides));
  const epochs = Math.max(1, Math.floor(options.probeEpochs ?? DefaultProbeEpochs));
  const key: ProbeKey = {
    dataset: dataset.manifest.contentHash,
    probe: kind,
    probeImages: train.length,
    featureRes: layout.res,
    settings: kind === "cnn" ? { epochs } : { relativeLambdas: ProbeRelativeLambdas },
    attributes: attributes.map(({ name, classes }) => ({ name, classes })),
  };
  const kept = options.probeFile ? await ReadProbeFileAsync(options.probeFile, key, layout.length) : null;
  let payload: ProbePayload | null = kept?.found === "match" ? kept.payload : null;
  let network: ConvolutionalProbe | null = null;
  if (kind === "cnn") await InitializeTfjsBackendAsync("wasm");
  if (!payload) {
    const trainFeatures = await DatasetFeaturesAsync(dataset, train, layout, { onProgress: (d, t) => options.onProgress?.("probe", d, t) });
    if (kind === "cnn") {
      network = await ConvolutionalProbe.FitAsync(trainFeatures.features, train.length, layout.res, attributes, { epochs, onProgress: (d, t) => options.onProgress?.("probe epochs", d, t) });
      payload = { probe: "cnn", network: await network.toJSONAsync() };
    } else {
      payload = { probe: "pixels", classifiers: FitAttributeClassifiers(trainFeatures.features, layout.length, attributes, { relativeLambdas: ProbeRelativeLambdas }) };
    }
    if (options.probeFile) await WriteProbeFileAsync(options.probeFile, key, payload);
  }
  const source = kept ? (kept.found === "match" ? ("read" as const) : ("fitted" as const)) : undefined;
  if (payload.probe === "pixels") {
    const { classifiers } = payload;
    return {
      layout,
      description: `ridge one-vs-rest on pixels ${layout.res}x${layout.res}`,
      ...(source ? { source } : {}),
      classifyAsync: (features) => Promise.resolve(classifiers.map((classifier) => ClassifyRows(classifier, features))),
      dispose: () => undefined,
    };
  }
  const fitted = network ?? ConvolutionalProbe.FromJSON(payload.network, attributes);
  return {
    layout,
    description: ConvolutionalProbe.Describe(layout.res),
    ...(source ? { source } : {}),
    classifyAsync: (features) => fitted.classifyAsync(features, features.length / layout.length),
    dispose: () => fitted.dispose(),
  };
}

/** Attribute coverage of a generator (see the file comment). */
export async function ComputeAttributeCoverageAsync(options: AttributeCoverageOptions): Promise<AttributeCoverageReport> {
  const started = performance.now();
  const { dataset } = options;
  const kind = options.probe ?? DefaultProbeKind;
  const train = SplitIndices(dataset, "train").slice(0, options.probeImages ?? DefaultProbeImages[kind]);
  const holdout = SplitIndices(dataset, "holdout");
  if (holdout.length < 2) throw new Error(`attribute coverage needs held-out images (the data set holds out ${holdout.length}); build it with --holdout 0.05`);
  if (train.length < 2) throw new Error(`attribute coverage needs training images to fit its probes (found ${train.length})`);
  const schema = dataset.manifest.labelSchema.categorical;
  const names = options.attributes ?? Object.keys(schema);
  for (const name of names) if (!schema[name]) throw new Error(`the data set has no categorical label "${name}" (it has: ${Object.keys(schema).join(", ") || "none"})`);
  const attributes: AttributeLabels[] = names
    .map((name) => ({ name, classes: schema[name], labels: ClassIndices(dataset, train, name, schema[name]) }))
    .filter((a) => options.attributes !== undefined || CountClasses(a.labels, a.classes.length).filter((c) => c > 0).length >= 2);
  if (attributes.length === 0) throw new Error("the data set has no categorical label with at least 2 classes among its training images");

  const count = options.count ?? DefaultCoverageCount;
  const realCount = Math.min(count, holdout.length);
  const requests = GeneratedRequests(options, count);
  const requestedLabels = options.labelsOf ? requests.map(options.labelsOf) : null;
  const setLabels = new Map<string, SetLabelReadBack>();
  const probe = await LoadOrFitProbeAsync(options, kind, train, attributes);
  const { layout } = probe;
  let holdoutPredictions: Int32Array[];
  let generatedPredictions: Int32Array[];
  try {
    holdoutPredictions = await probe.classifyAsync((await DatasetFeaturesAsync(dataset, holdout, layout)).features);
    generatedPredictions = await probe.classifyAsync(await GeneratedFeaturesAsync(options, layout, requests));
    for (const [a, attribute] of (options.setLabels ? attributes : []).entries()) {
      const { values, seeds } = options.setLabels!;
      const set = (values[attribute.name] ?? []).filter((value) => attribute.classes.includes(value));
      if (set.length === 0 || seeds < 1) continue;
      const setRequests = set.flatMap((value) => GeneratedRequests(options, seeds).map((request) => ({ ...request, labels: { [attribute.name]: value } })));
      const predicted = (await probe.classifyAsync(await GeneratedFeaturesAsync(options, layout, setRequests, "set labels")))[a];
      const perValue = set.map((value, v) => predicted.subarray(v * seeds, (v + 1) * seeds).filter((c) => attribute.classes[c] === value).length / seeds);
      setLabels.set(attribute.name, {
        seeds,
        readBack: perValue.reduce((sum, share) => sum + share, 0) / set.length,
        valuesReached: perValue.filter((share) => share >= 0.5).length,
        values: set.length,
        perValue: Object.fromEntries(set.map((value, v) => [value, perValue[v]])),
      });
    }
  } finally {
    probe.dispose();
  }

  const report = attributes.map((attribute, a): AttributeCoverage => {
    const classCount = attribute.classes.length;
    const trainingCounts = CountClasses(attribute.labels, classCount);
    const reference = ClassShares(trainingCounts);
    const holdoutLabels = ClassIndices(dataset, holdout, attribute.name, attribute.classes);
    const holdoutPredicted = holdoutPredictions[a];
    const generatedPredicted = generatedPredictions[a];
    const realCounts = CountClasses(holdoutPredicted.subarray(0, realCount), classCount);
    const generatedCounts = CountClasses(generatedPredicted, classCount);
    const real = MeasureClassCoverage(realCounts, reference);
    const generated = MeasureClassCoverage(generatedCounts, reference);
    const requested = requestedLabels ? ClassIndicesOf(requestedLabels, attribute.name, attribute.classes) : null;
    const agreement = requested ? ClassificationAccuracy(generatedPredicted, requested) : Number.NaN;
    const realShares = ClassShares(realCounts);
    const generatedShares = ClassShares(generatedCounts);
    const perClass = Object.fromEntries(
      attribute.classes.map((value, c): [string, ClassDetail] => [
        value,
        { training: reference[c], real: realShares[c], generated: generatedShares[c], ...(requested ? AskedFor(c, requested, generatedPredicted, attribute.classes) : {}) },
      ]),
    );
    return {
      attribute: attribute.name,
      classes: classCount,
      trainingClasses: trainingCounts.filter((c) => c > 0).length,
      trainingEffectiveClasses: EffectiveClassCount(trainingCounts),
      probeAccuracy: ClassificationAccuracy(holdoutPredicted, holdoutLabels),
      probeBaseline: Math.max(...reference),
      real,
      generated,
      effectiveRatio: real.effectiveClasses > 0 ? generated.effectiveClasses / real.effectiveClasses : Number.NaN,
      ...(Number.isNaN(agreement) ? {} : { labelAgreement: agreement }),
      ...(setLabels.has(attribute.name) ? { setLabel: setLabels.get(attribute.name) } : {}),
      perClass,
    };
  });
  return {
    attributes: report,
    probe: kind,
    probeFeatures: probe.description,
    probeImages: train.length,
    ...(probe.source ? { probes: probe.source } : {}),
    realCount,
    generatedCount: count,
    seconds: (performance.now() - started) / 1000,
  };
}
