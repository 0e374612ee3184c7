/**
 * The onnxruntime-web adapter: WebAssembly (multi-threaded when the page is cross-origin isolated) or WebGPU.
 * Meant to run inside a Web Worker (the Babylon plugin's `faceWorker`), so inference never blocks rendering;
 * it works on the main thread and in Node as well (onnxruntime-web's WASM backend).
 */
import type * as Ort from "onnxruntime-web";
import type { InferenceBackend, InferenceSessionHandle, TensorData } from "../inferenceBackend.js";

/** An onnxruntime-web build's module (they share one API). */
type OrtModule = typeof Ort;

/** An onnxruntime-web execution provider this adapter supports. */
export type WebExecutionProvider = "wasm" | "webgpu";

/** Options of {@link CreateWebBackend}. */
export interface WebBackendOptions {
  /**
   * Execution providers in order of preference (default `["wasm"]`). onnxruntime-web skips a provider that cannot
   * start (e.g. `"webgpu"` without `navigator.gpu`) and uses the next one, so `["webgpu", "wasm"]` is a safe choice.
   */
  readonly executionProviders?: readonly WebExecutionProvider[];
  /**
   * WASM threads (`ort.env.wasm.numThreads`; more than 1 needs a cross-origin isolated page). Default 1: the
   * canonical engine. With more threads onnxruntime splits some operators differently for small batches, so a
   * face's bytes can change with the thread count (measured: 1 of 16 default-model faces at batch 1 with 4 threads):
   * such a backend is fast but "close, not exact", like onnxruntime-node. For speed without losing exactness, run
   * several single-threaded engines (one per worker) instead.
   */
  readonly numThreads?: number;
  /**
   * Where onnxruntime-web's `ort-wasm-simd-threaded*.wasm`/`.mjs` files are served (`ort.env.wasm.wasmPaths`): a
   * URL prefix ending in `/`, or per-file URLs. Default: next to the script, or the copy embedded in the bundle.
   */
  readonly wasmPaths?: string | { readonly wasm?: string; readonly mjs?: string };
  /** Graph optimisations applied at session creation (default `"all"`). */
  readonly graphOptimizationLevel?: "disabled" | "basic" | "extended" | "all";
}

/**
 * Creates an {@link InferenceBackend} on onnxruntime-web. `numThreads` and `wasmPaths` are process-wide settings
 * of onnxruntime-web (`ort.env.wasm`): they take effect when the first session of the process is created.
 */
export function CreateWebBackend(options: WebBackendOptions = {}): InferenceBackend {
  const providers = [...(options.executionProviders ?? ["wasm"])];
  if (providers.length === 0) throw new Error("CreateWebBackend: executionProviders is empty");
  for (const p of providers) if (p !== "wasm" && p !== "webgpu") throw new Error(`CreateWebBackend: unsupported execution provider "${String(p)}" (known: wasm, webgpu)`);
  const sessionOptions: Ort.InferenceSession.SessionOptions = {
    executionProviders: providers,
    graphOptimizationLevel: options.graphOptimizationLevel ?? "all",
  };
  const numThreads = options.numThreads ?? 1;
  if (!Number.isInteger(numThreads) || numThreads < 0) throw new Error(`CreateWebBackend: numThreads must be a non-negative integer, got ${String(options.numThreads)}`);
  const wasmOnly = providers.every((p) => p === "wasm");
  let ortModule: Promise<OrtModule> | undefined;
  let prepared: Promise<void> | undefined;
  /** The build for these providers, configured: `numThreads` and `wasmPaths` apply from its first session on. */
  const ortAsync = (): Promise<OrtModule> =>
    (ortModule ??= ImportOrtAsync(wasmOnly).then((ort) => {
      ort.env.wasm.numThreads = numThreads;
      if (options.wasmPaths !== undefined) ort.env.wasm.wasmPaths = typeof options.wasmPaths === "string" ? options.wasmPaths : { ...options.wasmPaths };
      return ort;
    }));
  return {
    name: `onnxruntime-web/${providers.join("+")}, ${numThreads} thread${numThreads === 1 ? "" : "s"}`,
    // Single-threaded WASM alone is canonical; with WebGPU first the engine may be either (onnxruntime-web falls
    // back silently), and 0 lets onnxruntime-web choose the thread count.
    canonical: providers.length === 1 && providers[0] === "wasm" && numThreads === 1,
    async createSessionAsync(model: Uint8Array): Promise<InferenceSessionHandle> {
      const ort = await ortAsync();
      const session = await ort.InferenceSession.create(model, sessionOptions);
      return new WebSessionHandle(ort, session);
    },
    prepareAsync(): Promise<void> {
      // onnxruntime-web starts its WASM (fetch, streaming compilation, instantiation, runtime start-up) with its first
      // session and has no public call for that alone: a one-node model does it and costs nothing more. On the WASM
      // provider, which every configuration has or falls back to (WebGPU starts with the real model's session).
      prepared ??= (async () => {
        const ort = await ortAsync();
        const session = await ort.InferenceSession.create(WarmUpModel(), { executionProviders: ["wasm"], graphOptimizationLevel: "disabled" });
        await session.release();
      })();
      return prepared;
    },
  };
}

/**
 * onnxruntime-web's build for the providers. WASM alone: the plain WASM build (`onnxruntime-web/wasm`, through this
 * package's `#onnxruntime-web-wasm` import, which is `onnxruntime-web` itself in Node, whose build is that one),
 * a 14 MB binary. With WebGPU: the default build, whose 28 MB `.jsep` binary is built with Asyncify; measured in
 * Chromium on 2 cores, it took twice as long to compile and start, and its CPU kernels ran 3-5 times slower for
 * the first seconds (until V8 had optimised them). Both have the same CPU kernels, which give the same bytes.
 */
function ImportOrtAsync(wasmOnly: boolean): Promise<OrtModule> {
  // `as string`: onnxruntime-web's types declare its entries as ambient modules, which TypeScript does not find
  // through an `imports` alias; the specifier stays a literal for bundlers.
  return wasmOnly ? (import("#onnxruntime-web-wasm" as string) as Promise<OrtModule>) : import("onnxruntime-web");
}

/**
 * The smallest model onnxruntime accepts: `y = Identity(x)`, x and y float32 [1], opset 13 (82 bytes, written with
 * onnx-proto's `ModelProto.encode`).
 */
function WarmUpModel(): Uint8Array {
  const base64 = "CAgSCW5wYy1mYWNlczo9ChAKAXgSAXkiCElkZW50aXR5Egd3YXJtLXVwWg8KAXgSCgoICAESBAoCCAFiDwoBeRIKCggIARIECgIIAUIECgAQDQ==";
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
}

class WebSessionHandle implements InferenceSessionHandle {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];

  constructor(
    private readonly ort: OrtModule,
    private readonly session: Ort.InferenceSession,
  ) {
    this.inputNames = [...session.inputNames];
    this.outputNames = [...session.outputNames];
  }

  async runAsync(feeds: Record<string, TensorData>, outputNames: readonly string[]): Promise<Record<string, TensorData>> {
    const ortFeeds: Record<string, Ort.Tensor> = {};
    for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = new this.ort.Tensor(t.type, t.data, [...t.dims]);
    const results = await this.session.run(ortFeeds, [...outputNames]);
    const out: Record<string, TensorData> = {};
    for (const name of outputNames) {
      const t = results[name];
      if (t.type !== "float32" && t.type !== "uint8") throw new Error(`output "${name}" has unsupported element type ${t.type}`);
      // With the WebGPU provider outputs may live on the GPU; getData() downloads them (a no-op copy on CPU).
      const data = t.location === "cpu" ? t.data : await t.getData(true);
      out[name] = { type: t.type, dims: [...t.dims], data: data as Float32Array | Uint8Array };
      if (t.location === "cpu") t.dispose();
    }
    return out;
  }

  async releaseAsync(): Promise<void> {
    await this.session.release();
  }
}
