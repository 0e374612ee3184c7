/**
 * The crowd path under NullEngine with real inference (tiny model, onnxruntime-node, in-thread): layer allocation and
 * sharing, only changed NPCs regenerate, the LRU of layers for NPCs that stream in and out, a full crowd, per-instance
 * layers of thin instances and instanced meshes, scene readiness, serialisation round trips, and the shader defines.
 */
import "@babylonjs/core/Loading/Plugins/babylonFileLoader.js";
import "@babylonjs/core/Materials/colorCurves.js";
import "@babylonjs/core/Meshes/thinInstanceMesh.js";
import "@babylonjs/core/Meshes/instancedMesh.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FreeCamera } from "@babylonjs/core/Cameras/freeCamera.js";
import { Material } from "@babylonjs/core/Materials/material.js";
import { PBRMaterial } from "@babylonjs/core/Materials/PBR/pbrMaterial.js";
import { ShaderLanguage } from "@babylonjs/core/Materials/shaderLanguage.js";
import { StandardMaterial } from "@babylonjs/core/Materials/standardMaterial.js";
import { RawTexture2DArray } from "@babylonjs/core/Materials/Textures/rawTexture2DArray.js";
import { Matrix, Vector3 } from "@babylonjs/core/Maths/math.vector.js";
import { CreatePlane } from "@babylonjs/core/Meshes/Builders/planeBuilder.js";
import type { Scene } from "@babylonjs/core/scene.js";
import { FaceGenerator, type FaceRequest } from "@npc-faces/runtime";
import { CreateNodeBackend } from "@npc-faces/runtime/node";
import {
  CrowdFaceCode,
  FlipRows,
  NpcFaceCrowd,
  NpcFaceCrowdMaterialPlugin,
  NpcFaceLayerAttribute,
  type NpcFaceCrowdMember,
  type NpcFaceErrorEvent,
} from "@npc-faces/babylon";
import { CreateFaceSceneAsync, TinyModelAsync, WithinAsync } from "./pluginTestScene.js";

let reference: FaceGenerator;

beforeAll(async () => {
  reference = await FaceGenerator.loadAsync(await TinyModelAsync(), { backend: CreateNodeBackend({ intraOpNumThreads: 1 }) });
});
afterAll(async () => {
  await reference?.disposeAsync();
});

async function ReferenceFaceAsync(request: FaceRequest): Promise<Uint8Array> {
  const [face] = await reference.generateAsync([request]);
  return FlipRows(face);
}

/** The bytes of one layer as uploaded (NullEngine: the crowd uploads its CPU copy of the whole array). */
function LayerBytes(crowd: NpcFaceCrowd, layer: number): Uint8Array {
  crowd.flushUploads();
  const all = crowd.texture!.getInternalTexture()!._bufferView as Uint8Array;
  const size = crowd.texture!.getSize().width;
  return all.subarray(layer * size * size * 4, (layer + 1) * size * size * 4);
}

async function SettleAsync(crowd: NpcFaceCrowd): Promise<void> {
  await WithinAsync(crowd.whenSettledAsync(), 30_000, "crowd.whenSettledAsync()");
}

function CrowdMaterial(scene: Scene, crowd: NpcFaceCrowd): StandardMaterial {
  const material = new StandardMaterial("crowd", scene);
  new NpcFaceCrowdMaterialPlugin(material, crowd);
  return material;
}

describe("NpcFaceCrowd: layers", () => {
  it("gives each distinct face one layer of a texture array, shares identical faces, and whenReadyAsync waits for them", async () => {
    const { scene } = await CreateFaceSceneAsync();
    new FreeCamera("camera", new Vector3(0, 0, -5), scene);
    const crowd = new NpcFaceCrowd(scene, { capacity: 4 });
    const a = crowd.add({ seed: 1 });
    const b = crowd.add({ seed: 2, psi: 0.5, control_direction_1: 1.5 });
    const twin = crowd.add({ seed: 1, name: "twin" });
    expect(scene.isReady()).toBe(false);
    await WithinAsync(scene.whenReadyAsync(), 30_000, "scene.whenReadyAsync()");
    expect(crowd.isGenerating).toBe(false);
    expect(crowd.texture).toBeInstanceOf(RawTexture2DArray);
    expect(crowd.texture!.getSize()).toEqual({ width: 16, height: 16 });
    expect(crowd.texture!.depth).toBe(4);
    expect(crowd.textureBytes).toBe(Math.round((16 * 16 * 4 * 4 * 4) / 3));
    expect([a.layer, b.layer].sort()).toEqual([0, 1]);
    expect(twin.layer).toBe(a.layer);
    expect(crowd.layersInUse).toBe(2);
    expect(crowd.stats).toMatchObject({ generated: 2, layerHits: 1, layerWrites: 2 });
    // The layer holds the runtime's face, rows flipped like the per-material textures (v = 1 is the top).
    expect(LayerBytes(crowd, a.layer)).toEqual(await ReferenceFaceAsync({ seed: 1 }));
    expect(LayerBytes(crowd, b.layer)).toEqual(await ReferenceFaceAsync(b.request));
    expect(b.request).toEqual({ seed: 2, psi: 0.5, controls: { direction_1: 1.5 } });
    scene.dispose();
  });

  it("regenerates only the NPC whose parameters change, and keeps its old face until the new one is written", async () => {
    const { scene } = await CreateFaceSceneAsync();
    const crowd = new NpcFaceCrowd(scene, { capacity: 8 });
    const members = Array.from({ length: 5 }, (_, i) => crowd.add({ seed: 100 + i }));
    await SettleAsync(crowd);
    const layersBefore = members.map((m) => m.layer);
    const bytesBefore = layersBefore.map((l) => LayerBytes(crowd, l).slice());
    const generated = crowd.stats.generated;
    const requests = crowd.system!.client.stats.requests;
    members[2].seed = 999;
    expect(members[2].layer).toBe(layersBefore[2]); // still the old face while the new one is generated
    await SettleAsync(crowd);
    expect(crowd.stats.generated).toBe(generated + 1);
    expect(crowd.system!.client.stats.requests).toBe(requests + 1);
    expect(members[2].layer).not.toBe(layersBefore[2]);
    expect(LayerBytes(crowd, members[2].layer)).toEqual(await ReferenceFaceAsync({ seed: 999 }));
    for (const i of [0, 1, 3, 4]) {
      expect(members[i].layer).toBe(layersBefore[i]);
      expect(LayerBytes(crowd, members[i].layer)).toEqual(bytesBefore[i]);
    }
    // The old face stays in its (now idle) layer: going back costs no generation.
    expect(crowd.idleLayers).toBe(1);
    members[2].seed = 102;
    await SettleAsync(crowd);
    expect(members[2].layer).toBe(layersBefore[2]);
    expect(crowd.stats.generated).toBe(generated + 1);
    // Several changes within the debounce: one generation, the latest parameters.
    members[0].seed = 7;
    members[0].seed = 8;
    members[0].psi = 0.25;
    await SettleAsync(crowd);
    expect(crowd.stats.generated).toBe(generated + 2);
    expect(LayerBytes(crowd, members[0].layer)).toEqual(await ReferenceFaceAsync({ seed: 8, psi: 0.25 }));
    scene.dispose();
  });

  it("keeps the faces of NPCs that streamed out in an LRU of layers: re-entering NPCs reuse them, new ones evict the oldest", async () => {
    const { scene } = await CreateFaceSceneAsync();
    const crowd = new NpcFaceCrowd(scene, { capacity: 3 });
    const first = [1, 2, 3].map((seed) => crowd.add({ seed }));
    await SettleAsync(crowd);
    const layerOf = new Map(first.map((m) => [m.seed, m.layer]));
    // NPCs 1 then 2 stream out: their layers stay, idle (1 is the least recently used).
    crowd.remove(first[0]);
    crowd.remove(first[1]);
    expect(crowd.idleLayers).toBe(2);
    expect(crowd.layersInUse).toBe(3);
    // NPC 2 comes back: its face is still there.
    const back = crowd.add({ seed: 2 });
    await SettleAsync(crowd);
    expect(back.layer).toBe(layerOf.get(2));
    expect(crowd.stats).toMatchObject({ generated: 3, layerHits: 1, evictions: 0 });
    // A new NPC needs a layer: the least recently used idle one (NPC 1's) is given to it.
    const newcomer = crowd.add({ seed: 4 });
    await SettleAsync(crowd);
    expect(newcomer.layer).toBe(layerOf.get(1));
    expect(crowd.stats).toMatchObject({ generated: 4, evictions: 1 });
    expect(LayerBytes(crowd, newcomer.layer)).toEqual(await ReferenceFaceAsync({ seed: 4 }));
    // NPC 1 comes back: evicted, so generated again (into the layer that became idle meanwhile).
    crowd.remove(back);
    const again = crowd.add({ seed: 1 });
    await SettleAsync(crowd);
    expect(again.layer).toBe(layerOf.get(2));
    expect(crowd.stats).toMatchObject({ generated: 5, evictions: 2 });
    expect(crowd.layersInUse).toBeLessThanOrEqual(3);
    scene.dispose();
  });

  it("a full crowd shows the fallback and reports it; the NPC gets its face when a layer frees", async () => {
    const { scene, system } = await CreateFaceSceneAsync();
    const errors: NpcFaceErrorEvent[] = [];
    system.onErrorObservable.add((e) => errors.push(e));
    const crowd = new NpcFaceCrowd(scene, { capacity: 2 });
    const a = crowd.add({ seed: 1 });
    crowd.add({ seed: 2 });
    const late = crowd.add({ seed: 3, name: "late" });
    await SettleAsync(crowd);
    expect(late.layer).toBe(-1);
    expect(crowd.stats.full).toBe(1);
    expect(errors.map((e) => e.code)).toEqual(["BAD_REQUEST"]);
    expect(errors[0].message).toContain('NPC "late"');
    crowd.remove(a);
    await SettleAsync(crowd);
    expect(late.layer).toBe(0);
    expect(LayerBytes(crowd, 0)).toEqual(await ReferenceFaceAsync({ seed: 3 }));
    scene.dispose();
  });

  it("invalid parameters fail that NPC only (BAD_REQUEST), the others keep their faces", async () => {
    const { scene } = await CreateFaceSceneAsync();
    const crowd = new NpcFaceCrowd(scene, { capacity: 4 });
    const errors: NpcFaceErrorEvent[] = [];
    crowd.onErrorObservable.add((e) => errors.push(e));
    const good = crowd.add({ seed: 1 });
    const bad = crowd.add({ seed: 2 });
    await SettleAsync(crowd);
    bad.setControl("no_such_control", 1);
    await SettleAsync(crowd);
    expect(errors.map((e) => e.code)).toEqual(["BAD_REQUEST"]);
    expect(bad.layer).toBe(-1);
    expect(good.layer).toBeGreaterThanOrEqual(0);
    scene.dispose();
  });
});

describe("NpcFaceCrowd: instances", () => {
  it("writes layer + 1 into the per-instance attribute of thin instances and instanced meshes; one material for all", async () => {
    const { scene, engine } = await CreateFaceSceneAsync();
    // NullEngine reports no instanced arrays (thinInstanceAdd refuses then); the bookkeeping is what is tested here.
    engine.getCaps().instancedArrays = true;
    const crowd = new NpcFaceCrowd(scene, { capacity: 4 });
    const material = CrowdMaterial(scene, crowd);
    const quad = CreatePlane("faces", { size: 1 }, scene);
    quad.material = material;
    const members: NpcFaceCrowdMember[] = [];
    for (let i = 0; i < 3; i++) {
      quad.thinInstanceAdd(Matrix.Translation(i * 2, 0, 0));
      members.push(crowd.add({ seed: 10 + i }).bindThinInstance(quad, i));
    }
    const data = (): number[] => Array.from((quad as unknown as { _userThinInstanceBuffersStorage: { data: Record<string, Float32Array> } })._userThinInstanceBuffersStorage.data[NpcFaceLayerAttribute].subarray(0, 3));
    expect(data()).toEqual([0, 0, 0]); // no face yet: the fallback
    await SettleAsync(crowd);
    crowd.flushUploads();
    expect(data()).toEqual(members.map((m) => m.layer + 1));

    const source = CreatePlane("instanced", { size: 1 }, scene);
    source.material = material;
    const instance = source.createInstance("npc-instance");
    const member = crowd.add({ seed: 10 }).bindInstance(instance);
    await SettleAsync(crowd);
    expect(instance.instancedBuffers[NpcFaceLayerAttribute]).toBe(members[0].layer + 1);

    // The defines: the instanced path for meshes that carry the attribute.
    const plugin = material.pluginManager!.getPlugin("NpcFaceCrowd") as NpcFaceCrowdMaterialPlugin;
    const defines: Record<string, unknown> = {};
    plugin.prepareDefinesBeforeAttributes(defines as never, scene, quad);
    expect(defines).toMatchObject({ NPCFACECROWD: true, NPCFACECROWD_INSTANCED: true, MAINUV1: true });
    const attributes: string[] = [];
    plugin.getAttributes(attributes, scene, instance);
    expect(attributes).toEqual([NpcFaceLayerAttribute]);
    const plain = CreatePlane("plain", { size: 1 }, scene);
    plugin.prepareDefinesBeforeAttributes(defines as never, scene, plain);
    expect(defines).toMatchObject({ NPCFACECROWD: true, NPCFACECROWD_INSTANCED: false });
    plugin.isEnabled = false;
    plugin.prepareDefinesBeforeAttributes(defines as never, scene, quad);
    expect(defines).toMatchObject({ NPCFACECROWD: false, NPCFACECROWD_INSTANCED: false });
    // Removing a member puts its instances back on the fallback.
    crowd.remove(member);
    expect(instance.instancedBuffers[NpcFaceLayerAttribute]).toBe(0);
    scene.dispose();
  });

  it("has GLSL and WGSL code for Standard and PBR materials (vertex attribute, varying, texture array)", () => {
    for (const wgsl of [false, true]) {
      const vertex = CrowdFaceCode("vertex", wgsl, false)!;
      expect(vertex.CUSTOM_VERTEX_DEFINITIONS).toContain(wgsl ? "attribute npcFaceLayer: f32" : "attribute float npcFaceLayer");
      for (const pbr of [false, true]) {
        const fragment = CrowdFaceCode("fragment", wgsl, pbr)!;
        expect(fragment.CUSTOM_FRAGMENT_DEFINITIONS).toContain(wgsl ? "texture_2d_array<f32>" : "sampler2DArray");
        expect(Object.keys(fragment)).toContain(pbr ? "CUSTOM_FRAGMENT_BEFORE_LIGHTS" : "CUSTOM_FRAGMENT_UPDATE_DIFFUSE");
      }
    }
    expect(new Set([ShaderLanguage.GLSL, ShaderLanguage.WGSL]).size).toBe(2);
  });
});

describe("NpcFaceCrowd: serialisation", () => {
  it("round-trips every member's parameters; the parsed crowd regenerates the same faces", async () => {
    const { scene } = await CreateFaceSceneAsync();
    const crowd = new NpcFaceCrowd(scene, { capacity: 4, name: "town" });
    crowd.add({ seed: 5, name: "baker" });
    const m = crowd.add({ seed: 6, psi: 0.6, noiseStrength: 0.5 });
    m.mixSeed = 77;
    m.mix = 0.5;
    m.mixCrossover = 2;
    m.setControl("direction_0", -1);
    await SettleAsync(crowd);
    const json = JSON.parse(JSON.stringify(crowd.serialize()));
    expect(json).toEqual({
      name: "town",
      capacity: 4,
      members: [
        { seed: 5, mixSeed: 0, mix: 0, mixCrossover: 0, name: "baker" },
        { seed: 6, mixSeed: 77, mix: 0.5, mixCrossover: 2, psi: 0.6, noiseStrength: 0.5, control_direction_0: -1 },
      ],
    });
    const material = CrowdMaterial(scene, crowd);
    const serializedMaterial = material.serialize();
    expect(serializedMaterial.plugins.NpcFaceCrowdMaterialPlugin).toMatchObject({ crowd: "town", isEnabled: true, flipV: false });

    const other = await CreateFaceSceneAsync();
    const parsed = NpcFaceCrowd.Parse(json, other.scene);
    await SettleAsync(parsed);
    expect(parsed.members.map((x) => x.request)).toEqual(crowd.members.map((x) => x.request));
    expect(parsed.members[0].name).toBe("baker");
    for (const member of parsed.members) expect(LayerBytes(parsed, member.layer)).toEqual(await ReferenceFaceAsync(member.request));
    const parsedMaterial = Material.Parse(serializedMaterial, other.scene, "")!;
    const plugin = parsedMaterial.pluginManager!.getPlugin("NpcFaceCrowd") as NpcFaceCrowdMaterialPlugin;
    expect(plugin).toBeInstanceOf(NpcFaceCrowdMaterialPlugin);
    expect(plugin.crowd).toBe(parsed);
    scene.dispose();
    other.scene.dispose();
  });

  it("composition as on the per-material plugin: UV set, face rectangle and mask, skin from the face, texturesEnabled; serialised", async () => {
    const { scene } = await CreateFaceSceneAsync();
    const crowd = new NpcFaceCrowd(scene, { capacity: 2, name: "heads" });
    crowd.add({ seed: 1 });
    await SettleAsync(crowd);
    const material = CrowdMaterial(scene, crowd);
    const plugin = material.pluginManager!.getPlugin("NpcFaceCrowd") as NpcFaceCrowdMaterialPlugin;
    plugin.coordinatesIndex = 1;
    plugin.faceRect = { x: 0.3, y: 0.2, width: 0.3, height: 0.6 };
    plugin.maskFeather = 0.3;
    plugin.maskRect = { x: 0.1, y: 0, width: 0.8, height: 0.8 };
    plugin.skinFromFace = true;
    scene.getEngine().getCaps().textureLOD = true; // as WebGL2 and WebGPU (NullEngine reports none)
    const defines: Record<string, unknown> = {};
    const quad = CreatePlane("q", { size: 1 }, scene);
    plugin.prepareDefinesBeforeAttributes(defines as never, scene, quad);
    expect(defines).toMatchObject({ NPCFACECROWD: true, NPCFACE: true, NPCFACE_UV2: true, MAINUV2: true, NPCFACE_RECT: true, NPCFACE_ELLIPSE: true, NPCFACE_SKIN: true });
    const fragment = plugin.getCustomCode("fragment", ShaderLanguage.GLSL)!;
    expect(fragment.CUSTOM_FRAGMENT_UPDATE_ALPHA).toContain("texture(npcFaceLayersSampler, vec3(npcFaceUV, max(npcFaceLayer, 0.0)))");
    expect(fragment.CUSTOM_FRAGMENT_UPDATE_ALPHA).toContain("npcFaceUV = (npcFaceUV - npcFaceRect.xy) / npcFaceRect.zw;");
    // Each instance's skin tone from its own layer; grey like the face while it has none.
    expect(fragment.CUSTOM_FRAGMENT_UPDATE_ALPHA).toContain("textureLod(npcFaceLayersSampler, vec3(vec2(0.28, 0.38), max(npcFaceLayer, 0.0)), npcFaceMaskParams.z)");
    expect(fragment.CUSTOM_FRAGMENT_UPDATE_ALPHA).toContain("npcFaceSkin = npcFaceLayer < 0.0 ? npcFace : npcFaceSkin;");
    expect(plugin.getCustomCode("fragment", ShaderLanguage.WGSL)!.CUSTOM_FRAGMENT_UPDATE_ALPHA).toContain("textureSampleLevel(npcFaceLayersSampler, npcFaceLayersSamplerSampler, vec2f(0.28, 0.38), i32(max(npcFaceLayer, 0.0)), uniforms.npcFaceMaskParams.z)");
    const parsed = Material.Parse(JSON.parse(JSON.stringify(material.serialize())), scene, "")!;
    const copy = parsed.pluginManager!.getPlugin("NpcFaceCrowd") as NpcFaceCrowdMaterialPlugin;
    expect([copy.coordinatesIndex, copy.faceRect, copy.maskFeather, copy.maskRect, copy.skinFromFace, copy.crowd]).toEqual([1, { x: 0.3, y: 0.2, width: 0.3, height: 0.6 }, 0.3, { x: 0.1, y: 0, width: 0.8, height: 0.8 }, true, crowd]);
    scene.texturesEnabled = false;
    plugin.prepareDefinesBeforeAttributes(defines as never, scene, quad);
    expect(defines).toMatchObject({ NPCFACECROWD: false, NPCFACE: false });
    scene.dispose();
  });

  it("works on PBR materials too (the crowd plugin takes the albedo)", async () => {
    const { scene } = await CreateFaceSceneAsync();
    const crowd = new NpcFaceCrowd(scene, { capacity: 2 });
    const material = new PBRMaterial("pbr", scene);
    const plugin = new NpcFaceCrowdMaterialPlugin(material, crowd);
    expect(plugin.getCustomCode("fragment", ShaderLanguage.GLSL)).toHaveProperty("CUSTOM_FRAGMENT_BEFORE_LIGHTS");
    scene.dispose();
  });
});
