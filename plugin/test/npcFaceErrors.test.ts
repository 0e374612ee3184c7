/**
 * Bad input never crashes the scene: a model URL that 404s, a file that is not a model, a seed out of range, a
 * failing backend. Each gives a clear error on the observables (with the runtime's error code) and the fallback
 * texture; the scene becomes ready and keeps rendering.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FreeCamera } from "@babylonjs/core/Cameras/freeCamera.js";
import { StandardMaterial } from "@babylonjs/core/Materials/standardMaterial.js";
import { Vector3 } from "@babylonjs/core/Maths/math.vector.js";
import { CreateSphere } from "@babylonjs/core/Meshes/Builders/sphereBuilder.js";
import { AssetsManager } from "@babylonjs/core/Misc/assetsManager.js";
import type { Scene } from "@babylonjs/core/scene.js";
import { CreateNodeBackend } from "@npc-faces/runtime/node";
import { AddNpcFaceModelTask, InThreadFaceTransport, NpcFaceMaterialPlugin, NpcFaceSystem, type FaceTransport, type NpcFaceErrorEvent } from "@npc-faces/babylon";
import { CreateFaceSceneAsync, CreateNullScene, TinyModelAsync, WithinAsync } from "./pluginTestScene.js";

let server: Server;
let baseUrl: string;

beforeAll(async () => {
  const model = await TinyModelAsync();
  server = createServer((request, response) => {
    if (request.url === "/tiny.onnx") response.writeHead(200, { "content-type": "application/octet-stream" }).end(model);
    else if (request.url === "/page.html") response.writeHead(200, { "content-type": "text/html" }).end("<!doctype html><title>not a model</title>");
    else response.writeHead(404, "Not Found").end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
});

const NodeBackend = () => ({ mode: "inThread" as const, backend: CreateNodeBackend({ intraOpNumThreads: 1 }), debounceMs: 5 });

function Npc(scene: Scene, name = "npc"): { material: StandardMaterial; plugin: NpcFaceMaterialPlugin } {
  const material = new StandardMaterial(name, scene);
  CreateSphere(name, { segments: 4 }, scene).material = material;
  return { material, plugin: new NpcFaceMaterialPlugin(material) };
}

/** The scene becomes ready and renders frames without throwing. */
async function ExpectSceneRunsAsync(scene: Scene): Promise<void> {
  if (!scene.activeCamera) new FreeCamera("camera", new Vector3(0, 0, -5), scene);
  await WithinAsync(scene.whenReadyAsync(), 30_000, "scene.whenReadyAsync()");
  for (let i = 0; i < 3; i++) expect(() => scene.render()).not.toThrow();
}

describe("bad models", () => {
  for (const [what, url, code, message] of [
    ["a model URL that 404s", "/missing.onnx", "NOT_A_FILE", /missing\.onnx: cannot fetch the model \(HTTP 404 Not Found\)/],
    ["a URL that serves a web page", "/page.html", "NOT_ONNX", /page\.html/],
    ["an unreachable host", "http://127.0.0.1:9/x.onnx", "NOT_A_FILE", /cannot fetch the model/],
  ] as const) {
    it(`${what}: ${code} on the observables, fallback textures, the scene runs`, async () => {
      const { scene } = CreateNullScene();
      const early: NpcFaceErrorEvent[] = [];
      const { plugin } = Npc(scene); // created before the system: it waits for it
      const pluginErrors: NpcFaceErrorEvent[] = [];
      plugin.onErrorObservable.add((e) => pluginErrors.push(e));
      const system = await NpcFaceSystem.CreateAsync(scene, { ...NodeBackend(), modelUrl: url.startsWith("http") ? url : baseUrl + url, onError: (e) => early.push(e) });
      expect(system.isModelLoaded).toBe(false);
      expect(system.loadError?.code).toBe(code);
      expect(early.map((e) => e.code)).toEqual([code]);
      expect(early[0].message).toMatch(message);
      await ExpectSceneRunsAsync(scene);
      expect(plugin.texture).toBe(system.fallbackTexture);
      expect(plugin.lastError?.code).toBe(code);
      expect(pluginErrors.map((e) => e.code)).toEqual([code]);
      expect(early).toHaveLength(1); // the model's error is reported once by the system, not again per material
      // A material created later also shows the fallback.
      const later = Npc(scene, "later").plugin;
      await later.whenSettledAsync();
      expect(later.texture).toBe(system.fallbackTexture);
      scene.dispose();
    });
  }

  it("non-model bytes given directly: NOT_ONNX", async () => {
    const { scene } = CreateNullScene();
    const system = await NpcFaceSystem.CreateAsync(scene, { ...NodeBackend(), modelBytes: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]) });
    expect(system.loadError?.code).toBe("NOT_ONNX");
    const { plugin } = Npc(scene);
    await ExpectSceneRunsAsync(scene);
    expect(plugin.texture).toBe(system.fallbackTexture);
    scene.dispose();
  });
});

describe("bad parameters", () => {
  it("a seed out of range set through the material: BAD_REQUEST, fallback texture, recovers when fixed", async () => {
    const { scene, system } = await CreateFaceSceneAsync();
    const errors: NpcFaceErrorEvent[] = [];
    system.onErrorObservable.add((e) => errors.push(e));
    const { material, plugin } = Npc(scene, "bad-seed");
    await plugin.whenSettledAsync();
    const good = plugin.texture;
    (material as unknown as Record<string, number>).npcFace_seed = -1; // as the Inspector would set it
    await plugin.whenSettledAsync(); // an edit of a shown face does not hold the scene's readiness
    await ExpectSceneRunsAsync(scene);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: "BAD_REQUEST", material });
    expect(errors[0].message).toMatch(/bad-seed: request\.seed: expected an integer in 0\.\.4294967295, got -1/);
    expect(plugin.texture).toBe(system.fallbackTexture);
    expect(scene.textures.includes(good!)).toBe(false); // the old face was released
    plugin.seed = 2 ** 32;
    await plugin.whenSettledAsync();
    expect(errors.map((e) => e.code)).toEqual(["BAD_REQUEST", "BAD_REQUEST"]);
    plugin.seed = 4294967295;
    await plugin.whenSettledAsync();
    expect(plugin.lastError).toBeUndefined();
    expect(plugin.face).toBeDefined();
    expect(plugin.texture).not.toBe(system.fallbackTexture);
    plugin.setControl("no_such_control", 1);
    await plugin.whenSettledAsync();
    expect(errors[2].message).toMatch(/controls\.no_such_control: unknown control \(known: direction_0, direction_1\)/);
    scene.dispose();
  });

  it("a backend failure during generation: BACKEND_FAILED, fallback, the next change retries", async () => {
    let fail = true;
    const inner = new InThreadFaceTransport(CreateNodeBackend({ intraOpNumThreads: 1 }));
    const transport: FaceTransport = {
      kind: "flaky",
      sendAsync: (message, transfer) =>
        message.type === "generate" && fail ? Promise.resolve({ id: message.id, ok: false, error: { code: "BACKEND_FAILED", message: "simulated GPU loss" } }) : inner.sendAsync(message),
      terminate: () => inner.terminate(),
    };
    const { scene } = CreateNullScene();
    const system = await NpcFaceSystem.CreateAsync(scene, { transport, modelBytes: await TinyModelAsync(), debounceMs: 5 });
    const { plugin } = Npc(scene);
    await ExpectSceneRunsAsync(scene);
    expect(plugin.lastError?.code).toBe("BACKEND_FAILED");
    expect(plugin.texture).toBe(system.fallbackTexture);
    fail = false;
    plugin.seed = 1;
    await plugin.whenSettledAsync();
    expect(plugin.face).toBeDefined();
    scene.dispose();
  });
});

describe("NpcFaceModelAssetTask / AddNpcFaceModelTask", () => {
  it("loads the model with the AssetsManager, and reports a 404 as a task error with a usable (fallback) system", async () => {
    const { scene } = CreateNullScene();
    const manager = new AssetsManager(scene);
    manager.useDefaultLoadingScreen = false;
    const task = AddNpcFaceModelTask(manager, "faces", `${baseUrl}/tiny.onnx`, NodeBackend());
    const { plugin } = Npc(scene);
    await manager.loadAsync();
    expect(task.isCompleted).toBe(true);
    expect(task.errorObject).toBeUndefined();
    expect(task.system).toBe(NpcFaceSystem.Get(scene));
    expect(task.system!.metadata!.resolution).toBe(16);
    await ExpectSceneRunsAsync(scene);
    expect(plugin.face).toBeDefined();
    scene.dispose();

    const { scene: other } = CreateNullScene();
    const failing = new AssetsManager(other);
    failing.useDefaultLoadingScreen = false;
    const missing = AddNpcFaceModelTask(failing, "faces", `${baseUrl}/missing.onnx`, NodeBackend());
    await failing.loadAsync().catch(() => undefined);
    expect(missing.errorObject.message).toMatch(/HTTP 404/);
    expect(missing.system?.loadError?.code).toBe("NOT_A_FILE");
    await ExpectSceneRunsAsync(other);
    other.dispose();
  });
});
