/**
 * The model's asset task can be retried (issue 16): a load that failed (here a 404, then the file appears) is run
 * again with `task.reset()` + `assetsManager.loadAsync()`, the failed system is replaced and the materials that
 * showed the fallback get their faces.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FreeCamera } from "@babylonjs/core/Cameras/freeCamera.js";
import { StandardMaterial } from "@babylonjs/core/Materials/standardMaterial.js";
import { Vector3 } from "@babylonjs/core/Maths/math.vector.js";
import { CreateSphere } from "@babylonjs/core/Meshes/Builders/sphereBuilder.js";
import { AssetsManager } from "@babylonjs/core/Misc/assetsManager.js";
import { CreateNodeBackend } from "@npc-faces/runtime/node";
import { AddNpcFaceModelTask, NpcFaceMaterialPlugin, NpcFaceSystem } from "@npc-faces/babylon";
import { CreateNullScene, TinyModelAsync, WithinAsync } from "./pluginTestScene.js";

let server: Server;
let baseUrl: string;
let available = false;

beforeAll(async () => {
  const model = await TinyModelAsync();
  server = createServer((request, response) => {
    if (request.url === "/late.onnx" && available) response.writeHead(200, { "content-type": "application/octet-stream" }).end(model);
    else response.writeHead(404, "Not Found").end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
});

describe("NpcFaceModelAssetTask retry", () => {
  it("a failed task runs again after reset(): the failed system is replaced and the faces appear", async () => {
    const { scene } = CreateNullScene();
    new FreeCamera("camera", new Vector3(0, 0, -5), scene);
    const material = new StandardMaterial("npc", scene);
    CreateSphere("npc", { segments: 4 }, scene).material = material;
    const plugin = new NpcFaceMaterialPlugin(material);
    plugin.seed = 12;
    const manager = new AssetsManager(scene);
    manager.useDefaultLoadingScreen = false;
    const task = AddNpcFaceModelTask(manager, "faces", `${baseUrl}/late.onnx`, { mode: "inThread", backend: CreateNodeBackend({ intraOpNumThreads: 1 }), debounceMs: 5 });
    task.onError = () => undefined; // expected: keeps the manager from logging it
    await manager.loadAsync().catch(() => undefined);
    expect(task.errorObject.message).toMatch(/HTTP 404/);
    const failed = task.system!;
    expect(failed.loadError?.code).toBe("NOT_A_FILE");
    await WithinAsync(scene.whenReadyAsync(), 5_000, "scene.whenReadyAsync() after the failure");
    expect(plugin.texture).toBe(failed.fallbackTexture);

    available = true;
    task.reset();
    await WithinAsync(manager.loadAsync(), 10_000, "the retried task");
    expect(task.isCompleted).toBe(true);
    expect(failed.isDisposed).toBe(true);
    expect(task.system).not.toBe(failed);
    expect(task.system).toBe(NpcFaceSystem.Get(scene));
    expect(task.system!.isModelLoaded).toBe(true);
    await WithinAsync(scene.whenReadyAsync(), 10_000, "scene.whenReadyAsync() after the retry");
    expect(plugin.system).toBe(task.system);
    expect(plugin.lastError).toBeUndefined();
    expect(plugin.face).toBeDefined();
    scene.dispose();
  });
});
