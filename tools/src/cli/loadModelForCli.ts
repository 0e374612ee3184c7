/**
 * Model loading for commands: the runtime's loader, with failures turned into one-line CLI errors that name
 * the flag or argument; without one, the bundled default model.
 */
import { IsNpcFacesError, type FaceGenerator } from "@npc-faces/runtime";
import { DefaultModelPath, LoadFaceGeneratorFileAsync, type FaceEngine } from "@npc-faces/runtime/node";
import { CliFailure, CliUsageError } from "./cliErrors.js";

/** Options of {@link LoadModelForCliAsync}. */
export interface LoadModelForCliOptions {
  readonly maxBatch?: number;
  /** The engine (default canonical). */
  readonly engine?: FaceEngine;
  /** onnxruntime-node intra-op threads, native engine only (default: onnxruntime's choice). */
  readonly threads?: number;
}

/** A model given on the command line, or (`path` undefined) the bundled default model. */
export interface CliModel {
  /** The file to load. */
  readonly path: string;
  /** How messages name it: the flag (`--model`; empty for a positional argument), or "the default model". */
  readonly what: string;
}

/** `--model`'s value (named `flag` in messages), else the bundled default model's file. */
export function ModelOrDefault(flag: string, path: string | undefined): CliModel {
  return path !== undefined ? { path, what: flag } : { path: DefaultModelPath(), what: "the default model" };
}

/**
 * Loads and validates a model file (metadata, graph interface, inference session).
 * @throws CliFailure with the runtime's message (which starts with the path), after `model.what`
 */
export async function LoadModelForCliAsync(model: CliModel, options: LoadModelForCliOptions = {}): Promise<FaceGenerator> {
  if (options.threads !== undefined && options.threads !== 1 && (options.engine ?? "canonical") === "canonical") {
    throw new CliUsageError("--threads: the canonical engine runs single-threaded (its bytes would otherwise depend on the thread count); use --workers to bake in parallel, or --engine native");
  }
  try {
    return await LoadFaceGeneratorFileAsync(model.path, {
      ...(options.engine !== undefined ? { engine: options.engine } : {}),
      ...(options.maxBatch !== undefined ? { maxBatch: options.maxBatch } : {}),
      ...(options.threads !== undefined ? { intraOpNumThreads: options.threads } : {}),
    });
  } catch (error) {
    if (IsNpcFacesError(error)) throw new CliFailure(model.what ? `${model.what} ${error.message}` : error.message, { cause: error });
    throw error;
  }
}
