/** This file must only contain pure code and pure imports */
import type { Material } from "@babylonjs/core/Materials/material.pure.js";
import type { MaterialDefines } from "@babylonjs/core/Materials/materialDefines.js";
import { MaterialPluginBase } from "@babylonjs/core/Materials/materialPluginBase.pure.js";
import { ShaderLanguage } from "@babylonjs/core/Materials/shaderLanguage.js";
import type { BaseTexture } from "@babylonjs/core/Materials/Textures/baseTexture.pure.js";
import type { UniformBuffer } from "@babylonjs/core/Materials/uniformBuffer.js";
import type { Scene } from "@babylonjs/core/scene.pure.js";
import { NpcFaceSkinLevel, NpcFaceUniformDeclarations, NpcFaceUniforms } from "./npcFaceShaders.js";

/** Where the face goes in the mesh's (transformed) UV space: the rectangle that receives the whole face image. */
export interface NpcFaceRect {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** How the face is placed and blended (serialised with the plugin). */
export interface NpcFaceCompositionParameters {
  /** Samples the face at (u, 1 - v). */
  flipV?: boolean;
  /** UV set: 0 = uv, 1 = uv2 (like `Texture.coordinatesIndex`). */
  coordinatesIndex?: number;
  uScale?: number;
  vScale?: number;
  uOffset?: number;
  vOffset?: number;
  /** Absent: the face covers the whole UV range. */
  faceRect?: NpcFaceRect | null;
  maskShape?: "rectangle" | "ellipse";
  maskFeather?: number;
  /** Absent or null: the mask fits the whole face image. */
  maskRect?: NpcFaceRect | null;
  skinFromFace?: boolean;
  faceOpacity?: number;
}

/** The numeric fields of {@link NpcFaceCompositionParameters} that are plain properties (no defines depend on them). */
const NumberFields = ["uScale", "vScale", "uOffset", "vOffset", "maskFeather", "faceOpacity"] as const;

/**
 * The composition shared by `NpcFaceMaterialPlugin` and `NpcFaceCrowdMaterialPlugin`: where a face goes in the mesh's
 * UV space and how it is blended into the material's own albedo (UV set, UV transform, face rectangle, soft mask, skin
 * tone from the face). Both inject the same composition shader code (npcFaceShaders.ts), each with its own face
 * texture, so this base owns the composition's state, defines, uniforms and serialisation, and each plugin only where
 * its faces come from. Its properties are the plugins' own public properties.
 */
export abstract class NpcFaceCompositionPluginBase extends MaterialPluginBase {
  /** UV transform, like a Babylon texture's (uv * scale + offset). */
  uScale = 1;
  /** See {@link uScale}. */
  vScale = 1;
  /** See {@link uScale}. */
  uOffset = 0;
  /** See {@link uScale}. */
  vOffset = 0;
  /** Width of the mask's soft edge as a fraction of the face rectangle (0 = hard edge). Only with {@link faceRect}. */
  maskFeather = 0.1;
  /** How much the face covers the material's own albedo, 0..1 (default 1). */
  faceOpacity = 1;

  private _flipV = false;
  private _coordinatesIndex = 0;
  private _faceRect: NpcFaceRect | null = null;
  private _maskShape: "rectangle" | "ellipse" = "ellipse";
  private _maskRect: NpcFaceRect | null = null;
  private _skinFromFace = false;

  /**
   * @param material a StandardMaterial or a PBR material
   * @param name the plugin's name in the material's plugin manager
   * @param defines the plugin's own defines, declared before the composition's
   */
  protected constructor(material: Material, name: string, defines: Record<string, boolean>) {
    super(material, name, 110, { ...defines, NPCFACE: false, NPCFACE_FLIPV: false, NPCFACE_UV2: false, NPCFACE_RECT: false, NPCFACE_ELLIPSE: false, NPCFACE_SRGB: false, NPCFACE_SKIN: false }, true, true);
  }

  /**
   * Samples the face at (u, 1 - v). The face texture has the orientation of an image loaded with `new Texture(url)`
   * (v = 1 is the top of the head), which is upright on `CreatePlane` and on meshes textured for Babylon; Babylon's
   * `CreateSphere` has v = 0 at its north pole, so set this to show the face upright there.
   */
  get flipV(): boolean {
    return this._flipV;
  }
  set flipV(value: boolean) {
    if (this._flipV === value) return;
    this._flipV = value;
    this.markAllDefinesAsDirty();
  }

  /** UV set of the face: 0 = the mesh's first (`uv`), 1 = its second (`uv2`), like `Texture.coordinatesIndex`. */
  get coordinatesIndex(): number {
    return this._coordinatesIndex;
  }
  set coordinatesIndex(value: number) {
    const index = value === 1 ? 1 : 0;
    if (this._coordinatesIndex === index) return;
    this._coordinatesIndex = index;
    this.markAllDefinesAsDirty();
  }

  /**
   * The rectangle of the (transformed) UV space that receives the face, e.g. the face region of a head texture; the
   * material's own albedo (texture, vertex colours, detail map, decals) shows around it, blended through a soft mask
   * ({@link maskShape}, {@link maskFeather}). null (default): the face covers the whole UV range.
   */
  get faceRect(): NpcFaceRect | null {
    return this._faceRect;
  }
  set faceRect(value: NpcFaceRect | null) {
    const rect = CopyRect(value);
    // Only having a rectangle or not changes the shader; its place is a uniform.
    if ((rect === null) !== (this._faceRect === null)) this.markAllDefinesAsDirty();
    this._faceRect = rect;
  }

  /** Shape of the mask inside {@link faceRect}: `"ellipse"` (default, a face's outline) or `"rectangle"`. */
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
    this._maskRect = CopyRect(value);
  }

  /**
   * Whether the material's own albedo, where the face does not cover it, is multiplied by the face's skin tone:
   * the mean colour of its cheeks (`NpcFaceSkinPoints`), read by the shader from a coarse mip level, so a head in a
   * white or grey-scale albedo takes the face's own skin tone with no readback (each crowd instance its own face's).
   * Default false. Needs texture LOD in the fragment shader (WebGL2, WebGPU, WebGL1 with EXT_shader_texture_lod);
   * elsewhere it stays off.
   */
  get skinFromFace(): boolean {
    return this._skinFromFace;
  }
  set skinFromFace(value: boolean) {
    if (this._skinFromFace === value) return;
    this._skinFromFace = value;
    this.markAllDefinesAsDirty();
  }

  /** GLSL (WebGL) and WGSL (WebGPU) are both supported. */
  override isCompatible(shaderLanguage: ShaderLanguage): boolean {
    return shaderLanguage === ShaderLanguage.GLSL || shaderLanguage === ShaderLanguage.WGSL;
  }

  /** @internal */
  override getUniforms(): ReturnType<typeof NpcFaceUniformDeclarations> {
    return NpcFaceUniformDeclarations();
  }

  /**
   * Sets the composition's defines (`NPCFACE`, `NPCFACE_RECT`, ...) and the UV set Babylon must pass to the fragment
   * shader.
   * @param texture the face texture shown, or undefined when none is (all defines off)
   */
  protected _prepareCompositionDefines(defines: MaterialDefines, scene: Scene, texture: BaseTexture | undefined): void {
    const on = texture !== undefined;
    defines["NPCFACE"] = on;
    defines["NPCFACE_FLIPV"] = on && this._flipV;
    defines["NPCFACE_UV2"] = on && this._coordinatesIndex === 1;
    defines["NPCFACE_RECT"] = on && this._faceRect !== null;
    defines["NPCFACE_ELLIPSE"] = on && this._faceRect !== null && this._maskShape === "ellipse";
    defines["NPCFACE_SRGB"] = on && texture.getInternalTexture()?._useSRGBBuffer === true;
    defines["NPCFACE_SKIN"] = on && this._skinFromFace && scene.getEngine().getCaps().textureLOD;
    if (on) {
      defines._needUVs = true;
      defines[this._coordinatesIndex === 1 ? "MAINUV2" : "MAINUV1"] = true;
    }
  }

  /** Binds the face texture shown to the plugin's sampler and the composition's uniforms. */
  protected _bindComposition(uniformBuffer: UniformBuffer, samplerName: string, texture: BaseTexture): void {
    uniformBuffer.setTexture(samplerName, texture);
    uniformBuffer.updateFloat4(NpcFaceUniforms.transform, this.uScale, this.vScale, this.uOffset, this.vOffset);
    UpdateRectUniform(uniformBuffer, NpcFaceUniforms.rect, this._faceRect);
    uniformBuffer.updateFloat4(NpcFaceUniforms.mask, this.maskFeather, this.faceOpacity, NpcFaceSkinLevel(texture.getSize().width), 0);
    UpdateRectUniform(uniformBuffer, NpcFaceUniforms.maskRect, this._maskRect);
  }

  /** The composition's part of `serialize()`, in the order of the fields files already have. */
  protected _serializeComposition(): NpcFaceCompositionParameters {
    return {
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
    };
  }

  /** Restores what {@link _serializeComposition} wrote; fields that are absent or of the wrong type keep their value. */
  protected _parseComposition(source: any): void {
    if (typeof source?.flipV === "boolean") this.flipV = source.flipV;
    if (typeof source?.skinFromFace === "boolean") this.skinFromFace = source.skinFromFace;
    if (typeof source?.coordinatesIndex === "number") this.coordinatesIndex = source.coordinatesIndex;
    for (const key of NumberFields) if (typeof source?.[key] === "number") this[key] = source[key];
    if (source?.maskShape === "rectangle" || source?.maskShape === "ellipse") this.maskShape = source.maskShape;
    if (source?.faceRect === null || IsRect(source?.faceRect)) this.faceRect = source.faceRect;
    if (source?.maskRect === null || IsRect(source?.maskRect)) this.maskRect = source.maskRect;
  }
}

/** A copy, so that later changes to the caller's object do not move the face behind the plugin's back. */
function CopyRect(rect: NpcFaceRect | null): NpcFaceRect | null {
  return rect ? { x: rect.x, y: rect.y, width: rect.width, height: rect.height } : null;
}

function IsRect(value: any): value is NpcFaceRect {
  return !!value && [value.x, value.y, value.width, value.height].every((v: unknown) => typeof v === "number");
}

/** A rectangle as (x, y, width, height); null is the whole range; a zero size is nudged, the shader divides by it. */
function UpdateRectUniform(uniformBuffer: UniformBuffer, name: string, rect: NpcFaceRect | null): void {
  const { x, y, width, height } = rect ?? { x: 0, y: 0, width: 1, height: 1 };
  uniformBuffer.updateFloat4(name, x, y, width || 1e-6, height || 1e-6);
}
