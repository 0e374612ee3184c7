/**
 * Builds the crowd sample with esbuild: `node samples/dist/node/build.js`.
 *
 * Output (`samples/dist/crowd/`): `index.html`, `main.js` (the page), `faceWorker.js` (the plugin's Web Worker,
 * a separate module so it never runs on the main thread) and `ort/` with onnxruntime-web's `.wasm`/`.mjs` files
 * copied from node_modules, and `npcFaces.gltf` (plugin/examples, for `gltf=1`): the page loads everything from its own
 * server, never from a CDN.
 */
import { copyFile, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { BundleFacePageAsync, RepoRoot } from "@npc-faces/tools";

/** Where the built crowd sample goes. */
export const DefaultOutDir = join(RepoRoot, "samples", "dist", "crowd");

/** Options of {@link BuildSampleAsync}. */
export interface BuildSampleOptions {
  readonly outDir?: string;
  /** Minify the bundles (default false: readable stack traces while developing). */
  readonly minify?: boolean;
}

/** What {@link BuildSampleAsync} wrote. */
export interface BuildSampleResult {
  readonly outDir: string;
  /** Written files relative to `outDir`, with their sizes in bytes. */
  readonly files: ReadonlyArray<{ readonly path: string; readonly bytes: number }>;
  readonly milliseconds: number;
}

/**
 * Bundles the page and the worker and copies the static files. Incremental for the large onnxruntime binaries:
 * a copy whose size and modification time match is kept.
 */
export async function BuildSampleAsync(options: BuildSampleOptions = {}): Promise<BuildSampleResult> {
  const started = performance.now();
  const outDir = options.outDir ?? DefaultOutDir;
  await BundleFacePageAsync({
    pageName: "main",
    pageEntry: join(RepoRoot, "samples", "crowd", "main.ts"),
    indexHtml: join(RepoRoot, "samples", "crowd", "index.html"),
    outDir,
    minify: options.minify ?? false,
  });
  // The glTF example the page loads with `gltf=1` (NPC_faces materials).
  await copyFile(join(RepoRoot, "plugin", "examples", "npcFaces.gltf"), join(outDir, "npcFaces.gltf"));

  const files: { path: string; bytes: number }[] = [];
  for (const entry of await readdir(outDir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = join(entry.parentPath, entry.name);
    files.push({ path: full.slice(outDir.length + 1), bytes: (await stat(full)).size });
  }
  files.sort((a, b) => a.path.localeCompare(b.path));
  return { outDir, files, milliseconds: performance.now() - started };
}

async function MainAsync(): Promise<void> {
  const result = await BuildSampleAsync({ minify: process.argv.includes("--minify") });
  const total = result.files.reduce((sum, f) => sum + f.bytes, 0);
  const bundles = result.files.filter((f) => f.path.endsWith(".js")).map((f) => `${f.path} ${(f.bytes / 1e6).toFixed(2)} MB`);
  console.log(`built the crowd sample into ${result.outDir} in ${(result.milliseconds / 1000).toFixed(1)} s: ${bundles.join(", ")}; ${(total / 1e6).toFixed(0)} MB in all`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  MainAsync().catch((error: unknown) => {
    console.error(`npc-faces sample build: ${(error as Error).message}`);
    process.exit(1);
  });
}
