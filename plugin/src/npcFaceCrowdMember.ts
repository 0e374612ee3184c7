/**
 * One NPC of an {@link NpcFaceCrowd}: its face parameters (seed, mixing, psi, noise, controls, labels; the
 * NpcFaceParameters a material plugin holds too, so the same parameters give the same face), the layer of the crowd's
 * texture array that shows its face, and the instances (thin instances or InstancedMesh) that draw it.
 */
import type { AbstractMesh } from "@babylonjs/core/Meshes/abstractMesh.pure.js";
import type { Mesh } from "@babylonjs/core/Meshes/mesh.pure.js";
import { NpcFaceParameters, type NpcFacePluginParameters } from "./npcFaceParameters.js";

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
export class NpcFaceCrowdMember extends NpcFaceParameters {
  /** The game's name for this NPC (serialised, not used by the crowd). */
  name: string | undefined;

  private readonly _targets: InstanceTarget[] = [];
  private _shownLayer = -1;

  /** @internal */
  constructor(owner: NpcFaceCrowdMemberOwner) {
    super(() => owner._onMemberChanged(this));
  }

  /** The texture-array layer showing this NPC's face, or -1 (none yet: the fallback colour). */
  get layer(): number {
    return this._shownLayer;
  }

  /** Sets several parameters at once (absent fields are left as they are; `control_<name>` entries set controls). */
  override set(parameters: NpcFaceCrowdMemberParameters): this {
    if (parameters.name !== undefined) this.name = parameters.name;
    return super.set(parameters);
  }

  /** The parameters in the material plugin's serialised form (plus `name`). */
  override serialize(): NpcFaceCrowdMemberParameters {
    const out: NpcFaceCrowdMemberParameters = super.serialize();
    if (this.name !== undefined) out.name = this.name;
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

}
