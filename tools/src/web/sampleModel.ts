/**
 * Which model the samples and the seed editor use: the one given (`--model`), else the bundled default model
 * (`@npc-faces/default-model`, i.e. `models/default.onnx`). Node only.
 */
import { readFile } from "node:fs/promises";
import { dirname, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ReadModelFile, type ModelMetadata } from "@npc-faces/runtime";
import { DefaultModelPath } from "@npc-faces/runtime/node";

/** The repository root (this file lives in `tools/src/web/` or `tools/dist/web/`). */
export const RepoRoot = FindRepoRoot();

/** The model a sample serves. */
export interface SampleModel {
  /** Absolute path of the `.onnx` file. */
  readonly path: string;
  /** The path relative to the repository root, for messages. */
  readonly displayPath: string;
  /** The file's validated metadata. */
  readonly metadata: ModelMetadata;
  /** `metadata.provenance.trained` (false for a model exported with `--untrained`: its faces are coloured noise). */
  readonly trained: boolean;
  /** How it was chosen: given explicitly, or the bundled default. */
  readonly origin: "explicit" | "default";
}

/** Options of {@link ResolveSampleModelAsync}. */
export interface ResolveSampleModelOptions {
  /** Use this file (e.g. `--model`) instead of the bundled default model. */
  readonly modelPath?: string;
}

/**
 * Picks the sample's model: `options.modelPath`, else the bundled default model, and validates it.
 * @throws when the file cannot be read or is not a valid npc-faces model (the runtime's message, naming the path)
 */
export async function ResolveSampleModelAsync(options: ResolveSampleModelOptions = {}): Promise<SampleModel> {
  const explicit = options.modelPath !== undefined;
  const path = explicit ? resolve(options.modelPath!) : DefaultModelPath();
  const bytes = await readFile(path).catch((error: NodeJS.ErrnoException) => {
    throw new Error(`${path}: cannot read the ${explicit ? "" : "bundled default "}model file (${error.code === "ENOENT" ? "no such file" : error.message})`, { cause: error });
  });
  const { metadata } = ReadModelFile(bytes, path);
  return { path, displayPath: relative(RepoRoot, path), metadata, trained: metadata.provenance.trained, origin: explicit ? "explicit" : "default" };
}

function FindRepoRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  // tools/src/web/ (sources, e.g. under vitest) or tools/dist/web/ (compiled): both three levels down.
  return resolve(here, "..", "..", "..");
}
