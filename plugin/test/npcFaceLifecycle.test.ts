/**
 * The plugin through a game's lifecycle (issue 16), under NullEngine with the tiny test model: a plugin disabled
 * before its first face never hangs `scene.whenReadyAsync()`, a disposed system is replaced and its plugins adopted,
 * and a second face plugin on one material is refused.
 */
import { describe, expect, it } from "vitest";
import { StandardMaterial } from "@babylonjs/core/Materials/standardMaterial.js";
import { CreateSphere } from "@babylonjs/core/Meshes/Builders/sphereBuilder.js";
import type { Scene } from "@babylonjs/core/scene.js";
import { CreateNodeBackend } from "@npc-faces/runtime/node";
import { InThreadFaceTransport, NpcFaceMaterialPlugin, NpcFaceSystem, type FaceTransport, type NpcFaceProgress } from "@npc-faces/babylon";
import { CreateFaceSceneAsync, CreateNullScene, TinyModelAsync, WithinAsync, UseReferenceFaces } from "./pluginTestScene.js";

const ReferenceFaceAsync = UseReferenceFaces();

function Npc(scene: Scene, name = "npc"): { material: StandardMaterial; plugin: NpcFaceMaterialPlugin } {
  const material = new StandardMaterial(name, scene);
  CreateSphere(name, { segments: 4 }, scene).material = material;
  return { material, plugin: new NpcFaceMaterialPlugin(material) };
}

const InThread = async () => ({ mode: "inThread" as const, backend: CreateNodeBackend({ intraOpNumThreads: 1 }), modelBytes: await TinyModelAsync(), debounceMs: 5 });

describe("a plugin disabled before its first face", () => {
  it("disabled right after creation: the scene becomes ready; enabled again, the face is generated", async () => {
    const { scene } = await CreateFaceSceneAsync();
    const { plugin } = Npc(scene);
    plugin.seed = 3;
    plugin.isEnabled = false; // a hidden NPC, a LOD
    expect(plugin.isGenerating).toBe(false);
    await WithinAsync(scene.whenReadyAsync(), 5_000, "scene.whenReadyAsync() with a disabled plugin");
    expect(plugin.face).toBeUndefined();
    plugin.isEnabled = true;
    expect(plugin.isGenerating).toBe(true);
    await WithinAsync(scene.whenReadyAsync(), 10_000, "scene.whenReadyAsync() after enabling");
    expect(plugin.face!.data).toEqual(await ReferenceFaceAsync({ seed: 3 }));
    scene.dispose();
  });

  it("disabled before the system exists, and while its generation is running: never pending", async () => {
    const { scene } = CreateNullScene();
    const early = Npc(scene, "early").plugin; // waits for the system
    early.isEnabled = false;
    await NpcFaceSystem.CreateAsync(scene, await InThread());
    await WithinAsync(scene.whenReadyAsync(), 5_000, "scene.whenReadyAsync() with a plugin disabled before the system");
    expect(early.face).toBeUndefined();

    const running = Npc(scene, "running").plugin;
    running.seed = 11;
    running.regenerate(); // the request is queued now
    running.isEnabled = false;
    await WithinAsync(scene.whenReadyAsync(), 5_000, "scene.whenReadyAsync() with a plugin disabled mid-generation");
    await WithinAsync(running.whenSettledAsync(), 1_000, "whenSettledAsync() of the disabled plugin");
    running.isEnabled = true;
    early.isEnabled = true;
    await WithinAsync(scene.whenReadyAsync(), 10_000, "scene.whenReadyAsync() after enabling both");
    expect(running.face!.data).toEqual(await ReferenceFaceAsync({ seed: 11 }));
    expect(early.face!.data).toEqual(await ReferenceFaceAsync({ seed: 0 }));
    scene.dispose();
  });
});

describe("system disposal and replacement", () => {
  it("a new system adopts the existing plugins: their faces come back and a seed change produces a face", async () => {
    const { scene, system } = await CreateFaceSceneAsync();
    const { plugin } = Npc(scene);
    plugin.seed = 5;
    await plugin.whenSettledAsync();
    expect(plugin.face).toBeDefined();

    let registeredWhileNotified: NpcFaceSystem | undefined | null = null;
    const observer = { _onSystemCreated() {}, _onModelSettled() {}, _onSystemDisposed: () => (registeredWhileNotified = NpcFaceSystem.Get(scene)) };
    NpcFaceSystem._Join(scene, observer);
    system.dispose();
    expect(registeredWhileNotified).toBeUndefined(); // the dying system is gone from the registry while it notifies
    NpcFaceSystem._Leave(scene, observer);
    expect(NpcFaceSystem.Get(scene)).toBeUndefined();
    expect(plugin.face).toBeUndefined();
    expect(plugin.system).toBeUndefined();
    await WithinAsync(scene.whenReadyAsync(), 5_000, "scene.whenReadyAsync() without a system");

    const replacement = await NpcFaceSystem.CreateAsync(scene, await InThread());
    await WithinAsync(scene.whenReadyAsync(), 10_000, "scene.whenReadyAsync() with the new system");
    expect(plugin.system).toBe(replacement);
    expect(plugin.face!.data).toEqual(await ReferenceFaceAsync({ seed: 5 }));
    plugin.seed = 6;
    await WithinAsync(plugin.whenSettledAsync(), 10_000, "the seed change on the new system");
    expect(plugin.lastError).toBeUndefined();
    expect(plugin.face!.data).toEqual(await ReferenceFaceAsync({ seed: 6 }));
    // A plugin created after the replacement joins it too.
    const later = Npc(scene, "later").plugin;
    await later.whenSettledAsync();
    expect(later.system).toBe(replacement);
    expect(later.face).toBeDefined();
    scene.dispose();
    expect(replacement.isDisposed).toBe(true);
  });

  it("a system disposed while its model loads is replaced the same way", async () => {
    const { scene } = CreateNullScene();
    const { plugin } = Npc(scene);
    plugin.seed = 9;
    const first = new NpcFaceSystem(scene, await InThread());
    first.dispose();
    expect(await first.whenModelSettledAsync()).toBe(false);
    const second = await NpcFaceSystem.CreateAsync(scene, await InThread());
    await WithinAsync(scene.whenReadyAsync(), 10_000, "scene.whenReadyAsync() with the second system");
    expect(plugin.system).toBe(second);
    expect(plugin.face!.data).toEqual(await ReferenceFaceAsync({ seed: 9 }));
    scene.dispose();
  });
});

describe("one face plugin per material", () => {
  it("a second plugin on the same material is refused with a clear error; the first keeps working", async () => {
    const { scene } = await CreateFaceSceneAsync();
    const { material, plugin } = Npc(scene);
    plugin.seed = 4;
    const inspectables = material.inspectableCustomProperties.length;
    expect(NpcFaceMaterialPlugin.Get(material)).toBe(plugin);
    expect(() => new NpcFaceMaterialPlugin(material)).toThrow(/material "npc" already has one \(NpcFaceMaterialPlugin\.Get\(material\) returns it\)/);
    expect(material.inspectableCustomProperties.length).toBe(inspectables);
    expect(material.pluginManager!.getPlugin("NpcFace")).toBe(plugin);
    (material as unknown as Record<string, number>).npcFace_seed = 8; // the accessors still drive the first plugin
    expect(plugin.seed).toBe(8);
    await WithinAsync(scene.whenReadyAsync(), 10_000, "scene.whenReadyAsync()");
    expect(plugin.face!.data).toEqual(await ReferenceFaceAsync({ seed: 8 }));
    expect(NpcFaceMaterialPlugin.Get(new StandardMaterial("plain", scene))).toBeUndefined();
    scene.dispose();
  });
});

describe("every way out of generating releases the scene", () => {
  it("the worker dies mid-generation: BACKEND_FAILED, fallback, the scene becomes ready", async () => {
    const inner = new InThreadFaceTransport(CreateNodeBackend({ intraOpNumThreads: 1 }));
    const transport: FaceTransport = {
      kind: "dying",
      // The generate message is never answered until the transport reports the worker's death.
      sendAsync: (message) => (message.type === "generate" ? new Promise((resolve) => setTimeout(() => resolve({ id: message.id, ok: false, error: { code: "BACKEND_FAILED", message: "the face worker failed (it crashed)" } }), 50)) : inner.sendAsync(message)),
      terminate: () => inner.terminate(),
    };
    const { scene } = CreateNullScene();
    const system = await NpcFaceSystem.CreateAsync(scene, { transport, modelBytes: await TinyModelAsync(), debounceMs: 5 });
    const { plugin } = Npc(scene);
    expect(scene.isReady()).toBe(false);
    await WithinAsync(scene.whenReadyAsync(), 5_000, "scene.whenReadyAsync() after the worker's death");
    expect(plugin.lastError?.message).toMatch(/it crashed/);
    expect(plugin.texture).toBe(system.fallbackTexture);
    scene.dispose();
  });

  it("the system is disposed while faces are generating: the scene becomes ready", async () => {
    const { scene, system } = await CreateFaceSceneAsync();
    const plugins = Array.from({ length: 10 }, (_, i) => Npc(scene, `npc${i}`).plugin);
    plugins.forEach((p, i) => (p.seed = 300 + i));
    plugins.forEach((p) => p.regenerate());
    expect(scene.getWaitingItemsCount()).toBeGreaterThan(0);
    system.dispose();
    expect(scene.getWaitingItemsCount()).toBe(0);
    await WithinAsync(scene.whenReadyAsync(), 5_000, "scene.whenReadyAsync() after the system's disposal");
    expect(plugins.every((p) => !p.isGenerating)).toBe(true);
    scene.dispose();
  });
});

describe("progress", () => {
  it("onProgressObservable counts faces queued, done and failed", async () => {
    const { scene, system } = await CreateFaceSceneAsync();
    const seen: NpcFaceProgress[] = [];
    system.onProgressObservable.add((p) => seen.push(p));
    const plugins = Array.from({ length: 5 }, (_, i) => Npc(scene, `npc${i}`).plugin);
    plugins.forEach((p, i) => (p.seed = 400 + i));
    plugins[4].seed = 400; // shares plugin 0's face: 4 distinct faces
    await WithinAsync(scene.whenReadyAsync(), 10_000, "the faces");
    expect(system.progress).toEqual({ done: 4, failed: 0, queued: 0 });
    expect(Math.max(...seen.map((p) => p.queued))).toBe(4);
    expect(seen.at(-1)).toEqual({ done: 4, failed: 0, queued: 0 });
    plugins[1].seed = 2 ** 32; // invalid: fails before anything is queued
    plugins[2].seed = 450;
    await Promise.all(plugins.map((p) => p.whenSettledAsync()));
    expect(system.progress).toEqual({ done: 5, failed: 0, queued: 0 });
    scene.dispose();
  });
});
