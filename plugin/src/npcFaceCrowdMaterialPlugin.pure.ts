/** This file must only contain pure code and pure imports */
import type { AbstractEngine } from "@babylonjs/core/Engines/abstractEngine.pure.js";
import type { Material } from "@babylonjs/core/Materials/material.pure.js";
import type { MaterialDefines } from "@babylonjs/core/Materials/materialDefines.js";
import { MaterialPluginBase } from "@babylonjs/core/Materials/materialPluginBase.pure.js";
import { ShaderLanguage } from "@babylonjs/core/Materials/shaderLanguage.js";
import type { BaseTexture } from "@babylonjs/core/Materials/Textures/baseTexture.pure.js";
import type { UniformBuffer } from "@babylonjs/core/Materials/uniformBuffer.js";
import type { AbstractMesh } from "@babylonjs/core/Meshes/abstractMesh.pure.js";
import type { SubMesh } from "@babylonjs/core/Meshes/subMesh.pure.js";
import { RegisterClass } from "@babylonjs/core/Misc/typeStore.js";
import type { Scene } from "@babylonjs/core/scene.pure.js";
import { NpcFaceCrowd } from "./npcFaceCrowd.js";
import { NpcFaceLayerAttribute } from "./npcFaceCrowdMember.js";
import { CrowdFaceCode, NpcFaceLayersSamplerName } from "./npcFaceCrowdShaders.js";
import type { NpcFaceRect } from "./npcFaceMaterialPlugin.pure.js";
import { NpcFaceSkinLevel, NpcFaceUniformDeclarations, NpcFaceUniforms } from "./npcFaceShaders.js";

/** The plugin's name in the material's plugin manager. */
export const NpcFaceCrowdMaterialPluginName = "NpcFaceCrowd";

/**
 * A material plugin that shows the faces of an {@link NpcFaceCrowd}: each instance (thin instance or InstancedMesh)
 * reads its NPC's layer of the crowd's texture array, so one material and one draw call serve the whole crowd. The
 * face is composed into the albedo exactly as with `NpcFaceMaterialPlugin` (UV set, UV transform, face rectangle and
 * soft mask, blended before vertex colours/detail maps/decals); a material carries one of the two plugins, not both.
 * Meshes without the per-instance attribute (no member bound) show a neutral grey.
 */
export class NpcFaceCrowdMaterialPlugin extends MaterialPluginBase {
  private _crowd: NpcFaceCrowd | undefined;
  private _crowdName: string | undefined;
  private _isEnabled = true;
  private _flipV = false;
  private _coordinatesIndex = 0;
  private _faceRect: NpcFaceRect | null = null;
  private _maskShape: "rectangle" | "ellipse" = "ellipse";
  private _maskRect: NpcFaceRect | null = null;
  private _skinFromFace = false;
  /** UV transform like a Babylon texture's (uv * scale + offset), as on NpcFaceMaterialPlugin. */
  uScale = 1;
  /** See {@link uScale}. */
  vScale = 1;
  /** See {@link uScale}. */
  uOffset = 0;
  /** See {@link uScale}. */
  vOffset = 0;
  /** Soft edge of the mask, a fraction of {@link faceRect} (as on NpcFaceMaterialPlugin). */
  maskFeather = 0.1;
  /** How much the faces cover the material's own albedo, 0..1. */
  faceOpacity = 1;

  /**
   * @param material a StandardMaterial or a PBR material
   * @param crowd the crowd whose faces it shows (default: the scene's crowd named "npcFaceCrowd", when it exists)
   */
  constructor(material: Material, crowd?: NpcFaceCrowd) {
    super(material, NpcFaceCrowdMaterialPluginName, 110, { NPCFACECROWD: false, NPCFACECROWD_INSTANCED: false, NPCFACE: false, NPCFACE_FLIPV: false, NPCFACE_UV2: false, NPCFACE_RECT: false, NPCFACE_ELLIPSE: false, NPCFACE_SRGB: false, NPCFACE_SKIN: false }, true, true);
    this._crowd = crowd;
  }

  /** @returns "NpcFaceCrowdMaterialPlugin" */
  override getClassName(): string {
    return "NpcFaceCrowdMaterialPlugin";
  }

  /** GLSL (WebGL2) and WGSL (WebGPU). */
  override isCompatible(shaderLanguage: ShaderLanguage): boolean {
    return shaderLanguage === ShaderLanguage.GLSL || shaderLanguage === ShaderLanguage.WGSL;
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

  /** Samples at (u, 1 - v), for meshes such as Babylon's sphere whose v = 0 is the top (see NpcFaceMaterialPlugin.flipV). */
  get flipV(): boolean {
    return this._flipV;
  }
  set flipV(value: boolean) {
    if (this._flipV === value) return;
    this._flipV = value;
    this.markAllDefinesAsDirty();
  }

  /** UV set of the faces: 0 = uv, 1 = uv2. */
  get coordinatesIndex(): number {
    return this._coordinatesIndex;
  }
  set coordinatesIndex(value: number) {
    const index = value === 1 ? 1 : 0;
    if (this._coordinatesIndex === index) return;
    this._coordinatesIndex = index;
    this.markAllDefinesAsDirty();
  }

  /** Where the faces go in UV space, blended into the material's albedo (see NpcFaceMaterialPlugin.faceRect); null: everywhere. */
  get faceRect(): NpcFaceRect | null {
    return this._faceRect;
  }
  set faceRect(value: NpcFaceRect | null) {
    const rect = value ? { x: value.x, y: value.y, width: value.width, height: value.height } : null;
    if ((rect === null) !== (this._faceRect === null)) this.markAllDefinesAsDirty();
    this._faceRect = rect;
  }

  /** Shape of the mask inside {@link faceRect}. */
  get maskShape(): "rectangle" | "ellipse" {
    return this._maskShape;
  }
  set maskShape(value: "rectangle" | "ellipse") {
    if (this._maskShape === value) return;
    this._maskShape = value;
    this.markAllDefinesAsDirty();
  }

  /**
   * The part of the face image the mask fits (its ellipse or rectangle, feathered inwards), in the face texture's UV
   * (0..1, v = 1 at the top of the face): e.g. the face's skin without the hair and background around it, so the face
   * fades out into the head's skin. null (default): the whole image. Only with {@link faceRect}.
   */
  get maskRect(): NpcFaceRect | null {
    return this._maskRect;
  }
  set maskRect(value: NpcFaceRect | null) {
    this._maskRect = value ? { x: value.x, y: value.y, width: value.width, height: value.height } : null;
  }

  /**
   * Whether the material's own albedo, where the faces do not cover it, is multiplied by the face's skin tone:
   * the mean colour of its cheeks (`NpcFaceSkinPoints`), read by the shader from a coarse mip level, so a head in a
   * white or grey-scale albedo takes each NPC's face's own skin tone with no readback. Default false. Needs texture
   * LOD in the fragment shader (WebGL2, WebGPU, WebGL1 with EXT_shader_texture_lod); elsewhere it stays off.
   */
  get skinFromFace(): boolean {
    return this._skinFromFace;
  }
  set skinFromFace(value: boolean) {
    if (this._skinFromFace === value) return;
    this._skinFromFace = value;
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
    const on = this._texture() !== undefined;
    defines["NPCFACECROWD"] = on;
    defines["NPCFACECROWD_INSTANCED"] = on && HasLayerAttribute(mesh);
    defines["NPCFACE"] = on;
    defines["NPCFACE_FLIPV"] = on && this._flipV;
    defines["NPCFACE_UV2"] = on && this._coordinatesIndex === 1;
    defines["NPCFACE_RECT"] = on && this._faceRect !== null;
    defines["NPCFACE_ELLIPSE"] = on && this._faceRect !== null && this._maskShape === "ellipse";
    defines["NPCFACE_SRGB"] = on && this._texture()?.getInternalTexture()?._useSRGBBuffer === true;
    defines["NPCFACE_SKIN"] = on && this._skinFromFace && scene.getEngine().getCaps().textureLOD;
    if (on) {
      defines._needUVs = true;
      defines[this._coordinatesIndex === 1 ? "MAINUV2" : "MAINUV1"] = true;
    }
  }

  /** @internal */
  override getUniforms(): ReturnType<typeof NpcFaceUniformDeclarations> {
    return NpcFaceUniformDeclarations();
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
    uniformBuffer.setTexture(NpcFaceLayersSamplerName, texture);
    uniformBuffer.updateFloat4(NpcFaceUniforms.transform, this.uScale, this.vScale, this.uOffset, this.vOffset);
    const rect = this._faceRect ?? { x: 0, y: 0, width: 1, height: 1 };
    uniformBuffer.updateFloat4(NpcFaceUniforms.rect, rect.x, rect.y, rect.width || 1e-6, rect.height || 1e-6);
    uniformBuffer.updateFloat4(NpcFaceUniforms.mask, this.maskFeather, this.faceOpacity, NpcFaceSkinLevel(texture.getSize().width), 0);
    const maskRect = this._maskRect ?? { x: 0, y: 0, width: 1, height: 1 };
    uniformBuffer.updateFloat4(NpcFaceUniforms.maskRect, maskRect.x, maskRect.y, maskRect.width || 1e-6, maskRect.height || 1e-6);
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

  /** The crowd's name and the flags (the crowd serialises itself: {@link NpcFaceCrowd.serialize}). */
  override serialize(): any {
    return Object.assign(super.serialize(), {
      crowd: this._crowd?.name ?? this._crowdName,
      isEnabled: this._isEnabled,
      flipV: this._flipV,
      coordinatesIndex: this._coordinatesIndex,
      uScale: this.uScale,
      vScale: this.vScale,
      uOffset: this.uOffset,
      vOffset: this.vOffset,
      faceRect: this._faceRect,
      maskShape: this._maskShape,
      maskFeather: this.maskFeather,
      maskRect: this._maskRect,
      skinFromFace: this._skinFromFace,
      faceOpacity: this.faceOpacity,
    });
  }

  /** Restores what {@link serialize} wrote; the crowd is looked up by name in the scene. */
  override parse(source: any, scene: Scene, rootUrl: string): void {
    super.parse(source, scene, rootUrl);
    if (typeof source?.crowd === "string") this._crowdName = source.crowd;
    if (typeof source?.isEnabled === "boolean") this.isEnabled = source.isEnabled;
    if (typeof source?.flipV === "boolean") this.flipV = source.flipV;
    if (typeof source?.skinFromFace === "boolean") this.skinFromFace = source.skinFromFace;
    if (typeof source?.coordinatesIndex === "number") this.coordinatesIndex = source.coordinatesIndex;
    for (const key of ["uScale", "vScale", "uOffset", "vOffset", "maskFeather", "faceOpacity"] as const) if (typeof source?.[key] === "number") this[key] = source[key];
    if (source?.maskShape === "rectangle" || source?.maskShape === "ellipse") this.maskShape = source.maskShape;
    const rect = source?.faceRect;
    if (rect === null || (rect && [rect.x, rect.y, rect.width, rect.height].every((v: unknown) => typeof v === "number"))) this.faceRect = rect;
    const maskRect = source?.maskRect;
    if (maskRect === null || (maskRect && [maskRect.x, maskRect.y, maskRect.width, maskRect.height].every((v: unknown) => typeof v === "number"))) this.maskRect = maskRect;
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
