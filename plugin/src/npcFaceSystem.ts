/**
 * One per scene: loads the model (URL, bytes, or the opt-in default model), owns the face worker client, the generated textures (shared by
 * identical parameters, reference counted), the fallback texture and the error observable, and keeps the scene
 * "not ready" while faces are being generated so `scene.whenReadyAsync()` resolves when the faces exist.
 */
import { NpcFacesError, type FaceImage, type FaceRequest, type InferenceBackend, type ModelControl, type ModelMetadata } from "@npc-faces/runtime";
import type { WebBackendOptions } from "@npc-faces/runtime/web";
import { Constants } from "@babylonjs/core/Engines/constants.js";
import type { BaseTexture } from "@babylonjs/core/Materials/Textures/baseTexture.pure.js";
import { RawTexture } from "@babylonjs/core/Materials/Textures/rawTexture.js";
import { Observable, type Observer } from "@babylonjs/core/Misc/observable.pure.js";
import type { Scene } from "@babylonjs/core/scene.pure.js";
import { FaceWorkerClient, type FaceAcquireOptions, type FaceLease } from "./faceWorkerClient.js";
import type { FaceTransport } from "./faceTransport.js";
import { InThreadFaceTransport } from "./inThreadFaceTransport.js";
import { ToNpcFacesError, type NpcFaceErrorEvent } from "./npcFaceErrorEvent.js";
import { WorkerFaceTransport, type WorkerFaceTransportOptions } from "./workerFaceTransport.js";

/** Options of {@link NpcFaceSystem.CreateAsync}. */
export interface NpcFaceSystemOptions {
  /**
   * URL of the `.onnx` model (fetched with `fetch`; a 404 becomes a NOT_A_FILE error). Default, when `modelBytes`
   * is not given either: {@link NpcFaceSystem.DefaultModelUrl}, which `import "@npc-faces/babylon/defaultModel"`
   * sets to the bundled default model (your bundler must ship `default.onnx` then: see the README).
   */
  readonly modelUrl?: string | URL;
  /** The model file's bytes, instead of `modelUrl`. */
  readonly modelBytes?: Uint8Array;
  /** Name of the model in messages (default: `modelUrl`, `the default model (<url>)`, or `"model"` for bytes). */
  readonly source?: string;
  /**
   * URL of the bundled `faceWorker.js`, or a function that starts a Worker from it (e.g. Vite's
   * `() => new Worker(new URL("./faceWorker.js", import.meta.url), { type: "module" })`), or a Worker already started
   * (which cannot be restarted after a crash). Given: generation runs in that worker.
   */
  readonly workerUrl?: string | URL | Worker | (() => Worker);
  /** The worker's watchdog: reply timeout, restarts, attempts (see {@link WorkerFaceTransportOptions}). */
  readonly workerWatchdog?: WorkerFaceTransportOptions;
  /** `"worker"` (default when `workerUrl` is given) or `"inThread"` (default otherwise: Node, tests). */
  readonly mode?: "worker" | "inThread";
  /** In-thread mode (required there): the inference backend, e.g. `CreateNodeBackend()` or `CreateWebBackend()`. */
  readonly backend?: InferenceBackend;
  /** A custom transport (overrides `mode`, `workerUrl` and `backend`). */
  readonly transport?: FaceTransport;
  /** onnxruntime-web provider: `"wasm"` (default) or `"webgpu"` (falls back to wasm where WebGPU cannot start). */
  readonly executionProvider?: "wasm" | "webgpu";
  /**
   * onnxruntime-web WASM threads (default 1: the canonical engine, whose bytes are the same on every machine and
   * equal baked faces). More threads (cross-origin isolated pages only) can change a face's rounding.
   */
  readonly numThreads?: number;
  /** Where onnxruntime-web's `.wasm`/`.mjs` files are served, same origin (e.g. `"/ort/"`). */
  readonly wasmPaths?: WebBackendOptions["wasmPaths"];
  /** Most faces per session run (default: the runtime's `DefaultMaxBatch`, 8). */
  readonly maxBatch?: number;
  /** How long requests are gathered into one batch, in ms (default 0: the next macrotask). */
  readonly batchWindowMs?: number;
  /** Default debounce of the material plugins' regeneration, in ms (default {@link NpcFaceSystem.DefaultDebounceMs}). */
  readonly debounceMs?: number;
  /**
   * Whether regenerating a face already shown holds the scene not ready until the new face arrives (default false:
   * the old face stays, `scene.isReady()` stays true; the first face of a material always holds it). Per plugin:
   * `plugin.updatesBlockReadiness`.
   */
  readonly updatesBlockReadiness?: boolean;
  /** Build mipmaps for the face textures (default true; see the README on texture format). */
  readonly generateMipMaps?: boolean;
  /**
   * Store faces in an sRGB texture format where the engine has one (`engine.getCaps().supportSRGBBuffers`: WebGL2,
   * WebGPU), so the GPU filters and builds mipmaps in linear light (default true). False: plain RGBA8 holding sRGB bytes.
   */
  readonly srgbTextures?: boolean;
  /** Sampling mode of the face textures (default trilinear with mipmaps, bilinear without). */
  readonly samplingMode?: number;
  /** Texture shown while a face is missing or failed (default: a 1x1 neutral grey {@link RawTexture}). */
  readonly fallbackTexture?: BaseTexture;
  /** Called with every error, from the start (before `CreateAsync` resolves). */
  readonly onError?: (event: NpcFaceErrorEvent) => void;
}

/** A generated face and its texture. */
export interface NpcFaceTexture {
  /** RGBA8, rows uploaded bottom row first (so v = 1 is the face's top), no sRGB format: see the README. */
  readonly texture: RawTexture;
  /** The face as generated: RGBA8, top row first. */
  readonly face: FaceImage;
}

/** A counted reference to a shared face texture. */
export interface NpcFaceTextureLease {
  /** Cache key: equal keys share one texture. */
  readonly key: string;
  /** Resolves with the texture; rejects with an {@link NpcFacesError}. */
  readonly promise: Promise<NpcFaceTexture>;
  /** Drops this reference (idempotent); the texture is disposed with its last reference. */
  release(): void;
}

/** What the system tells the material plugins attached to it. @internal */
export interface NpcFaceSystemMember {
  /** The member was waiting for a system of its scene, and this one was created (its model is loading). */
  _onSystemCreated(system: NpcFaceSystem): void;
  /** The model finished loading (check `system.isModelLoaded` / `system.loadError`). */
  _onModelSettled(system: NpcFaceSystem): void;
  /** The system is being disposed. */
  _onSystemDisposed(system: NpcFaceSystem): void;
}

interface TextureEntry {
  refs: number;
  readonly lease: FaceLease;
  readonly promise: Promise<NpcFaceTexture>;
  result?: NpcFaceTexture;
  disposed: boolean;
  /** Counted in {@link NpcFaceProgress.queued}. */
  queued: boolean;
}

/** How far face generation has come: for loading screens and progress bars. */
export interface NpcFaceProgress {
  /** Face textures finished since the system was created (generated or failed). */
  readonly done: number;
  /** Of {@link done}, the faces that failed (they show the fallback texture). */
  readonly failed: number;
  /** Face textures requested and not finished yet (a face released before it was generated leaves the count). */
  readonly queued: number;
}

const Systems = new WeakMap<Scene, NpcFaceSystem>();
const Waiting = new WeakMap<Scene, Set<NpcFaceSystemMember>>();

/** The per-scene face generator. Create with {@link NpcFaceSystem.CreateAsync}; disposed with its scene. */
export class NpcFaceSystem {
  /** Default debounce of a material's regeneration after a parameter change, in ms. */
  static DefaultDebounceMs = 30;
  /**
   * The model of systems created without `modelUrl` or `modelBytes`. Unset unless the game opts in with
   * `import "@npc-faces/babylon/defaultModel"` (the bundled default model), so bundles never carry that model unasked.
   */
  static DefaultModelUrl: string | URL | undefined;

  /** The scene. */
  readonly scene: Scene;
  /** Fires with every error (model loading and generation); the scene keeps running with fallback textures. */
  readonly onErrorObservable = new Observable<NpcFaceErrorEvent>();
  /** Fires with {@link progress} each time a face is requested, finished or dropped. */
  readonly onProgressObservable = new Observable<NpcFaceProgress>();
  /** Fires once the model is loaded (not when loading failed: see {@link loadError}). */
  readonly onModelLoadedObservable = new Observable<NpcFaceSystem>();
  /** The face worker client (batching, cache, statistics). */
  readonly client: FaceWorkerClient;
  /** Default debounce of the material plugins, in ms. */
  debounceMs: number;
  /** Default of the plugins' `updatesBlockReadiness` (see {@link NpcFaceSystemOptions.updatesBlockReadiness}). */
  updatesBlockReadiness: boolean;

  private readonly options: NpcFaceSystemOptions;
  private readonly members = new Set<NpcFaceSystemMember>();
  private readonly textures = new Map<string, TextureEntry>();
  private readonly loading: Promise<boolean>;
  private fallback: BaseTexture | undefined;
  private error: NpcFacesError | undefined;
  private loaded = false;
  private disposed = false;
  private readonly pendingToken = { npcFaces: "model loading" };
  private counts = { done: 0, failed: 0, queued: 0 };
  private readonly sceneDisposeObserver: Observer<Scene> | null;

  /**
   * Starts loading the model; prefer {@link CreateAsync}. Material plugins of the scene, existing or future,
   * attach to it.
   * @throws Error when the scene already has an NpcFaceSystem, or when no model is given and no default is set
   */
  constructor(scene: Scene, options: NpcFaceSystemOptions = {}) {
    if (Systems.has(scene)) throw new Error("NpcFaceSystem: this scene already has one (NpcFaceSystem.Get(scene))");
    if (options.modelBytes === undefined && options.modelUrl === undefined && NpcFaceSystem.DefaultModelUrl === undefined) {
      throw new Error('NpcFaceSystem: no model: give modelUrl or modelBytes, or import "@npc-faces/babylon/defaultModel" to use the bundled default model');
    }
    this.scene = scene;
    this.options = options;
    this.debounceMs = options.debounceMs ?? NpcFaceSystem.DefaultDebounceMs;
    this.updatesBlockReadiness = options.updatesBlockReadiness ?? false;
    if (options.onError) this.onErrorObservable.add(options.onError);
    const mode = options.mode ?? (options.workerUrl !== undefined ? "worker" : "inThread");
    let transport = options.transport;
    if (!transport && mode === "worker") {
      if (options.workerUrl === undefined) throw new Error('NpcFaceSystem: mode "worker" needs workerUrl (the URL of the bundled faceWorker.js)');
      transport = new WorkerFaceTransport(options.workerUrl, options.workerWatchdog);
    }
    if (!transport) {
      if (options.backend === undefined) throw new Error('NpcFaceSystem: give workerUrl (a Web Worker runs the model), or backend for mode "inThread"');
      transport = new InThreadFaceTransport(options.backend);
    }
    this.client = new FaceWorkerClient(transport, { batchWindowMs: options.batchWindowMs });
    Systems.set(scene, this);
    scene.addPendingData(this.pendingToken);
    this.sceneDisposeObserver = scene.onDisposeObservable.addOnce(() => this.dispose());
    this.loading = this.loadAsync();
    const waiting = Waiting.get(scene);
    Waiting.delete(scene);
    for (const member of waiting ?? []) {
      this.members.add(member);
      member._onSystemCreated(this);
    }
  }

  /**
   * Creates the scene's face system and loads the model. Resolves when the model is loaded or has failed: a
   * failure (404, not a model, ...) does not reject; it is in {@link loadError}, reported through
   * {@link onErrorObservable} (and `options.onError`), and the faces show the fallback texture.
   */
  static async CreateAsync(scene: Scene, options: NpcFaceSystemOptions = {}): Promise<NpcFaceSystem> {
    const system = new NpcFaceSystem(scene, options);
    await system.whenModelSettledAsync();
    return system;
  }

  /** The scene's face system, if one was created. */
  static Get(scene: Scene): NpcFaceSystem | undefined {
    return Systems.get(scene);
  }

  /**
   * Attaches a member to the scene's system, now or when it is created. @internal
   * @returns the system, when it exists already
   */
  static _Join(scene: Scene, member: NpcFaceSystemMember): NpcFaceSystem | undefined {
    const system = Systems.get(scene);
    if (system) {
      system.members.add(member);
      return system;
    }
    let waiting = Waiting.get(scene);
    if (!waiting) Waiting.set(scene, (waiting = new Set()));
    waiting.add(member);
    return undefined;
  }

  /** Detaches a member (a disposed material plugin). @internal */
  static _Leave(scene: Scene, member: NpcFaceSystemMember): void {
    Systems.get(scene)?.members.delete(member);
    Waiting.get(scene)?.delete(member);
  }

  /** True once the model is loaded and faces can be generated. */
  get isModelLoaded(): boolean {
    return this.loaded;
  }

  /** Why the model did not load (then every face shows the fallback texture). */
  get loadError(): NpcFacesError | undefined {
    return this.error;
  }

  /** The model's metadata, once loaded. */
  get metadata(): ModelMetadata | undefined {
    return this.client.info?.metadata;
  }

  /** SHA-256 of the model file, once loaded. */
  get modelHash(): string | undefined {
    return this.client.info?.modelHash;
  }

  /** The inference backend's name, once loaded (e.g. `onnxruntime-web/wasm`). */
  get backendName(): string | undefined {
    return this.client.info?.backendName;
  }

  /** The model's named controls (empty before loading). */
  get controls(): readonly ModelControl[] {
    return this.metadata?.controls ?? [];
  }

  /** Number of distinct face textures alive (shared by materials with identical parameters). */
  get textureCacheSize(): number {
    return this.textures.size;
  }

  /** Faces finished and still queued, since creation (see {@link onProgressObservable}). */
  get progress(): NpcFaceProgress {
    return { ...this.counts };
  }

  /** True after {@link dispose}. */
  get isDisposed(): boolean {
    return this.disposed;
  }

  /** The texture shown while a face is missing or failed. */
  get fallbackTexture(): BaseTexture {
    if (!this.fallback) {
      if (this.options.fallbackTexture) this.fallback = this.options.fallbackTexture;
      else {
        // In the faces' format, so that the shader does not change (recompile) when the first face replaces it.
        const grey = new RawTexture(new Uint8Array([128, 128, 128, 255]), 1, 1, Constants.TEXTUREFORMAT_RGBA, this.scene, false, false, Constants.TEXTURE_NEAREST_SAMPLINGMODE, Constants.TEXTURETYPE_UNSIGNED_BYTE, 0, this.useSrgb);
        grey.name = "npcFaceFallback";
        MarkUploaded(grey);
        this.fallback = grey;
      }
    }
    return this.fallback;
  }

  /** Whether face textures use an sRGB format (option `srgbTextures` and the engine's support). */
  get useSrgb(): boolean {
    return (this.options.srgbTextures ?? true) && this.scene.getEngine().getCaps().supportSRGBBuffers === true;
  }

  /** Resolves with {@link isModelLoaded} once loading has succeeded or failed. */
  whenModelSettledAsync(): Promise<boolean> {
    return this.loading;
  }

  /**
   * Takes a reference to the texture of a face, generating it unless a texture with the same key exists.
   * @param options `priority: "high"` puts it ahead of the faces queued with normal priority (interactive edits)
   * @throws NpcFacesError BAD_REQUEST (invalid request), DISPOSED (no model loaded or system disposed)
   */
  acquireTexture(request: FaceRequest, options: FaceAcquireOptions = {}): NpcFaceTextureLease {
    if (this.disposed) throw new NpcFacesError("DISPOSED", "NpcFaceSystem: disposed");
    if (this.error) throw this.error;
    const lease = this.client.acquire(request, options);
    let entry = this.textures.get(lease.key);
    if (entry) {
      lease.release();
      entry.refs++;
    } else {
      const created: TextureEntry = { refs: 1, lease, disposed: false, queued: true, promise: undefined! };
      (created as { promise: Promise<NpcFaceTexture> }).promise = lease.promise.then((face) => {
        if (created.disposed) throw new NpcFacesError("DISPOSED", "face texture released before it was generated");
        created.result = { texture: this.createTexture(face, request), face };
        this.countFinished(created, false);
        return created.result;
      });
      created.promise.catch(() => {
        this.countFinished(created, true);
        // Failed textures are not kept: the next acquisition retries.
        if (this.textures.get(lease.key) === created) this.textures.delete(lease.key);
      });
      this.counts.queued++;
      this.notifyProgress();
      entry = created;
      this.textures.set(lease.key, entry);
    }
    const held = entry;
    let released = false;
    return {
      key: lease.key,
      promise: held.promise,
      release: () => {
        if (released) return;
        released = true;
        this.releaseTexture(lease.key, held);
      },
    };
  }

  /** Reports an error on {@link onErrorObservable}. @internal */
  _reportError(event: NpcFaceErrorEvent): void {
    if (!this.disposed) this.onErrorObservable.notifyObservers(event);
  }

  /**
   * Releases every texture, the fallback (unless given in the options), the worker and the scene's pending data.
   * Material plugins keep their parameters and show nothing until a new system is created. Idempotent.
   */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    // Leave the registry first: members rejoin the scene while notified, and must wait for the next system, not
    // attach to this dying one.
    if (Systems.get(this.scene) === this) Systems.delete(this.scene);
    this.scene.onDisposeObservable.remove(this.sceneDisposeObserver);
    for (const member of [...this.members]) member._onSystemDisposed(this);
    this.members.clear();
    for (const entry of this.textures.values()) this.disposeEntry(entry);
    this.textures.clear();
    if (this.fallback && this.fallback !== this.options.fallbackTexture) this.fallback.dispose();
    this.fallback = undefined;
    this.scene.removePendingData(this.pendingToken);
    void this.client.disposeAsync().catch(() => undefined);
    this.onErrorObservable.clear();
    this.onModelLoadedObservable.clear();
    this.onProgressObservable.clear();
  }

  private async loadAsync(): Promise<boolean> {
    const url = this.options.modelBytes === undefined ? (this.options.modelUrl ?? NpcFaceSystem.DefaultModelUrl) : undefined;
    const isDefault = this.options.modelUrl === undefined && url !== undefined;
    const source = this.options.source ?? (url === undefined ? "model" : isDefault ? `the default model (${String(url)})` : String(url));
    try {
      const bytes = this.options.modelBytes ?? (await FetchModelAsync(url!, source));
      const provider = this.options.executionProvider ?? "wasm";
      await this.client.loadModelAsync(bytes, {
        source,
        maxBatch: this.options.maxBatch,
        backend: {
          executionProviders: provider === "webgpu" ? ["webgpu", "wasm"] : ["wasm"],
          ...(this.options.numThreads !== undefined ? { numThreads: this.options.numThreads } : {}),
          ...(this.options.wasmPaths !== undefined ? { wasmPaths: this.options.wasmPaths } : {}),
        },
      });
      if (this.disposed) return false;
      this.loaded = true;
      this.onModelLoadedObservable.notifyObservers(this);
    } catch (error) {
      if (this.disposed) return false;
      this.error = ToNpcFacesError(error);
      this._reportError({ code: this.error.code, message: this.error.message, error: this.error });
    } finally {
      if (!this.disposed) {
        for (const member of [...this.members]) member._onModelSettled(this);
        this.scene.removePendingData(this.pendingToken);
      }
    }
    return this.loaded;
  }

  private createTexture(face: FaceImage, request: FaceRequest): RawTexture {
    const mipmaps = this.options.generateMipMaps ?? true;
    const sampling = this.options.samplingMode ?? (mipmaps ? Constants.TEXTURE_TRILINEAR_SAMPLINGMODE : Constants.TEXTURE_BILINEAR_SAMPLINGMODE);
    // Flipped here rather than with invertY: every engine (WebGL, WebGPU, Null) then stores the same rows.
    const texture = new RawTexture(FlipRows(face), face.width, face.height, Constants.TEXTUREFORMAT_RGBA, this.scene, mipmaps, false, sampling, Constants.TEXTURETYPE_UNSIGNED_BYTE, 0, this.useSrgb);
    texture.name = `npcFace seed ${request.seed}`;
    texture.wrapU = Constants.TEXTURE_CLAMP_ADDRESSMODE;
    texture.wrapV = Constants.TEXTURE_CLAMP_ADDRESSMODE;
    MarkUploaded(texture);
    return texture;
  }

  private releaseTexture(key: string, entry: TextureEntry): void {
    entry.refs--;
    if (entry.refs > 0) return;
    if (this.textures.get(key) === entry) this.textures.delete(key);
    this.disposeEntry(entry);
  }

  private countFinished(entry: TextureEntry, failed: boolean): void {
    if (!entry.queued) return; // released before it was finished: already left the count
    entry.queued = false;
    this.counts.queued--;
    this.counts.done++;
    if (failed) this.counts.failed++;
    this.notifyProgress();
  }

  private notifyProgress(): void {
    if (!this.disposed) this.onProgressObservable.notifyObservers(this.progress);
  }

  private disposeEntry(entry: TextureEntry): void {
    if (entry.disposed) return;
    entry.disposed = true;
    if (entry.queued) {
      entry.queued = false;
      this.counts.queued--;
      this.notifyProgress();
    }
    entry.result?.texture.dispose();
    entry.lease.release();
  }
}

/**
 * Fetches a model file; HTTP errors and network failures become NOT_A_FILE. In Node, `file:` URLs (the default
 * model's URL there) are read from disk, which `fetch` cannot do.
 */
async function FetchModelAsync(url: string | URL, source: string): Promise<Uint8Array> {
  const fs = String(url).startsWith("file:") ? NodeFileSystem() : undefined;
  if (fs) {
    try {
      return new Uint8Array(await fs.readFile(new URL(url)));
    } catch (error) {
      const reason = (error as { code?: string }).code === "ENOENT" ? "no such file" : error instanceof Error ? error.message : String(error);
      throw new NpcFacesError("NOT_A_FILE", `${source}: cannot read the model file (${reason})`, { cause: error });
    }
  }
  let response: Response;
  try {
    response = await fetch(url);
  } catch (error) {
    throw new NpcFacesError("NOT_A_FILE", `${source}: cannot fetch the model (${error instanceof Error ? error.message : String(error)})`, { cause: error });
  }
  if (!response.ok) throw new NpcFacesError("NOT_A_FILE", `${source}: cannot fetch the model (HTTP ${response.status}${response.statusText ? " " + response.statusText : ""})`);
  return new Uint8Array(await response.arrayBuffer());
}

/**
 * Node's `fs/promises`, through `process.getBuiltinModule` (Node 20.16+) rather than an import, so browser bundles
 * never see `node:fs`; undefined in browsers.
 */
function NodeFileSystem(): { readFile(url: URL): Promise<Uint8Array> } | undefined {
  type NodeProcess = { getBuiltinModule?(name: "node:fs/promises"): { readFile(url: URL): Promise<Uint8Array> } };
  return (globalThis as { process?: NodeProcess }).process?.getBuiltinModule?.("node:fs/promises");
}

/** RGBA8 rows in reverse order: the texture's first row (v = 0) is the face's bottom row. */
export function FlipRows(face: FaceImage): Uint8Array {
  const row = face.width * 4;
  const out = new Uint8Array(face.data.length);
  for (let y = 0; y < face.height; y++) out.set(face.data.subarray(y * row, (y + 1) * row), (face.height - 1 - y) * row);
  return out;
}

/**
 * A RawTexture is uploaded synchronously by its constructor; WebGL and WebGPU mark it ready there, but some engines
 * (NullEngine) never do, which would keep materials, and `scene.whenReadyAsync()`, waiting forever.
 */
function MarkUploaded(texture: RawTexture): void {
  const internal = texture.getInternalTexture();
  if (internal && !internal.isReady) internal.isReady = true;
}
