/**
 * Which model the samples use: the bundled default model (`models/default.onnx`) when it exists, else an
 * untrained `game64` export made once into `.tmp/` (so `npm start` works before any model is trained; the page
 * says "untrained" then). Node only.
 */
import { mkdir, readFile } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ReadModelFile, type ModelMetadata } from "@npc-faces/runtime";
import { WriteFileAtomicAsync } from "../bake/atomicWrite.js";

/** The repository root (this file lives in `tools/src/web/` or `tools/dist/web/`). */
export const RepoRoot = FindRepoRoot();

/** The bundled default model, used when present. */
export const DefaultModelPath = join(RepoRoot, "models", "default.onnx");

/** Where the untrained fallback model is exported to (ignored by git). */
export const UntrainedModelPath = join(RepoRoot, ".tmp", "samples", "game64-untrained.onnx");

/** The model a sample serves. */
export interface SampleModel {
  /** Absolute path of the `.onnx` file. */
  readonly path: string;
  /** The path relative to the repository root, for messages. */
  readonly displayPath: string;
  /** The file's validated metadata. */
  readonly metadata: ModelMetadata;
  /** `metadata.provenance.trained`: false for the untrained fallback (faces are coloured noise). */
  readonly trained: boolean;
  /** How it was chosen: given explicitly, the bundled default, or the untrained fallback export. */
  readonly origin: "explicit" | "default" | "untrained-export";
}

/** Options of {@link ResolveSampleModelAsync}. */
export interface ResolveSampleModelOptions {
  /** Use this file (e.g. `--model`) instead of the default / fallback. */
  readonly modelPath?: string;
  /** Called with progress lines (e.g. "exporting an untrained model ..."). */
  readonly log?: (line: string) => void;
}

/**
 * Picks the sample's model: `options.modelPath`, else `models/default.onnx`, else the untrained fallback,
 * exporting it first when it is missing or no longer loads (e.g. after a format change).
 * @throws when an explicit or default model file is not a valid npc-faces model (the runtime's message)
 */
export async function ResolveSampleModelAsync(options: ResolveSampleModelOptions = {}): Promise<SampleModel> {
  if (options.modelPath !== undefined) return ReadSampleModelAsync(resolve(options.modelPath), "explicit");
  const bundled = await readFile(DefaultModelPath).catch(() => undefined);
  if (bundled) return Describe(DefaultModelPath, bundled, "default");
  const cached = await readFile(UntrainedModelPath).catch(() => undefined);
  if (cached) {
    try {
      return Describe(UntrainedModelPath, cached, "untrained-export");
    } catch {
      // A fallback from an older exporter the runtime no longer accepts: export it again.
    }
  }
  const log = options.log ?? (() => undefined);
  log(`no ${relative(RepoRoot, DefaultModelPath)} yet: exporting an untrained game64 model to ${relative(RepoRoot, UntrainedModelPath)} (once) ...`);
  const started = performance.now();
  const bytes = await ExportUntrainedGame64Async();
  await mkdir(dirname(UntrainedModelPath), { recursive: true });
  await WriteFileAtomicAsync(UntrainedModelPath, bytes);
  log(`exported ${(bytes.length / 1e6).toFixed(1)} MB in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return Describe(UntrainedModelPath, bytes, "untrained-export");
}

async function ReadSampleModelAsync(path: string, origin: SampleModel["origin"]): Promise<SampleModel> {
  return Describe(path, await readFile(path), origin);
}

function Describe(path: string, bytes: Uint8Array, origin: SampleModel["origin"]): SampleModel {
  const { metadata } = ReadModelFile(bytes, path);
  return { path, displayPath: relative(RepoRoot, path), metadata, trained: metadata.provenance.trained, origin };
}

/**
 * An untrained `game64` model (seeded initial weights, 4 SeFa controls). StyleGAN initialises the per-layer
 * noise strengths at 0, which would make the noise-strength slider do nothing; like the runtime's test models,
 * they are set to a small non-zero value so every sample parameter visibly acts.
 */
async function ExportUntrainedGame64Async(): Promise<Uint8Array> {
  // Loaded on demand: the trainer pulls in tfjs, which serving an existing model does not need.
  const trainer = await import("@npc-faces/trainer");
  const config = trainer.GetGeneratorPreset("game64");
  const weights = trainer.InitializeGeneratorWeights(config, 0);
  for (const spec of trainer.GeneratorParameterSpecs(config).filter((s) => s.name.endsWith(".noise_strength"))) {
    weights.get(spec.name)!.fill(0.3 / spec.gain);
  }
  try {
    await trainer.InitializeTfjsBackendAsync("wasm");
  } catch {
    await trainer.InitializeTfjsBackendAsync("cpu");
  }
  // 512 latents are plenty for the centre of an untrained mapping network and keep the first start short.
  weights.set("mapping.w_avg", trainer.EstimateWAvg(config, weights, 512));
  const controls = trainer.UnsupervisedControls(config, weights, 4);
  return trainer.ExportGeneratorOnnx({
    config,
    weights,
    name: "game64-untrained",
    controls,
    provenance: {
      trained: false,
      licenses: [],
      credits: [],
      kimg: 0,
      tool: "npc-faces samples",
      notes: "untrained: random weights (seed 0), exported by the samples until models/default.onnx exists",
    },
  });
}

function FindRepoRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  // tools/src/web/ (sources, e.g. under vitest) or tools/dist/web/ (compiled): both three levels down.
  return resolve(here, "..", "..", "..");
}
