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
import { WorkerUrlWithPrepare, type FaceModelInfo } from "./worker/faceWorkerProtocol.js";
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
  /** Where onnxruntime-web's `.wasm`/`.mjs` files are served, same origin (e.g. `"/ort/"`; relative to the page, like `workerUrl`). */
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
  /**
   * A preload started before the scene existed ({@link NpcFaceSystem.Preload}): the system takes over its worker,
   * started engine and, when it is the same model, its download and session. Its worker options win (`workerUrl`,
   * `mode`, `backend`, `transport`, `workerWatchdog`, `batchWindowMs`); a preload serves one system.
   */
  readonly preload?: NpcFacePreload;
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

/**
 * When each step of loading happened, in ms on the main thread's `performance.now()` clock (the worker's steps are
 * converted to it). Steps not reached yet (or not known: a custom transport) are absent. Dev tools show the worker's
 * steps too, as `performance.measure` entries named `npc-faces: ...`.
 */
export interface NpcFaceLoadTimings {
  /** Loading started: the worker was started and the model requested (by the system, or by its preload). */
  readonly started: number;
  /** The worker's script had been evaluated. */
  readonly workerStarted?: number;
  /** The inference engine had started (onnxruntime-web: its WASM fetched, compiled and instantiated). */
  readonly engineReady?: number;
  /** The model's bytes were on the main thread (fetched, or given as `modelBytes`). */
  readonly modelFetched?: number;
  /** The worker had parsed and checked the model (metadata, graph interface, digests). */
  readonly modelChecked?: number;
  /** The worker had created the inference session. */
  readonly sessionCreated?: number;
  /** The main thread knew the model was loaded ({@link NpcFaceSystem.CreateAsync} resolves). */
  readonly modelLoaded?: number;
  /** The first generated face's texture was created. */
  readonly firstFace?: number;
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

/** Most main-thread ms spent telling members about the model before yielding to the event loop (rendering, input). */
const SettleSliceMs = 8;

/** Resolves in a later task: `scheduler.yield()` where the browser has it (no timer clamping), else a 0 ms timer. */
function YieldToEventLoopAsync(): Promise<void> {
  const scheduler = (globalThis as { scheduler?: { yield?: () => Promise<void> } }).scheduler;
  if (typeof scheduler?.yield === "function") return scheduler.yield();
  return new Promise((resolve) => setTimeout(resolve, 0));
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
  private readonly loader: FaceLoader;
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
    this.loader = options.preload ? options.preload._adopt() : new FaceLoader(options);
    this.client = this.loader.client;
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

  /**
   * Starts loading before the scene exists: the face worker, its inference engine (onnxruntime-web fetches and
   * compiles its WASM) and, when the options name a model (`modelUrl`, `modelBytes`, or the opted-in default model;
   * not with `loadModel: false`), the model's download and inference session. Pass the result as `preload` to
   * {@link CreateAsync} with the same options. Call it as early as possible, before the page's first `await`: a
   * browser starts a worker only once the main thread is free, which is late once the engine and the scene are
   * being built (measured in headless Chromium: the worker ran 0.5 s after the scene's creation when created just
   * before the engine, 0.0 s when created before the page's first fetch).
   * @throws Error for options the system would refuse (worker mode without `workerUrl`, in-thread mode without `backend`)
   */
  static Preload(options: NpcFacePreloadOptions = {}): NpcFacePreload {
    return new NpcFacePreload(options);
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

  /** When each step of loading happened (main-thread `performance.now()` ms): for load-time breakdowns. */
  get loadTimings(): NpcFaceLoadTimings {
    return { ...this.loader.timings };
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
    try {
      await this.loader.loadAsync(this.options);
      if (this.disposed) return false;
      this.loaded = true;
      this.onModelLoadedObservable.notifyObservers(this);
    } catch (error) {
      if (this.disposed) return false;
      this.error = ToNpcFacesError(error);
      this._reportError({ code: this.error.code, message: this.error.message, error: this.error });
    } finally {
      if (!this.disposed) await this.settleMembersAsync();
      if (!this.disposed) this.scene.removePendingData(this.pendingToken);
    }
    return this.loaded;
  }

  /**
   * Tells every member that the model is loaded (or failed): each defines its controls and requests its face. In
   * slices of at most {@link SettleSliceMs} of main-thread work, each its own task: a level of hundreds of materials
   * must not hold the main thread (and the frames) for one long task.
   */
  private async settleMembersAsync(): Promise<void> {
    let sliceStart = performance.now();
    for (const member of [...this.members]) {
      if (this.disposed) return;
      if (!this.members.has(member)) continue; // left while an earlier slice waited
      member._onModelSettled(this);
      if (performance.now() - sliceStart >= SettleSliceMs) {
        await YieldToEventLoopAsync();
        sliceStart = performance.now();
      }
    }
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
    this.loader.timings.firstFace ??= performance.now();
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

/** Options of {@link NpcFaceSystem.Preload}: the system's (worker, engine, model), and whether to load the model yet. */
export interface NpcFacePreloadOptions extends Omit<NpcFaceSystemOptions, "preload"> {
  /**
   * Load the model the options name (`modelUrl`, `modelBytes`, else the opted-in default model) now (default true).
   * False: only start the worker and its engine, e.g. when the page learns which model it wants later; the system
   * then loads the model its own options name.
   */
  readonly loadModel?: boolean;
}

/** {@link NpcFaceLoadTimings} being filled in. */
type LoadTimeline = { -readonly [K in keyof NpcFaceLoadTimings]: NpcFaceLoadTimings[K] };

/**
 * Where a system's model comes from: `modelBytes`, else `modelUrl`, else the opted-in default model; undefined
 * when the options name none.
 */
function ModelOf(options: NpcFaceSystemOptions): { readonly url?: string | URL; readonly bytes?: Uint8Array; readonly source: string } | undefined {
  const url = options.modelBytes === undefined ? (options.modelUrl ?? NpcFaceSystem.DefaultModelUrl) : undefined;
  if (options.modelBytes === undefined && url === undefined) return undefined;
  const isDefault = options.modelUrl === undefined && url !== undefined;
  const source = options.source ?? (url === undefined ? "model" : isDefault ? `the default model (${String(url)})` : String(url));
  return options.modelBytes !== undefined ? { bytes: options.modelBytes, source } : { url, source };
}

/** The worker's backend options, from the system's options. */
function BackendOptionsOf(options: NpcFaceSystemOptions): WebBackendOptions {
  const provider = options.executionProvider ?? "wasm";
  return {
    executionProviders: provider === "webgpu" ? ["webgpu", "wasm"] : ["wasm"],
    ...(options.numThreads !== undefined ? { numThreads: options.numThreads } : {}),
    ...(options.wasmPaths !== undefined ? { wasmPaths: PageRelative(options.wasmPaths) } : {}),
  };
}

/**
 * `wasmPaths` resolved against the page's URL, as `workerUrl` is: the worker hands them to onnxruntime-web, which
 * `import()`s its `.mjs` from there, and a relative `"ort/"` would be a bare module specifier in the worker (it
 * failed to load). Unchanged where there is no page (Node).
 */
function PageRelative(paths: NonNullable<WebBackendOptions["wasmPaths"]>): NonNullable<WebBackendOptions["wasmPaths"]> {
  const page = globalThis as { document?: { baseURI?: string }; location?: { href?: string } };
  const base = page.document?.baseURI ?? page.location?.href;
  if (base === undefined) return paths;
  const resolve = (path: string): string => new URL(path, base).href;
  if (typeof paths === "string") return resolve(paths);
  return { ...(paths.wasm !== undefined ? { wasm: resolve(paths.wasm) } : {}), ...(paths.mjs !== undefined ? { mjs: resolve(paths.mjs) } : {}) };
}

/**
 * The scene-free part of a system: the worker (transport and client), its engine started at once, and model loads
 * with their timeline. A system owns one; {@link NpcFacePreload} makes one before the scene exists.
 */
class FaceLoader {
  readonly client: FaceWorkerClient;
  readonly timings: LoadTimeline = { started: performance.now() };
  /** The last load: reused by a system asking for the same model with the same settings. */
  private load: { readonly key: string; readonly bytes: Uint8Array | undefined; readonly promise: Promise<FaceModelInfo> } | undefined;

  /** @throws Error for worker mode without `workerUrl`, in-thread mode without `backend` */
  constructor(options: NpcFaceSystemOptions) {
    const mode = options.mode ?? (options.workerUrl !== undefined ? "worker" : "inThread");
    let transport = options.transport;
    if (!transport && mode === "worker") {
      if (options.workerUrl === undefined) throw new Error('NpcFaceSystem: mode "worker" needs workerUrl (the URL of the bundled faceWorker.js)');
      // A URL: the worker learns the backend options from it and starts its engine at once (see WorkerUrlWithPrepare).
      const worker = typeof options.workerUrl === "string" || options.workerUrl instanceof URL ? WorkerUrlWithPrepare(options.workerUrl, BackendOptionsOf(options)) : options.workerUrl;
      transport = new WorkerFaceTransport(worker, options.workerWatchdog);
    }
    if (!transport) {
      if (options.backend === undefined) throw new Error('NpcFaceSystem: give workerUrl (a Web Worker runs the model), or backend for mode "inThread"');
      transport = new InThreadFaceTransport(options.backend);
    }
    // The first message carries one face: the first session run is the slowest, and one face shows up soonest.
    this.client = new FaceWorkerClient(transport, { batchWindowMs: options.batchWindowMs, firstMessageFaces: 1 });
    // The engine starts (onnxruntime-web compiles its WASM in the worker) while the model is fetched.
    void this.client.prepareAsync({ backend: BackendOptionsOf(options) }).then((prepared) => {
      if (!prepared) return;
      this.timings.workerStarted ??= FromSharedClock(prepared.workerStarted);
      this.timings.engineReady ??= FromSharedClock(prepared.engineReady);
    });
  }

  /**
   * Loads the options' model into the worker, or joins the load already running for the same model (same URL, or
   * the same `modelBytes` array) and settings.
   * @throws NpcFacesError NOT_A_FILE and the runtime's model errors; Error when the options name no model
   */
  loadAsync(options: NpcFaceSystemOptions): Promise<FaceModelInfo> {
    const model = ModelOf(options);
    if (!model) throw new Error("NpcFaceSystem: no model to load");
    const backend = BackendOptionsOf(options);
    const key = JSON.stringify([model.url === undefined ? null : String(model.url), model.source, options.maxBatch ?? null, backend]);
    if (this.load && this.load.key === key && this.load.bytes === model.bytes) return this.load.promise;
    const promise = (async () => {
      const bytes = model.bytes ?? (await FetchModelAsync(model.url!, model.source));
      this.timings.modelFetched = performance.now();
      const info = await this.client.loadModelAsync(bytes, { source: model.source, maxBatch: options.maxBatch, backend });
      this.timings.modelLoaded = performance.now();
      if (info.timeline) {
        this.timings.workerStarted ??= FromSharedClock(info.timeline.workerStarted);
        this.timings.engineReady ??= FromSharedClock(info.timeline.engineReady);
        this.timings.modelChecked = FromSharedClock(info.timeline.modelChecked);
        this.timings.sessionCreated = FromSharedClock(info.timeline.sessionCreated);
      }
      return info;
    })();
    this.load = { key, bytes: model.bytes, promise };
    return promise;
  }
}

/**
 * Loading started before its scene (see {@link NpcFaceSystem.Preload}): a worker with its engine starting and,
 * when the options named a model, that model loading. A system created with it as `preload` takes it over;
 * {@link dispose} stops one that no system took.
 */
export class NpcFacePreload {
  private loader: FaceLoader | undefined;

  /** Prefer {@link NpcFaceSystem.Preload}. */
  constructor(options: NpcFacePreloadOptions = {}) {
    this.loader = new FaceLoader(options);
    if (options.loadModel !== false && ModelOf(options)) {
      // A failure is the system's to report (it gets the same promise); unclaimed, it goes nowhere.
      this.loader.loadAsync(options).catch(() => undefined);
    }
  }

  /** When each step happened so far (see {@link NpcFaceSystem.loadTimings}); empty once taken over or disposed. */
  get loadTimings(): Partial<NpcFaceLoadTimings> {
    return { ...this.loader?.timings };
  }

  /** True once a system took this preload over, or after {@link dispose}. */
  get isUsed(): boolean {
    return this.loader === undefined;
  }

  /** Hands the loader to a system. @internal @throws Error when already used or disposed */
  _adopt(): FaceLoader {
    const loader = this.loader;
    if (!loader) throw new Error("NpcFaceSystem: this preload was already taken by another system, or disposed (a preload serves one system)");
    this.loader = undefined;
    return loader;
  }

  /** Stops the worker of a preload that no system took over (after a take-over: nothing). */
  dispose(): void {
    const loader = this.loader;
    this.loader = undefined;
    void loader?.client.disposeAsync().catch(() => undefined);
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

/** A {@link SharedClockNow} time (ms since the Unix epoch) on this thread's `performance.now()` clock. */
function FromSharedClock(epochMs: number): number {
  return epochMs - performance.timeOrigin;
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
