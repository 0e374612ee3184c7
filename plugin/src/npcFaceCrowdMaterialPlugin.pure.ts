/** This file must only contain pure code and pure imports */
import type { AbstractEngine } from "@babylonjs/core/Engines/abstractEngine.pure.js";
import type { Material } from "@babylonjs/core/Materials/material.pure.js";
import type { MaterialDefines } from "@babylonjs/core/Materials/materialDefines.js";
import { ShaderLanguage } from "@babylonjs/core/Materials/shaderLanguage.js";
import type { BaseTexture } from "@babylonjs/core/Materials/Textures/baseTexture.pure.js";
import type { UniformBuffer } from "@babylonjs/core/Materials/uniformBuffer.js";
import type { AbstractMesh } from "@babylonjs/core/Meshes/abstractMesh.pure.js";
import type { SubMesh } from "@babylonjs/core/Meshes/subMesh.pure.js";
import { RegisterClass } from "@babylonjs/core/Misc/typeStore.js";
import type { Scene } from "@babylonjs/core/scene.pure.js";
import { NpcFaceCompositionPluginBase } from "./npcFaceCompositionPluginBase.js";
import { NpcFaceCrowd } from "./npcFaceCrowd.js";
import { NpcFaceLayerAttribute } from "./npcFaceCrowdMember.js";
import { CrowdFaceCode, NpcFaceLayersSamplerName } from "./npcFaceCrowdShaders.js";

/** The plugin's name in the material's plugin manager. */
export const NpcFaceCrowdMaterialPluginName = "NpcFaceCrowd";

/**
 * A material plugin that shows the faces of an {@link NpcFaceCrowd}: each instance (thin instance or InstancedMesh)
 * reads its NPC's layer of the crowd's texture array, so one material and one draw call serve the whole crowd. The
 * face is composed into the albedo exactly as with `NpcFaceMaterialPlugin` (UV set, UV transform, face rectangle and
 * soft mask, blended before vertex colours/detail maps/decals); a material carries one of the two plugins, not both.
 * Meshes without the per-instance attribute (no member bound) show a neutral grey.
 */
export class NpcFaceCrowdMaterialPlugin extends NpcFaceCompositionPluginBase {
  private _crowd: NpcFaceCrowd | undefined;
  private _crowdName: string | undefined;
  private _isEnabled = true;

  /**
   * @param material a StandardMaterial or a PBR material
   * @param crowd the crowd whose faces it shows (default: the scene's crowd named "npcFaceCrowd", when it exists)
   */
  constructor(material: Material, crowd?: NpcFaceCrowd) {
    super(material, NpcFaceCrowdMaterialPluginName, { NPCFACECROWD: false, NPCFACECROWD_INSTANCED: false });
    this._crowd = crowd;
  }

  /** @returns "NpcFaceCrowdMaterialPlugin" */
  override getClassName(): string {
    return "NpcFaceCrowdMaterialPlugin";
  }

  /** The crowd shown (after parsing: found by name when first rendered). */
  get crowd(): NpcFaceCrowd | undefined {
    if (!this._crowd || this._crowd.texture === undefined) {
      const found = NpcFaceCrowd.Get(this._material.getScene(), this._crowdName ?? this._crowd?.name);
      if (found) this._crowd = found;
    }
    return this._crowd;
  }
  set crowd(value: NpcFaceCrowd | undefined) {
    if (this._crowd === value) return;
    this._crowd = value;
    this.markAllDefinesAsDirty();
  }

  /** Whether the crowd's faces replace the diffuse/albedo colour. */
  get isEnabled(): boolean {
    return this._isEnabled;
  }
  set isEnabled(value: boolean) {
    if (this._isEnabled === value) return;
    this._isEnabled = value;
    this.markAllDefinesAsDirty();
  }

  private _texture(): BaseTexture | undefined {
    return this._isEnabled && this._material.getScene().texturesEnabled ? this.crowd?.texture : undefined;
  }

  /** @internal */
  override isReadyForSubMesh(_defines: MaterialDefines, _scene: Scene, _engine: AbstractEngine, _subMesh: SubMesh): boolean {
    const texture = this._texture();
    return !texture || texture.isReady();
  }

  /** @internal */
  override prepareDefinesBeforeAttributes(defines: MaterialDefines, scene: Scene, mesh: AbstractMesh): void {
    const texture = this._texture();
    defines["NPCFACECROWD"] = texture !== undefined;
    defines["NPCFACECROWD_INSTANCED"] = texture !== undefined && HasLayerAttribute(mesh);
    this._prepareCompositionDefines(defines, scene, texture);
  }

  /** @internal */
  override getAttributes(attributes: string[], _scene: Scene, mesh: AbstractMesh): void {
    if (this._texture() !== undefined && HasLayerAttribute(mesh)) attributes.push(NpcFaceLayerAttribute);
  }

  /** @internal */
  override getSamplers(samplers: string[]): void {
    samplers.push(NpcFaceLayersSamplerName);
  }

  /** @internal */
  override bindForSubMesh(uniformBuffer: UniformBuffer, _scene: Scene, _engine: AbstractEngine, _subMesh: SubMesh): void {
    const texture = this._texture();
    if (!texture) return;
    this._bindComposition(uniformBuffer, NpcFaceLayersSamplerName, texture);
  }

  /** @internal */
  override hasTexture(texture: BaseTexture): boolean {
    return texture === this._crowd?.texture;
  }

  /** @internal */
  override getActiveTextures(activeTextures: BaseTexture[]): void {
    const texture = this._crowd?.texture;
    if (texture) activeTextures.push(texture);
  }

  /** @internal */
  override getCustomCode(shaderType: string, shaderLanguage: ShaderLanguage = ShaderLanguage.GLSL): { [pointName: string]: string } | null {
    return CrowdFaceCode(shaderType, shaderLanguage === ShaderLanguage.WGSL, "_albedoColor" in this._material);
  }

  /** The crowd's name, the flag and the composition (the crowd serialises itself: {@link NpcFaceCrowd.serialize}). */
  override serialize(): any {
    return Object.assign(super.serialize(), { crowd: this._crowd?.name ?? this._crowdName, isEnabled: this._isEnabled }, this._serializeComposition());
  }

  /** Restores what {@link serialize} wrote; the crowd is looked up by name in the scene. */
  override parse(source: any, scene: Scene, rootUrl: string): void {
    super.parse(source, scene, rootUrl);
    if (typeof source?.crowd === "string") this._crowdName = source.crowd;
    if (typeof source?.isEnabled === "boolean") this.isEnabled = source.isEnabled;
    this._parseComposition(source);
    this.markAllDefinesAsDirty();
  }
}

/** Thin instances with the attribute registered, or instances whose source registered the instanced buffer. */
function HasLayerAttribute(mesh: AbstractMesh): boolean {
  const source = (mesh as { sourceMesh?: AbstractMesh }).sourceMesh ?? mesh;
  return !!source.getVertexBuffer?.(NpcFaceLayerAttribute) || (source as { instancedBuffers?: Record<string, unknown> }).instancedBuffers?.[NpcFaceLayerAttribute] !== undefined;
}

let Registered = false;

/** Registers {@link NpcFaceCrowdMaterialPlugin} with Babylon's type store (material parsing recreates it). Idempotent. */
export function RegisterNpcFaceCrowdMaterialPlugin(): void {
  if (Registered) return;
  Registered = true;
  RegisterClass("BABYLON.NpcFaceCrowdMaterialPlugin", NpcFaceCrowdMaterialPlugin);
}
