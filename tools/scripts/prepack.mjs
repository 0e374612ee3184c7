// `npm pack`/`npm publish` of @npc-faces/tools: the CLI is compiled (tsc -b, run before this), then the editor page
// is prebuilt into dist/editor-page (minified, no source maps, only the onnxruntime-web variant it loads), because
// the published package carries no page sources and no esbuild.
import { BuildPublishedEditorPageAsync } from "../dist/editor/editorBuild.js";

const build = await BuildPublishedEditorPageAsync();
process.stderr.write(`prepack: editor page built into ${build.outDir} in ${(build.milliseconds / 1000).toFixed(1)} s\n`);
