/**
 * Crowds: many NPCs in one material and one draw call. Their faces live in the layers of one texture array
 * (RawTexture2DArray, RGBA8, one layer per distinct face); each instance picks its layer with a per-instance
 * attribute (thin instances, or InstancedMesh instanced buffers). A parameter change regenerates that NPC only and
 * rewrites one layer. Layers of NPCs that left (removed members) keep their face and are reused, least recently
 * used first, so memory is bounded by `capacity` however many NPCs stream in and out.
 */
import { NpcFacesError, type FaceImage, type FaceRequest } from "@npc-faces/runtime";
import type { AbstractEngine } from "@babylonjs/core/Engines/abstractEngine.pure.js";
import { Constants } from "@babylonjs/core/Engines/constants.js";
import { RawTexture2DArray } from "@babylonjs/core/Materials/Textures/rawTexture2DArray.js";
import { InternalTexture, InternalTextureSource } from "@babylonjs/core/Materials/Textures/internalTexture.js";
import type { Mesh } from "@babylonjs/core/Meshes/mesh.pure.js";
import { Observable, type Observer } from "@babylonjs/core/Misc/observable.pure.js";
import type { Scene } from "@babylonjs/core/scene.pure.js";
import { FaceRequestKey, type FaceLease } from "./faceWorkerClient.js";
import { ToNpcFacesError, type NpcFaceErrorEvent } from "./npcFaceErrorEvent.js";
import { NpcFaceCrowdMember, type NpcFaceCrowdMemberOwner, type NpcFaceCrowdMemberParameters } from "./npcFaceCrowdMember.js";
import { FlipRows, NpcFaceSystem, type NpcFaceSystemMember } from "./npcFaceSystem.js";

/** Options of {@link NpcFaceCrowd}. */
export interface NpcFaceCrowdOptions {
  /** Name (serialised; the crowd material plugin finds its crowd by it after parsing). Default "npcFaceCrowd". */
  readonly name?: string;
  /**
   * Layers of the texture array = most distinct faces held at once (default 256, the least every WebGL2/WebGPU device
   * allows; check `engine.getCaps().texture2DArrayMaxLayerCount` before going higher).
   */
  readonly capacity?: number;
  /** Face size in texels (default: the model's resolution; needed before the model is loaded to create the texture early). */
  readonly resolution?: number;
  /** Debounce of regeneration after a parameter change, in ms (default: the system's). */
  readonly debounceMs?: number;
  /** Build mipmaps (default true, trilinear: crowds are mostly seen small). */
  readonly generateMipMaps?: boolean;
  /** An sRGB format where the engine has one (WebGL2, WebGPU), so filtering and mipmaps work in linear light (default true). */
  readonly srgbTexture?: boolean;
}

/** The serialised crowd: its options and every member's parameters. */
export interface NpcFaceCrowdSerialized {
  readonly name: string;
  readonly capacity: number;
  readonly resolution?: number;
  readonly members: NpcFaceCrowdMemberParameters[];
}

/** Counters for tests and benchmarks. */
export interface NpcFaceCrowdStats {
  /** Faces requested from the generator (a layer was (re)filled). */
  generated: number;
  /** Assignments served by a layer already holding that face (another member's, or one kept after its NPC left). */
  layerHits: number;
  /** Layers written (one per generated face). */
  layerWrites: number;
  /** Idle layers given to another face (least recently used first). */
  evictions: number;
  /** Members left on the fallback because every layer was in use. */
  full: number;
}

/** One layer of the array. */
interface Layer {
  readonly index: number;
  /** The face's cache key (model hash + resolved request); undefined while free. */
  key: string | undefined;
  /** Members showing it or waiting for it. */
  refs: number;
  state: "free" | "pending" | "ready";
  lease: FaceLease | undefined;
  /** Members waiting for this layer's face. */
  readonly waiting: Set<NpcFaceCrowdMember>;
}

/** Per-member state kept by the crowd. */
interface MemberState {
  shown: Layer | undefined;
  next: Layer | undefined;
  dirty: boolean;
}

const Crowds = new WeakMap<Scene, Map<string, NpcFaceCrowd>>();

/** Many NPC faces in one texture array; see the file comment. */
export class NpcFaceCrowd implements NpcFaceSystemMember, NpcFaceCrowdMemberOwner {
  /** Default {@link NpcFaceCrowdOptions.capacity}. */
  static DefaultCapacity = 256;

  /** The crowd's name. */
  readonly name: string;
  /** The scene. */
  readonly scene: Scene;
  /** Layers in the texture array. */
  readonly capacity: number;
  /** Fires when a member's face cannot be shown (generation failed, or every layer is in use). */
  readonly onErrorObservable = new Observable<NpcFaceErrorEvent>();
  /** Fires with the members whose new face was applied, once per batch of layer writes. */
  readonly onFacesShownObservable = new Observable<readonly NpcFaceCrowdMember[]>();
  /** Counters since creation. */
  readonly stats: NpcFaceCrowdStats = { generated: 0, layerHits: 0, layerWrites: 0, evictions: 0, full: 0 };
  /** Debounce of regeneration, in ms (undefined: the system's). */
  debounceMs: number | undefined;

  private readonly _options: NpcFaceCrowdOptions;
  private readonly _members = new Map<NpcFaceCrowdMember, MemberState>();
  private readonly _layers: Layer[] = [];
  private readonly _byKey = new Map<string, Layer>();
  /** Ready layers no member uses, least recently used first (Map keeps insertion order). */
  private readonly _idle = new Map<Layer, true>();
  private readonly _dirty = new Set<NpcFaceCrowdMember>();
  private readonly _dirtyMeshes = new Set<Mesh>();
  /** Members left on the fallback because every layer was in use: retried when a layer frees. */
  private readonly _starved = new Set<NpcFaceCrowdMember>();
  /** Starved members being retried (their failure was reported already). */
  private readonly _starvedRetrying = new Set<NpcFaceCrowdMember>();
  private _texture: RawTexture2DArray | undefined;
  private _resolution: number | undefined;
  private _mirror: Uint8Array | undefined;
  private _mipmapsDirty = false;
  private _mirrorDirty = false;
  private _system: NpcFaceSystem | undefined;
  private _timer: ReturnType<typeof setTimeout> | undefined;
  private readonly _pendingToken = { npcFaces: "crowd faces" };
  private _holdingScene = false;
  private readonly _settledCallbacks: (() => void)[] = [];
  private readonly _beforeRender: Observer<Scene> | null;
  private _disposed = false;

  /**
   * Creates a crowd; add NPCs with {@link add}, render them with a material carrying an
   * {@link NpcFaceCrowdMaterialPlugin} on meshes whose instances are bound with `member.bindThinInstance(...)`.
   * @throws Error when the scene already has a crowd of that name, or the capacity exceeds the engine's layer limit
   */
  constructor(scene: Scene, options: NpcFaceCrowdOptions = {}) {
    this.scene = scene;
    this._options = options;
    this.name = options.name ?? "npcFaceCrowd";
    this.capacity = options.capacity ?? NpcFaceCrowd.DefaultCapacity;
    this.debounceMs = options.debounceMs;
    const max = scene.getEngine().getCaps().texture2DArrayMaxLayerCount;
    if (!Number.isInteger(this.capacity) || this.capacity < 1) throw new Error(`NpcFaceCrowd: capacity must be a positive integer, not ${this.capacity}`);
    if (max !== undefined && this.capacity > max) throw new Error(`NpcFaceCrowd: capacity ${this.capacity} exceeds this engine's ${max} texture-array layers (use several crowds)`);
    let byName = Crowds.get(scene);
    if (!byName) Crowds.set(scene, (byName = new Map()));
    if (byName.has(this.name)) throw new Error(`NpcFaceCrowd: the scene already has a crowd named "${this.name}"`);
    byName.set(this.name, this);
    for (let index = 0; index < this.capacity; index++) this._layers.push({ index, key: undefined, refs: 0, state: "free", lease: undefined, waiting: new Set() });
    this._resolution = options.resolution;
    this._beforeRender = scene.onBeforeRenderObservable.add(() => this.flushUploads());
    scene.onDisposeObservable.addOnce(() => this.dispose());
    this._system = NpcFaceSystem._Join(scene, this);
    if (this._system?.isModelLoaded) this._ensureTexture();
  }

  /** The scene's crowd of that name. */
  static Get(scene: Scene, name = "npcFaceCrowd"): NpcFaceCrowd | undefined {
    return Crowds.get(scene)?.get(name);
  }

  /** Recreates a crowd and its members from {@link serialize}'s output; the faces regenerate. */
  static Parse(serialized: NpcFaceCrowdSerialized, scene: Scene): NpcFaceCrowd {
    const crowd = new NpcFaceCrowd(scene, { name: serialized.name, capacity: serialized.capacity, resolution: serialized.resolution });
    for (const member of serialized.members) crowd.add(member);
    return crowd;
  }

  /** The texture array (undefined until the face resolution is known: the model is loaded or `resolution` given). */
  get texture(): RawTexture2DArray | undefined {
    return this._texture;
  }

  /** The members, in insertion order. */
  get members(): readonly NpcFaceCrowdMember[] {
    return [...this._members.keys()];
  }

  /** Layers holding a face or waiting for one (used or kept for reuse). */
  get layersInUse(): number {
    return this._layers.filter((l) => l.state !== "free").length;
  }

  /** Layers holding a face no member shows (reused first when that face is asked for again, evicted last-used first). */
  get idleLayers(): number {
    return this._idle.size;
  }

  /** GPU memory of the texture array in bytes (level 0 plus mipmaps). */
  get textureBytes(): number {
    const size = this._resolution ?? 0;
    const level0 = size * size * 4 * this.capacity;
    return (this._options.generateMipMaps ?? true) ? Math.round((level0 * 4) / 3) : level0;
  }

  /** True while some member's face is scheduled or generating. */
  get isGenerating(): boolean {
    return this._dirty.size > 0 || [...this._members.values()].some((s) => s.next !== undefined);
  }

  /** The scene's face system this crowd uses. */
  get system(): NpcFaceSystem | undefined {
    return this._system;
  }

  /** Adds an NPC (its face is generated, or taken from a layer already holding it). */
  add(parameters: NpcFaceCrowdMemberParameters = {}): NpcFaceCrowdMember {
    const member = new NpcFaceCrowdMember(this);
    this._members.set(member, { shown: undefined, next: undefined, dirty: false });
    member.set(parameters);
    this._onMemberChanged(member);
    return member;
  }

  /**
   * Removes an NPC (streamed out). Its layer keeps the face: the same parameters added again show it without
   * regenerating, until the layer is needed for another face.
   */
  remove(member: NpcFaceCrowdMember): void {
    const state = this._members.get(member);
    if (!state) return;
    this._members.delete(member);
    this._dirty.delete(member);
    this._starved.delete(member);
    this._starvedRetrying.delete(member);
    if (state.next) this._unref(state.next, member);
    if (state.shown) this._unref(state.shown, member);
    member._show(-1, this._dirtyMeshes);
    member.unbindInstances();
    this._updatePending();
  }

  /** The layer holding a face with these parameters, or -1. */
  layerOf(member: NpcFaceCrowdMember): number {
    return this._members.get(member)?.shown?.index ?? -1;
  }

  /** Regenerates what changed now, skipping the debounce. */
  flush(): void {
    this._clearTimer();
    this._assignDirty();
  }

  /** Resolves when no member's face is scheduled or generating. */
  whenSettledAsync(): Promise<void> {
    if (!this.isGenerating) return Promise.resolve();
    return new Promise((resolve) => this._settledCallbacks.push(resolve));
  }

  /**
   * Sends what was written since the last frame to the GPU: per-instance layers of thin instances, mipmaps, and on
   * engines without per-layer uploads (NullEngine) the whole array. Runs before each render; call it yourself only
   * when not rendering.
   */
  flushUploads(): void {
    for (const mesh of this._dirtyMeshes) if (!mesh.isDisposed()) mesh.thinInstanceBufferUpdated(NpcFaceLayerAttributeName);
    this._dirtyMeshes.clear();
    const internal = this._texture?.getInternalTexture();
    if (!internal) return;
    if (this._mirrorDirty && this._mirror) {
      this._mirrorDirty = false;
      this._texture!.update(this._mirror);
      this._mipmapsDirty = false; // the whole update built them
    }
    if (this._mipmapsDirty) {
      this._mipmapsDirty = false;
      // Once per frame however many layers arrived: regenerating an array's mip chain touches every layer.
      if (internal.generateMipMaps) this.scene.getEngine().generateMipmaps(internal);
    }
  }

  /** The options and every member's parameters (not the pixels: faces regenerate on {@link Parse}). */
  serialize(): NpcFaceCrowdSerialized {
    return { name: this.name, capacity: this.capacity, ...(this._options.resolution !== undefined ? { resolution: this._options.resolution } : {}), members: this.members.map((m) => m.serialize()) };
  }

  /** Releases the texture, the generations in progress and the scene's pending data. */
  dispose(): void {
    if (this._disposed) return;
    this._disposed = true;
    this._clearTimer();
    for (const layer of this._layers) {
      layer.lease?.release();
      layer.lease = undefined;
    }
    this.scene.onBeforeRenderObservable.remove(this._beforeRender);
    NpcFaceSystem._Leave(this.scene, this);
    if (Crowds.get(this.scene)?.get(this.name) === this) Crowds.get(this.scene)!.delete(this.name);
    this._texture?.dispose();
    this._texture = undefined;
    this._mirror = undefined;
    this._members.clear();
    this._dirty.clear();
    this._setHolding(false);
    for (const callback of this._settledCallbacks.splice(0)) callback();
    this.onErrorObservable.clear();
    this.onFacesShownObservable.clear();
  }

  // ---- NpcFaceCrowdMemberOwner ----

  /** @internal */
  _onMemberChanged(member: NpcFaceCrowdMember): void {
    const state = this._members.get(member);
    if (!state || this._disposed) return;
    state.dirty = true;
    this._dirty.add(member);
    this._updatePending();
    if (this._timer !== undefined) return; // one timer for the whole crowd: a level's NPCs are assigned together
    const delay = this.debounceMs ?? this._system?.debounceMs ?? NpcFaceSystem.DefaultDebounceMs;
    this._timer = setTimeout(() => {
      this._timer = undefined;
      this._assignDirty();
    }, delay);
  }

  // ---- NpcFaceSystemMember ----

  /** @internal */
  _onSystemCreated(system: NpcFaceSystem): void {
    this._system = system;
  }

  /** @internal */
  _onModelSettled(system: NpcFaceSystem): void {
    if (this._disposed) return;
    this._system = system;
    if (system.isModelLoaded) this._ensureTexture();
    this._assignDirty();
  }

  /** @internal */
  _onSystemDisposed(system: NpcFaceSystem): void {
    if (this._system !== system) return;
    this._system = undefined;
    // Layers whose face was pending lose it; the members regenerate with the next system.
    for (const layer of this._layers) {
      if (layer.state !== "pending") continue;
      layer.lease = undefined;
      for (const member of layer.waiting) {
        const state = this._members.get(member);
        if (state) {
          state.next = undefined;
          state.dirty = true;
          this._dirty.add(member);
        }
      }
      layer.waiting.clear();
      this._freeLayer(layer);
    }
    NpcFaceSystem._Join(this.scene, this);
    this._updatePending();
  }

  // ---- internals ----

  private _ensureTexture(): void {
    if (this._texture || this._disposed) return;
    const size = this._resolution ?? this._system?.metadata?.resolution;
    if (size === undefined) return;
    this._resolution = size;
    const engine = this.scene.getEngine();
    const mipmaps = this._options.generateMipMaps ?? true;
    const sampling = mipmaps ? Constants.TEXTURE_TRILINEAR_SAMPLINGMODE : Constants.TEXTURE_BILINEAR_SAMPLINGMODE;
    const perLayer = CanWriteLayers(engine);
    // Engines that cannot write one layer get a CPU copy of the array, uploaded whole once per frame.
    if (!perLayer) {
      this._mirror = new Uint8Array(size * size * 4 * this.capacity);
      AddCpuTextureArrays(engine);
    }
    const texture = new RawTexture2DArray(this._mirror ?? null, size, size, this.capacity, Constants.TEXTUREFORMAT_RGBA, this.scene, mipmaps, false, sampling, Constants.TEXTURETYPE_UNSIGNED_BYTE);
    texture.name = `${this.name} faces`;
    texture.wrapU = Constants.TEXTURE_CLAMP_ADDRESSMODE;
    texture.wrapV = Constants.TEXTURE_CLAMP_ADDRESSMODE;
    const internal = texture.getInternalTexture();
    if (internal && !internal.isReady) internal.isReady = true; // NullEngine never marks raw textures ready
    if (internal && perLayer && (this._options.srgbTexture ?? true) && engine.getCaps().supportSRGBBuffers) {
      MakeSrgb(engine, internal);
      this._mipmapsDirty = true; // level 0 was re-specified: the mip chain is rebuilt before the first frame
    }
    this._texture = texture;
  }

  private _assignDirty(): void {
    const system = this._system;
    if (this._disposed || !system) return;
    if (!system.isModelLoaded && !system.loadError) return; // resumed by _onModelSettled
    this._ensureTexture();
    const members = [...this._dirty];
    this._dirty.clear();
    for (const member of members) {
      const state = this._members.get(member);
      if (!state) continue;
      state.dirty = false;
      this._assign(member, state, system);
    }
    this._updatePending();
  }

  private _assign(member: NpcFaceCrowdMember, state: MemberState, system: NpcFaceSystem): void {
    let key: string;
    const request = member.request;
    try {
      if (system.loadError) throw system.loadError;
      key = FaceRequestKey(system.metadata!, system.modelHash!, request);
    } catch (error) {
      this._fail(member, state, error);
      return;
    }
    if (state.next?.key === key) return;
    if (state.shown?.key === key) {
      // Back to the face already shown (a slider returned): drop what was on its way.
      if (state.next) this._unref(state.next, member);
      state.next = undefined;
      return;
    }
    if (state.next) this._unref(state.next, member); // latest wins
    state.next = undefined;
    let layer = this._byKey.get(key);
    if (layer) {
      this.stats.layerHits++;
      this._ref(layer);
    } else {
      layer = this._takeLayer();
      if (!layer) {
        // Reported once per NPC: retries (each time a layer frees) must not flood the error observers.
        const reported = this._starved.has(member) || this._starvedRetrying.has(member);
        this._starved.add(member);
        this._starvedRetrying.delete(member);
        if (reported) return;
        this.stats.full++;
        this._fail(member, state, new NpcFacesError("BAD_REQUEST", `crowd "${this.name}": all ${this.capacity} layers show faces; raise capacity or remove NPCs`));
        return;
      }
      this._fill(layer, key, request, system, state.shown !== undefined);
    }
    this._starvedRetrying.delete(member);
    if (layer.state === "ready") {
      this._showLayer(member, state, layer);
      this.onFacesShownObservable.notifyObservers([member]);
    } else {
      state.next = layer;
      layer.waiting.add(member);
    }
  }

  /** Starts generating a face into a layer. */
  private _fill(layer: Layer, key: string, request: FaceRequest, system: NpcFaceSystem, interactive: boolean): void {
    layer.key = key;
    layer.state = "pending";
    layer.refs = 1;
    this._byKey.set(key, layer);
    const lease = system.client.acquire(request, { priority: interactive ? "high" : "normal" });
    layer.lease = lease;
    this.stats.generated++;
    lease.promise
      .then((face) => {
        if (layer.lease !== lease) return;
        // A face of another size (a model swapped under the crowd) fails like a generation error.
        this._writeLayer(layer.index, face);
        // The pixels live in the layer now: the client's copy can go.
        lease.release();
        layer.lease = undefined;
        layer.state = "ready";
        const shown: NpcFaceCrowdMember[] = [];
        for (const member of layer.waiting) {
          const state = this._members.get(member);
          if (!state || state.next !== layer) continue;
          state.next = undefined;
          this._showLayer(member, state, layer);
          shown.push(member);
        }
        layer.waiting.clear();
        this._updatePending();
        if (shown.length > 0) this.onFacesShownObservable.notifyObservers(shown);
      })
      .catch((error: unknown) => {
        if (layer.lease !== lease) return;
        lease.release();
        layer.lease = undefined;
        const waiting = [...layer.waiting];
        layer.waiting.clear();
        this._freeLayer(layer);
        for (const member of waiting) {
          const state = this._members.get(member);
          if (!state || state.next !== layer) continue;
          state.next = undefined;
          this._fail(member, state, error);
        }
        this._updatePending();
      });
  }

  private _showLayer(member: NpcFaceCrowdMember, state: MemberState, layer: Layer): void {
    const previous = state.shown;
    state.shown = layer;
    member._show(layer.index, this._dirtyMeshes);
    if (previous) this._unref(previous, member);
  }

  private _fail(member: NpcFaceCrowdMember, state: MemberState, error: unknown): void {
    if (state.shown) this._unref(state.shown, member);
    state.shown = undefined;
    member._show(-1, this._dirtyMeshes);
    const failure = ToNpcFacesError(error);
    const event: NpcFaceErrorEvent = { code: failure.code, message: `${this.name}${member.name !== undefined ? ` NPC "${member.name}"` : ""}: ${failure.message}`, error: failure };
    this.onErrorObservable.notifyObservers(event);
    if (failure !== this._system?.loadError) this._system?._reportError(event);
  }

  private _ref(layer: Layer): void {
    layer.refs++;
    this._idle.delete(layer);
  }

  private _unref(layer: Layer, member: NpcFaceCrowdMember): void {
    layer.waiting.delete(member);
    layer.refs--;
    if (layer.refs > 0) return;
    if (layer.state === "pending") {
      // Nobody wants it any more: cancel (a face not sent yet costs nothing) and free the layer.
      layer.lease?.release();
      layer.lease = undefined;
      this._freeLayer(layer);
    } else if (layer.state === "ready") this._idle.set(layer, true);
    this._retryStarved();
  }

  /** A layer became available: members that found none try again (with the debounce). */
  private _retryStarved(): void {
    if (this._starved.size === 0) return;
    const members = [...this._starved];
    this._starved.clear();
    for (const member of members) {
      this._starvedRetrying.add(member);
      this._onMemberChanged(member);
    }
  }

  /** A free layer, else the least recently used idle one, else none. */
  private _takeLayer(): Layer | undefined {
    const free = this._layers.find((l) => l.state === "free");
    if (free) return free;
    const [oldest] = this._idle.keys();
    if (!oldest) return undefined;
    this._idle.delete(oldest);
    this.stats.evictions++;
    this._byKey.delete(oldest.key!);
    oldest.key = undefined;
    oldest.state = "free";
    return oldest;
  }

  private _freeLayer(layer: Layer): void {
    if (layer.key !== undefined && this._byKey.get(layer.key) === layer) this._byKey.delete(layer.key);
    this._idle.delete(layer);
    layer.key = undefined;
    layer.state = "free";
    layer.refs = 0;
  }

  private _writeLayer(index: number, face: FaceImage): void {
    if (!this._texture) return;
    if (face.width !== this._resolution || face.height !== this._resolution) {
      throw new NpcFacesError("BAD_REQUEST", `crowd "${this.name}": face is ${face.width}x${face.height}, the crowd's layers ${this._resolution}x${this._resolution}`);
    }
    this.stats.layerWrites++;
    // Rows flipped like the per-material textures: v = 1 is the top of the head.
    const rows = FlipRows(face);
    if (this._mirror) {
      this._mirror.set(rows, index * rows.length);
      this._mirrorDirty = true;
      return;
    }
    WriteLayer(this.scene.getEngine(), this._texture.getInternalTexture()!, index, rows);
    this._mipmapsDirty = true;
  }

  private _updatePending(): void {
    // Like a material's first face: NPCs that show no face yet hold the scene; edits of shown faces do not.
    let holding = false;
    for (const state of this._members.values()) {
      if (state.shown === undefined && (state.dirty || state.next !== undefined)) {
        holding = true;
        break;
      }
    }
    if (!this._system) holding = false; // nothing to wait for until a system exists
    this._setHolding(holding);
    if (!this.isGenerating) for (const callback of this._settledCallbacks.splice(0)) callback();
  }

  private _setHolding(holding: boolean): void {
    if (holding === this._holdingScene) return;
    this._holdingScene = holding;
    if (holding) this.scene.addPendingData(this._pendingToken);
    else this.scene.removePendingData(this._pendingToken);
  }

  private _clearTimer(): void {
    if (this._timer !== undefined) clearTimeout(this._timer);
    this._timer = undefined;
  }
}

/** @internal the attribute's name, repeated here to keep the import graph one-way. */
const NpcFaceLayerAttributeName = "npcFaceLayer";

/** WebGL2 (a real context) and WebGPU can write one layer; NullEngine and others cannot. */
function CanWriteLayers(engine: AbstractEngine): boolean {
  if (engine.isWebGPU) return true;
  const gl = (engine as unknown as { _gl?: unknown })._gl;
  return typeof WebGL2RenderingContext !== "undefined" && gl instanceof WebGL2RenderingContext;
}

/**
 * Headless engines without a GL context (NullEngine) cannot create texture arrays at all (Babylon's WebGL code
 * dereferences the context): give that engine instance CPU-only arrays that keep their data in `_bufferView`, as
 * NullEngine does for its other raw textures.
 */
function AddCpuTextureArrays(engine: AbstractEngine): void {
  const headless = engine as unknown as { _gl?: unknown; createRawTexture2DArray: unknown; updateRawTexture2DArray: unknown; _internalTexturesCache: InternalTexture[] };
  if (headless._gl || engine.isWebGPU) return;
  headless.createRawTexture2DArray = (data: ArrayBufferView | null, width: number, height: number, depth: number, format: number, generateMipMaps: boolean, invertY: boolean, samplingMode: number): InternalTexture => {
    const texture = new InternalTexture(engine, InternalTextureSource.Raw2DArray);
    texture.baseWidth = texture.width = width;
    texture.baseHeight = texture.height = height;
    texture.baseDepth = texture.depth = depth;
    texture.format = format;
    texture.generateMipMaps = generateMipMaps;
    texture.samplingMode = samplingMode;
    texture.invertY = invertY;
    texture.is2DArray = true;
    texture._bufferView = data;
    texture.isReady = true;
    headless._internalTexturesCache.push(texture);
    return texture;
  };
  headless.updateRawTexture2DArray = (texture: InternalTexture, data: ArrayBufferView | null): void => {
    texture._bufferView = data;
    texture.isReady = true;
  };
}

/**
 * Re-creates the array's storage in the sRGB variant of RGBA8 (Babylon's raw texture arrays take no sRGB flag): WebGL2
 * `SRGB8_ALPHA8`, WebGPU `rgba8unorm-srgb`. The bytes written later are the same; the GPU decodes them when sampling.
 */
function MakeSrgb(engine: AbstractEngine, texture: InternalTexture): void {
  texture._useSRGBBuffer = true;
  if (engine.isWebGPU) {
    const webgpu = engine as unknown as { _textureHelper: { createGPUTextureForInternalTexture(texture: InternalTexture): unknown } };
    (texture._hardwareTexture as unknown as { release(): void } | null)?.release();
    texture._hardwareTexture = null;
    webgpu._textureHelper.createGPUTextureForInternalTexture(texture);
    return;
  }
  const thin = engine as unknown as { _gl: WebGL2RenderingContext; _bindTextureDirectly(target: number, texture: InternalTexture | null, force?: boolean): void };
  const gl = thin._gl;
  thin._bindTextureDirectly(gl.TEXTURE_2D_ARRAY, texture, true);
  gl.texImage3D(gl.TEXTURE_2D_ARRAY, 0, gl.SRGB8_ALPHA8, texture.width, texture.height, texture.depth, 0, gl.RGBA, gl.UNSIGNED_BYTE, null);
  thin._bindTextureDirectly(gl.TEXTURE_2D_ARRAY, null);
}

/** Uploads one layer's level 0 (mipmaps are rebuilt once per frame by {@link NpcFaceCrowd.flushUploads}). */
function WriteLayer(engine: AbstractEngine, texture: InternalTexture, layer: number, rows: Uint8Array): void {
  if (engine.isWebGPU) {
    // Babylon's own per-layer upload (updateTextureArrayLayerFromImageSource) does exactly this, but importing it
    // would pull the WebGPU engine into WebGL-only bundles.
    const webgpu = engine as unknown as {
      _textureHelper: { updateTexture(data: Uint8Array, texture: InternalTexture, width: number, height: number, layers: number, format: unknown, layer: number, mipLevel: number, invertY: boolean, premultiply: boolean, x: number, y: number): void };
    };
    const format = (texture._hardwareTexture as unknown as { format: unknown }).format;
    webgpu._textureHelper.updateTexture(rows, texture, texture.width, texture.height, 1, format, layer, 0, false, false, 0, 0);
    return;
  }
  const thin = engine as unknown as {
    _gl: WebGL2RenderingContext;
    _bindTextureDirectly(target: number, texture: InternalTexture | null, force?: boolean): void;
    _unpackFlipY(value: boolean): void;
  };
  const gl = thin._gl;
  thin._bindTextureDirectly(gl.TEXTURE_2D_ARRAY, texture, true);
  thin._unpackFlipY(false);
  gl.texSubImage3D(gl.TEXTURE_2D_ARRAY, 0, 0, 0, layer, texture.width, texture.height, 1, gl.RGBA, gl.UNSIGNED_BYTE, rows);
  thin._bindTextureDirectly(gl.TEXTURE_2D_ARRAY, null);
}
