/**
 * Builds the seed editor's page with esbuild into `tools/dist/editor-page/`: `index.html`, `editor.js` (the page),
 * `faceWorker.js` (the plugin's face worker, its own module) and `ort/` (onnxruntime-web's binaries; the page never
 * loads anything from outside the editor server). Done on the first `npc-faces editor` start and whenever a source
 * changed since (esbuild's metafile lists every input; their modification times are compared), so a normal start
 * skips it and takes well under a second.
 */
import { copyFile, mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { build } from "esbuild";
import { CopyOrtBinariesAsync, OrtFolder, WorkerEntry, WorkspaceSourcesPlugin } from "@npc-faces/samples/build";
import { RepoRoot } from "@npc-faces/samples/sampleModel";

/** The page's sources. */
export const EditorPageSources = join(RepoRoot, "tools", "src", "editor", "page");

/** Where the built page goes by default. */
export const DefaultEditorPageDir = join(RepoRoot, "tools", "dist", "editor-page");

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
export async function BuildEditorPageAsync(options: { outDir?: string; force?: boolean; minify?: boolean } = {}): Promise<EditorPageBuild> {
  const started = performance.now();
  const outDir = resolve(options.outDir ?? DefaultEditorPageDir);
  if (!options.force && (await IsUpToDateAsync(outDir))) return { outDir, rebuilt: false, milliseconds: performance.now() - started };
  await mkdir(join(outDir, OrtFolder), { recursive: true });
  const builtAtMs = Date.now();
  const result = await build({
    entryPoints: { editor: join(EditorPageSources, "editorMain.ts"), faceWorker: WorkerEntry },
    outdir: outDir,
    absWorkingDir: RepoRoot,
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    // As the crowd sample: onnxruntime-web loads its WASM glue from the copied `ort/` files.
    conditions: ["onnxruntime-web-use-extern-wasm", "import", "browser"],
    sourcemap: "linked",
    minify: options.minify ?? false,
    metafile: true,
    logLevel: "warning",
    plugins: [WorkspaceSourcesPlugin()],
  });
  await copyFile(join(EditorPageSources, "index.html"), join(outDir, "index.html"));
  await CopyOrtBinariesAsync(join(outDir, OrtFolder));
  const inputs = [...Object.keys(result.metafile.inputs).map((p) => resolve(RepoRoot, p)), join(EditorPageSources, "index.html")];
  await writeFile(join(outDir, BuildInfoFile), JSON.stringify({ builtAtMs, inputs } satisfies BuildInfo));
  return { outDir, rebuilt: true, milliseconds: performance.now() - started };
}

async function IsUpToDateAsync(outDir: string): Promise<boolean> {
  let info: BuildInfo;
  try {
    info = JSON.parse(await readFile(join(outDir, BuildInfoFile), "utf8")) as BuildInfo;
  } catch {
    return false;
  }
  for (const output of ["index.html", "editor.js", "faceWorker.js"]) {
    if (!(await stat(join(outDir, output)).catch(() => undefined))) return false;
  }
  // Inputs that are gone (renamed sources) or newer than the build: rebuild. Page sources added since are
  // imported by an existing (so modified) file, which catches them.
  const times = await Promise.all(info.inputs.map((p) => stat(p).then((s) => s.mtimeMs, () => Number.POSITIVE_INFINITY)));
  return times.every((t) => t < info.builtAtMs);
}
