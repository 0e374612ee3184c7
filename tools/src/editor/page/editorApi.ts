/**
 * The seed editor's HTTP API, shared by the server (`../editorServer.ts`) and the page. Types and constants only:
 * this file runs in Node and in the browser.
 */
import type { FaceManifest, FaceRequest, ModelMetadata } from "@npc-faces/runtime";

/** URL paths of the editor server. */
export const EditorApi = {
  /** GET: {@link ModelInfoResponse}. */
  modelInfo: "/api/model-info",
  /** GET: {@link ManifestResponse}; PUT (body: the manifest JSON): {@link SaveResponse} or {@link ProblemsResponse}. `?path=` picks another file inside the project. */
  manifest: "/api/manifest",
  /** GET: the model file's bytes. */
  model: "/model.onnx",
} as const;

/**
 * Header that carries the per-launch write token on every PUT; the server refuses writes without it (403). The page
 * finds the token in `<meta name="npc-faces-editor-token">`, which the server writes into the page it serves.
 */
export const EditorTokenHeader = "X-Npc-Faces-Editor-Token";

/** Name of the `<meta>` tag holding the write token in the served page. */
export const EditorTokenMetaName = "npc-faces-editor-token";

/** What the page learns about the model it edits with. */
export interface ModelInfoResponse {
  readonly name: string;
  /** SHA-256 of the model file (lowercase hex): written into saved manifests. */
  readonly sha256: string;
  /** The model file, relative to the project folder when inside it. */
  readonly modelPath: string;
  readonly trained: boolean;
  readonly metadata: ModelMetadata;
  /** The manifest the editor was started with, relative to the project folder. */
  readonly manifestPath: string;
}

/** GET /api/manifest. */
export interface ManifestResponse {
  /** The file, relative to the project folder. */
  readonly path: string;
  /** False: no file yet, `manifest` is a new empty one for this model. */
  readonly exists: boolean;
  /** Null when the file is not a valid manifest (see `problems`). */
  readonly manifest: FaceManifest | null;
  /** Every validation problem, `path: message` (e.g. `npcs[3].seed: expected an integer ...`); empty when valid. */
  readonly problems: readonly string[];
  /** Against the served model: errors (unknown controls, ...) and warnings (saved for another model). */
  readonly check: { readonly errors: readonly string[]; readonly warnings: readonly string[] };
}

/** PUT /api/manifest succeeded. */
export interface SaveResponse {
  readonly path: string;
  readonly bytes: number;
  readonly warnings: readonly string[];
}

/**
 * Any refused request: 400 (malformed manifest), 403 (foreign Host or Origin, missing write token, path outside the
 * project, a file that is not a manifest), 404, 405 (method), 413 (body too large), 415 (body not JSON), 422
 * (unreadable file).
 */
export interface ProblemsResponse {
  readonly error: string;
  readonly problems: readonly string[];
}

/** What the page shows of a face, for tests: the request and its RGBA as base64. */
export interface ShownFace {
  readonly request: FaceRequest;
  readonly width: number;
  readonly height: number;
  readonly base64: string;
}

/** `window.npcFacesEditorTest`. */
export interface EditorTestHook {
  readonly crossOriginIsolated: boolean;
  readonly backendName: string;
  readonly engineDescription: string;
  /** ms since navigation start: model loaded into the worker, first grid of 24 faces drawn. */
  readonly timings: { modelLoaded: number; firstGrid: number; firstGridPageMs: number };
  state(): {
    page: number;
    gridSeeds: number[];
    current: FaceRequest;
    editingId: string | undefined;
    manifest: FaceManifest;
    dirty: boolean;
    canUndo: boolean;
    canRedo: boolean;
    messages: string;
  };
  /** The face drawn in the grid for `seed` (current page only). */
  gridFace(seed: number): ShownFace | undefined;
  /** The face drawn in the detail view. */
  detailFace(): ShownFace | undefined;
  /** The face drawn as the thumbnail of locked NPC `id`. */
  lockedFace(id: string): ShownFace | undefined;
  /** Resolves when every view has drawn its latest face (grid, detail, breeding, thumbnails, 3D head). */
  whenIdleAsync(): Promise<void>;
}
