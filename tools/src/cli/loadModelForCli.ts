/**
 * Model loading for commands: the runtime's loader, with failures turned into one-line CLI errors that name
 * the flag or argument.
 */
import { IsNpcFacesError, type FaceGenerator } from "@npc-faces/runtime";
import { LoadFaceGeneratorFileAsync } from "@npc-faces/runtime/node";
import { CliFailure } from "./cliErrors.js";

/** Options of {@link LoadModelForCliAsync}. */
export interface LoadModelForCliOptions {
  readonly maxBatch?: number;
  /** onnxruntime intra-op threads (default: onnxruntime's choice). */
  readonly threads?: number;
}

/**
 * Loads and validates a model file (metadata, graph interface, inference session).
 * @param what how the command names the file in messages, e.g. `--model` (empty for a positional argument)
 * @throws CliFailure with the runtime's message (which starts with the path)
 */
export async function LoadModelForCliAsync(what: string, path: string, options: LoadModelForCliOptions = {}): Promise<FaceGenerator> {
  try {
    return await LoadFaceGeneratorFileAsync(path, {
      ...(options.maxBatch !== undefined ? { maxBatch: options.maxBatch } : {}),
      ...(options.threads !== undefined ? { intraOpNumThreads: options.threads } : {}),
    });
  } catch (error) {
    if (IsNpcFacesError(error)) throw new CliFailure(what ? `${what} ${error.message}` : error.message, { cause: error });
    throw error;
  }
}
