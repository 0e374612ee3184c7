/**
 * The NpcFace material plugin under NullEngine with real inference (tiny model, onnxruntime-node, in-thread):
 * parameters -> regeneration, debounce, serialisation round trips, disposal, scene readiness, shader code paths.
 */
import "@babylonjs/core/Loading/Plugins/babylonFileLoader.js";
import "@babylonjs/core/Materials/colorCurves.js";
import { describe, expect, it, vi } from "vitest";
import { FreeCamera } from "@babylonjs/core/Cameras/freeCamera.js";
import { AppendSceneAsync } from "@babylonjs/core/Loading/sceneLoader.js";
import { Material } from "@babylonjs/core/Materials/material.js";
import { PBRMaterial } from "@babylonjs/core/Materials/PBR/pbrMaterial.js";
import { ShaderLanguage } from "@babylonjs/core/Materials/shaderLanguage.js";
import { StandardMaterial } from "@babylonjs/core/Materials/standardMaterial.js";
import type { RawTexture } from "@babylonjs/core/Materials/Textures/rawTexture.js";
import { Vector3 } from "@babylonjs/core/Maths/math.vector.js";
import { CreateSphere } from "@babylonjs/core/Meshes/Builders/sphereBuilder.js";
import type { Mesh } from "@babylonjs/core/Meshes/mesh.js";
import { SceneSerializer } from "@babylonjs/core/Misc/sceneSerializer.js";
import { InspectableType } from "@babylonjs/core/Misc/iInspectable.js";
import { ShaderStore } from "@babylonjs/core/Engines/shaderStore.js";
import "@babylonjs/core/ShadersWGSL/default.fragment.js";
import "@babylonjs/core/ShadersWGSL/pbr.fragment.js";
import { CreateNodeBackend } from "@npc-faces/runtime/node";
import { FlipRows, NpcFaceMaterialPlugin, NpcFaceSystem, PbrFaceCode, StandardFaceCode } from "@npc-faces/babylon";
import { CreateFaceSceneAsync, CreateNullScene, TinyModelAsync, WithinAsync, UseReferenceFaces } from "./pluginTestScene.js";

const ReferenceFaceAsync = UseReferenceFaces();

function FaceOnSphere(scene: import("@babylonjs/core/scene.js").Scene, kind: "standard" | "pbr" = "standard", name = "npc"): { mesh: Mesh; material: StandardMaterial | PBRMaterial; plugin: NpcFaceMaterialPlugin } {
  const material = kind === "standard" ? new StandardMaterial(`${name}-material`, scene) : new PBRMaterial(`${name}-material`, scene);
  const mesh = CreateSphere(name, { segments: 8 }, scene);
  mesh.material = material;
  return { mesh, material, plugin: new NpcFaceMaterialPlugin(material) };
}

/**
 * Waits for the plugin to settle while timers are faked: advances the clock a step at a time and lets real I/O
 * (inference on onnxruntime-node's threads) run in between.
 */
async function SettleWithTestClockAsync(plugin: NpcFaceMaterialPlugin): Promise<void> {
  let settled = false;
  void plugin.whenSettledAsync().then(() => (settled = true));
  while (!settled) {
    await vi.advanceTimersByTimeAsync(1);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe("NpcFaceMaterialPlugin: parameters -> faces", () => {
  it("generates the face of its parameters, identical to the runtime's, and whenReadyAsync waits for it", async () => {
    const { scene, system } = await CreateFaceSceneAsync();
    new FreeCamera("camera", new Vector3(0, 0, -5), scene);
    const { plugin } = FaceOnSphere(scene);
    plugin.seed = 42;
    plugin.psi = 0.5;
    plugin.setControl("direction_1", 1.5);
    expect(plugin.isGenerating).toBe(true);
    expect(scene.isReady()).toBe(false);
    await WithinAsync(scene.whenReadyAsync(), 30_000, "scene.whenReadyAsync()");
    expect(plugin.isGenerating).toBe(false);
    expect(plugin.face).toBeDefined();
    expect(plugin.face!.data).toEqual(await ReferenceFaceAsync({ seed: 42, psi: 0.5, controls: { direction_1: 1.5 } }));
    // The texture holds the rows bottom first (v = 0 is the face's chin), RGBA8, no mipmap surprises.
    const texture = plugin.texture as RawTexture;
    expect(texture.getSize()).toEqual({ width: 16, height: 16 });
    expect(texture.getInternalTexture()!._bufferView).toEqual(FlipRows(plugin.face!));
    expect(texture.invertY).toBe(false);
    expect(texture.wrapU).toBe(0); // clamp
    expect(system.textureCacheSize).toBe(1);
    scene.dispose();
  });

  it("regenerates when a parameter changes, with different pixels; every parameter counts", async () => {
    const { scene } = await CreateFaceSceneAsync();
    const { plugin } = FaceOnSphere(scene);
    plugin.seed = 7;
    await plugin.whenSettledAsync();
    const seen = new Set<string>([plugin.face!.data.join(",")]);
    const changes: [string, () => void][] = [
      ["seed", () => (plugin.seed = 8)],
      ["psi", () => (plugin.psi = 0.2)],
      ["noiseStrength", () => (plugin.noiseStrength = 0)],
      ["mix", () => ((plugin.mixSeed = 99), (plugin.mix = 1))],
      ["mixCrossover", () => (plugin.mixCrossover = 3)],
      ["control_direction_0 (accessor)", () => ((plugin as unknown as Record<string, number>).control_direction_0 = 2)],
      ["setControl", () => plugin.setControl("direction_1", -2)],
      ["material property (Inspector)", () => ((plugin as unknown as { _material: Record<string, number> })._material.npcFace_seed = 9)],
    ];
    for (const [what, change] of changes) {
      let generated = 0;
      plugin.onGeneratedObservable.add(() => generated++);
      change();
      await plugin.whenSettledAsync();
      expect(generated, what).toBe(1);
      expect(plugin.lastError, what).toBeUndefined();
      const key = plugin.face!.data.join(",");
      expect(seen.has(key), `${what} changed the face`).toBe(false);
      seen.add(key);
      plugin.onGeneratedObservable.clear();
    }
    expect(plugin.face!.data).toEqual(await ReferenceFaceAsync(plugin.request));
    expect(plugin.request).toEqual({ seed: 9, mixSeed: 99, mix: 1, mixCrossover: 3, psi: 0.2, noiseStrength: 0, controls: { direction_0: 2, direction_1: -2 } });
    scene.dispose();
  });

  it("debounces: several changes in a row give one generation, of the latest values", async () => {
    const { scene, system } = await CreateFaceSceneAsync({ debounceMs: 20 });
    const { plugin } = FaceOnSphere(scene);
    await plugin.whenSettledAsync();
    const before = { ...system.client.stats };
    let generated = 0;
    plugin.onGeneratedObservable.add(() => generated++);
    // The clock is the test's: a slow or busy machine cannot stretch the gaps past the debounce.
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    try {
      for (let seed = 100; seed <= 110; seed++) {
        plugin.seed = seed;
        await vi.advanceTimersByTimeAsync(19); // a slider drag: each change 19 ms after the last, under the 20 ms debounce
      }
      plugin.psi = 0.9;
      await vi.advanceTimersByTimeAsync(19);
      expect(system.client.stats.requests - before.requests, "nothing requested before the debounce ran out").toBe(0);
      await SettleWithTestClockAsync(plugin);
    } finally {
      vi.useRealTimers();
    }
    expect(generated).toBe(1);
    expect(system.client.stats.generated - before.generated).toBe(1);
    expect(plugin.face!.data).toEqual(await ReferenceFaceAsync({ seed: 110, psi: 0.9 }));
    scene.dispose();
  });

  it("batches many materials into few session runs and shares one texture between identical parameters", async () => {
    const { scene, system } = await CreateFaceSceneAsync();
    const plugins = Array.from({ length: 20 }, (_, i) => FaceOnSphere(scene, "standard", `npc${i}`).plugin);
    plugins.forEach((p, i) => (p.seed = i % 10)); // 10 distinct faces, each on two materials
    await WithinAsync(scene.whenReadyAsync(), 30_000, "scene.whenReadyAsync()");
    expect(system.client.stats.generated).toBe(10);
    expect(system.client.stats.messages).toBe(3); // the first face alone (it shows first), then maxBatch 8: 10 faces in 3 runs
    expect(system.textureCacheSize).toBe(10);
    for (let i = 0; i < 10; i++) expect(plugins[i].texture).toBe(plugins[i + 10].texture);
    expect(new Set(plugins.map((p) => p.texture)).size).toBe(10);
    scene.dispose();
  });

  it("shows the fallback texture until the face exists, and no face while disabled", async () => {
    const { scene, system } = await CreateFaceSceneAsync();
    const { plugin } = FaceOnSphere(scene);
    expect(plugin.texture).toBe(null); // nothing bound before the material is first prepared
    (plugin as unknown as { _boundTexture(): unknown })._boundTexture();
    expect(plugin.texture).toBe(system.fallbackTexture);
    await plugin.whenSettledAsync();
    expect(plugin.texture).not.toBe(system.fallbackTexture);
    plugin.isEnabled = false;
    plugin.seed = 5;
    expect(plugin.isGenerating).toBe(false);
    plugin.isEnabled = true;
    expect(plugin.isGenerating).toBe(true);
    await plugin.whenSettledAsync();
    expect(plugin.face!.data).toEqual(await ReferenceFaceAsync({ seed: 5 }));
    scene.dispose();
  });
});

describe("NpcFaceMaterialPlugin: serialisation", () => {
  function SetEverything(plugin: NpcFaceMaterialPlugin): void {
    plugin.seed = 123456789;
    plugin.mixSeed = 31337;
    plugin.mix = 0.75;
    plugin.mixCrossover = 2;
    plugin.psi = 0.6;
    plugin.noiseStrength = 0.5;
    plugin.setControl("direction_0", 1.25);
    plugin.setControl("direction_1", -0.5);
    plugin.flipV = true;
  }
  const Parameters = (p: NpcFaceMaterialPlugin) => ({
    seed: p.seed,
    mixSeed: p.mixSeed,
    mix: p.mix,
    mixCrossover: p.mixCrossover,
    psi: p.psi,
    noiseStrength: p.noiseStrength,
    direction_0: p.getControl("direction_0"),
    direction_1: p.getControl("direction_1"),
    isEnabled: p.isEnabled,
    flipV: p.flipV,
    request: p.request,
  });

  it("serialize()/parse() keeps every parameter, material Parse recreates the plugin, and the face is identical", async () => {
    const { scene } = await CreateFaceSceneAsync();
    const { plugin, material } = FaceOnSphere(scene);
    SetEverything(plugin);
    await plugin.whenSettledAsync();
    const serialized = material.serialize();
    expect(serialized.plugins.NpcFaceMaterialPlugin).toMatchObject({ name: "NpcFace", seed: 123456789, mix: 0.75, control_direction_0: 1.25, psi: 0.6 });
    expect(JSON.stringify(serialized)).not.toContain("npcFace_"); // the Inspector accessors are not serialised

    const copy = Material.Parse(JSON.parse(JSON.stringify(serialized)), scene, "")!;
    const parsed = copy.pluginManager!.getPlugin<NpcFaceMaterialPlugin>("NpcFace")!;
    expect(parsed).toBeInstanceOf(NpcFaceMaterialPlugin);
    expect(parsed).not.toBe(plugin);
    expect(Parameters(parsed)).toEqual(Parameters(plugin));
    await parsed.whenSettledAsync();
    expect(parsed.face!.data).toEqual(plugin.face!.data);
    expect(parsed.texture).toBe(plugin.texture); // same parameters, one shared texture

    const clone = (material as StandardMaterial).clone("clone")!;
    const cloned = clone.pluginManager!.getPlugin<NpcFaceMaterialPlugin>("NpcFace")!;
    expect(Parameters(cloned)).toEqual(Parameters(plugin));
    scene.dispose();
  });

  it("a .babylon round trip (SceneSerializer -> AppendSceneAsync) regenerates the same faces, system created after loading", async () => {
    const { scene } = await CreateFaceSceneAsync();
    const standard = FaceOnSphere(scene, "standard", "standardNpc");
    const pbr = FaceOnSphere(scene, "pbr", "pbrNpc");
    SetEverything(standard.plugin);
    pbr.plugin.seed = 77;
    pbr.plugin.setControl("direction_1", 0.5);
    await WithinAsync(scene.whenReadyAsync(), 30_000, "first scene ready");
    const json = JSON.stringify(SceneSerializer.Serialize(scene));
    expect(json).not.toMatch(/"npcFace seed/); // the generated textures are not serialised

    const { scene: loaded } = CreateNullScene();
    await AppendSceneAsync(`data:${json}`, loaded, { pluginExtension: ".babylon" });
    const plugins = loaded.materials.map((m) => m.pluginManager?.getPlugin<NpcFaceMaterialPlugin>("NpcFace")).filter((p) => p !== null && p !== undefined);
    expect(plugins.map((p) => p.getClassName())).toEqual(["NpcFaceMaterialPlugin", "NpcFaceMaterialPlugin"]);
    const loadedStandard = loaded.getMaterialByName("standardNpc-material")!.pluginManager!.getPlugin<NpcFaceMaterialPlugin>("NpcFace")!;
    const loadedPbr = loaded.getMaterialByName("pbrNpc-material")!.pluginManager!.getPlugin<NpcFaceMaterialPlugin>("NpcFace")!;
    expect(loaded.getMaterialByName("pbrNpc-material")).toBeInstanceOf(PBRMaterial);
    // The system comes after the level: the plugins wait for it, then generate.
    await NpcFaceSystem.CreateAsync(loaded, { mode: "inThread", backend: CreateNodeBackend({ intraOpNumThreads: 1 }), modelBytes: await TinyModelAsync(), debounceMs: 5 });
    await WithinAsync(loaded.whenReadyAsync(), 30_000, "loaded scene ready");
    expect(Parameters(loadedStandard)).toEqual(Parameters(standard.plugin));
    expect(Parameters(loadedPbr)).toEqual(Parameters(pbr.plugin));
    expect(loadedStandard.face!.data).toEqual(standard.plugin.face!.data);
    expect(loadedPbr.face!.data).toEqual(pbr.plugin.face!.data);
    scene.dispose();
    loaded.dispose();
  });
});

describe("NpcFaceMaterialPlugin: disposal", () => {
  it("1,000 create/dispose cycles: textures, cache entries, pending data and Inspector entries do not grow", async () => {
    const { scene, system } = await CreateFaceSceneAsync({ debounceMs: 0 });
    const texturesBefore = scene.textures.length;
    const measure = () => ({ textures: scene.textures.length - texturesBefore, cache: system.textureCacheSize, client: system.client.cacheSize, pending: scene.getWaitingItemsCount(), materials: scene.materials.length, meshes: scene.meshes.length });
    const samples: ReturnType<typeof measure>[] = [];
    for (let cycle = 0; cycle < 1000; cycle++) {
      const { mesh, material, plugin } = FaceOnSphere(scene, cycle % 2 === 0 ? "standard" : "pbr", `cycle${cycle}`);
      plugin.seed = cycle % 4; // a few distinct faces; most cycles regenerate after the last holder went away
      if (cycle % 3 !== 0) await plugin.whenSettledAsync(); // every third is disposed before its face exists
      else await Promise.resolve();
      mesh.dispose();
      material.dispose(true, true);
      if (cycle % 100 === 99) samples.push(measure());
    }
    // No settling wait: disposal releases at once. (Every third plugin is disposed before its debounce timer ran,
    // so nothing of it is queued or in flight, which the client's queue confirms.)
    expect(system.client.queuedCount).toBe(0);
    const end = measure();
    console.log(`after 1,000 create/dispose cycles: ${JSON.stringify(end)}; generated ${system.client.stats.generated}, cancelled ${system.client.stats.cancelled}`);
    expect(end).toEqual({ textures: 1, cache: 0, client: 0, pending: 0, materials: 0, meshes: 0 }); // 1: the shared fallback
    expect(new Set(samples.map((s) => s.textures)).size).toBe(1);
    scene.dispose();
  });

  it("disposing the material releases its texture; a shared texture lives until its last material goes", async () => {
    const { scene, system } = await CreateFaceSceneAsync();
    const a = FaceOnSphere(scene, "standard", "a");
    const b = FaceOnSphere(scene, "pbr", "b");
    a.plugin.seed = b.plugin.seed = 3;
    await WithinAsync(scene.whenReadyAsync(), 30_000, "ready");
    const texture = a.plugin.texture!;
    expect(b.plugin.texture).toBe(texture);
    a.material.dispose();
    expect(scene.textures.includes(texture)).toBe(true);
    b.material.dispose();
    expect(scene.textures.includes(texture)).toBe(false);
    expect(system.textureCacheSize).toBe(0);
    expect(a.material.inspectableCustomProperties ?? []).toEqual([]);
    expect("npcFace_seed" in a.material).toBe(false);
    scene.dispose();
  });
});

describe("NpcFaceMaterialPlugin: shaders and Inspector", () => {
  for (const kind of ["standard", "pbr"] as const) {
    it(`${kind}: the GLSL effect compiles under NullEngine with the face sampler injected`, async () => {
      const { scene } = await CreateFaceSceneAsync();
      new FreeCamera("camera", new Vector3(0, 0, -5), scene);
      const { mesh, material, plugin } = FaceOnSphere(scene, kind);
      await WithinAsync(scene.whenReadyAsync(), 30_000, "ready");
      // Babylon's own event for the effect being compiled (instead of polling isReadyForSubMesh).
      await WithinAsync(material.forceCompilationAsync(mesh), 30_000, "effect compiled");
      expect(material.isReadyForSubMesh(mesh, mesh.subMeshes[0])).toBe(true);
      scene.render();
      const effect = mesh.subMeshes[0].effect as unknown as { isReady(): boolean; _fragmentSourceCode: string; getSamplers?: () => string[] };
      expect(effect.isReady()).toBe(true);
      const defines = mesh.subMeshes[0].materialDefines!.toString();
      expect(defines).toContain("#define NPCFACE");
      expect(defines).toContain("#define MAINUV1");
      const code = effect._fragmentSourceCode;
      expect(code).toContain("uniform sampler2D npcFaceSampler;");
      expect(code).toContain("vec2 npcFaceUV = vMainUV1;");
      expect(code).toContain("vec4 npcFace = texture2D(npcFaceSampler, npcFaceUV);");
      // No diffuse/albedo texture: the face multiplies what vertex colours and detail maps made of the base colour.
      expect(code).toContain(kind === "standard" ? "baseColor.rgb *= mix(npcFaceBase, npcFace.rgb, npcFaceMask);" : "vec3 npcFaceAlbedo = vAlbedoColor.rgb * toLinearSpace(npcFace.rgb);");
      expect(defines).not.toContain("#define NPCFACE_FLIPV");
      plugin.flipV = true; // e.g. for CreateSphere, whose v = 0 is the north pole
      scene.render();
      expect(mesh.subMeshes[0].materialDefines!.toString()).toContain("#define NPCFACE_FLIPV");
      expect(plugin.isCompatible(ShaderLanguage.WGSL)).toBe(true);
      scene.dispose();
    });
  }

  it("WGSL: every injection point exists in Babylon's WGSL shaders and the code uses their names", () => {
    const standard = ShaderStore.ShadersStoreWGSL["defaultPixelShader"];
    const pbr = ShaderStore.ShadersStoreWGSL["pbrPixelShader"];
    expect(standard).toBeTruthy();
    expect(pbr).toBeTruthy();
    for (const [source, code] of [[standard, StandardFaceCode(true)], [pbr, PbrFaceCode(true)]] as const) {
      for (const point of Object.keys(code)) expect(source).toContain(`#define ${point}`);
    }
    expect(standard).toMatch(/var baseColor: vec4f/);
    expect(pbr).toMatch(/var surfaceAlbedo: vec3f/);
    expect(pbr).toContain("uniforms.vAlbedoColor");
    expect(StandardFaceCode(true).CUSTOM_FRAGMENT_DEFINITIONS).toContain("var npcFaceSampler: texture_2d<f32>;");
    expect(StandardFaceCode(true).CUSTOM_FRAGMENT_UPDATE_DIFFUSE).toContain("textureSample(npcFaceSampler, npcFaceSamplerSampler, npcFaceUV)");
    expect(standard).toMatch(/#ifdef DIFFUSE[\s\S]*#define CUSTOM_FRAGMENT_UPDATE_ALPHA/);
    expect(ShaderStore.IncludesShadersStoreWGSL["helperFunctions"] ?? "").toContain("fn toLinearSpaceVec3(");
    // The GLSL points exist too.
    expect(ShaderStore.ShadersStore["defaultPixelShader"] ?? "").toContain("#define CUSTOM_FRAGMENT_UPDATE_DIFFUSE");
  });

  it("Inspector: sliders on the material for every parameter and control, with the control ranges", async () => {
    const { scene, system } = await CreateFaceSceneAsync();
    const { material, plugin } = FaceOnSphere(scene);
    const inspectables = material.inspectableCustomProperties;
    const byName = Object.fromEntries(inspectables.map((i) => [i.propertyName, i]));
    expect(Object.keys(byName)).toEqual([
      "npcFace_seed",
      "npcFace_mixSeed",
      "npcFace_mix",
      "npcFace_mixCrossover",
      "npcFace_psi",
      "npcFace_noiseStrength",
      "npcFace_isEnabled",
      "npcFace_flipV",
      "npcFace_control_direction_0",
      "npcFace_control_direction_1",
    ]);
    const control = system.controls[0];
    expect(byName.npcFace_control_direction_0).toMatchObject({ type: InspectableType.Slider, min: control.min, max: control.max });
    expect(byName.npcFace_mixCrossover.max).toBe(system.metadata!.numWs);
    const m = material as unknown as Record<string, number>;
    m.npcFace_control_direction_0 = 0.5;
    expect(plugin.getControl("direction_0")).toBe(0.5);
    expect(m.npcFace_psi).toBe(plugin.psi);
    await plugin.whenSettledAsync();
    scene.dispose();
  });
});
