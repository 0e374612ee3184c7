/**
 * The `NPC_faces` glTF extension under NullEngine with real inference (tiny model, onnxruntime-node, in-thread):
 * the example file loads with the right plugins and faces, bad extension JSON gives a clear error, and the exporter
 * writes the extension back (round trip).
 */
import "@babylonjs/loaders/glTF/glTFFileLoader.js";
import "@babylonjs/loaders/glTF/2.0/glTFLoader.js";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { AppendSceneAsync, type AppendOptions } from "@babylonjs/core/Loading/sceneLoader.js";
import type { Material } from "@babylonjs/core/Materials/material.js";
import { PBRMaterial } from "@babylonjs/core/Materials/PBR/pbrMaterial.js";
import { StandardMaterial } from "@babylonjs/core/Materials/standardMaterial.js";
import { CreatePlane } from "@babylonjs/core/Meshes/Builders/planeBuilder.js";
import type { Scene } from "@babylonjs/core/scene.js";
import { GLTF2Export } from "@babylonjs/serializers/glTF/2.0/glTFSerializer.js";
import { CreateNodeBackend } from "@npc-faces/runtime/node";
import type { FaceRequest } from "@npc-faces/runtime";
import { NpcFaceMaterialPlugin, NpcFaceSystem, type NpcFaceErrorEvent } from "@npc-faces/babylon";
import { NpcFacesGltfError, NpcFacesGltfExtensionName, ParseNpcFacesGltfExtension } from "@npc-faces/babylon/gltf";
import "@npc-faces/babylon/gltfExport";
import { CreateFaceSceneAsync, CreateNullScene, TinyModelAsync, UseReferenceFaces, WithinAsync } from "./pluginTestScene.js";

const ReferenceFaceAsync = UseReferenceFaces();
const ExampleJson = readFileSync(new URL("../examples/npcFaces.gltf", import.meta.url), "utf8");

/** The example file's faces, as the requests its materials must make. */
const ExampleRequests: Record<string, FaceRequest> = {
  guard: { seed: 42, psi: 0.7, controls: { direction_0: 1.5 } },
  smith: { seed: 9001, mixSeed: 7, mix: 1, mixCrossover: 2 },
  villager: { seed: 5 },
};

/** A copy of the example's JSON, edited by `edit`. */
function Example(edit: (gltf: any) => void = () => {}): string {
  const gltf = JSON.parse(ExampleJson);
  edit(gltf);
  return JSON.stringify(gltf);
}

async function LoadGltfAsync(scene: Scene, json: string, options: AppendOptions = {}): Promise<void> {
  await AppendSceneAsync(`data:${json}`, scene, { pluginExtension: ".gltf", ...options });
}

function PluginOf(scene: Scene, name: string): NpcFaceMaterialPlugin {
  const material = scene.getMaterialByName(name);
  expect(material, `material ${name}`).not.toBeNull();
  const plugin = NpcFaceMaterialPlugin.Get(material!);
  expect(plugin, `plugin of ${name}`).toBeDefined();
  return plugin!;
}

/** The load's rejection message (the test fails if the load succeeds). */
async function LoadErrorAsync(json: string): Promise<string> {
  const { scene } = CreateNullScene();
  try {
    await LoadGltfAsync(scene, json);
  } catch (error) {
    return (error as Error).message;
  } finally {
    scene.dispose();
  }
  throw new Error("the load succeeded");
}

describe("NPC_faces loader extension: the example file", () => {
  it("gives each material the plugin with the file's parameters, and whenReadyAsync shows the right faces", async () => {
    const { scene, system } = await CreateFaceSceneAsync();
    const errors: NpcFaceErrorEvent[] = [];
    system.onErrorObservable.add((e) => errors.push(e));
    await LoadGltfAsync(scene, ExampleJson);
    for (const [name, request] of Object.entries(ExampleRequests)) {
      const plugin = PluginOf(scene, name);
      expect(plugin.getClassName()).toBe("NpcFaceMaterialPlugin");
      expect(scene.getMaterialByName(name)).toBeInstanceOf(PBRMaterial);
      expect(scene.getMeshByName(name)?.material).toBe(scene.getMaterialByName(name));
      expect(plugin.request).toEqual(request);
      // glTF places images with UV (0, 0) at the top: the plugin samples the face flipped to match.
      expect(plugin.flipV).toBe(true);
      expect(plugin.system).toBe(system);
    }
    const villager = PluginOf(scene, "villager");
    expect(villager.faceRect).toEqual({ x: 0.2, y: 0.1, width: 0.6, height: 0.8 });
    expect(villager.maskShape).toBe("ellipse");
    expect(villager.maskFeather).toBe(0.15);
    expect(PluginOf(scene, "guard").faceRect).toBeNull();

    await WithinAsync(scene.whenReadyAsync(), 30_000, "scene.whenReadyAsync()");
    for (const [name, request] of Object.entries(ExampleRequests)) {
      const plugin = PluginOf(scene, name);
      expect(plugin.face, name).toBeDefined();
      expect(plugin.face!.data, name).toEqual(await ReferenceFaceAsync(request));
    }
    expect(errors).toEqual([]);
    scene.dispose();
  });

  it("works with a face system created after the file is loaded", async () => {
    const { scene } = CreateNullScene();
    await LoadGltfAsync(scene, ExampleJson);
    expect(PluginOf(scene, "guard").face).toBeUndefined();
    await NpcFaceSystem.CreateAsync(scene, { mode: "inThread", backend: CreateNodeBackend({ intraOpNumThreads: 1 }), modelBytes: await TinyModelAsync(), debounceMs: 5 });
    await WithinAsync(scene.whenReadyAsync(), 30_000, "scene.whenReadyAsync()");
    expect(PluginOf(scene, "guard").face!.data).toEqual(await ReferenceFaceAsync(ExampleRequests.guard));
    scene.dispose();
  });

  it("reads extras.NPC_faces too (files that do not list the extension), the extension winning over extras", async () => {
    const { scene, system } = await CreateFaceSceneAsync();
    const json = Example((gltf) => {
      delete gltf.extensionsUsed;
      for (const material of gltf.materials) {
        material.extras = { NPC_faces: material.extensions.NPC_faces };
        delete material.extensions;
      }
      gltf.materials[2].extensions = { NPC_faces: { seed: 6 } }; // both: the extension is used
    });
    await LoadGltfAsync(scene, json);
    expect(PluginOf(scene, "guard").request).toEqual(ExampleRequests.guard);
    expect(PluginOf(scene, "villager").request).toEqual({ seed: 6 });
    expect(system.isModelLoaded).toBe(true);
    scene.dispose();
  });

  it("leaves materials without the extension alone, and can be disabled with extensionOptions", async () => {
    const { scene } = CreateNullScene();
    await LoadGltfAsync(scene, Example((gltf) => delete gltf.materials[1].extensions));
    expect(NpcFaceMaterialPlugin.Get(scene.getMaterialByName("smith")!)).toBeUndefined();
    expect(NpcFaceMaterialPlugin.Get(scene.getMaterialByName("guard")!)).toBeDefined();
    scene.dispose();

    const disabled = CreateNullScene().scene;
    await LoadGltfAsync(disabled, ExampleJson, { pluginOptions: { gltf: { extensionOptions: { [NpcFacesGltfExtensionName]: { enabled: false } } } } });
    expect(disabled.materials.filter((m: Material) => NpcFaceMaterialPlugin.Get(m))).toEqual([]);
    disabled.dispose();
  });

  it("reports parameters the model does not know like any other bad parameter: BAD_REQUEST naming the material", async () => {
    const { scene, system } = await CreateFaceSceneAsync();
    const errors: NpcFaceErrorEvent[] = [];
    system.onErrorObservable.add((e) => errors.push(e));
    await LoadGltfAsync(scene, Example((gltf) => (gltf.materials[0].extensions.NPC_faces.controls = { nose: 1 })));
    await WithinAsync(scene.whenReadyAsync(), 30_000, "scene.whenReadyAsync()");
    expect(errors).toHaveLength(1);
    expect(errors[0].code).toBe("BAD_REQUEST");
    expect(errors[0].message).toBe("guard: request.controls.nose: unknown control (known: direction_0, direction_1)");
    expect(PluginOf(scene, "guard").texture).toBe(system.fallbackTexture);
    expect(PluginOf(scene, "smith").face).toBeDefined();
    scene.dispose();
  });
});

describe("NPC_faces loader extension: bad JSON", () => {
  it("rejects the load with an error naming the material, its path and every bad field", async () => {
    const message = await LoadErrorAsync(
      Example((gltf) => {
        const face = gltf.materials[1].extensions.NPC_faces;
        face.seed = "42";
        face.controls = { direction_0: true };
        face.sede = 1;
      }),
    );
    expect(message).toContain(
      `NPC_faces: material "smith" (/materials/1/extensions/NPC_faces): 3 problems: seed: expected an integer in 0..4294967295, got "42"; ` +
        `controls.direction_0: expected a finite number, got true; sede: unknown field (known: seed, mixSeed,`,
    );
  });

  it("names extras when the object came from there, and rejects a non-object", async () => {
    const message = await LoadErrorAsync(
      Example((gltf) => {
        delete gltf.materials[0].extensions;
        gltf.materials[0].extras = { NPC_faces: 42 };
      }),
    );
    expect(message).toContain(`NPC_faces: material "guard" (/materials/0/extras/NPC_faces): expected an object like { "seed": 42 }, got 42`);
  });

  it("an unnamed material is named by its path", async () => {
    const message = await LoadErrorAsync(
      Example((gltf) => {
        delete gltf.materials[2].name;
        gltf.materials[2].extensions.NPC_faces.mix = 2;
      }),
    );
    expect(message).toContain(`NPC_faces: material "material2" (/materials/2/extensions/NPC_faces): mix: expected a number in 0..1, got 2`);
  });

  it("checks every field's type and range", () => {
    const cases: [unknown, string][] = [
      [{}, "seed: expected an integer in 0..4294967295, got nothing"],
      [{ seed: -1 }, "seed: expected an integer in 0..4294967295, got -1"],
      [{ seed: 1.5 }, "seed: expected an integer in 0..4294967295, got 1.5"],
      [{ seed: 4294967296 }, "seed: expected an integer in 0..4294967295, got 4294967296"],
      [{ seed: 1, mixSeed: "7" }, `mixSeed: expected an integer in 0..4294967295, got "7"`],
      [{ seed: 1, mix: -0.5 }, "mix: expected a number in 0..1, got -0.5"],
      [{ seed: 1, mixCrossover: 1.5 }, "mixCrossover: expected an integer >= 0, got 1.5"],
      [{ seed: 1, psi: null }, "psi: expected a finite number, got null"],
      [{ seed: 1, noiseStrength: "1" }, `noiseStrength: expected a finite number, got "1"`],
      [{ seed: 1, controls: [1] }, "controls: expected an object of control name -> amount, got an array"],
      [{ seed: 1, controls: { age: null } }, "controls.age: expected a finite number, got null"],
      [{ seed: 1, labels: { gender: 1 } }, "labels.gender: expected a string, got 1"],
      [{ seed: 1, isEnabled: "yes" }, `isEnabled: expected true or false, got "yes"`],
      [{ seed: 1, flipV: 1 }, "flipV: expected true or false, got 1"],
      [{ seed: 1, coordinatesIndex: 2 }, "coordinatesIndex: expected 0 (TEXCOORD_0) or 1 (TEXCOORD_1), got 2"],
      [{ seed: 1, uScale: "2" }, `uScale: expected a finite number, got "2"`],
      [{ seed: 1, faceRect: [0, 0, 1, 1] }, `faceRect: expected { "x", "y", "width", "height" } or null, got an array`],
      [{ seed: 1, faceRect: { x: 0, y: 0, width: 0 } }, "faceRect.width: expected a number > 0, got 0; faceRect.height: expected a finite number > 0, got nothing"],
      [{ seed: 1, faceRect: { x: 0, y: 0, width: 1, height: 1, z: 0 } }, "faceRect.z: unknown field (known: x, y, width, height)"],
      [{ seed: 1, maskShape: "circle" }, `maskShape: expected "ellipse" or "rectangle", got "circle"`],
      [{ seed: 1, maskFeather: -1 }, "maskFeather: expected a number >= 0, got -1"],
      [{ seed: 1, maskRect: { x: 0, y: 0, width: 1, height: -1 } }, "maskRect.height: expected a number > 0, got -1"],
      [{ seed: 1, skinFromFace: "yes" }, `skinFromFace: expected true or false, got "yes"`],
      [{ seed: 1, faceOpacity: 2 }, "faceOpacity: expected a number in 0..1, got 2"],
      [{ seed: 1, extensions: 3 }, "extensions: expected an object, got 3"],
      [null, `expected an object like { "seed": 42 }, got null`],
    ];
    for (const [value, problem] of cases) {
      let error: unknown;
      try {
        ParseNpcFacesGltfExtension(value, "material m");
      } catch (e) {
        error = e;
      }
      expect(error, JSON.stringify(value)).toBeInstanceOf(NpcFacesGltfError);
      expect((error as Error).message, JSON.stringify(value)).toContain(`NPC_faces: material m: ${problem.includes("; ") ? "2 problems: " : ""}${problem}`);
    }
    // Valid: everything, and glTF's own extensions / extras.
    const full = { seed: 1, mixSeed: 2, mix: 0.5, mixCrossover: 3, psi: 0.7, noiseStrength: 0, controls: { a: -1 }, labels: { g: "f" }, isEnabled: false, flipV: true, coordinatesIndex: 1, uScale: 2, vScale: 2, uOffset: 0.5, vOffset: -0.5, faceRect: null, maskShape: "rectangle", maskFeather: 0, maskRect: null, skinFromFace: true, faceOpacity: 0.5, extensions: {}, extras: { note: "x" } };
    expect(ParseNpcFacesGltfExtension(full, "m")).toBe(full);
  });
});

describe("NPC_faces exporter extension (GLTF2Export)", () => {
  it("writes each face plugin's parameters, lists the extension as used (not required), and exports the UVs", async () => {
    const { scene } = await CreateFaceSceneAsync();
    const standard = new StandardMaterial("standard-face", scene);
    const face = new NpcFaceMaterialPlugin(standard);
    face.seed = 7;
    face.psi = 0.5;
    face.setControl("direction_1", -1);
    face.faceRect = { x: 0.25, y: 0.25, width: 0.5, height: 0.5 };
    face.maskShape = "rectangle";
    face.maskRect = { x: 0.125, y: 0.125, width: 0.75, height: 0.5 }; // glTF: y from the top
    face.skinFromFace = true;
    CreatePlane("standard-plane", {}, scene).material = standard;
    const pbr = new PBRMaterial("pbr-face", scene);
    const mixed = new NpcFaceMaterialPlugin(pbr);
    mixed.seed = 3;
    mixed.mixSeed = 4;
    mixed.mix = 0.5;
    mixed.flipV = true;
    CreatePlane("pbr-plane", {}, scene).material = pbr;
    CreatePlane("no-face", {}, scene).material = new StandardMaterial("plain", scene);
    await WithinAsync(scene.whenReadyAsync(), 30_000, "scene.whenReadyAsync()");

    const data = await GLTF2Export.GLTFAsync(scene, "npcs");
    const gltf = JSON.parse(data.files["npcs.gltf"] as string);
    expect(gltf.extensionsUsed).toContain(NpcFacesGltfExtensionName);
    expect(gltf.extensionsRequired ?? []).not.toContain(NpcFacesGltfExtensionName);
    const material = (name: string) => gltf.materials.find((m: any) => m.name === name);
    // A Babylon plane's UVs have v = 1 at the top: relative to glTF's convention the face is flipped.
    expect(material("standard-face").extensions.NPC_faces).toEqual({ seed: 7, psi: 0.5, controls: { direction_1: -1 }, flipV: true, faceRect: { x: 0.25, y: 0.25, width: 0.5, height: 0.5 }, maskShape: "rectangle", maskRect: { x: 0.125, y: 0.375, width: 0.75, height: 0.5 }, skinFromFace: true });
    expect(material("pbr-face").extensions.NPC_faces).toEqual({ seed: 3, mixSeed: 4, mix: 0.5, mixCrossover: 0 });
    expect(material("plain").extensions?.NPC_faces).toBeUndefined();
    const faceMesh = gltf.meshes[gltf.nodes.find((n: any) => n.name === "standard-plane").mesh];
    expect(faceMesh.primitives[0].attributes.TEXCOORD_0).toBeTypeOf("number");
    scene.dispose();
  });

  it("round trip: export, load, the same parameters and the same faces", async () => {
    const { scene } = await CreateFaceSceneAsync();
    const material = new StandardMaterial("npc", scene);
    const face = new NpcFaceMaterialPlugin(material);
    face.seed = 11;
    face.noiseStrength = 0;
    face.setControl("direction_0", 2);
    face.faceOpacity = 0.75;
    Object.assign(face, { faceRect: { x: 0.25, y: 0.25, width: 0.5, height: 0.5 }, maskRect: { x: 0.125, y: 0.125, width: 0.75, height: 0.5 }, skinFromFace: true });
    CreatePlane("npc-plane", {}, scene).material = material;
    await WithinAsync(scene.whenReadyAsync(), 30_000, "scene.whenReadyAsync()");
    const glb = await GLTF2Export.GLBAsync(scene, "npcs");
    const bytes = new Uint8Array(await (glb.files["npcs.glb"] as Blob).arrayBuffer());

    const { scene: loaded } = await CreateFaceSceneAsync();
    await AppendSceneAsync(bytes, loaded, { pluginExtension: ".glb" });
    const plugin = PluginOf(loaded, "npc");
    const { name: _a, ...expected } = face.serialize();
    const { name: _b, ...actual } = plugin.serialize();
    expect(actual).toEqual(expected); // flipV too: false in Babylon -> "flipV": true in the file -> false again
    await WithinAsync(loaded.whenReadyAsync(), 30_000, "scene.whenReadyAsync()");
    expect(plugin.face!.data).toEqual(face.face!.data);
    scene.dispose();
    loaded.dispose();
  });

  it("a loaded file exports to the same extension objects", async () => {
    const { scene } = await CreateFaceSceneAsync();
    await LoadGltfAsync(scene, ExampleJson);
    await WithinAsync(scene.whenReadyAsync(), 30_000, "scene.whenReadyAsync()");
    const gltf = JSON.parse((await GLTF2Export.GLTFAsync(scene, "again")).files["again.gltf"] as string);
    const original = JSON.parse(ExampleJson);
    for (const m of original.materials) {
      // Defaults are left out: the example spells out `"maskShape": "ellipse"`.
      const { maskShape, ...expected } = m.extensions.NPC_faces;
      if (maskShape !== undefined && maskShape !== "ellipse") expected.maskShape = maskShape;
      expect(gltf.materials.find((e: any) => e.name === m.name).extensions.NPC_faces, m.name).toEqual(expected);
    }
    scene.dispose();
  });
});
