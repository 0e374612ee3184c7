/**
 * Builds the seed editor's page with esbuild into `tools/dist/editor-page/`: `index.html`, `editor.js` (the page),
 * `faceWorker.js` (the plugin's face worker, its own module) and `ort/` (onnxruntime-web's binaries; the page never
 * loads anything from outside the editor server). Done on the first `npc-faces editor` start and whenever a source
 * changed since (esbuild's metafile lists every input; their modification times are compared), so a normal start
 * skips it and takes well under a second.
 *
 * The published package ships the page prebuilt (`prepack` runs {@link BuildPublishedEditorPageAsync}: minified,
 * no source maps, only the onnxruntime-web variant it loads) and no sources, so an installed CLI serves that page
 * as it is and needs neither esbuild nor Babylon nor the plugin's sources.
 */
import { access, readFile, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { BundleFacePageAsync, WorkerEntry } from "../web/bundleFacePage.js";
import { RepoRoot } from "../web/sampleModel.js";

/** The tools package's folder (this file lives in `tools/src/editor/` or `tools/dist/editor/`). */
const ToolsRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** The page's sources. */
export const EditorPageSources = join(RepoRoot, "tools", "src", "editor", "page");

/** Where the built page goes by default (also where the published package carries it). */
export const DefaultEditorPageDir = join(ToolsRoot, "dist", "editor-page");

/** The bundles a built page has. */
const PageOutputs = ["index.html", "editor.js", "faceWorker.js"];

/** Written next to the bundles: what they were built from, to decide whether a rebuild is needed. */
const BuildInfoFile = "build-info.json";

interface BuildInfo {
  readonly builtAtMs: number;
  readonly inputs: readonly string[];
}

/** What {@link BuildEditorPageAsync} did. */
export interface EditorPageBuild {
  readonly outDir: string;
  /** False when the existing build was up to date. */
  readonly rebuilt: boolean;
  readonly milliseconds: number;
}

/**
 * Bundles the page unless the existing bundle is newer than every one of its inputs.
 * @param options.force rebuild even when up to date
 */
export async function BuildEditorPageAsync(options: { outDir?: string; force?: boolean; minify?: boolean; sourcemap?: boolean } = {}): Promise<EditorPageBuild> {
  const started = performance.now();
  const outDir = resolve(options.outDir ?? DefaultEditorPageDir);
  if (!(await HasPageSourcesAsync())) {
    // An installed package: its prebuilt page is the only one there is.
    if (options.force) throw new Error("--rebuild: this installation has no page sources (the published package ships the page prebuilt); rebuild in the npc-faces repository");
    for (const output of PageOutputs) {
      if (!(await Exists(join(outDir, output)))) throw new Error(`the editor page is missing ${join(outDir, output)}; reinstall @npc-faces/tools`);
    }
    return { outDir, rebuilt: false, milliseconds: performance.now() - started };
  }
  if (!options.force && (await IsUpToDateAsync(outDir))) return { outDir, rebuilt: false, milliseconds: performance.now() - started };
  const builtAtMs = Date.now();
  // As the crowd sample: the page, the plugin's face worker and onnxruntime-web's binaries in `ort/`.
  const metafile = await BundleFacePageAsync({
    pageName: "editor",
    pageEntry: join(EditorPageSources, "editorMain.ts"),
    indexHtml: join(EditorPageSources, "index.html"),
    outDir,
    minify: options.minify ?? false,
    sourcemap: options.sourcemap ?? true,
    copyDefaultModel: false,
    // The editor runs the canonical engine only (single-threaded WASM), never WebGPU.
    wasmOnly: true,
    absWorkingDir: RepoRoot,
  });
  const inputs = [...Object.keys(metafile.inputs).map((p) => resolve(RepoRoot, p)), join(EditorPageSources, "index.html")];
  await writeFile(join(outDir, BuildInfoFile), JSON.stringify({ builtAtMs, inputs } satisfies BuildInfo));
  return { outDir, rebuilt: true, milliseconds: performance.now() - started };
}

/**
 * The page as published (`prepack`): rebuilt from scratch, minified, without source maps or a copy of the default
 * model (the editor serves the model it was given), with only the onnxruntime-web files the page loads.
 */
export async function BuildPublishedEditorPageAsync(outDir = DefaultEditorPageDir): Promise<EditorPageBuild> {
  await rm(outDir, { recursive: true, force: true });
  const build = await BuildEditorPageAsync({ outDir, force: true, minify: true, sourcemap: false });
  // It lists the build machine's paths and matters only where the page can be rebuilt (the repository).
  await rm(join(outDir, BuildInfoFile), { force: true });
  return build;
}

async function HasPageSourcesAsync(): Promise<boolean> {
  return (await Exists(join(EditorPageSources, "editorMain.ts"))) && (await Exists(WorkerEntry));
}

async function Exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

async function IsUpToDateAsync(outDir: string): Promise<boolean> {
  let info: BuildInfo;
  try {
    info = JSON.parse(await readFile(join(outDir, BuildInfoFile), "utf8")) as BuildInfo;
  } catch {
    return false;
  }
  for (const output of PageOutputs) {
    if (!(await Exists(join(outDir, output)))) return false;
  }
  // Inputs that are gone (renamed sources) or newer than the build: rebuild. Page sources added since are
  // imported by an existing (so modified) file, which catches them.
  const times = await Promise.all(info.inputs.map((p) => stat(p).then((s) => s.mtimeMs, () => Number.POSITIVE_INFINITY)));
  return times.every((t) => t < info.builtAtMs);
}
