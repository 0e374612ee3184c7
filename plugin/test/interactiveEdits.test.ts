/**
 * Edits after load (issue 16): changing a face already shown keeps `scene.isReady()` true (the old face stays bound
 * until the new one arrives) unless `updatesBlockReadiness` asks otherwise, and such an edit goes ahead of a level's
 * queued faces. NullEngine, tiny test model, in-thread onnxruntime-node.
 */
import { describe, expect, it } from "vitest";
import { FreeCamera } from "@babylonjs/core/Cameras/freeCamera.js";
import { StandardMaterial } from "@babylonjs/core/Materials/standardMaterial.js";
import { Vector3 } from "@babylonjs/core/Maths/math.vector.js";
import { CreateSphere } from "@babylonjs/core/Meshes/Builders/sphereBuilder.js";
import type { Scene } from "@babylonjs/core/scene.js";
import { CreateNodeBackend } from "@npc-faces/runtime/node";
import { FaceWorkerClient, InThreadFaceTransport, NpcFaceMaterialPlugin, NpcFaceSystem, type FaceTransport, type FaceWorkerMessage, type FaceWorkerReply } from "@npc-faces/babylon";
import { CreateFaceSceneAsync, CreateNullScene, TinyModelAsync, WithinAsync } from "./pluginTestScene.js";

function Npc(scene: Scene, name = "npc"): { material: StandardMaterial; plugin: NpcFaceMaterialPlugin } {
  const material = new StandardMaterial(name, scene);
  CreateSphere(name, { segments: 4 }, scene).material = material;
  return { material, plugin: new NpcFaceMaterialPlugin(material) };
}

/** Records the seeds of each generate message; can hold the replies to them. */
class SeedRecorder implements FaceTransport {
  readonly kind = "recording";
  readonly batches: number[][] = [];
  private readonly inner = new InThreadFaceTransport(CreateNodeBackend({ intraOpNumThreads: 1 }));
  private gate: Promise<void> = Promise.resolve();
  private onSent?: () => void;
  /** Resolves once `count` generate batches have been sent. */
  whenSentAsync(count: number): Promise<void> {
    return new Promise((resolve) => {
      this.onSent = () => this.batches.length >= count && resolve();
      this.onSent();
    });
  }
  async sendAsync(message: FaceWorkerMessage, transfer: ArrayBuffer[]): Promise<FaceWorkerReply> {
    if (message.type === "generate") {
      this.batches.push(message.requests.map((r) => r.seed));
      this.onSent?.();
    }
    const reply = await this.inner.sendAsync(message);
    if (message.type === "generate") await this.gate;
    return reply;
  }
  /** Holds every generate reply from now on until the returned function is called. */
  holdReplies(): () => void {
    let release!: () => void;
    this.gate = new Promise<void>((resolve) => (release = resolve));
    return release;
  }
  terminate(): void {
    this.inner.terminate();
  }
}

describe("an edit of a face already shown", () => {
  it("keeps the scene ready and the old face bound until the new face arrives", async () => {
    const { scene } = await CreateFaceSceneAsync();
    new FreeCamera("camera", new Vector3(0, 0, -5), scene);
    const { plugin } = Npc(scene);
    plugin.seed = 1;
    expect(scene.isReady()).toBe(false); // the first face holds the scene
    await WithinAsync(scene.whenReadyAsync(), 10_000, "the first face");
    const first = plugin.texture;
    for (const seed of [2, 3, 4]) {
      plugin.seed = seed; // a slider drag
      expect(plugin.isGenerating).toBe(true);
      expect(scene.getWaitingItemsCount()).toBe(0);
      expect(scene.isReady()).toBe(true);
      expect(plugin.texture).toBe(first);
    }
    await plugin.whenSettledAsync();
    expect(plugin.texture).not.toBe(first);
    expect(plugin.request.seed).toBe(4);
    scene.dispose();
  });

  it("with updatesBlockReadiness (plugin or system), the update holds the scene as before", async () => {
    const { scene } = await CreateFaceSceneAsync({ updatesBlockReadiness: true });
    new FreeCamera("camera", new Vector3(0, 0, -5), scene);
    const a = Npc(scene, "a").plugin;
    const b = Npc(scene, "b").plugin;
    b.updatesBlockReadiness = false; // the plugin's own setting wins
    await WithinAsync(scene.whenReadyAsync(), 10_000, "the first faces");
    a.seed = 8;
    expect(scene.isReady()).toBe(false);
    await WithinAsync(scene.whenReadyAsync(), 10_000, "the update");
    expect(a.isGenerating).toBe(false);
    b.seed = 9;
    expect(scene.isReady()).toBe(true);
    await b.whenSettledAsync();
    scene.dispose();
  });

  it("goes ahead of a level's faces still queued", async () => {
    const { scene } = CreateNullScene();
    const transport = new SeedRecorder();
    const system = await NpcFaceSystem.CreateAsync(scene, { transport, modelBytes: await TinyModelAsync(), debounceMs: 5, batchWindowMs: 20, maxBatch: 8 });
    const shown = Npc(scene, "shown").plugin;
    shown.seed = 1;
    await shown.whenSettledAsync();
    transport.batches.length = 0;
    // The level's batches in flight are held, so its other faces are still queued when the edit comes, whatever the
    // timers do; the first batch sent after the edit is queued must start with it.
    const release = transport.holdReplies();
    const queued = (count: number) => new Promise<void>((resolve) => system.onProgressObservable.add((p) => p.queued === count && resolve()));
    const levelQueued = queued(24);
    const level = Array.from({ length: 24 }, (_, i) => {
      const plugin = Npc(scene, `level${i}`).plugin;
      plugin.seed = 100 + i;
      return plugin;
    });
    await WithinAsync(levelQueued, 20_000, "the level's faces queued");
    let sentBeforeEdit = -1;
    system.onProgressObservable.add((p) => p.queued === 25 && (sentBeforeEdit = transport.batches.length));
    const editQueued = queued(25);
    shown.seed = 7;
    await WithinAsync(editQueued, 20_000, "the edit queued");
    release();
    await WithinAsync(Promise.all([shown.whenSettledAsync(), ...level.map((p) => p.whenSettledAsync())]), 20_000, "all faces");
    expect(sentBeforeEdit).toBeLessThan(24 / 8); // some of the level was still queued
    expect(transport.batches[sentBeforeEdit][0]).toBe(7);
    expect(transport.batches.flat().sort((a, b) => a - b)).toEqual([7, ...level.map((_, i) => 100 + i)]);
    scene.dispose();
  });
});

describe("FaceWorkerClient priority", () => {
  it("high-priority faces are sent before the queued normal ones, in their own order; a queued face can be promoted", async () => {
    const transport = new SeedRecorder();
    const client = new FaceWorkerClient(transport, { maxInFlight: 1 });
    await client.loadModelAsync(await TinyModelAsync(), { maxBatch: 2 });
    // The first batch's reply is held, so the high-priority faces come while 3..6 are still queued, however fast the
    // machine answers.
    const release = transport.holdReplies();
    const leases = [1, 2, 3, 4, 5, 6].map((seed) => client.acquire({ seed }));
    await WithinAsync(transport.whenSentAsync(1), 10_000, "the first batch (1, 2) sent");
    leases.push(client.acquire({ seed: 50 }, { priority: "high" }));
    leases.push(client.acquire({ seed: 51 }, { priority: "high" }));
    leases.push(client.acquire({ seed: 6 }, { priority: "high" })); // already queued: promoted
    release();
    await Promise.all(leases.map((l) => l.promise));
    expect(transport.batches).toEqual([
      [1, 2],
      [50, 51],
      [6, 3],
      [4, 5],
    ]);
    leases.forEach((l) => l.release());
    await client.disposeAsync();
  });
});
