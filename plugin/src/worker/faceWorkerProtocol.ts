/**
 * The messages between the main thread ({@link FaceWorkerClient}) and the face worker ({@link FaceWorkerService}).
 * Everything is plain data, so it crosses `postMessage`; pixel buffers are transferred, not copied.
 */
import type { FaceImage, FaceRequest, ModelMetadata, NpcFacesErrorCode } from "@npc-faces/runtime";
import type { WebBackendOptions } from "@npc-faces/runtime/web";

/** What the worker reports about a loaded model. */
export interface FaceModelInfo {
  /** The validated metadata document (controls, resolution, defaults, provenance). */
  readonly metadata: ModelMetadata;
  /** SHA-256 of the model file (lowercase hex). */
  readonly modelHash: string;
  /** Name of the inference backend, e.g. `"onnxruntime-web/wasm"`. */
  readonly backendName: string;
  /** Most faces per session run. */
  readonly maxBatch: number;
}

/** An error as plain data: the runtime's {@link NpcFacesErrorCode} and a one-line message. */
export interface FaceWorkerError {
  readonly code: NpcFacesErrorCode;
  readonly message: string;
}

/** Loads (validates, creates the session for) a model; replaces any model loaded before. */
export interface FaceWorkerLoadMessage {
  readonly id: number;
  readonly type: "load";
  /** The whole `.onnx` file. */
  readonly model: Uint8Array;
  /** URL or name of the model, for messages. */
  readonly source: string;
  /** Most faces per session run (default: the runtime's `DefaultMaxBatch`). */
  readonly maxBatch?: number;
  /** onnxruntime-web options (ignored by an in-thread service given its own backend). */
  readonly backend?: WebBackendOptions;
}

/** Generates one face per request, in order, in as few session runs as the batch size allows. */
export interface FaceWorkerGenerateMessage {
  readonly id: number;
  readonly type: "generate";
  readonly requests: readonly FaceRequest[];
}

/** Releases the model's session. */
export interface FaceWorkerDisposeMessage {
  readonly id: number;
  readonly type: "dispose";
}

/** A message to the face worker. */
export type FaceWorkerMessage = FaceWorkerLoadMessage | FaceWorkerGenerateMessage | FaceWorkerDisposeMessage;

/** The face worker's answer to the message with the same `id`. */
export type FaceWorkerReply =
  | { readonly id: number; readonly ok: true; readonly type: "load"; readonly info: FaceModelInfo }
  | { readonly id: number; readonly ok: true; readonly type: "generate"; readonly faces: readonly FaceImage[] }
  | { readonly id: number; readonly ok: true; readonly type: "dispose" }
  | { readonly id: number; readonly ok: false; readonly error: FaceWorkerError };

/** Name given to the face worker (`new Worker(url, { name })`), shown in browser dev tools. */
export const FaceWorkerName = "npc-faces";
