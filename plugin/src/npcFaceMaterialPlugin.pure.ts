/** This file must only contain pure code and pure imports */
import type { FaceImage, FaceRequest, ModelMetadata, NpcFacesError } from "@npc-faces/runtime";
import type { AbstractEngine } from "@babylonjs/core/Engines/abstractEngine.pure.js";
import { Constants } from "@babylonjs/core/Engines/constants.js";
import type { Material } from "@babylonjs/core/Materials/material.pure.js";
import type { MaterialDefines } from "@babylonjs/core/Materials/materialDefines.js";
import type { MaterialPluginBase } from "@babylonjs/core/Materials/materialPluginBase.pure.js";
import { ShaderLanguage } from "@babylonjs/core/Materials/shaderLanguage.js";
import type { BaseTexture } from "@babylonjs/core/Materials/Textures/baseTexture.pure.js";
import type { UniformBuffer } from "@babylonjs/core/Materials/uniformBuffer.js";
import type { AbstractMesh } from "@babylonjs/core/Meshes/abstractMesh.pure.js";
import type { SubMesh } from "@babylonjs/core/Meshes/subMesh.pure.js";
import { InspectableType, type IInspectable } from "@babylonjs/core/Misc/iInspectable.js";
import { Observable } from "@babylonjs/core/Misc/observable.pure.js";
import { RegisterClass } from "@babylonjs/core/Misc/typeStore.js";
import type { Scene } from "@babylonjs/core/scene.pure.js";
import { NpcFaceCompositionPluginBase } from "./npcFaceCompositionPluginBase.js";
import { NpcFaceControlPrefix, NpcFaceParameters } from "./npcFaceParameters.js";
import { ToNpcFacesError, type NpcFaceErrorEvent } from "./npcFaceErrorEvent.js";
import { NpcFaceSamplerName, PbrFaceCode, StandardFaceCode } from "./npcFaceShaders.js";
import { NpcFaceSystem, type NpcFaceSystemMember, type NpcFaceTextureLease } from "./npcFaceSystem.js";

/** The plugin's name in the material's plugin manager (`material.pluginManager.getPlugin("NpcFace")`). */
export const NpcFaceMaterialPluginName = "NpcFace";
/** Prefix of the properties the plugin adds to its material for the Inspector (`npcFace_seed`, ...). */
export const NpcFaceMaterialPropertyPrefix = "npcFace_";

/**
 * A material plugin that gives a StandardMaterial or PBRMaterial a generated NPC face: the face texture, sampled at
 * the UV set `coordinatesIndex` names, replaces the diffuse colour (albedo for PBR) or is blended into it inside
 * `faceRect` (NpcFaceCompositionPluginBase). Its parameters are the model's style
 * controls; changing one regenerates the face (debounced, latest wins) through the scene's {@link NpcFaceSystem}.
 * The parameters serialise with the material; the texture does not (it is regenerated on load).
 */
export class NpcFaceMaterialPlugin extends NpcFaceCompositionPluginBase implements NpcFaceSystemMember {
  /** Fires with the plugin each time a newly generated face is applied. */
  readonly onGeneratedObservable = new Observable<NpcFaceMaterialPlugin>();
  /** Fires when this material's face cannot be generated (the fallback texture is shown). */
  readonly onErrorObservable = new Observable<NpcFaceErrorEvent>();
  /** Debounce of regeneration after a parameter change, in ms (default: the system's `debounceMs`). */
  debounceMs: number | undefined;
  /**
   * Whether regenerating a face already shown holds `scene.isReady()` false until the new face arrives (default: the
   * system's `updatesBlockReadiness`, false). The first face always does, so `scene.whenReadyAsync()` waits for it;
   * {@link whenSettledAsync} waits for any face.
   */
  updatesBlockReadiness: boolean | undefined;

  /** The face's parameters, held as a crowd member's are (same request, same JSON); a change regenerates. */
  private readonly _parameters = new NpcFaceParameters(() => this._markDirty());
  private _isEnabled = true;

  private _system: NpcFaceSystem | undefined;
  private _current: NpcFaceTextureLease | undefined;
  private _currentFace: FaceImage | undefined;
  private _currentTexture: BaseTexture | undefined;
  private _next: NpcFaceTextureLease | undefined;
  private _timer: ReturnType<typeof setTimeout> | undefined;
  private _dirty = false;
  private _error: NpcFacesError | undefined;
  private readonly _pendingToken = { npcFaces: "face generation" };
  private _pending = false;
  private _holdingScene = false;
  private _disposed = false;
  private readonly _inspectables: IInspectable[] = [];
  private readonly _materialProperties: string[] = [];
  private readonly _controlAccessors: string[] = [];
  private readonly _settledCallbacks: (() => void)[] = [];

  /**
   * Adds the plugin to a material and starts generating its face (seed 0 until set). The scene's
   * {@link NpcFaceSystem} may be created before or after.
   * @param material a StandardMaterial or a PBR material (PBRMaterial, PBRMetallicRoughnessMaterial, ...)
   * @throws Error when the material already has a face plugin (see {@link NpcFaceMaterialPlugin.Get}) or is of another kind
   */
  constructor(material: Material) {
    super(CheckMaterial(material), NpcFaceMaterialPluginName, {});
    this._addMaterialProperty("seed", "Face seed", { min: 0, max: 65535, step: 1 });
    this._addMaterialProperty("mixSeed", "Face mix seed", { min: 0, max: 65535, step: 1 });
    this._addMaterialProperty("mix", "Face mix amount", { min: 0, max: 1, step: 0.01 });
    this._addMaterialProperty("mixCrossover", "Face mix crossover layer", { min: 0, max: 16, step: 1 });
    this._addMaterialProperty("psi", "Face truncation psi", { min: 0, max: 1.5, step: 0.01 });
    this._addMaterialProperty("noiseStrength", "Face noise strength", { min: 0, max: 2, step: 0.01 });
    this._addMaterialProperty("isEnabled", "Face enabled", undefined);
    this._addMaterialProperty("flipV", "Face flipped vertically (sample at 1 - v)", undefined);
    this._system = NpcFaceSystem._Join(material.getScene(), this);
    if (this._system?.isModelLoaded) this._defineControls(this._system.metadata!);
    this._markDirty();
  }

  /**
   * The material's face plugin, if it has one.
   * @param material any material
   */
  static Get(material: Material): NpcFaceMaterialPlugin | undefined {
    const plugin = material.pluginManager?.getPlugin(NpcFaceMaterialPluginName);
    return plugin instanceof NpcFaceMaterialPlugin ? plugin : undefined;
  }

  /** @returns "NpcFaceMaterialPlugin" */
  override getClassName(): string {
    return "NpcFaceMaterialPlugin";
  }

  /** The face's identity: an integer in 0..4294967295 (others fail with BAD_REQUEST on {@link onErrorObservable}). */
  get seed(): number {
    return this._parameters.seed;
  }
  set seed(value: number) {
    this._parameters.seed = value;
  }

  /** The face to breed with (style mixing); only used when {@link mix} > 0. */
  get mixSeed(): number {
    return this._parameters.mixSeed;
  }
  set mixSeed(value: number) {
    this._parameters.mixSeed = value;
  }

  /** How much of the mix face the mixed layers take, 0..1 (default 0: no mixing). */
  get mix(): number {
    return this._parameters.mix;
  }
  set mix(value: number) {
    this._parameters.mix = value;
  }

  /** First style layer that takes the mix face (0 = all; higher keeps the coarse features of {@link seed}). */
  get mixCrossover(): number {
    return this._parameters.mixCrossover;
  }
  set mixCrossover(value: number) {
    this._parameters.mixCrossover = value;
  }

  /** Truncation: 1 = as sampled, 0 = the average face. Default: the model's (1 before the model is loaded). */
  get psi(): number {
    return this._parameters.psi ?? this._system?.metadata?.defaults.psi ?? 1;
  }
  set psi(value: number) {
    this._parameters.psi = value;
  }

  /** Multiplier of the per-layer noise (0 = smooth). Default: the model's (1 before the model is loaded). */
  get noiseStrength(): number {
    return this._parameters.noiseStrength ?? this._system?.metadata?.defaults.noiseStrength ?? 1;
  }
  set noiseStrength(value: number) {
    this._parameters.noiseStrength = value;
  }

  /** Whether the face replaces the material's diffuse/albedo colour (no generation while disabled). */
  get isEnabled(): boolean {
    return this._isEnabled;
  }
  set isEnabled(value: boolean) {
    if (this._isEnabled === value) return;
    this._isEnabled = value;
    this.markAllDefinesAsDirty();
    if (value) {
      if (this._dirty) this._markDirty();
      return;
    }
    // A disabled plugin generates nothing: drop what is scheduled or running, or the scene would never be ready.
    // The face stays dirty so that enabling it again generates it.
    if (this._timer !== undefined || this._next) this._dirty = true;
    this._clearTimer();
    this._next?.release();
    this._next = undefined;
    this._setPending(false);
  }

  /**
   * The amount of a named control (also readable as `control_<name>`). Controls not set take the model's default
   * (0 before the model is loaded).
   */
  getControl(name: string): number {
    return this._parameters.getControl(name) ?? this._system?.metadata?.controls.find((c) => c.name === name)?.default ?? 0;
  }

  /**
   * Sets a named control (also settable as `control_<name>`). Unknown names fail with BAD_REQUEST on
   * {@link onErrorObservable} once the model is known.
   */
  setControl(name: string, value: number): void {
    this._parameters.setControl(name, value);
  }

  /** Controls set explicitly (name -> amount). */
  get controls(): Readonly<Record<string, number>> {
    return this._parameters.controls;
  }

  /** Conditional models: the value of a label attribute, or undefined for the model's default mix. */
  getLabel(attribute: string): string | undefined {
    return this._parameters.getLabel(attribute);
  }

  /** Conditional models: sets (or with `undefined` clears) a label attribute's value. */
  setLabel(attribute: string, value: string | undefined): void {
    this._parameters.setLabel(attribute, value);
  }

  /** The face request the current parameters describe. */
  get request(): FaceRequest {
    return this._parameters.request;
  }

  /** The texture bound now: the generated face, or the fallback (missing/failed face), or null (no system yet). */
  get texture(): BaseTexture | null {
    return this._currentTexture ?? null;
  }

  /** The generated face shown now (RGBA8, top row first); undefined while none (or the fallback) is shown. */
  get face(): FaceImage | undefined {
    return this._currentFace;
  }

  /** The last error of this material's face (cleared by the next successful generation). */
  get lastError(): NpcFacesError | undefined {
    return this._error;
  }

  /** True while a generation is scheduled or running (the first face's is the scene's pending data, see {@link updatesBlockReadiness}). */
  get isGenerating(): boolean {
    return this._pending;
  }

  /** The scene's face system this plugin is attached to. */
  get system(): NpcFaceSystem | undefined {
    return this._system;
  }

  /** Regenerates now, skipping the debounce. */
  regenerate(): void {
    this._dirty = true;
    this._clearTimer();
    this._regenerate();
  }

  /** Resolves when no generation is scheduled or running (the face, or the fallback after an error, is applied). */
  whenSettledAsync(): Promise<void> {
    if (!this._pending) return Promise.resolve();
    return new Promise((resolve) => this._settledCallbacks.push(resolve));
  }

  // ---- MaterialPluginBase ----

  /** @internal */
  override isReadyForSubMesh(_defines: MaterialDefines, _scene: Scene, _engine: AbstractEngine, _subMesh: SubMesh): boolean {
    if (!this._isEnabled) return true;
    const texture = this._boundTexture();
    return !texture || texture.isReady();
  }

  /** @internal */
  override prepareDefinesBeforeAttributes(defines: MaterialDefines, scene: Scene, _mesh: AbstractMesh): void {
    // Like Babylon's own textures, the face follows scene.texturesEnabled.
    this._prepareCompositionDefines(defines, scene, this._isEnabled && scene.texturesEnabled ? this._boundTexture() : undefined);
  }

  /** @internal */
  override getSamplers(samplers: string[]): void {
    samplers.push(NpcFaceSamplerName);
  }

  /** @internal */
  override bindForSubMesh(uniformBuffer: UniformBuffer, _scene: Scene, _engine: AbstractEngine, _subMesh: SubMesh): void {
    if (!this._isEnabled) return;
    const texture = this._boundTexture();
    if (!texture) return;
    this._bindComposition(uniformBuffer, NpcFaceSamplerName, texture);
  }

  /** @internal */
  override hasTexture(texture: BaseTexture): boolean {
    return texture === this._currentTexture;
  }

  /** @internal */
  override getActiveTextures(activeTextures: BaseTexture[]): void {
    if (this._currentTexture) activeTextures.push(this._currentTexture);
  }

  /** @internal */
  override getCustomCode(shaderType: string, shaderLanguage: ShaderLanguage = ShaderLanguage.GLSL): { [pointName: string]: string } | null {
    if (shaderType !== "fragment") return null;
    const wgsl = shaderLanguage === ShaderLanguage.WGSL;
    // Called from the base constructor too (to collect the injection points): only `_material` is set then.
    return IsPbrMaterial(this._material) ? PbrFaceCode(wgsl) : StandardFaceCode(wgsl);
  }

  /** The parameters (not the texture): base fields plus seed, mixing, psi, noise, labels and `control_<name>`. */
  override serialize(): any {
    return Object.assign(super.serialize(), this._parameters.serialize(), { isEnabled: this._isEnabled }, this._serializeComposition());
  }

  /** Restores what {@link serialize} wrote; the face regenerates (debounced). */
  override parse(source: any, scene: Scene, rootUrl: string): void {
    super.parse(source, scene, rootUrl);
    this._parameters.set(source);
    if (typeof source?.isEnabled === "boolean") this.isEnabled = source.isEnabled;
    this._parseComposition(source);
  }

  /** Copies the parameters to another NpcFace plugin (material cloning). */
  override copyTo(plugin: MaterialPluginBase): void {
    plugin.parse(this.serialize(), this._material.getScene(), "");
  }

  /** Releases the face texture reference, the scene's pending data and the Inspector properties. */
  override dispose(_forceDisposeTextures?: boolean): void {
    if (this._disposed) return;
    this._disposed = true;
    this._clearTimer();
    this._next?.release();
    this._next = undefined;
    this._current?.release();
    this._current = undefined;
    this._currentTexture = undefined;
    this._currentFace = undefined;
    this._setPending(false);
    NpcFaceSystem._Leave(this._material.getScene(), this);
    this._system = undefined;
    this._removeMaterialProperties();
    for (const callback of this._settledCallbacks.splice(0)) callback();
    this.onGeneratedObservable.clear();
    this.onErrorObservable.clear();
  }

  // ---- NpcFaceSystemMember ----

  /** @internal */
  _onSystemCreated(system: NpcFaceSystem): void {
    if (this._disposed) return;
    // Bound now (fallback texture, system's debounce) rather than when the model is settled, so that a system
    // disposed while loading still finds this plugin and hands it on to the next one.
    this._system = system;
    this.markAllDefinesAsDirty();
  }

  /** @internal */
  _onModelSettled(system: NpcFaceSystem): void {
    if (this._disposed) return;
    // The shader only depends on a texture being bound (the fallback since the system was created, see
    // _onSystemCreated): 64 materials marked dirty for nothing cost a long main-thread task when the model loads.
    const joined = this._system !== system;
    this._system = system;
    if (system.isModelLoaded) this._defineControls(system.metadata!);
    if (joined) this.markAllDefinesAsDirty();
    if (this._dirty) this._regenerate();
  }

  /** @internal */
  _onSystemDisposed(system: NpcFaceSystem): void {
    if (this._system !== system) return;
    this._next?.release();
    this._next = undefined;
    this._current = undefined; // the system disposes its textures itself
    this._currentTexture = undefined;
    this._currentFace = undefined;
    this._setPending(false);
    this._system = undefined;
    this._dirty = true;
    // Rejoin: a system created later for the same scene picks this plugin up.
    NpcFaceSystem._Join(this._material.getScene(), this);
    this.markAllDefinesAsDirty();
  }

  // ---- internals ----

  private _boundTexture(): BaseTexture | undefined {
    if (this._currentTexture) return this._currentTexture;
    if (this._system && !this._system.isDisposed) return (this._currentTexture = this._system.fallbackTexture);
    return undefined;
  }

  private _markDirty(): void {
    if (this._disposed) return;
    this._dirty = true;
    if (!this._isEnabled) return;
    this._setPending(true);
    this._clearTimer();
    const delay = this.debounceMs ?? this._system?.debounceMs ?? NpcFaceSystem.DefaultDebounceMs;
    this._timer = setTimeout(() => {
      this._timer = undefined;
      this._regenerate();
    }, delay);
  }

  private _regenerate(): void {
    const system = this._system;
    if (this._disposed || !this._dirty || !this._isEnabled) return;
    if (!system) {
      this._setPending(false); // nothing to wait for until a system exists
      return;
    }
    this._setPending(true);
    if (!system.isModelLoaded && !system.loadError) return; // resumed by _onModelSettled
    this._dirty = false;
    let lease: NpcFaceTextureLease;
    try {
      if (system.loadError) throw system.loadError;
      // An edit of a face already shown is interactive: it goes ahead of a level's queued faces.
      lease = system.acquireTexture(this.request, { priority: this._currentFace !== undefined ? "high" : "normal" });
    } catch (error) {
      this._fail(error);
      return;
    }
    if (lease.key === this._current?.key) {
      // The parameters came back to the face already shown (e.g. a slider returned): nothing to do.
      lease.release();
      this._next?.release();
      this._next = undefined;
      this._setPending(false);
      return;
    }
    this._next?.release(); // latest wins
    this._next = lease;
    lease.promise.then(
      (result) => {
        if (this._next !== lease) return;
        this._next = undefined;
        const previous = this._current;
        this._current = lease;
        this._currentTexture = result.texture;
        this._currentFace = result.face;
        this._error = undefined;
        previous?.release();
        this._material.markAsDirty(Constants.MATERIAL_TextureDirtyFlag);
        this._setPending(false);
        this.onGeneratedObservable.notifyObservers(this);
      },
      (error: unknown) => {
        if (this._next !== lease) return;
        this._next = undefined;
        lease.release();
        this._fail(error);
      },
    );
  }

  /** Shows the fallback texture and reports the error. */
  private _fail(error: unknown): void {
    const failure = ToNpcFacesError(error);
    this._error = failure;
    this._current?.release();
    this._current = undefined;
    this._currentFace = undefined;
    this._currentTexture = undefined;
    this._boundTexture();
    this._material.markAsDirty(Constants.MATERIAL_TextureDirtyFlag);
    this._setPending(false);
    const event: NpcFaceErrorEvent = { code: failure.code, message: `${this._material.name}: ${failure.message}`, error: failure, material: this._material };
    this.onErrorObservable.notifyObservers(event);
    // The model's own loading error was reported by the system already.
    if (failure !== this._system?.loadError) this._system?._reportError(event);
  }

  private _setPending(pending: boolean): void {
    // An update of a face already shown keeps the scene ready (the old face stays until the new one arrives), unless
    // updates are set to block readiness: a slider drag must not make `scene.isReady()` flicker.
    const holdScene = pending && (this._currentFace === undefined || (this.updatesBlockReadiness ?? this._system?.updatesBlockReadiness ?? false));
    if (holdScene !== this._holdingScene) {
      this._holdingScene = holdScene;
      const scene = this._material.getScene();
      if (holdScene) scene.addPendingData(this._pendingToken);
      else scene.removePendingData(this._pendingToken);
    }
    if (this._pending === pending) return;
    this._pending = pending;
    if (!pending) for (const callback of this._settledCallbacks.splice(0)) callback();
  }

  private _clearTimer(): void {
    if (this._timer !== undefined) clearTimeout(this._timer);
    this._timer = undefined;
  }

  /** Defines `control_<name>` on the plugin and `npcFace_control_<name>` (with a slider) on the material. */
  private _defineControls(metadata: ModelMetadata): void {
    for (const control of metadata.controls) {
      const key = `${NpcFaceControlPrefix}${control.name}`;
      if (this._controlAccessors.includes(key)) continue;
      this._controlAccessors.push(key);
      Object.defineProperty(this, key, {
        configurable: true,
        enumerable: false,
        get: () => this.getControl(control.name),
        set: (value: number) => this.setControl(control.name, value),
      });
      const span = control.max - control.min;
      this._addMaterialProperty(key, `Face ${control.label || control.name}`, { min: control.min, max: control.max, step: span > 0 ? span / 100 : 0.01 }, false);
    }
    const crossover = this._inspectables.find((i) => i.propertyName === `${NpcFaceMaterialPropertyPrefix}mixCrossover`);
    if (crossover) crossover.max = metadata.numWs;
    for (const label of metadata.labels) {
      const key = `label_${label.name}`;
      if (this._materialProperties.includes(`${NpcFaceMaterialPropertyPrefix}${key}`)) continue;
      this._defineMaterialAccessor(`${NpcFaceMaterialPropertyPrefix}${key}`, () => this.getLabel(label.name) ?? "", (v: string) => this.setLabel(label.name, v === "" ? undefined : v));
      this._inspectables.push({
        label: `Face ${label.name}`,
        propertyName: `${NpcFaceMaterialPropertyPrefix}${key}`,
        type: InspectableType.Options,
        options: [{ label: "(model default)", value: "" }, ...label.values.map((v) => ({ label: v, value: v }))],
      });
    }
    this._syncInspectables();
  }

  private _addMaterialProperty(name: string, label: string, slider: { min: number; max: number; step: number } | undefined, sync = true): void {
    const property = `${NpcFaceMaterialPropertyPrefix}${name}`;
    if (this._materialProperties.includes(property)) return;
    this._defineMaterialAccessor(
      property,
      () => (this as unknown as Record<string, unknown>)[name],
      (value: unknown) => ((this as unknown as Record<string, unknown>)[name] = value),
    );
    this._inspectables.push(slider ? { label, propertyName: property, type: InspectableType.Slider, ...slider } : { label, propertyName: property, type: InspectableType.Checkbox });
    if (sync) this._syncInspectables();
  }

  private _defineMaterialAccessor(property: string, get: () => unknown, set: (value: any) => void): void {
    Object.defineProperty(this._material, property, { configurable: true, enumerable: false, get, set });
    this._materialProperties.push(property);
  }

  private _syncInspectables(): void {
    const material = this._material;
    const list = material.inspectableCustomProperties ?? [];
    const listed = new Set(list);
    for (const inspectable of this._inspectables) if (!listed.has(inspectable)) list.push(inspectable);
    material.inspectableCustomProperties = list;
  }

  private _removeMaterialProperties(): void {
    const material = this._material as unknown as Record<string, unknown>;
    for (const property of this._materialProperties) delete material[property];
    this._materialProperties.length = 0;
    const list = this._material.inspectableCustomProperties;
    if (list) this._material.inspectableCustomProperties = list.filter((i) => !this._inspectables.includes(i));
    this._inspectables.length = 0;
  }
}

/** PBRMaterial and its relatives (PBRBaseMaterial subclasses) have an albedo colour; StandardMaterial a diffuse one. */
function IsPbrMaterial(material: Material): boolean {
  return "_albedoColor" in material;
}

function CheckMaterial(material: Material): Material {
  if (!IsPbrMaterial(material) && !("diffuseColor" in material)) {
    throw new Error(`NpcFaceMaterialPlugin: ${material.getClassName()} "${material.name}" is neither a StandardMaterial nor a PBR material`);
  }
  // Checked before the base constructor: Babylon's plugin manager silently skips a second plugin of the same name,
  // which would leave it half attached (its Inspector accessors replacing the first one's, never disposed).
  if (material.pluginManager?.getPlugin(NpcFaceMaterialPluginName)) {
    throw new Error(`NpcFaceMaterialPlugin: material "${material.name}" already has one (NpcFaceMaterialPlugin.Get(material) returns it)`);
  }
  return material;
}

let Registered = false;

/** Registers {@link NpcFaceMaterialPlugin} with Babylon's type store, so scenes and materials parse it. Idempotent. */
export function RegisterNpcFaceMaterialPlugin(): void {
  if (Registered) return;
  Registered = true;
  RegisterClass("BABYLON.NpcFaceMaterialPlugin", NpcFaceMaterialPlugin);
}
