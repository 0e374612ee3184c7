/**
 * The quality metrics of a generator against data images, on features of nsfwjs's InceptionV3
 * (./featureNetwork.ts; NOT the standard FID network, so figures compare only with figures of the same
 * feature network, count and data set):
 *  - fd: Fréchet distance (./frechetDistance.ts), biased by the sample count;
 *  - kid: kernel distance (./kernelDistance.ts), unbiased, usable on a few hundred images;
 *  - diversity: mean pairwise feature distance of generated vs data images (./diversity.ts), the
 *    mode-collapse alarm (ratio < 0.5);
 *  - precision and recall: k-nearest-neighbour manifolds (./precisionRecall.ts); recall falls when modes are dropped.
 *
 * This file is independent of where images come from: a generator is anything with `generateAsync`
 * (the runtime's FaceGenerator on an exported model, or a wrapper around the tfjs generator during
 * training), and data images come through {@link MetricsImageSet}. Opening a data-set folder and a model
 * file is the CLI's side (`@npc-faces/tools`, `ComputeModelMetricsAsync`), because the data-set reader
 * and onnxruntime-node live there and the trainer must not depend on the tools package.
 */
import type { FaceRequest } from "@npc-faces/runtime";
import { InitializeTfjsBackendAsync, tf, type TfjsBackendName } from "../backends/tfjsBackend.js";
import { Diversity } from "./diversity.js";
import { LoadFeatureNetworkAsync, FeatureNetworkName, type FeatureImage } from "./featureNetwork.js";
import { FrechetDistance } from "./frechetDistance.js";
import { KernelDistance } from "./kernelDistance.js";
import { DefaultPrecisionRecallK, PrecisionRecallOf } from "./precisionRecall.js";

/** Default number of generated images (and most data images) per evaluation. */
export const DefaultMetricsCount = 256;

/** A set of 8-bit images readable by index (e.g. a data set's held-out split). */
export interface MetricsImageSet {
  /** Identity of the images for the feature cache (e.g. data-set content hash + split); no caching when absent. */
  readonly id?: string;
  readonly count: number;
  /** Image `index` (0..count-1). */
  readImageAsync(index: number): Promise<FeatureImage>;
}

/** Something that draws faces: the runtime's `FaceGenerator` fits. Images are RGBA8 (alpha ignored). */
export interface GeneratedImageSource {
  generateAsync(requests: readonly FaceRequest[]): Promise<readonly { readonly width: number; readonly height: number; readonly data: Uint8Array }[]>;
}

/** Progress of an evaluation: phase and images done out of total. */
export type MetricsProgress = (phase: "generated" | "data" | "reference", done: number, total: number) => void;

/** Options of {@link ComputeMetricsAsync}. */
export interface ComputeMetricsOptions {
  readonly generator: GeneratedImageSource;
  /** The data images compared against (normally the held-out split); the first `count` are used. */
  readonly data: MetricsImageSet;
  /** Generated images (seeds firstSeed..firstSeed+count-1) and most data images (default 256). */
  readonly count?: number;
  /** Truncation of the generated faces (default 1: the full distribution). */
  readonly psi?: number;
  /** Noise multiplier of the generated faces (default: the generator's own default). */
  readonly noiseStrength?: number;
  /** First seed of the generated faces (default 0). */
  readonly firstSeed?: number;
  /** Faces per generator call (default 8). */
  readonly batchSize?: number;
  /** tfjs backend for the feature network when none is active yet (default "wasm"). */
  readonly backend?: TfjsBackendName;
  /** Neighbourhood size of precision and recall (default 3). */
  readonly k?: number;
  /** Also return `recalled`: which data images lie inside the generated manifold (default false). */
  readonly perImageRecall?: boolean;
  readonly onProgress?: MetricsProgress;
}

/** The figures of one evaluation. */
export interface ImageMetrics {
  /** Fréchet distance (lower is better). */
  readonly fd: number;
  /** Kernel distance, mean over subsets (lower is better; ~0 = indistinguishable). */
  readonly kid: number;
  /** Spread of the kernel distance over subsets. */
  readonly kidStd: number;
  /** Mean pairwise feature distance of the compared (generated) images. */
  readonly diversityGenerated: number;
  /** Mean pairwise feature distance of the data images. */
  readonly diversityData: number;
  /** diversityGenerated / diversityData (1 = as varied as the data). */
  readonly diversityRatio: number;
  /** diversityRatio < 0.5: likely mode collapse. */
  readonly collapsed: boolean;
  /** Improved precision: share of compared images inside the data's k-NN manifold (fidelity). */
  readonly precision: number;
  /** Improved recall: share of data images inside the compared images' k-NN manifold (coverage). */
  readonly recall: number;
  /** Neighbourhood size of precision and recall. */
  readonly k: number;
  /** Feature network name: figures compare only within one name. */
  readonly featureNet: string;
  /** Number of compared (generated) images. */
  readonly count: number;
  /** Number of data images. */
  readonly dataCount: number;
  /** Wall time of the whole evaluation, seconds. */
  readonly seconds: number;
}

/** The figures of a generator evaluation. */
export interface ModelMetrics extends ImageMetrics {
  readonly psi: number;
  /** With `perImageRecall`: per data image used, 1 when it lies inside the generated manifold (recall is their mean). */
  readonly recalled?: Uint8Array;
}

/** Makes sure a tfjs backend is active (a training run keeps its own; a CLI run gets `backend`). */
async function EnsureBackendAsync(backend: TfjsBackendName): Promise<void> {
  if (tf.engine().backendName == null) await InitializeTfjsBackendAsync(backend);
}

const featureCache = new Map<string, Float32Array[]>();

/**
 * Features of the first `max` images of a set, in batches (cached per process under `set.id`, so a training
 * run that evaluates every few kimg extracts its data features once).
 */
export async function ExtractImageSetFeaturesAsync(set: MetricsImageSet, max: number, options: { batchSize?: number; onProgress?: (done: number, total: number) => void } = {}): Promise<Float32Array[]> {
  const n = Math.min(set.count, max);
  const key = set.id === undefined ? null : `${set.id}\u0000${n}`;
  const cached = key === null ? undefined : featureCache.get(key);
  if (cached) return cached;
  const net = await LoadFeatureNetworkAsync();
  const batch = Math.max(1, options.batchSize ?? 8);
  const out: Float32Array[] = [];
  for (let start = 0; start < n; start += batch) {
    const images: FeatureImage[] = [];
    for (let i = start; i < Math.min(n, start + batch); i++) images.push(await set.readImageAsync(i));
    out.push(...(await net.extractAsync(images)));
    options.onProgress?.(out.length, n);
  }
  if (key !== null) featureCache.set(key, out);
  return out;
}

/** Features of `count` generated faces (seeds firstSeed.., truncation psi). */
export async function ExtractGeneratorFeaturesAsync(
  generator: GeneratedImageSource,
  count: number,
  options: { psi?: number; noiseStrength?: number; firstSeed?: number; batchSize?: number; onProgress?: (done: number, total: number) => void } = {},
): Promise<Float32Array[]> {
  const net = await LoadFeatureNetworkAsync();
  const psi = options.psi ?? 1;
  const firstSeed = options.firstSeed ?? 0;
  const batch = Math.max(1, options.batchSize ?? 8);
  const out: Float32Array[] = [];
  for (let start = 0; start < count; start += batch) {
    const requests: FaceRequest[] = [];
    for (let i = start; i < Math.min(count, start + batch); i++) {
      requests.push({ seed: (firstSeed + i) >>> 0, psi, ...(options.noiseStrength === undefined ? {} : { noiseStrength: options.noiseStrength }) });
    }
    const faces = await generator.generateAsync(requests);
    out.push(...(await net.extractAsync(faces.map((f) => ({ width: f.width, height: f.height, channels: 4 as const, data: f.data })))));
    options.onProgress?.(out.length, count);
  }
  return out;
}

/** FD, KID, diversity, precision and recall between two feature sets (the first plays "generated"). */
export function CompareFeatureSets(compared: readonly Float32Array[], data: readonly Float32Array[], k = DefaultPrecisionRecallK): Omit<ImageMetrics, "seconds"> & { readonly recalled: Uint8Array } {
  const fd = FrechetDistance(compared, data);
  const kid = KernelDistance(compared, data);
  const diversity = Diversity(compared, data);
  // Small sets (a tiny CLI run) have no k-th neighbour at the requested k: shrink it rather than fail.
  const prK = Math.max(1, Math.min(k, compared.length - 1, data.length - 1));
  const pr = PrecisionRecallOf(compared, data, prK);
  return {
    fd, kid: kid.kid, kidStd: kid.std,
    diversityGenerated: diversity.generated, diversityData: diversity.data, diversityRatio: diversity.ratio, collapsed: diversity.collapsed,
    precision: pr.precision, recall: pr.recall, k: pr.k,
    featureNet: FeatureNetworkName, count: compared.length, dataCount: data.length,
    recalled: pr.recalled,
  };
}

/** Checks a metrics image count: an integer >= 2. */
export function AssertMetricsCount(count: number, what = "count"): void {
  if (!Number.isInteger(count) || count < 2) throw new RangeError(`${what}: expected an integer >= 2 (the distances need at least 2 images per set), got ${count}`);
}

/**
 * Evaluates a generator against data images: `count` generated faces vs the first `count` data images
 * (fewer when the set is smaller). See the file comment for the figures.
 */
export async function ComputeMetricsAsync(options: ComputeMetricsOptions): Promise<ModelMetrics> {
  const started = performance.now();
  const count = options.count ?? DefaultMetricsCount;
  AssertMetricsCount(count);
  if (options.data.count < 2) throw new Error(`the data set has ${options.data.count} images to compare against; the metrics need at least 2`);
  const psi = options.psi ?? 1;
  if (!Number.isFinite(psi)) throw new RangeError(`psi: expected a finite number, got ${psi}`);
  await EnsureBackendAsync(options.backend ?? "wasm");
  const data = await ExtractImageSetFeaturesAsync(options.data, count, { batchSize: options.batchSize, onProgress: (d, t) => options.onProgress?.("data", d, t) });
  const generated = await ExtractGeneratorFeaturesAsync(options.generator, count, {
    psi, noiseStrength: options.noiseStrength, firstSeed: options.firstSeed, batchSize: options.batchSize, onProgress: (d, t) => options.onProgress?.("generated", d, t),
  });
  const { recalled, ...figures } = CompareFeatureSets(generated, data, options.k);
  return { ...figures, psi, ...(options.perImageRecall ? { recalled } : {}), seconds: (performance.now() - started) / 1000 };
}

/**
 * The "floor" of a data set: the same figures between its own training images (the first `count`) and the
 * data images the model is compared against. A generator that matched the data distribution perfectly would
 * score about this (FD has sampling noise and bias; KID ~0), so model figures read relative to it.
 */
export async function ComputeFloorMetricsAsync(options: { reference: MetricsImageSet; data: MetricsImageSet; count?: number; batchSize?: number; backend?: TfjsBackendName; k?: number; onProgress?: MetricsProgress }): Promise<ImageMetrics> {
  const started = performance.now();
  const count = options.count ?? DefaultMetricsCount;
  AssertMetricsCount(count);
  for (const [name, set] of [["reference", options.reference], ["data", options.data]] as const) {
    if (set.count < 2) throw new Error(`the ${name} images number ${set.count}; the metrics need at least 2`);
  }
  await EnsureBackendAsync(options.backend ?? "wasm");
  const data = await ExtractImageSetFeaturesAsync(options.data, count, { batchSize: options.batchSize, onProgress: (d, t) => options.onProgress?.("data", d, t) });
  const reference = await ExtractImageSetFeaturesAsync(options.reference, count, { batchSize: options.batchSize, onProgress: (d, t) => options.onProgress?.("reference", d, t) });
  const { recalled: _, ...figures } = CompareFeatureSets(reference, data, options.k);
  return { ...figures, seconds: (performance.now() - started) / 1000 };
}
