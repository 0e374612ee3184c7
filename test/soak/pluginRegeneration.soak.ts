/**
 * 10,000 plugin regenerations (NullEngine, the tiny model in-thread on onnxruntime-node): every seed change
 * replaces the face texture; the scene's texture count, the system's texture cache and the client's cache stay
 * constant, and the heap after a collection does not grow.
 */
import { StandardMaterial } from "@babylonjs/core/Materials/standardMaterial.js";
import { CreateSphere } from "@babylonjs/core/Meshes/Builders/sphereBuilder.js";
import { NpcFaceMaterialPlugin } from "@npc-faces/babylon";
import { expect, it } from "vitest";
import { CreateFaceSceneAsync } from "../../plugin/test/pluginTestScene.js";
import { CollectGarbage, MiB, ReportSoak, Scaled } from "./soakUtil.js";

const Regenerations = Scaled(10_000);
const SampleEvery = Regenerations / 10;

it(`${Regenerations} plugin regenerations: stable texture count and heap`, async () => {
  const { scene, system } = await CreateFaceSceneAsync({ debounceMs: 0 });
  const material = new StandardMaterial("npc-material", scene);
  CreateSphere("npc", { segments: 8 }, scene).material = material;
  const plugin = new NpcFaceMaterialPlugin(material);
  plugin.seed = 0;
  await plugin.whenSettledAsync();
  const samples: { regenerations: number; textures: number; cache: number; client: number; heapMiB: number }[] = [];
  const start = performance.now();
  for (let i = 1; i <= Regenerations; i++) {
    plugin.seed = i; // a new face every time: the old texture's last holder lets go of it
    await plugin.whenSettledAsync();
    if (i % SampleEvery === 0) {
      CollectGarbage();
      samples.push({ regenerations: i, textures: scene.textures.length, cache: system.textureCacheSize, client: system.client.cacheSize, heapMiB: MiB(process.memoryUsage().heapUsed) });
    }
  }
  const seconds = (performance.now() - start) / 1000;
  const generated = system.client.stats.generated;
  scene.dispose();
  // The first sample includes one-time growth (JIT, onnxruntime arenas); growth is judged from there on.
  const heapGrowthMiB = Math.round((samples.at(-1)!.heapMiB - samples[0].heapMiB) * 10) / 10;
  ReportSoak("plugin-regenerations", {
    regenerations: Regenerations, generated, seconds: Math.round(seconds * 10) / 10, perSecond: Math.round(Regenerations / seconds),
    textures: [...new Set(samples.map((s) => s.textures))], textureCache: [...new Set(samples.map((s) => s.cache))],
    heapMiB: samples.map((s) => s.heapMiB), heapGrowthMiB,
  });
  expect(generated).toBeGreaterThanOrEqual(Regenerations);
  expect(new Set(samples.map((s) => s.textures)).size).toBe(1);
  expect(new Set(samples.map((s) => s.cache)).size).toBe(1);
  expect(heapGrowthMiB).toBeLessThan(8);
});
