/**
 * Builds the crowd sample with esbuild: `node samples/dist/node/build.js`.
 *
 * Output (`samples/dist/crowd/`): `index.html`, `main.js` (the page), `faceWorker.js` (the plugin's Web Worker,
 * a separate module so it never runs on the main thread) and `ort/` with onnxruntime-web's `.wasm`/`.mjs` files
 * copied from node_modules: the page loads everything from its own server, never from a CDN.
 */
import { copyFile, mkdir, readdir, stat } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { build, type Plugin } from "esbuild";
import { RepoRoot } from "./sampleModel.js";

/** Where the built crowd sample goes. */
export const DefaultOutDir = join(RepoRoot, "samples", "dist", "crowd");

/** The plugin's worker entry, bundled as its own file. */
export const WorkerEntry = join(RepoRoot, "plugin", "src", "worker", "faceWorker.ts");

/** Sub-folder of the output holding onnxruntime-web's binaries (the page passes it as `wasmPaths`). */
export const OrtFolder = "ort";

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
  await mkdir(join(outDir, OrtFolder), { recursive: true });
  await build({
    entryPoints: { main: join(RepoRoot, "samples", "crowd", "main.ts"), faceWorker: WorkerEntry },
    outdir: outDir,
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    // onnxruntime-web's ES module build that loads its WASM glue (`.mjs`) from `wasmPaths` (the copied `ort/`
    // files) instead of the copy embedded in the bundle: its thread workers then start from that small file, not
    // from our worker bundle.
    conditions: ["onnxruntime-web-use-extern-wasm", "import", "browser"],
    sourcemap: "linked",
    minify: options.minify ?? false,
    logLevel: "warning",
    plugins: [WorkspaceSourcesPlugin()],
  });
  await copyFile(join(RepoRoot, "samples", "crowd", "index.html"), join(outDir, "index.html"));
  await CopyOrtBinariesAsync(join(outDir, OrtFolder));

  const files: { path: string; bytes: number }[] = [];
  for (const entry of await readdir(outDir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = join(entry.parentPath, entry.name);
    files.push({ path: full.slice(outDir.length + 1), bytes: (await stat(full)).size });
  }
  files.sort((a, b) => a.path.localeCompare(b.path));
  return { outDir, files, milliseconds: performance.now() - started };
}

/**
 * Resolves `@npc-faces/runtime[/sub]` and `@npc-faces/babylon[/sub]` to their TypeScript sources, so the sample
 * always runs the checkout's code (no stale `dist/`, no need to build the packages first).
 */
export function WorkspaceSourcesPlugin(): Plugin {
  const sources: Record<string, string> = {
    "@npc-faces/runtime": join(RepoRoot, "runtime", "src"),
    "@npc-faces/babylon": join(RepoRoot, "plugin", "src"),
  };
  return {
    name: "npc-faces-workspace-sources",
    setup(builder) {
      builder.onResolve({ filter: /^@npc-faces\/(runtime|babylon)(\/.*)?$/ }, async (args) => {
        const match = /^(@npc-faces\/[a-z]+)(?:\/(.*))?$/.exec(args.path)!;
        const src = sources[match[1]];
        const sub = match[2];
        const candidates = sub === undefined ? [join(src, "index.ts")] : [join(src, sub, "index.ts"), join(src, `${sub}.ts`)];
        for (const candidate of candidates) {
          if (await stat(candidate).then((s) => s.isFile(), () => false)) return { path: candidate };
        }
        return { errors: [{ text: `cannot find the sources of ${args.path} (looked for ${candidates.join(", ")})` }] };
      });
    },
  };
}

/** Copies onnxruntime-web's WASM binaries and their `.mjs` loaders (every variant the package may pick at run time). */
export async function CopyOrtBinariesAsync(destination: string): Promise<void> {
  const require = createRequire(join(RepoRoot, "plugin", "package.json"));
  // `onnxruntime-web/package.json` is not exported; the wasm file is, and it sits in the package's dist/.
  const ortDist = dirname(require.resolve("onnxruntime-web/ort-wasm-simd-threaded.wasm"));
  const names = (await readdir(ortDist)).filter((name) => /^ort-wasm-simd-threaded(\.[a-z]+)?\.(wasm|mjs)$/.test(name));
  if (names.length === 0) throw new Error(`no onnxruntime-web binaries found in ${ortDist}`);
  for (const name of names) {
    const source = join(ortDist, name);
    const target = join(destination, name);
    const [from, to] = await Promise.all([stat(source), stat(target).catch(() => undefined)]);
    if (to && to.size === from.size && to.mtimeMs >= from.mtimeMs) continue;
    await copyFile(source, target);
  }
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
