/**
 * ApplyManifestEntry under NullEngine with real inference (tiny model, in-thread): a manifest entry applied to a
 * material gives the face the runtime generates for `ManifestNpcToFaceRequest(entry)`, and applying entries one
 * after another leaks nothing from the previous one.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { StandardMaterial } from "@babylonjs/core/Materials/standardMaterial.js";
import { FaceGenerator, ManifestNpcToFaceRequest, type ManifestNpc } from "@npc-faces/runtime";
import { CreateNodeBackend } from "@npc-faces/runtime/node";
import { ApplyManifestEntry, FaceRequestKey, NpcFaceMaterialPlugin } from "@npc-faces/babylon";
import { CreateFaceSceneAsync, TinyModelAsync, WithinAsync } from "./pluginTestScene.js";

let reference: FaceGenerator;
beforeAll(async () => {
  reference = await FaceGenerator.loadAsync(await TinyModelAsync(), { backend: CreateNodeBackend({ intraOpNumThreads: 1 }) });
});
afterAll(async () => {
  await reference?.disposeAsync();
});

const Entries: ManifestNpc[] = [
  { id: "guard", name: "Gate guard", seed: 42, psi: 0.5, noiseStrength: 0.3, controls: { direction_1: 1.5 } },
  { id: "child", name: "Smith's kid", seed: 7, mixSeed: 9001, mix: 0.6, mixCrossover: 2 },
  { id: "plain", name: "Plain", seed: 3 },
];

describe("ApplyManifestEntry", () => {
  it("gives the material the manifest entry's face, entry after entry", async () => {
    const { scene, system } = await CreateFaceSceneAsync();
    const plugin = new NpcFaceMaterialPlugin(new StandardMaterial("npc", scene));
    const metadata = system.metadata!;
    for (const npc of Entries) {
      ApplyManifestEntry(plugin, npc);
      const request = ManifestNpcToFaceRequest(npc);
      // Same resolved inputs (the client's cache key) as the manifest's request: same pixels.
      expect(FaceRequestKey(metadata, system.modelHash!, plugin.request), npc.id).toBe(FaceRequestKey(metadata, system.modelHash!, request));
      await WithinAsync(plugin.whenSettledAsync(), 30_000, `face of ${npc.id}`);
      expect(plugin.lastError).toBeUndefined();
      expect(plugin.face!.data, npc.id).toEqual((await reference.generateAsync([request]))[0].data);
    }
    // Unset fields went back to the model's defaults.
    expect(plugin.psi).toBe(metadata.defaults.psi);
    expect(plugin.noiseStrength).toBe(metadata.defaults.noiseStrength);
    expect(plugin.mix).toBe(0);
    scene.dispose();
  });

  it("applying the same entry twice does not regenerate", async () => {
    const { scene, system } = await CreateFaceSceneAsync();
    const plugin = new NpcFaceMaterialPlugin(new StandardMaterial("npc", scene));
    ApplyManifestEntry(plugin, Entries[0]);
    await plugin.whenSettledAsync();
    let generated = 0;
    plugin.onGeneratedObservable.add(() => generated++);
    const requests = system.client.stats.requests;
    // With the clock faked, a regeneration would show as an armed debounce timer; run every timer to be sure.
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    try {
      ApplyManifestEntry(plugin, Entries[0]);
      expect(plugin.isGenerating).toBe(false);
      expect(vi.getTimerCount(), "no debounce timer armed").toBe(0);
      await vi.runAllTimersAsync();
    } finally {
      vi.useRealTimers();
    }
    expect(system.client.stats.requests).toBe(requests);
    expect(generated).toBe(0);
    // The check can fail: a changed entry arms the debounce at once.
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    try {
      ApplyManifestEntry(plugin, Entries[2]);
      expect(plugin.isGenerating).toBe(true);
      expect(vi.getTimerCount()).toBe(1);
    } finally {
      vi.useRealTimers();
    }
    scene.dispose();
  });
});
