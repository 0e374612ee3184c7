/**
 * One NPC of an {@link NpcFaceCrowd}: the same face parameters as {@link NpcFaceMaterialPlugin} (seed, mixing, psi,
 * noise, controls, labels), the layer of the crowd's texture array that shows its face, and the instances (thin
 * instances or InstancedMesh) that draw it.
 */
import type { FaceRequest } from "@npc-faces/runtime";
import type { AbstractMesh } from "@babylonjs/core/Meshes/abstractMesh.pure.js";
import type { Mesh } from "@babylonjs/core/Meshes/mesh.pure.js";
import type { NpcFacePluginParameters } from "./npcFaceMaterialPlugin.pure.js";
import { NpcFaceControlPrefix } from "./npcFaceMaterialPlugin.pure.js";

/** Name of the per-instance vertex attribute (1 float: the layer + 1; 0 = no face yet, the fallback colour). */
export const NpcFaceLayerAttribute = "npcFaceLayer";

/** The parameters of a crowd member as serialised: the plugin's, plus an optional name. */
export interface NpcFaceCrowdMemberParameters extends Partial<NpcFacePluginParameters> {
  /** The game's name for this NPC (not used by the crowd). */
  name?: string;
}

/** What a member tells its crowd. @internal */
export interface NpcFaceCrowdMemberOwner {
  _onMemberChanged(member: NpcFaceCrowdMember): void;
}

/** Where a member's layer is written: a thin instance of a mesh, or an instance (InstancedMesh or its source). */
type InstanceTarget = { readonly kind: "thin"; readonly mesh: Mesh; readonly index: number } | { readonly kind: "instance"; readonly mesh: AbstractMesh };

/** An NPC of a crowd. Create with {@link NpcFaceCrowd.add}. */
export class NpcFaceCrowdMember {
  /** The game's name for this NPC (serialised, not used by the crowd). */
  name: string | undefined;

  private _seed = 0;
  private _mixSeed = 0;
  private _mix = 0;
  private _mixCrossover = 0;
  private _psi: number | undefined;
  private _noiseStrength: number | undefined;
  private readonly _controls = new Map<string, number>();
  private readonly _labels = new Map<string, string>();
  private readonly _targets: InstanceTarget[] = [];
  private _shownLayer = -1;

  /** @internal */
  constructor(private readonly _owner: NpcFaceCrowdMemberOwner) {}

  /** The face's identity: an integer in 0..4294967295. */
  get seed(): number {
    return this._seed;
  }
  set seed(value: number) {
    if (this._seed === value) return;
    this._seed = value;
    this._changed();
  }

  /** The face to breed with (style mixing); only used when {@link mix} > 0. */
  get mixSeed(): number {
    return this._mixSeed;
  }
  set mixSeed(value: number) {
    if (this._mixSeed === value) return;
    this._mixSeed = value;
    this._changed();
  }

  /** How much of the mix face the mixed layers take, 0..1 (default 0). */
  get mix(): number {
    return this._mix;
  }
  set mix(value: number) {
    if (this._mix === value) return;
    this._mix = value;
    this._changed();
  }

  /** First style layer that takes the mix face. */
  get mixCrossover(): number {
    return this._mixCrossover;
  }
  set mixCrossover(value: number) {
    if (this._mixCrossover === value) return;
    this._mixCrossover = value;
    this._changed();
  }

  /** Truncation (undefined: the model's default). */
  get psi(): number | undefined {
    return this._psi;
  }
  set psi(value: number | undefined) {
    if (this._psi === value) return;
    this._psi = value;
    this._changed();
  }

  /** Noise multiplier (undefined: the model's default). */
  get noiseStrength(): number | undefined {
    return this._noiseStrength;
  }
  set noiseStrength(value: number | undefined) {
    if (this._noiseStrength === value) return;
    this._noiseStrength = value;
    this._changed();
  }

  /** The amount of a named control set on this member (undefined: the model's default). */
  getControl(name: string): number | undefined {
    return this._controls.get(name);
  }

  /** Sets (or with `undefined` clears) a named control. */
  setControl(name: string, value: number | undefined): void {
    if (this._controls.get(name) === value) return;
    if (value === undefined) this._controls.delete(name);
    else this._controls.set(name, value);
    this._changed();
  }

  /** Conditional models: sets (or with `undefined` clears) a label attribute's value. */
  setLabel(attribute: string, value: string | undefined): void {
    if (this._labels.get(attribute) === value) return;
    if (value === undefined) this._labels.delete(attribute);
    else this._labels.set(attribute, value);
    this._changed();
  }

  /** Conditional models: a label attribute's value. */
  getLabel(attribute: string): string | undefined {
    return this._labels.get(attribute);
  }

  /** The face request of the current parameters (the same as a material plugin's with the same parameters). */
  get request(): FaceRequest {
    const request: { -readonly [K in keyof FaceRequest]: FaceRequest[K] } = { seed: this._seed };
    if (this._mix !== 0) {
      request.mixSeed = this._mixSeed;
      request.mix = this._mix;
      request.mixCrossover = this._mixCrossover;
    }
    if (this._psi !== undefined) request.psi = this._psi;
    if (this._noiseStrength !== undefined) request.noiseStrength = this._noiseStrength;
    if (this._controls.size > 0) request.controls = Object.fromEntries(this._controls);
    if (this._labels.size > 0) request.labels = Object.fromEntries(this._labels);
    return request;
  }

  /** The texture-array layer showing this NPC's face, or -1 (none yet: the fallback colour). */
  get layer(): number {
    return this._shownLayer;
  }

  /** Sets several parameters at once (absent fields are left as they are; `control_<name>` entries set controls). */
  set(parameters: NpcFaceCrowdMemberParameters): this {
    if (parameters.name !== undefined) this.name = parameters.name;
    if (typeof parameters.seed === "number") this.seed = parameters.seed;
    if (typeof parameters.mixSeed === "number") this.mixSeed = parameters.mixSeed;
    if (typeof parameters.mix === "number") this.mix = parameters.mix;
    if (typeof parameters.mixCrossover === "number") this.mixCrossover = parameters.mixCrossover;
    if (typeof parameters.psi === "number") this.psi = parameters.psi;
    if (typeof parameters.noiseStrength === "number") this.noiseStrength = parameters.noiseStrength;
    for (const [key, value] of Object.entries(parameters)) {
      if (key.startsWith(NpcFaceControlPrefix) && typeof value === "number") this.setControl(key.slice(NpcFaceControlPrefix.length), value);
    }
    if (parameters.labels) for (const [attribute, value] of Object.entries(parameters.labels)) this.setLabel(attribute, value);
    return this;
  }

  /** The parameters in the material plugin's serialised form (plus `name`). */
  serialize(): NpcFaceCrowdMemberParameters {
    const out: NpcFaceCrowdMemberParameters = { seed: this._seed, mixSeed: this._mixSeed, mix: this._mix, mixCrossover: this._mixCrossover };
    if (this.name !== undefined) out.name = this.name;
    if (this._psi !== undefined) out.psi = this._psi;
    if (this._noiseStrength !== undefined) out.noiseStrength = this._noiseStrength;
    if (this._labels.size > 0) out.labels = Object.fromEntries(this._labels);
    for (const [name, value] of this._controls) out[`${NpcFaceControlPrefix}${name}`] = value;
    return out;
  }

  /**
   * Draws this NPC's face on thin instance `index` of `mesh` (which the crowd's material plugin renders). Registers the
   * per-instance attribute on the mesh if needed.
   */
  bindThinInstance(mesh: Mesh, index: number): this {
    if (!mesh.getVertexBuffer(NpcFaceLayerAttribute)) mesh.thinInstanceRegisterAttribute(NpcFaceLayerAttribute, 1);
    this._targets.push({ kind: "thin", mesh, index });
    this._writeTarget(this._targets[this._targets.length - 1]);
    return this;
  }

  /** Draws this NPC's face on an InstancedMesh (or its source mesh): the layer goes in `instancedBuffers`. */
  bindInstance(mesh: AbstractMesh): this {
    const source = (mesh as { sourceMesh?: Mesh }).sourceMesh ?? (mesh as Mesh);
    if (!source.instancedBuffers || !(NpcFaceLayerAttribute in source.instancedBuffers)) {
      source.registerInstancedBuffer(NpcFaceLayerAttribute, 1);
      source.instancedBuffers[NpcFaceLayerAttribute] = 0;
    }
    this._targets.push({ kind: "instance", mesh });
    this._writeTarget(this._targets[this._targets.length - 1]);
    return this;
  }

  /** Stops writing to the instances bound so far (they keep their last value). */
  unbindInstances(): void {
    this._targets.length = 0;
  }

  /** Shows a layer (or -1: the fallback) on the bound instances. @internal */
  _show(layer: number, dirtyMeshes: Set<Mesh>): void {
    if (this._shownLayer === layer) return;
    this._shownLayer = layer;
    for (const target of this._targets) {
      this._writeTarget(target);
      if (target.kind === "thin") dirtyMeshes.add(target.mesh);
    }
  }

  private _writeTarget(target: InstanceTarget): void {
    const value = this._shownLayer + 1;
    if (target.kind === "thin") target.mesh.thinInstanceSetAttributeAt(NpcFaceLayerAttribute, target.index, [value], false);
    else target.mesh.instancedBuffers[NpcFaceLayerAttribute] = value;
  }

  private _changed(): void {
    this._owner._onMemberChanged(this);
  }
}
