/**
 * Loads a model file from disk into a {@link FaceGenerator}, on the canonical engine (onnxruntime-web's WASM build,
 * which runs in Node) or the native one (onnxruntime-node).
 */
import { readFile, stat } from "node:fs/promises";
import { FaceGenerator } from "../faceGenerator.js";
import type { InferenceBackend } from "../inferenceBackend.js";
import { NpcFacesError } from "../npcFacesError.js";
import { CreateNodeBackend, type NodeBackendOptions } from "./nodeBackend.js";

/**
 * Which engine computes the faces:
 * - `"canonical"`: onnxruntime-web's WASM engine — the exact pixels a game shows in any browser, bit for bit on
 *   every CPU (docs/seeds.md);
 * - `"native"`: onnxruntime-node's CPU kernels — several times faster, "close, not exact": within 1 level of 255 on a
 *   small fraction of bytes, and the rounding depends on the CPU.
 */
export type FaceEngine = "canonical" | "native";

/** The engines, for option parsers. */
export const FaceEngines: readonly FaceEngine[] = ["canonical", "native"];

/** Options of {@link LoadFaceGeneratorFileAsync}. */
export interface LoadFaceGeneratorFileOptions extends NodeBackendOptions {
  /** The engine (default `"canonical"`); ignored when `backend` is given. */
  readonly engine?: FaceEngine;
  /** Backend to use instead of the one `engine` names. */
  readonly backend?: InferenceBackend;
  /** Most faces per session run. */
  readonly maxBatch?: number;
}

/**
 * Reads, validates and loads an `.onnx` model file.
 * @throws NpcFacesError NOT_A_FILE for a missing path or a directory, BAD_REQUEST for an unknown engine, then the
 * codes of {@link FaceGenerator.loadAsync}
 */
export async function LoadFaceGeneratorFileAsync(path: string, options: LoadFaceGeneratorFileOptions = {}): Promise<FaceGenerator> {
  const { backend, maxBatch, engine, ...nodeOptions } = options;
  const chosen = backend ?? (await CreateEngineBackendAsync(engine ?? "canonical", nodeOptions));
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
  return FaceGenerator.loadAsync(bytes, { backend: chosen, maxBatch, source: path });
}

/**
 * The backend of an engine: onnxruntime-node with `options`, or onnxruntime-web's WASM engine with one thread (the
 * thread count is part of the canonical definition; run several engines in workers for speed). The canonical one is
 * imported on demand, so `onnxruntime-web` is needed only by programs that use it.
 * @throws NpcFacesError BAD_REQUEST for an unknown engine or native-only settings given to the canonical one,
 * BACKEND_FAILED when onnxruntime-web is not installed
 */
export async function CreateEngineBackendAsync(engine: FaceEngine, options: NodeBackendOptions = {}): Promise<InferenceBackend> {
  if (engine === "native") return CreateNodeBackend(options);
  if (engine !== "canonical") {
    throw new NpcFacesError("BAD_REQUEST", `engine: expected one of ${FaceEngines.join(", ")}, got ${JSON.stringify(engine)}`);
  }
  // The canonical engine's settings are part of its definition: refuse, rather than silently ignore, any other.
  const custom = [
    options.intraOpNumThreads !== undefined && options.intraOpNumThreads !== 1 ? `intraOpNumThreads ${options.intraOpNumThreads}` : "",
    options.interOpNumThreads !== undefined ? `interOpNumThreads ${options.interOpNumThreads}` : "",
    options.executionMode !== undefined && options.executionMode !== "sequential" ? `executionMode "${options.executionMode}"` : "",
    options.graphOptimizationLevel !== undefined ? `graphOptimizationLevel "${options.graphOptimizationLevel}"` : "",
    options.allowSpinning === true ? "allowSpinning true" : "",
  ].filter((text) => text !== "");
  if (custom.length > 0) {
    throw new NpcFacesError("BAD_REQUEST", `the canonical engine runs one thread with fixed settings (its exact pixels depend on them): ${custom.join(", ")} applies to engine "native" only`);
  }
  let web: typeof import("../web/webBackend.js");
  try {
    web = await import("../web/webBackend.js");
  } catch (error) {
    throw new NpcFacesError("BACKEND_FAILED", `the canonical engine needs the package onnxruntime-web (npm install onnxruntime-web), or use the native engine (${(error as Error).message})`, { cause: error });
  }
  return web.CreateWebBackend({ numThreads: 1 });
}
