/**
 * Loads a model file from disk into a {@link FaceGenerator} on onnxruntime-node.
 */
import { readFile, stat } from "node:fs/promises";
import { FaceGenerator } from "../faceGenerator.js";
import type { InferenceBackend } from "../inferenceBackend.js";
import { NpcFacesError } from "../npcFacesError.js";
import { CreateNodeBackend, type NodeBackendOptions } from "./nodeBackend.js";

/** Options of {@link LoadFaceGeneratorFileAsync}. */
export interface LoadFaceGeneratorFileOptions extends NodeBackendOptions {
  /** Backend to use instead of a new {@link CreateNodeBackend} with the options above. */
  readonly backend?: InferenceBackend;
  /** Most faces per session run. */
  readonly maxBatch?: number;
}

/**
 * Reads, validates and loads an `.onnx` model file.
 * @throws NpcFacesError NOT_A_FILE for a missing path or a directory, then the codes of {@link FaceGenerator.loadAsync}
 */
export async function LoadFaceGeneratorFileAsync(path: string, options: LoadFaceGeneratorFileOptions = {}): Promise<FaceGenerator> {
  let bytes: Uint8Array;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new NpcFacesError("NOT_A_FILE", `${path}: not a file (${info.isDirectory() ? "a directory" : "not a regular file"})`);
    bytes = await readFile(path);
  } catch (error) {
    if (error instanceof NpcFacesError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : (error as Error).message;
    throw new NpcFacesError("NOT_A_FILE", `${path}: cannot read the model file (${reason})`, { cause: error });
  }
  const { backend, maxBatch, ...backendOptions } = options;
  return FaceGenerator.loadAsync(bytes, { backend: backend ?? CreateNodeBackend(backendOptions), maxBatch, source: path });
}
