/**
 * Builds the seed editor's page with esbuild into `tools/dist/editor-page/`: `index.html`, `editor.js` (the page),
 * `faceWorker.js` (the plugin's face worker, its own module) and `ort/` (onnxruntime-web's binaries; the page never
 * loads anything from outside the editor server). Done on the first `npc-faces editor` start and whenever a source
 * changed since (esbuild's metafile lists every input; their modification times are compared), so a normal start
 * skips it and takes well under a second.
 */
import { readFile, stat, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { BundleFacePageAsync } from "../web/bundleFacePage.js";
import { RepoRoot } from "../web/sampleModel.js";

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
  const builtAtMs = Date.now();
  // As the crowd sample: the page, the plugin's face worker and onnxruntime-web's binaries in `ort/`.
  const metafile = await BundleFacePageAsync({
    pageName: "editor",
    pageEntry: join(EditorPageSources, "editorMain.ts"),
    indexHtml: join(EditorPageSources, "index.html"),
    outDir,
    minify: options.minify ?? false,
    absWorkingDir: RepoRoot,
  });
  const inputs = [...Object.keys(metafile.inputs).map((p) => resolve(RepoRoot, p)), join(EditorPageSources, "index.html")];
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
