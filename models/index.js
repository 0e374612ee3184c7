// @npc-faces/default-model: where the bundled default model file is. Hand-written ESM, no build step; it imports
// nothing, so it loads unchanged in Node, browsers and Web Workers.

/**
 * URL of the bundled model, next to this module. Written in the `new URL("...", import.meta.url)` form that
 * bundlers (Vite, webpack 5, Parcel) recognise: they copy the file into the build and rewrite the URL. With
 * esbuild, copy `default.onnx` next to the bundle that imports this module.
 */
export const DefaultModelUrl = new URL("./default.onnx", import.meta.url);

/**
 * The model's path on disk (Node only).
 * @throws Error outside Node (fetch {@link DefaultModelUrl} there), or where the URL is not a `file:` URL
 */
export function DefaultModelPath() {
  if (DefaultModelUrl.protocol !== "file:") {
    throw new Error(`@npc-faces/default-model: the model is at ${DefaultModelUrl.href}, not on disk (fetch DefaultModelUrl instead)`);
  }
  // Through process.getBuiltinModule (Node 20.16+) rather than an import of node:url, which browsers and browser
  // bundles cannot load.
  const nodeUrl = globalThis.process?.getBuiltinModule?.("node:url");
  if (!nodeUrl) {
    throw new Error('@npc-faces/default-model: DefaultModelPath() needs Node.js 20.16 or later (elsewhere: fileURLToPath(DefaultModelUrl) from "node:url")');
  }
  return nodeUrl.fileURLToPath(DefaultModelUrl);
}
