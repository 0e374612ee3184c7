/**
 * Composition of the face into a material under NullEngine (tiny model, in-thread): UV set choice, UV transform, face
 * rectangle and soft mask, blending into a diffuse texture before vertex colours/detail maps/decals,
 * `scene.texturesEnabled`, and their serialisation. Checks the defines and the compiled GLSL. The serialisation, shared
 * by both plugins (NpcFaceCompositionPluginBase), is checked on each.
 */
import "@babylonjs/core/Materials/colorCurves.js";
import { describe, expect, it } from "vitest";
import { FreeCamera } from "@babylonjs/core/Cameras/freeCamera.js";
import { Material } from "@babylonjs/core/Materials/material.js";
import { PBRMaterial } from "@babylonjs/core/Materials/PBR/pbrMaterial.js";
import { StandardMaterial } from "@babylonjs/core/Materials/standardMaterial.js";
import { RawTexture } from "@babylonjs/core/Materials/Textures/rawTexture.js";
import { Vector3 } from "@babylonjs/core/Maths/math.vector.js";
import { CreatePlane } from "@babylonjs/core/Meshes/Builders/planeBuilder.js";
import { VertexBuffer } from "@babylonjs/core/Buffers/buffer.js";
import type { Scene } from "@babylonjs/core/scene.js";
import { NpcFaceCrowdMaterialPlugin, NpcFaceMaterialPlugin, NpcFaceSkinLevel, type NpcFaceCompositionPluginBase } from "@npc-faces/babylon";
import { CreateFaceSceneAsync, WithinAsync } from "./pluginTestScene.js";

async function CompiledAsync(scene: Scene, kind: "standard" | "pbr", setup: (material: StandardMaterial | PBRMaterial, plugin: NpcFaceMaterialPlugin) => void): Promise<{ defines: string; code: string; plugin: NpcFaceMaterialPlugin; material: StandardMaterial | PBRMaterial }> {
  const material = kind === "standard" ? new StandardMaterial(`m${Math.random()}`, scene) : new PBRMaterial(`m${Math.random()}`, scene);
  const mesh = CreatePlane(`p${Math.random()}`, { size: 1 }, scene);
  // A second UV set, as heads exported from DCC tools often have.
  mesh.setVerticesData(VertexBuffer.UV2Kind, mesh.getVerticesData(VertexBuffer.UVKind)!);
  mesh.material = material;
  const plugin = new NpcFaceMaterialPlugin(material);
  setup(material, plugin);
  await WithinAsync(scene.whenReadyAsync(), 30_000, "ready");
  await WithinAsync(material.forceCompilationAsync(mesh), 30_000, "compiled");
  scene.render();
  const effect = mesh.subMeshes[0].effect as unknown as { _fragmentSourceCode: string };
  return { defines: mesh.subMeshes[0].materialDefines!.toString(), code: effect._fragmentSourceCode, plugin, material };
}

function Grey(scene: Scene): RawTexture {
  const texture = new RawTexture(new Uint8Array([200, 150, 120, 255]), 1, 1, 5, scene, false);
  texture.getInternalTexture()!.isReady = true; // NullEngine never marks raw textures ready
  return texture;
}

describe("NpcFaceMaterialPlugin: composition", () => {
  it("defaults: first UV set, whole UV range, no mask defines", async () => {
    const { scene } = await CreateFaceSceneAsync();
    new FreeCamera("camera", new Vector3(0, 0, -5), scene);
    const { defines, code } = await CompiledAsync(scene, "standard", () => undefined);
    expect(defines).toContain("#define NPCFACE\n");
    for (const off of ["NPCFACE_UV2", "NPCFACE_RECT", "NPCFACE_ELLIPSE"]) expect(defines).not.toContain(`#define ${off}`);
    expect(code).toContain("uniform vec4 npcFaceTransform;");
    expect(code).toContain("npcFaceUV = npcFaceUV * npcFaceTransform.xy + npcFaceTransform.zw;");
    scene.dispose();
  });

  it("coordinatesIndex 1 samples the second UV set; a face rectangle with an elliptical or rectangular soft mask", async () => {
    const { scene } = await CreateFaceSceneAsync();
    new FreeCamera("camera", new Vector3(0, 0, -5), scene);
    const ellipse = await CompiledAsync(scene, "standard", (_, plugin) => {
      plugin.coordinatesIndex = 1;
      plugin.faceRect = { x: 0.25, y: 0.5, width: 0.5, height: 0.4 };
      plugin.maskFeather = 0.2;
    });
    expect(ellipse.defines).toContain("#define NPCFACE_UV2");
    expect(ellipse.defines).toContain("#define MAINUV2");
    expect(ellipse.defines).toContain("#define NPCFACE_RECT");
    expect(ellipse.defines).toContain("#define NPCFACE_ELLIPSE");
    expect(ellipse.code).toContain("vec2 npcFaceUV = vMainUV2;");
    expect(ellipse.code).toContain("npcFaceUV = (npcFaceUV - npcFaceRect.xy) / npcFaceRect.zw;");
    expect(ellipse.code).toContain("vec2 npcFaceMaskUV = (npcFaceUV - npcFaceMaskRect.xy) / npcFaceMaskRect.zw;");
    expect(ellipse.code).toContain("length(npcFaceMaskUV - 0.5)");
    const rectangle = await CompiledAsync(scene, "pbr", (_, plugin) => {
      plugin.faceRect = { x: 0, y: 0, width: 1, height: 0.5 };
      plugin.maskShape = "rectangle";
    });
    expect(rectangle.defines).toContain("#define NPCFACE_RECT");
    expect(rectangle.defines).not.toContain("#define NPCFACE_ELLIPSE");
    expect(rectangle.code).toContain("vec2 npcFaceEdge = min(npcFaceMaskUV, 1.0 - npcFaceMaskUV);");
    expect(rectangle.code).toContain("vec3 npcFaceBase = surfaceAlbedo;");
    expect(rectangle.code).toContain("surfaceAlbedo = mix(npcFaceBase, npcFaceAlbedo, npcFaceMask);");
    scene.dispose();
  });

  it("with a diffuse texture the face is mixed into it before the diffuse level, decals, vertex colours and detail map", async () => {
    const { scene } = await CreateFaceSceneAsync();
    new FreeCamera("camera", new Vector3(0, 0, -5), scene);
    const { code, defines } = await CompiledAsync(scene, "standard", (material) => {
      (material as StandardMaterial).diffuseTexture = Grey(scene);
    });
    expect(defines).toContain("#define DIFFUSE");
    const mixAt = code.indexOf("baseColor.rgb = mix(npcFaceBase, npcFace.rgb, npcFaceMask);");
    expect(mixAt).toBeGreaterThan(code.indexOf("baseColor=texture2D(diffuseSampler"));
    // Babylon's later steps (here the diffuse level; vertex colours, detail and decals follow it) act on the face too.
    expect(mixAt).toBeLessThan(code.indexOf("baseColor.rgb*=vDiffuseInfos.y;"));
    // (The effect's source keeps its #if lines:) the multiplying variant is only for materials without a diffuse texture.
    expect(code).toMatch(/#if defined\(NPCFACE\) && !defined\(DIFFUSE\)\n\{[^}]*vec3 npcFaceBase = vec3\(1\.0\);[^}]*baseColor\.rgb \*= mix\(npcFaceBase, npcFace\.rgb, npcFaceMask\);/);
    scene.dispose();
  });

  it("skinFromFace: the albedo outside the face takes the mean of the face's cheeks, read at a coarse mip level", async () => {
    const { scene, engine } = await CreateFaceSceneAsync();
    new FreeCamera("camera", new Vector3(0, 0, -5), scene);
    // NullEngine reports no texture LOD: the option stays off rather than breaking the shader.
    const without = await CompiledAsync(scene, "standard", (_, plugin) => (plugin.skinFromFace = true));
    expect(without.defines).not.toContain("#define NPCFACE_SKIN");
    engine.getCaps().textureLOD = true; // as WebGL2 and WebGPU do
    const standard = await CompiledAsync(scene, "standard", (_, plugin) => {
      plugin.faceRect = { x: 0.2, y: 0.2, width: 0.6, height: 0.6 };
      plugin.maskRect = { x: 0.15, y: 0.05, width: 0.7, height: 0.75 };
      plugin.skinFromFace = true;
    });
    expect(standard.defines).toContain("#define NPCFACE_SKIN");
    expect(standard.code).toContain("#extension GL_EXT_shader_texture_lod : enable");
    expect(standard.code).toContain("vec4 npcFaceSkin = texture2DLodEXT(npcFaceSampler, vec2(0.28, 0.38), npcFaceMaskParams.z) + ");
    expect(standard.code).toMatch(/vec3 npcFaceBase = vec3\(1\.0\) \* npcFaceSkin\.rgb;\n#else/);
    const pbr = await CompiledAsync(scene, "pbr", (_, plugin) => (plugin.skinFromFace = true));
    expect(pbr.defines).toContain("#define NPCFACE_SKIN");
    expect(pbr.code).toContain("npcFaceSkin.rgb = toLinearSpace(npcFaceSkin.rgb);");
    expect(pbr.code).toContain("vec3 npcFaceBase = surfaceAlbedo * npcFaceSkin.rgb;");
    expect(NpcFaceSkinLevel(64)).toBe(2);
    expect(NpcFaceSkinLevel(8)).toBe(0);
    scene.dispose();
  });

  it("respects scene.texturesEnabled like Babylon's own textures", async () => {
    const { scene } = await CreateFaceSceneAsync();
    new FreeCamera("camera", new Vector3(0, 0, -5), scene);
    const { plugin } = await CompiledAsync(scene, "standard", () => undefined);
    const defines: Record<string, unknown> = {};
    plugin.prepareDefinesBeforeAttributes(defines as never, scene, undefined as never);
    expect(defines.NPCFACE).toBe(true);
    scene.texturesEnabled = false;
    plugin.prepareDefinesBeforeAttributes(defines as never, scene, undefined as never);
    expect(defines.NPCFACE).toBe(false);
    scene.dispose();
  });

  it("sRGB: face textures take an sRGB format where the engine has one (NPCFACE_SRGB), a plain one otherwise", async () => {
    const plain = await CreateFaceSceneAsync();
    expect(plain.system.useSrgb).toBe(false); // NullEngine reports no sRGB formats
    plain.scene.dispose();
    const { scene, system, engine } = await CreateFaceSceneAsync();
    engine.getCaps().supportSRGBBuffers = true; // as WebGL2 and WebGPU do
    expect(system.useSrgb).toBe(true);
    new FreeCamera("camera", new Vector3(0, 0, -5), scene);
    const { defines, code, plugin } = await CompiledAsync(scene, "standard", () => undefined);
    await plugin.whenSettledAsync();
    expect(defines).toContain("#define NPCFACE_SRGB");
    expect(code).toContain("npcFace.rgb = npcFaceToGamma(npcFace.rgb);");
    const pbr = await CompiledAsync(scene, "pbr", () => undefined);
    expect(pbr.code).toContain("vec3 npcFaceAlbedo = vAlbedoColor.rgb * npcFace.rgb;");
    const off = await CreateFaceSceneAsync({ srgbTextures: false });
    off.engine.getCaps().supportSRGBBuffers = true;
    expect(off.system.useSrgb).toBe(false);
    off.scene.dispose();
    scene.dispose();
  });

  it("serialises the composition with the material and restores it", async () => {
    const { scene } = await CreateFaceSceneAsync();
    const material = new StandardMaterial("head", scene);
    const plugin = new NpcFaceMaterialPlugin(material);
    plugin.coordinatesIndex = 1;
    Object.assign(plugin, { uScale: 2, vScale: 0.5, uOffset: 0.1, vOffset: -0.2, maskFeather: 0.05, faceOpacity: 0.8 });
    plugin.faceRect = { x: 0.3, y: 0.55, width: 0.4, height: 0.35 };
    plugin.maskShape = "rectangle";
    plugin.maskRect = { x: 0.15, y: 0.05, width: 0.7, height: 0.75 };
    plugin.skinFromFace = true;
    const serialized = JSON.parse(JSON.stringify(material.serialize()));
    const parsed = NpcFaceMaterialPlugin.Get(Material.Parse(serialized, scene, "")!)!;
    expect({ ...parsed.serialize(), name: undefined }).toEqual({ ...plugin.serialize(), name: undefined });
    expect(parsed.faceRect).toEqual({ x: 0.3, y: 0.55, width: 0.4, height: 0.35 });
    expect([parsed.maskRect, parsed.skinFromFace]).toEqual([{ x: 0.15, y: 0.05, width: 0.7, height: 0.75 }, true]);
    expect([parsed.coordinatesIndex, parsed.uScale, parsed.vScale, parsed.uOffset, parsed.vOffset, parsed.maskShape, parsed.maskFeather, parsed.faceOpacity]).toEqual([1, 2, 0.5, 0.1, -0.2, "rectangle", 0.05, 0.8]);
    scene.dispose();
  });
});

/** A composition in the fields, and their order, that both plugins have always written: saved files must still load. */
const SavedComposition = {
  flipV: true,
  coordinatesIndex: 1,
  uScale: 2,
  vScale: 0.5,
  uOffset: 0.1,
  vOffset: -0.2,
  faceRect: { x: 0.3, y: 0.55, width: 0.4, height: 0.35 },
  maskShape: "rectangle",
  maskFeather: 0.05,
  maskRect: { x: 0.15, y: 0.05, width: 0.7, height: 0.75 },
  skinFromFace: true,
  faceOpacity: 0.8,
} as const;

function CompositionOf(plugin: NpcFaceCompositionPluginBase): Record<string, unknown> {
  return Object.fromEntries(Object.keys(SavedComposition).map((key) => [key, plugin[key as keyof typeof SavedComposition]]));
}

describe.each([
  ["NpcFaceMaterialPlugin", (material: Material) => new NpcFaceMaterialPlugin(material)],
  ["NpcFaceCrowdMaterialPlugin", (material: Material) => new NpcFaceCrowdMaterialPlugin(material)],
] as const)("%s: the shared composition", (className, create) => {
  it("serialises it after the plugin's own fields, as files written before have it, and parses it back", async () => {
    const { scene } = await CreateFaceSceneAsync();
    const material = new StandardMaterial("head", scene);
    const plugin = create(material);
    Object.assign(plugin, SavedComposition);
    const serialized = JSON.parse(JSON.stringify(material.serialize()));
    const saved = serialized.plugins[className];
    expect(Object.keys(saved).slice(-Object.keys(SavedComposition).length)).toEqual(Object.keys(SavedComposition));
    expect(saved).toMatchObject(SavedComposition);
    const parsed = Material.Parse(serialized, scene, "")!.pluginManager!.getPlugin<NpcFaceCompositionPluginBase>(plugin.name)!;
    expect(parsed.getClassName()).toBe(className);
    expect(CompositionOf(parsed)).toEqual(SavedComposition);
    scene.dispose();
  });

  it("parse() keeps the value of fields that are missing or malformed; the UV set is 0 or 1", async () => {
    const { scene } = await CreateFaceSceneAsync();
    const plugin = create(new StandardMaterial("head", scene));
    plugin.parse({ ...SavedComposition, name: plugin.name, flipV: "yes", coordinatesIndex: 7, uScale: "3", faceRect: { x: 0, y: 0, width: "1", height: 1 }, maskShape: "circle", maskRect: 5 }, scene, "");
    expect(CompositionOf(plugin)).toEqual({ ...SavedComposition, flipV: false, coordinatesIndex: 0, uScale: 1, faceRect: null, maskShape: "ellipse", maskRect: null });
    plugin.parse({ name: plugin.name, faceRect: null }, scene, "");
    expect(CompositionOf(plugin)).toEqual({ ...SavedComposition, flipV: false, coordinatesIndex: 0, uScale: 1, faceRect: null, maskShape: "ellipse", maskRect: null });
    scene.dispose();
  });
});
