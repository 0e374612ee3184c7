/**
 * NpcFaceSystem without modelUrl or modelBytes, once `@npc-faces/babylon/defaultModel` is imported, loads the bundled
 * default model (`@npc-faces/default-model`; in Node its URL is a `file:` URL, read from disk) and its faces are the
 * runtime's; a `file:` URL that does not exist is a clear NOT_A_FILE.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FreeCamera } from "@babylonjs/core/Cameras/freeCamera.js";
import { StandardMaterial } from "@babylonjs/core/Materials/standardMaterial.js";
import { Vector3 } from "@babylonjs/core/Maths/math.vector.js";
import { CreateSphere } from "@babylonjs/core/Meshes/Builders/sphereBuilder.js";
import type { FaceGenerator } from "@npc-faces/runtime";
import { CreateNodeBackend, DefaultModelUrl, LoadDefaultFaceGeneratorAsync } from "@npc-faces/runtime/node";
import { NpcFaceMaterialPlugin, NpcFaceSystem } from "@npc-faces/babylon";
import "@npc-faces/babylon/defaultModel"; // the opt-in: systems without a model use the bundled default model
import { CreateNullScene, WithinAsync } from "./pluginTestScene.js";

let reference: FaceGenerator;

beforeAll(async () => {
  reference = await LoadDefaultFaceGeneratorAsync({ engine: "native", intraOpNumThreads: 1 });
});
afterAll(async () => {
  await reference?.disposeAsync();
});

const InThread = () => ({ mode: "inThread" as const, backend: CreateNodeBackend({ intraOpNumThreads: 1 }), debounceMs: 5 });

describe("NpcFaceSystem with no model given", () => {
  it("loads the bundled default model and generates the runtime's faces", async () => {
    const { scene } = CreateNullScene();
    new FreeCamera("camera", new Vector3(0, 0, -5), scene);
    const system = await NpcFaceSystem.CreateAsync(scene, InThread());
    expect(system.loadError).toBeUndefined();
    expect(system.isModelLoaded).toBe(true);
    expect(system.modelHash).toBe(reference.modelHash);
    expect(system.metadata?.name).toBe(reference.metadata.name);
    expect(system.controls.map((c) => c.name)).toEqual(reference.metadata.controls.map((c) => c.name));

    const material = new StandardMaterial("npc", scene);
    CreateSphere("npc", { segments: 4 }, scene).material = material;
    const plugin = new NpcFaceMaterialPlugin(material);
    plugin.seed = 7;
    plugin.setControl("label_glasses", 1);
    await WithinAsync(scene.whenReadyAsync(), 60_000, "scene.whenReadyAsync()");
    expect(plugin.lastError).toBeUndefined();
    const [expected] = await reference.generateAsync([{ seed: 7, controls: { label_glasses: 1 } }]);
    expect(plugin.face?.width).toBe(expected.width);
    expect(Buffer.from(plugin.face!.data).equals(Buffer.from(expected.data))).toBe(true);
    scene.dispose();
  });

  it("accepts the default model's URL object as modelUrl, and names a missing file: URL in a NOT_A_FILE error", async () => {
    const { scene } = CreateNullScene();
    const system = await NpcFaceSystem.CreateAsync(scene, { ...InThread(), modelUrl: DefaultModelUrl });
    expect(system.modelHash).toBe(reference.modelHash);
    scene.dispose();

    const missing = new URL("./no-such-model.onnx", DefaultModelUrl);
    const { scene: other } = CreateNullScene();
    const failed = await NpcFaceSystem.CreateAsync(other, { ...InThread(), modelUrl: missing });
    expect(failed.isModelLoaded).toBe(false);
    expect(failed.loadError?.code).toBe("NOT_A_FILE");
    expect(failed.loadError?.message).toBe(`${missing.href}: cannot read the model file (no such file)`);
    other.dispose();
  });
});
