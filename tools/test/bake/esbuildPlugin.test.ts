/**
 * The esbuild plugin: a tiny entry importing a manifest bundles with the baked URLs (and atlas data); in watch
 * mode, changing one NPC rebakes that face only.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as esbuild from "esbuild";
import { afterAll, beforeAll, expect, it } from "vitest";
import { TinyModelAsync } from "../../../runtime/test/testModels.js";
import { NpcFacesEsbuildPlugin, type NpcFacesModule } from "../../src/bake/esbuildNpcFacesPlugin.js";
import type { ManifestBakeSummary } from "../../src/bake/manifestBake.js";
import { FileSha256Async, TestNpcs, WriteManifestAsync } from "./bakeTestUtils.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "npc-faces-esbuild-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

it("bakes an imported manifest at build time, and rebakes only the changed face in watch mode", async () => {
  const model = join(dir, "tiny.onnx");
  await writeFile(model, await TinyModelAsync());
  const sha = await FileSha256Async(model);
  const npcs = TestNpcs(6);
  const manifest = await WriteManifestAsync(join(dir, "npcs.npcfaces.json"), sha, npcs);
  await writeFile(join(dir, "game.js"), 'import data, { faces, atlas } from "./npcs.npcfaces.json";\nexport { data, faces, atlas };\n');
  const bakes: ManifestBakeSummary[] = [];
  let onBake: (() => void) | undefined;
  let onBuildEnd: (() => void) | undefined;
  const outfile = join(dir, "dist", "game.mjs");
  const context = await esbuild.context({
    entryPoints: [join(dir, "game.js")],
    bundle: true,
    format: "esm",
    outfile,
    logLevel: "silent",
    plugins: [
      NpcFacesEsbuildPlugin({
        model,
        outDir: join(dir, "dist", "faces"),
        publicPath: "faces/",
        atlas: "64x64",
        workers: 1,
        onBaked: (_manifest, summary) => {
          bakes.push(summary);
          onBake?.();
        },
      }),
      // esbuild snapshots the watched files (the manifest) while it scans, before onEnd: a change written after
      // onEnd is seen by the watcher.
      { name: "build-end", setup: (build) => build.onEnd(() => onBuildEnd?.()) },
    ],
  });
  try {
    const first = await context.rebuild();
    expect(first.errors).toEqual([]);
    expect(bakes.map((b) => [b.baked, b.cached])).toEqual([[6, 0]]);
    const bundle = await readFile(outfile, "utf8");
    const module = (await import(`${outfile}?v=1`)) as { data: NpcFacesModule; faces: NpcFacesModule["faces"]; atlas: NpcFacesModule["atlas"] };
    expect(module.data.faces).toBe(module.faces);
    expect(module.faces.npc_002).toEqual({ url: "faces/npcs/npc_002.png", width: 16, height: 16 });
    expect(module.atlas!.url).toBe("faces/npcs/atlas.json");
    expect(module.atlas!.pages).toEqual(["faces/npcs/atlas-0.png"]); // 3x3 cells of 20 px per 64x64 page
    expect(module.atlas!.faces.npc_000).toMatchObject({ page: 0, x: 2, y: 2 });
    expect(bundle).toContain("faces/npcs/npc_005.png");

    // Watch mode: the manifest is a watch file; one changed NPC = one face baked.
    // watch() starts with a build of its own: nothing changed, so no inference.
    const initial = Promise.all([new Promise<void>((resolve) => (onBake = resolve)), new Promise<void>((resolve) => (onBuildEnd = resolve))]);
    await context.watch();
    await initial;
    onBuildEnd = undefined;
    const rebaked = new Promise<void>((resolve) => (onBake = resolve));
    await WriteManifestAsync(manifest, sha, npcs.map((n, i) => (i === 4 ? { ...n, seed: 777 } : n)));
    await Promise.race([rebaked, new Promise((_, reject) => setTimeout(() => reject(new Error("watch mode did not rebake within 20 s")), 20_000))]);
    expect(bakes.map((b) => [b.baked, b.cached])).toEqual([[6, 0], [0, 6], [1, 5]]);
  } finally {
    await context.dispose();
  }
});
