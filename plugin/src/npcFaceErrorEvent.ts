/**
 * What {@link NpcFaceSystem.onErrorObservable} and {@link NpcFaceMaterialPlugin.onErrorObservable} report.
 */
import { NpcFacesError, type NpcFacesErrorCode } from "@npc-faces/runtime";
import type { Material } from "@babylonjs/core/Materials/material.pure.js";

/** One failure: a model that did not load, or a face that could not be generated (the fallback texture is shown). */
export interface NpcFaceErrorEvent {
  /** Machine-readable reason, e.g. `NOT_A_FILE` (404), `NOT_ONNX`, `BAD_REQUEST` (seed out of range). */
  readonly code: NpcFacesErrorCode;
  /** One line: what is wrong and where. */
  readonly message: string;
  /** The error itself. */
  readonly error: NpcFacesError;
  /** The material whose face failed; absent for model loading errors. */
  readonly material?: Material;
}

/** Any thrown value as an {@link NpcFacesError} (foreign errors become BACKEND_FAILED). */
export function ToNpcFacesError(error: unknown): NpcFacesError {
  if (error instanceof NpcFacesError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new NpcFacesError("BACKEND_FAILED", message.split("\n")[0], { cause: error });
}
