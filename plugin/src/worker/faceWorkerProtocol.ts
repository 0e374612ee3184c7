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
  /** When the worker did each step of the load (absent from workers of older versions). */
  readonly timeline?: FaceWorkerLoadTimeline;
}

/**
 * When the face worker did what, in ms since the Unix epoch (`performance.timeOrigin + performance.now()`, a clock
 * the page and its workers share), so the page can place the steps on its own timeline.
 */
export interface FaceWorkerLoadTimeline {
  /** The worker's script had been evaluated (it can take messages). */
  readonly workerStarted: number;
  /** The inference engine was ready (onnxruntime-web: its WASM fetched, compiled and instantiated). */
  readonly engineReady: number;
  /** The model was parsed and checked (metadata, graph interface, SHA-256, integrity digest). */
  readonly modelChecked: number;
  /** The model's inference session was created. */
  readonly sessionCreated: number;
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

/**
 * Starts the inference engine before the model arrives (onnxruntime-web: fetches, compiles and instantiates its
 * WASM), so that this overlaps with fetching the model. Optional: a load message does it too when it was not done.
 */
export interface FaceWorkerPrepareMessage {
  readonly id: number;
  readonly type: "prepare";
  /** onnxruntime-web options; a later load with the same options reuses the started engine. */
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
export type FaceWorkerMessage = FaceWorkerPrepareMessage | FaceWorkerLoadMessage | FaceWorkerGenerateMessage | FaceWorkerDisposeMessage;

/** The face worker's answer to the message with the same `id`. */
export type FaceWorkerReply =
  | { readonly id: number; readonly ok: true; readonly type: "prepare"; readonly workerStarted: number; readonly engineReady: number }
  | { readonly id: number; readonly ok: true; readonly type: "load"; readonly info: FaceModelInfo }
  | { readonly id: number; readonly ok: true; readonly type: "generate"; readonly faces: readonly FaceImage[]; /** ms the worker spent generating them. */ readonly ms?: number }
  | { readonly id: number; readonly ok: true; readonly type: "dispose" }
  | { readonly id: number; readonly ok: false; readonly error: FaceWorkerError };

/** Now, in ms since the Unix epoch, on the clock the page and its workers share (see {@link FaceWorkerLoadTimeline}). */
export function SharedClockNow(): number {
  return performance.timeOrigin + performance.now();
}

/** Key of the face worker URL's fragment that carries a prepare message's backend options (see {@link WorkerUrlWithPrepare}). */
export const PrepareFragmentKey = "npc-faces-prepare";

/**
 * The worker's URL with the backend options of its first prepare message in the fragment
 * (`#npc-faces-prepare=<JSON>`): the worker starts its engine as soon as its script has run. A message would wait
 * for the page's main thread to pass it on, which is busy building the scene just then (measured in headless
 * Chromium: 0.2 s). A URL that has a fragment already is left as it is.
 */
export function WorkerUrlWithPrepare(url: string | URL, backend: WebBackendOptions): string {
  const text = String(url);
  if (text.includes("#")) return text;
  return `${text}#${PrepareFragmentKey}=${encodeURIComponent(JSON.stringify(backend))}`;
}

/** The backend options a worker URL's fragment carries (see {@link WorkerUrlWithPrepare}), if any. */
export function PrepareOptionsOfUrlFragment(fragment: string | undefined): WebBackendOptions | undefined {
  const prefix = `#${PrepareFragmentKey}=`;
  if (!fragment?.startsWith(prefix)) return undefined;
  try {
    const options: unknown = JSON.parse(decodeURIComponent(fragment.slice(prefix.length)));
    return typeof options === "object" && options !== null && !Array.isArray(options) ? (options as WebBackendOptions) : undefined;
  } catch {
    return undefined; // not ours: the prepare message will come
  }
}

/** Name given to the face worker (`new Worker(url, { name })`), shown in browser dev tools. */
export const FaceWorkerName = "npc-faces";
