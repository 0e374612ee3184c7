/**
 * The trainer's one entry point to tfjs: the `tf` namespace every trainer module imports, and the choice of
 * the backend it runs on.
 *
 * Facts about tfjs-backend-wasm 4.22 in Node (checked on Node 20):
 *  - The package's Node build (`dist/tf-backend-wasm.node.js`, what Node's resolver picks) reads the `.wasm`
 *    binary with `fs.readFileSync` from its own directory. We still set the path explicitly (resolved with
 *    `import.meta.resolve`), so bundling the trainer (esbuild) cannot break the lookup.
 *  - SIMD is detected and used (`tfjs-backend-wasm-simd.wasm`); the plain binary is 2.5-3x slower.
 *  - Threads are disabled in Node by tfjs itself (`WASM_HAS_MULTITHREAD_SUPPORT` is false under `IS_NODE`);
 *    forcing the flag fails, because the threaded build starts its workers from a `blob:` URL that Node's
 *    `worker_threads` rejects. Use more cores with data-parallel worker threads instead.
 *  - tfjs-core's Node build (`dist/tf-core.node.js`) contains NO gradient functions: `tf.grad` fails with
 *    "gradient function not found for Sum". They ship only as ES modules with extensionless imports
 *    (`dist/register_all_gradients.js`), which Node cannot load as they are. We load them through a resolve
 *    hook that adds the `.js` suffix for files inside tfjs-core's `dist/` only. That second (ESM) copy of
 *    tfjs-core shares the engine and the kernel/gradient registries with the CJS one (tfjs keeps them in a
 *    global), so the registered gradients apply to every tensor. Cost: about 2 s once per process.
 */
import { register } from "node:module";
import * as tf from "@tensorflow/tfjs-core";
// Side-effect import: registers the "cpu" backend (pure JS, every kernel incl. gradients; slow).
import "@tensorflow/tfjs-backend-cpu";
// Registers the "wasm" backend (XNNPACK, SIMD; no Conv2DBackpropFilter kernel, see ENVIRONMENT.md).
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";

export { tf };

/** Backends the trainer can run on. A later issue adds "tensorflow" (optional tfjs-node / tfjs-node-gpu). */
export type TfjsBackendName = "wasm" | "cpu";

/** The folder holding the tfjs-backend-wasm binaries, as a `file://` URL ending in `/`. */
export function WasmBinariesUrl(): string {
  // The package's main file lies in `dist/` next to the `.wasm` binaries.
  return new URL("./", import.meta.resolve("@tensorflow/tfjs-backend-wasm")).href;
}

let wasmPathsSet = false;
let gradientsLoaded: Promise<void> | null = null;

/** Resolve hook: extensionless relative imports inside tfjs-core's `dist/` get `.js` (or `/index.js`). */
const ExtensionlessTfjsCoreHook = `
export async function resolve(specifier, context, next) {
  if (context.parentURL && context.parentURL.includes("/@tensorflow/tfjs-core/dist/") &&
      specifier.startsWith(".") && !/\\.[cm]?js$/.test(specifier)) {
    try { return await next(specifier + ".js", context); } catch { return next(specifier + "/index.js", context); }
  }
  return next(specifier, context);
}`;

/**
 * Registers tfjs-core's gradient functions (needed by `tf.grad`, `tf.variableGrads`, optimisers). Idempotent;
 * skipped when something else (e.g. a bundle of the full `@tensorflow/tfjs`) registered them already.
 */
export async function RegisterTfjsGradientsAsync(): Promise<void> {
  gradientsLoaded ??= (async () => {
    if (tf.getGradient("Sum") != null) return;
    register(`data:text/javascript,${encodeURIComponent(ExtensionlessTfjsCoreHook)}`);
    await import("@tensorflow/tfjs-core/dist/register_all_gradients.js");
    if (tf.getGradient("Sum") == null) throw new Error("tfjs gradients failed to register");
  })();
  return gradientsLoaded;
}

/**
 * Makes tfjs run on `name` (with gradients registered, see {@link RegisterTfjsGradientsAsync}) and waits
 * until the backend is ready. Idempotent: calling it again with the backend already active does nothing;
 * calling it with another backend switches (tensors created before move lazily, at a copy cost).
 * @throws when the backend fails to initialise (the message names it)
 */
export async function InitializeTfjsBackendAsync(name: TfjsBackendName): Promise<void> {
  await RegisterTfjsGradientsAsync();
  if (tf.getBackend() === name) {
    await tf.ready();
    return;
  }
  if (name === "wasm" && !wasmPathsSet) {
    // Must happen before the wasm backend is first initialised; tfjs throws if it is set afterwards.
    setWasmPaths(WasmBinariesUrl());
    wasmPathsSet = true;
  }
  // Place for the optional native backends (later issue): load "@tensorflow/tfjs-node" or
  // "@tensorflow/tfjs-node-gpu" with a dynamic import only when installed, then setBackend("tensorflow").
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`tfjs backend "${name}" failed to initialise`);
  await tf.ready();
  // The cpu backend prints a banner recommending tfjs-node on first use; here it was chosen on purpose.
  const backend = tf.backend() as { firstUse?: boolean };
  if (name === "cpu" && backend.firstUse === true) backend.firstUse = false;
}
