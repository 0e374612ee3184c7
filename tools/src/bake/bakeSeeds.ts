/**
 * Baking: seeds + parameters -> one PNG per seed with provenance, written atomically. The command line
 * (`npc-faces bake`) is a thin shell around {@link PlanBake}, {@link CheckOutputFolderAsync} and
 * {@link BakeSeedsAsync}; manifests, workers and caches build on the same pieces.
 */
import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import sharp from "sharp";
import { IsValidSeed, MaxSeed, ValidateFaceRequest, type FaceRequest, type ModelMetadata } from "@npc-faces/runtime";
import { LabelValuesProblem } from "../model/labelValuesProblem.js";
import { ToolLabel } from "../toolInfo.js";
import { EnsureFolderAsync, WriteFileAtomicAsync } from "./atomicWrite.js";
import { MakeBakeProvenance, ProvenanceToPngText, type BakeParameters } from "./bakeProvenance.js";
import { EncodePngWithText, type RgbaImage } from "./pngProvenance.js";

/** What baking needs of a face generator (a `FaceGenerator` from `@npc-faces/runtime` fits). */
export interface BakeGenerator {
  readonly metadata: ModelMetadata;
  /** SHA-256 of the model file, lowercase hex. */
  readonly modelHash: string;
  /** Whether its engine computes canonical pixels (recorded in each file's provenance). */
  readonly canonical: boolean;
  generateAsync(requests: readonly FaceRequest[]): Promise<readonly RgbaImage[]>;
}

/** What to bake. Everything but `seeds` and `outDir` falls back to the model's defaults. */
export interface BakeOptions {
  readonly seeds: readonly number[];
  /** Folder the PNGs go to (created by {@link BakeSeedsAsync} if missing). */
  readonly outDir: string;
  readonly psi?: number;
  readonly noiseStrength?: number;
  /** Breed every face with this seed (style mixing). */
  readonly mixSeed?: number;
  /** Weight of the mix seed on the mixed layers, 0..1 (default 1 with a mix seed). Needs `mixSeed`. */
  readonly mix?: number;
  /** First w layer that takes the mix seed, 0..numWs (default 0). Needs `mixSeed`. */
  readonly crossover?: number;
  /** Control amounts by name; controls not given take their default. */
  readonly controls?: Readonly<Record<string, number>>;
  /** Label values by attribute (conditional models); attributes not given are drawn by each seed. */
  readonly labels?: Readonly<Record<string, string>>;
  /** Side of the written images in pixels (default: the model's resolution); resampled with lanczos3. */
  readonly size?: number;
}

/** Largest `size` accepted (a 4096x4096 RGBA face is 64 MiB). */
export const MaxBakeSize = 4096;

/** A bake option that does not fit the model; `field` names the option (`controls`, `crossover`, ...). */
export class BakeInputError extends Error {
  override readonly name = "BakeInputError";
  /** The option at fault, as in {@link BakeOptions}. */
  readonly field: keyof BakeOptions;
  /** What is wrong, without the option name. */
  readonly detail: string;

  constructor(field: keyof BakeOptions, detail: string) {
    super(`${field}: ${detail}`);
    this.field = field;
    this.detail = detail;
  }
}

/** A checked bake: the requests to run and the files they become. */
export interface BakePlan {
  readonly seeds: readonly number[];
  /** Absolute path of the output folder. */
  readonly outDir: string;
  /** The effective parameters (defaults resolved), as recorded in every file. */
  readonly params: BakeParameters;
  /** One request per seed, in seed order. */
  readonly requests: readonly FaceRequest[];
  /** Absolute path of each seed's file, in seed order. */
  readonly files: readonly string[];
}

/** File name of a seed's face: `face-<seed>.png` (decimal seed, no padding). */
export function FaceFileName(seed: number): string {
  return `face-${seed}.png`;
}

/**
 * Checks bake options against a model and resolves every default. Pure: touches no file.
 * @throws BakeInputError naming the option; NpcFacesError BAD_REQUEST if the runtime rejects a request
 */
export function PlanBake(metadata: ModelMetadata, options: BakeOptions): BakePlan {
  const { seeds } = options;
  if (seeds.length === 0) throw new BakeInputError("seeds", "expected at least one seed");
  seeds.forEach((seed) => {
    if (!IsValidSeed(seed)) throw new BakeInputError("seeds", `seed ${String(seed)} is not an integer in 0..${MaxSeed}`);
  });
  if (new Set(seeds).size !== seeds.length) throw new BakeInputError("seeds", "a seed appears twice (each seed names one file)");
  const finite = (field: "psi" | "noiseStrength" | "mix", value: number | undefined): void => {
    if (value !== undefined && !Number.isFinite(value)) throw new BakeInputError(field, `expected a finite number, got ${value}`);
  };
  finite("psi", options.psi);
  finite("noiseStrength", options.noiseStrength);
  finite("mix", options.mix);
  if (options.mixSeed !== undefined && !IsValidSeed(options.mixSeed)) {
    throw new BakeInputError("mixSeed", `expected an integer in 0..${MaxSeed}, got ${options.mixSeed}`);
  }
  if (options.mixSeed === undefined) {
    // Without a second face there is nothing to mix: a silently ignored flag would mislead.
    if (options.mix !== undefined) throw new BakeInputError("mix", "needs a mix seed to mix with");
    if (options.crossover !== undefined) throw new BakeInputError("crossover", "needs a mix seed to mix with");
  }
  if (options.mix !== undefined && (options.mix < 0 || options.mix > 1)) throw new BakeInputError("mix", `expected a number in 0..1, got ${options.mix}`);
  const crossover = options.crossover ?? 0;
  if (!Number.isInteger(crossover) || crossover < 0 || crossover > metadata.numWs) {
    throw new BakeInputError("crossover", `expected an integer layer in 0..${metadata.numWs} (model "${metadata.name}" has ${metadata.numWs} style layers), got ${crossover}`);
  }
  const size = options.size ?? metadata.resolution;
  if (!Number.isInteger(size) || size < 1 || size > MaxBakeSize) throw new BakeInputError("size", `expected an integer in 1..${MaxBakeSize}, got ${size}`);

  const known = metadata.controls.map((c) => c.name);
  const controls: Record<string, number> = {};
  for (const c of metadata.controls) controls[c.name] = c.default;
  for (const [name, value] of Object.entries(options.controls ?? {})) {
    if (!known.includes(name)) {
      const has = known.length === 0 ? "has no controls" : `has: ${known.join(", ")}`;
      throw new BakeInputError("controls", `unknown control "${name}" (model "${metadata.name}" ${has})`);
    }
    if (!Number.isFinite(value)) throw new BakeInputError("controls", `control "${name}": expected a finite number, got ${value}`);
    controls[name] = value;
  }

  const labels = options.labels ?? {};
  const labelProblem = LabelValuesProblem(metadata, labels);
  if (labelProblem !== undefined) throw new BakeInputError("labels", labelProblem);

  const params: BakeParameters = {
    psi: options.psi ?? metadata.defaults.psi,
    noiseStrength: options.noiseStrength ?? metadata.defaults.noiseStrength,
    mixSeed: options.mixSeed ?? null,
    mix: options.mixSeed === undefined ? 0 : (options.mix ?? 1),
    crossover,
    controls,
    ...(Object.keys(labels).length > 0 ? { labels: { ...labels } } : {}),
    size,
    filter: size === metadata.resolution ? null : "lanczos3",
  };
  const requests = seeds.map((seed): FaceRequest => {
    const base = { seed, psi: params.psi, noiseStrength: params.noiseStrength, controls, ...(params.labels ? { labels: params.labels } : {}) };
    return params.mixSeed === null ? base : { ...base, mixSeed: params.mixSeed, mix: params.mix, mixCrossover: params.crossover };
  });
  requests.forEach((request, i) => ValidateFaceRequest(metadata, request, `seed ${seeds[i]}`));
  const outDir = resolve(options.outDir);
  return { seeds: [...seeds], outDir, params, requests, files: seeds.map((seed) => join(outDir, FaceFileName(seed))) };
}

/** The output folder cannot be used; the message says why. */
export class OutputFolderError extends Error {
  override readonly name = "OutputFolderError";
}

/**
 * Checks, without creating or writing anything, that `dir` is (or can be created as) a writable folder: it must
 * be a folder if it exists, and its nearest existing ancestor must be a writable folder.
 * @throws OutputFolderError
 */
export async function CheckOutputFolderAsync(dir: string): Promise<void> {
  const target = resolve(dir);
  let existing = target;
  for (;;) {
    try {
      const info = await stat(existing);
      if (!info.isDirectory()) {
        throw new OutputFolderError(existing === target ? `${dir} exists and is not a folder` : `cannot create ${dir}: ${existing} is not a folder`);
      }
      break;
    } catch (error) {
      if (error instanceof OutputFolderError) throw error;
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOTDIR") {
        // A path component is a file; keep walking up to name it.
      } else if (code !== "ENOENT") {
        throw new OutputFolderError(`cannot use ${dir}: ${(error as Error).message}`);
      }
      const parent = dirname(existing);
      if (parent === existing) throw new OutputFolderError(`cannot create ${dir}: no existing parent folder`);
      existing = parent;
    }
  }
  try {
    await access(existing, constants.W_OK | constants.X_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === "EROFS" ? "is on a read-only file system" : "is not writable";
    throw new OutputFolderError(existing === target ? `output folder ${dir} ${why}` : `cannot create ${dir}: ${existing} ${why}`);
  }
}

/**
 * Resamples a square RGBA face to `size` x `size` with sharp's lanczos3 filter. Deterministic for a given
 * sharp/libvips build. Returns the image itself when it already has that size.
 */
export async function ResizeRgbaAsync(image: RgbaImage, size: number): Promise<RgbaImage> {
  if (image.width === size && image.height === size) return image;
  const input = Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength);
  const { data, info } = await sharp(input, { raw: { width: image.width, height: image.height, channels: 4 } })
    .resize(size, size, { kernel: "lanczos3", fit: "fill" })
    .ensureAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 4 || info.width !== size || info.height !== size) {
    throw new Error(`resize to ${size}x${size} returned ${info.width}x${info.height}x${info.channels}`);
  }
  return { width: size, height: size, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

/** Progress of {@link BakeSeedsAsync}, reported after each written file. */
export interface BakeProgress {
  readonly done: number;
  readonly total: number;
  readonly seed: number;
  readonly file: string;
}

/** Options of {@link BakeSeedsAsync}. */
export interface BakeRunOptions {
  /** Faces per generator call (default 8). */
  readonly batchSize?: number;
  /** Tool label recorded in the files (default `npc-faces <version>`). */
  readonly tool?: string;
  /** Called after each file is written. */
  readonly onProgress?: (progress: BakeProgress) => void;
  /** Stops the bake between two files (the files written so far are complete); rejects with the signal's reason. */
  readonly signal?: AbortSignal;
}

/** What a bake did. */
export interface BakeSummary {
  readonly count: number;
  readonly files: readonly string[];
  /** Total bytes written. */
  readonly bytes: number;
  readonly seconds: number;
}

/**
 * Generates, encodes and writes every face of a plan. Creates the output folder; each file is written
 * atomically, so an interrupted bake leaves only complete files. Generation of the next batch overlaps
 * encoding and writing of the current one.
 */
export async function BakeSeedsAsync(generator: BakeGenerator, plan: BakePlan, options: BakeRunOptions = {}): Promise<BakeSummary> {
  const batchSize = options.batchSize ?? 8;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize: expected a positive integer, got ${batchSize}`);
  const tool = options.tool ?? ToolLabel;
  const started = performance.now();
  try {
    await EnsureFolderAsync(plan.outDir);
  } catch (error) {
    throw new OutputFolderError((error as Error).message, { cause: error });
  }

  const batches: number[][] = [];
  for (let start = 0; start < plan.requests.length; start += batchSize) {
    batches.push(Array.from({ length: Math.min(batchSize, plan.requests.length - start) }, (_, i) => start + i));
  }
  const generate = (indices: number[]): Promise<readonly RgbaImage[]> => {
    const images = generator.generateAsync(indices.map((i) => plan.requests[i]));
    // The next batch runs while this one is written; if it fails meanwhile, the rejection is awaited (and thrown)
    // in its turn, or dropped when an earlier write already failed: never an unhandled rejection.
    images.catch(() => undefined);
    return images;
  };
  let bytes = 0;
  let done = 0;
  let pending: Promise<readonly RgbaImage[]> | undefined = batches.length > 0 ? generate(batches[0]) : undefined;
  for (let b = 0; b < batches.length; b++) {
    options.signal?.throwIfAborted();
    const images = await pending!;
    pending = b + 1 < batches.length ? generate(batches[b + 1]) : undefined;
    const indices = batches[b];
    if (images.length !== indices.length) throw new Error(`the generator returned ${images.length} faces for ${indices.length} requests`);
    for (let k = 0; k < indices.length; k++) {
      options.signal?.throwIfAborted();
      const i = indices[k];
      const seed = plan.seeds[i];
      const image = await ResizeRgbaAsync(images[k], plan.params.size);
      const provenance = MakeBakeProvenance(tool, generator.canonical ? "canonical" : "native", generator.metadata, generator.modelHash, seed, plan.params);
      const png = EncodePngWithText(image, ProvenanceToPngText(provenance));
      await WriteFileAtomicAsync(plan.files[i], png);
      bytes += png.length;
      done++;
      options.onProgress?.({ done, total: plan.seeds.length, seed, file: plan.files[i] });
    }
  }
  return { count: done, files: plan.files, bytes, seconds: (performance.now() - started) / 1000 };
}
