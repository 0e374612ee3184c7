/**
 * Bundles a browser page that shows npc-faces with esbuild, as the crowd sample and the seed editor do: the page,
 * the plugin's face worker (a separate module so it never runs on the main thread), the page's `index.html`,
 * `ort/` with onnxruntime-web's `.wasm`/`.mjs` files copied from node_modules, and the bundled default model: the
 * page loads everything from its own server, never from a CDN.
 */
import { copyFile, mkdir, readdir, readFile, rm, stat } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import type { Metafile, Plugin } from "esbuild";
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
  /** Write `.map` files next to the bundles (default true; the published editor page has none). */
  readonly sourcemap?: boolean;
  /** Copy the bundled default model next to the page (default true; the editor serves its model itself). */
  readonly copyDefaultModel?: boolean;
  /**
   * Bundle onnxruntime-web's WASM-only build (`onnxruntime-web/wasm`: the plain 14 MB binary) instead of the
   * default one with WebGPU/WebNN (the 28 MB `.jsep` binary). For pages that never ask for WebGPU, like the editor.
   */
  readonly wasmOnly?: boolean;
}

/**
 * Bundles the page and the worker into `outDir` and copies `index.html`, onnxruntime-web's binaries and the bundled
 * default model (incremental: a copy whose size and modification time match is kept).
 * @returns esbuild's metafile (every input of the bundles)
 */
export async function BundleFacePageAsync(options: BundleFacePageOptions): Promise<Metafile> {
  const { outDir } = options;
  await mkdir(join(outDir, OrtFolder), { recursive: true });
  // On demand: esbuild is needed only where pages are built from sources (the repository), not by an installed CLI.
  const { build } = await import("esbuild");
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
    sourcemap: options.sourcemap === false ? false : "linked",
    minify: options.minify ?? false,
    metafile: true,
    logLevel: "warning",
    plugins: [WorkspaceSourcesPlugin()],
    ...(options.wasmOnly ? { alias: { "onnxruntime-web": "onnxruntime-web/wasm" } } : {}),
  });
  await copyFile(options.indexHtml, join(outDir, "index.html"));
  const bundles = Object.keys(result.metafile.outputs).filter((p) => p.endsWith(".js")).map((p) => resolve(options.absWorkingDir ?? process.cwd(), p));
  await CopyOrtBinariesAsync(join(outDir, OrtFolder), await OrtVariantsOfAsync(bundles));
  if (options.copyDefaultModel !== false) await CopyIfChangedAsync(DefaultModelPath(), join(outDir, DefaultModelFileName));
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

/** The `.mjs` loaders of onnxruntime-web's WASM builds, e.g. `ort-wasm-simd-threaded.jsep.mjs`. */
const OrtLoaderPattern = /ort-wasm-simd-threaded(?:\.[a-z]+)?\.mjs/g;

/**
 * Which of onnxruntime-web's WASM builds the bundles load: each of its ES module builds names exactly one loader
 * (`ort.min.mjs` the `.jsep` one, `ort.wasm.min.mjs` the plain one, ...), as a string literal. Copying only those
 * keeps a page (and the published editor page) from carrying four 15-28 MB variants of which it uses one.
 * @returns the loader names, e.g. `["ort-wasm-simd-threaded.jsep.mjs"]`
 */
export async function OrtVariantsOfAsync(bundles: readonly string[]): Promise<string[]> {
  const names = new Set<string>();
  for (const bundle of bundles) for (const match of (await readFile(bundle, "utf8")).matchAll(OrtLoaderPattern)) names.add(match[0]);
  return [...names].sort();
}

/**
 * Copies onnxruntime-web's WASM binaries and their `.mjs` loaders: the variants named (loader names, see
 * {@link OrtVariantsOfAsync}), or every variant the package has when none are named.
 */
export async function CopyOrtBinariesAsync(destination: string, loaders?: readonly string[]): Promise<void> {
  const require = createRequire(join(RepoRoot, "plugin", "package.json"));
  // `onnxruntime-web/package.json` is not exported; the wasm file is, and it sits in the package's dist/.
  const ortDist = dirname(require.resolve("onnxruntime-web/ort-wasm-simd-threaded.wasm"));
  const wanted = loaders === undefined || loaders.length === 0 ? undefined : new Set(loaders.flatMap((l) => [l, l.replace(/\.mjs$/, ".wasm")]));
  const names = (await readdir(ortDist)).filter((name) => /^ort-wasm-simd-threaded(\.[a-z]+)?\.(wasm|mjs)$/.test(name) && (wanted === undefined || wanted.has(name)));
  if (names.length === 0) throw new Error(`no onnxruntime-web binaries found in ${ortDist}`);
  await mkdir(destination, { recursive: true });
  // Variants a previous build copied and this one does not load are removed (they would ship with the page).
  for (const old of await readdir(destination)) if (!names.includes(old)) await rm(join(destination, old), { force: true });
  for (const name of names) await CopyIfChangedAsync(join(ortDist, name), join(destination, name));
}

/** Copies a file unless the target has the same size and is not older. */
async function CopyIfChangedAsync(source: string, target: string): Promise<void> {
  const [from, to] = await Promise.all([stat(source), stat(target).catch(() => undefined)]);
  if (to && to.size === from.size && to.mtimeMs >= from.mtimeMs) return;
  await copyFile(source, target);
}
