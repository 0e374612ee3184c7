// `npm pack`/`npm publish` of @npc-faces/tools: the CLI is compiled (tsc -b, run before this), then the editor page
// is prebuilt into dist/editor-page of the package being packed (minified, no source maps, only the onnxruntime-web
// variant it loads), because the published package carries no page sources and no esbuild. npm runs scripts in the
// package's folder, so that is the current directory: the install test (test/integration/installTarballs.test.ts)
// runs this script in a copy of the package, leaving this checkout's dist/ alone.
import { join } from "node:path";
import { BuildPublishedEditorPageAsync } from "../dist/editor/editorBuild.js";

const build = await BuildPublishedEditorPageAsync(join(process.cwd(), "dist", "editor-page"));
process.stderr.write(`prepack: editor page built into ${build.outDir} in ${(build.milliseconds / 1000).toFixed(1)} s\n`);
