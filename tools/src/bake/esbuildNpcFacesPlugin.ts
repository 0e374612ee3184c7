/**
 * An esbuild plugin that bakes face manifests at build time: `import faces from "./npcs.npcfaces.json"` in a
 * game bundled with esbuild runs a manifest bake (manifestBake.ts, incremental through its cache) into an
 * output folder and yields a module with each NPC's texture URL (and the atlas, when asked). The manifest and
 * the model are watch files, so `esbuild.context().watch()` rebakes when either changes, and only the faces
 * that changed. See docs/baking.md.
 */
import { basename, dirname, relative, resolve } from "node:path";
import type { Plugin } from "esbuild";
import { AtlasJsonFileName, AtlasPageFileName, ParseAtlasSize, type AtlasRect, type AtlasSize } from "./atlasPacker.js";
import { BakeManifestFileAsync, ManifestBakeError, type ManifestBakeSummary } from "./manifestBake.js";

/** Options of {@link NpcFacesEsbuildPlugin}. */
export interface NpcFacesEsbuildPluginOptions {
  /** The model file (.onnx). */
  readonly model: string;
  /**
   * Folder the faces are baked into; each manifest gets a sub-folder named after it (`npcs.npcfaces.json` ->
   * `<outDir>/npcs`). Usually inside the folder the game is served from.
   */
  readonly outDir: string;
  /** URL prefix of `outDir` as the game sees it (default `"faces/"`); a manifest's URLs are `<publicPath><name>/<file>`. */
  readonly publicPath?: string;
  /** Also pack the faces into atlas pages of this size (`"1024x1024"` or `{ width, height }`). */
  readonly atlas?: AtlasSize | string;
  /** Side of the baked faces (default: the model's resolution). */
  readonly size?: number;
  /** Bake workers (default: the number of cores). */
  readonly workers?: number;
  /** Which imports are manifests (default: files ending in `.npcfaces.json`). */
  readonly filter?: RegExp;
  /** Called after each bake (e.g. to log "3 baked, 61 cached"). */
  readonly onBaked?: (manifest: string, summary: ManifestBakeSummary) => void;
}

/** What an imported manifest module exports (its default export; `faces` and `atlas` are also named exports). */
export interface NpcFacesModule {
  /** By NPC id. */
  readonly faces: Readonly<Record<string, { readonly url: string; readonly width: number; readonly height: number }>>;
  /** With the `atlas` option. */
  readonly atlas?: {
    /** URL of atlas.json (for `LoadNpcFaceAtlasAsync` of @npc-faces/babylon). */
    readonly url: string;
    readonly pages: readonly string[];
    readonly faces: Readonly<Record<string, AtlasRect>>;
  };
}

/** Default {@link NpcFacesEsbuildPluginOptions.filter}. */
export const NpcFacesManifestFilter = /\.npcfaces\.json$/;

/** The esbuild plugin; see {@link NpcFacesEsbuildPluginOptions}. */
export function NpcFacesEsbuildPlugin(options: NpcFacesEsbuildPluginOptions): Plugin {
  const atlas = typeof options.atlas === "string" ? ParseAtlasSize(options.atlas) : options.atlas;
  const publicPath = options.publicPath ?? "faces/";
  const model = resolve(options.model);
  return {
    name: "npc-faces",
    setup(build) {
      build.onLoad({ filter: options.filter ?? NpcFacesManifestFilter }, async (args) => {
        const watchFiles = [args.path, model];
        const name = basename(args.path).replace(/(\.npcfaces)?\.json$/, "");
        const outDir = resolve(options.outDir, name);
        let summary: ManifestBakeSummary;
        try {
          summary = await BakeManifestFileAsync({
            manifest: args.path,
            model,
            outDir,
            ...(atlas ? { atlas } : {}),
            ...(options.size !== undefined ? { size: options.size } : {}),
            ...(options.workers !== undefined ? { workers: options.workers } : {}),
          });
        } catch (error) {
          const text = error instanceof ManifestBakeError ? `npc-faces bake: ${error.message}` : `npc-faces bake failed: ${(error as Error).message}`;
          return { errors: [{ text }], watchFiles };
        }
        options.onBaked?.(args.path, summary);
        const base = `${publicPath}${name}/`;
        const faces: Record<string, { url: string; width: number; height: number }> = {};
        for (const [id, face] of Object.entries(summary.document.faces)) faces[id] = { url: base + face.file, width: face.width, height: face.height };
        const module: NpcFacesModule = {
          faces,
          ...(summary.atlas
            ? {
                atlas: {
                  url: base + AtlasJsonFileName,
                  pages: summary.atlas.document.pages.map((_, i) => base + AtlasPageFileName(i)),
                  faces: summary.atlas.document.faces,
                },
              }
            : {}),
        };
        const json = JSON.stringify(module);
        return {
          contents: `// baked by npc-faces from ${relative(process.cwd(), args.path) || args.path}\nconst data = ${json};\nexport const faces = data.faces;\nexport const atlas = data.atlas;\nexport default data;\n`,
          loader: "js",
          resolveDir: dirname(args.path),
          watchFiles,
        };
      });
    },
  };
}
