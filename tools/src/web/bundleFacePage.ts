/**
 * Bundles a browser page that shows npc-faces with esbuild, as the crowd sample and the seed editor do: the page,
 * the plugin's face worker (a separate module so it never runs on the main thread), the page's `index.html`,
 * `ort/` with onnxruntime-web's `.wasm`/`.mjs` files copied from node_modules, and the bundled default model: the
 * page loads everything from its own server, never from a CDN.
 */
import { copyFile, mkdir, readdir, stat } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { build, type Metafile, type Plugin } from "esbuild";
import { DefaultModelPath } from "@npc-faces/runtime/node";
import { RepoRoot } from "./sampleModel.js";

/** The plugin's worker entry, bundled as its own file (`faceWorker.js`). */
export const WorkerEntry = join(RepoRoot, "plugin", "src", "worker", "faceWorker.ts");

/** Sub-folder of the output holding onnxruntime-web's binaries (the page passes it as `wasmPaths`). */
export const OrtFolder = "ort";

/**
 * The bundled default model's file name in the output. The plugin's default `modelUrl` is `@npc-faces/default-model`'s
 * `new URL("./default.onnx", import.meta.url)`, which esbuild leaves as is: in the bundle it points next to the bundle.
 */
export const DefaultModelFileName = "default.onnx";

/** Options of {@link BundleFacePageAsync}. */
export interface BundleFacePageOptions {
  /** Name of the page's bundle (`main` gives `main.js`). */
  readonly pageName: string;
  /** The page's entry module. */
  readonly pageEntry: string;
  /** The page's HTML, copied to `outDir/index.html`. */
  readonly indexHtml: string;
  readonly outDir: string;
  /** Minify the bundles (default false: readable stack traces while developing). */
  readonly minify?: boolean;
  /** esbuild's working directory (the metafile's paths are relative to it); default the process's. */
  readonly absWorkingDir?: string;
}

/**
 * Bundles the page and the worker into `outDir` and copies `index.html`, onnxruntime-web's binaries and the bundled
 * default model (incremental: a copy whose size and modification time match is kept).
 * @returns esbuild's metafile (every input of the bundles)
 */
export async function BundleFacePageAsync(options: BundleFacePageOptions): Promise<Metafile> {
  const { outDir } = options;
  await mkdir(join(outDir, OrtFolder), { recursive: true });
  const result = await build({
    entryPoints: { [options.pageName]: options.pageEntry, faceWorker: WorkerEntry },
    outdir: outDir,
    ...(options.absWorkingDir === undefined ? {} : { absWorkingDir: options.absWorkingDir }),
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
    metafile: true,
    logLevel: "warning",
    plugins: [WorkspaceSourcesPlugin()],
  });
  await copyFile(options.indexHtml, join(outDir, "index.html"));
  await CopyOrtBinariesAsync(join(outDir, OrtFolder));
  await CopyIfChangedAsync(DefaultModelPath(), join(outDir, DefaultModelFileName));
  return result.metafile;
}

/**
 * Resolves `@npc-faces/runtime[/sub]` and `@npc-faces/babylon[/sub]` to their TypeScript sources, so a page
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
  for (const name of names) await CopyIfChangedAsync(join(ortDist, name), join(destination, name));
}

/** Copies a file unless the target has the same size and is not older. */
async function CopyIfChangedAsync(source: string, target: string): Promise<void> {
  const [from, to] = await Promise.all([stat(source), stat(target).catch(() => undefined)]);
  if (to && to.size === from.size && to.mtimeMs >= from.mtimeMs) return;
  await copyFile(source, target);
}
