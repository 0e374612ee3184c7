/**
 * The onnxruntime-node adapter (CPU). Node-only: this subpath is the one place besides the web adapter that
 * imports an engine, so the runtime core stays platform-neutral. onnxruntime-node (288 MB installed) is an optional
 * peer: it is imported when the first session is created, so programs on the canonical engine never need it.
 */
import type { InferenceSession, Tensor } from "onnxruntime-node";
import type { InferenceBackend, InferenceSessionHandle, TensorData } from "../inferenceBackend.js";
import { NpcFacesError } from "../npcFacesError.js";

type OnnxruntimeNode = typeof import("onnxruntime-node");
let ortPromise: Promise<OnnxruntimeNode> | undefined;

/**
 * onnxruntime-node, loaded once on demand.
 * @throws NpcFacesError BACKEND_FAILED naming the package to install when it is missing
 */
export function ImportOnnxruntimeNodeAsync(): Promise<OnnxruntimeNode> {
  ortPromise ??= import("onnxruntime-node").catch((error: unknown) => {
    ortPromise = undefined;
    throw new NpcFacesError("BACKEND_FAILED", `the native engine needs the package onnxruntime-node (npm install onnxruntime-node@1.30.0), or use the canonical engine (${(error as Error).message})`, { cause: error });
  });
  return ortPromise;
}

/** Options of {@link CreateNodeBackend}. */
export interface NodeBackendOptions {
  /** Threads inside one operator (default: onnxruntime's choice, the number of physical cores). */
  readonly intraOpNumThreads?: number;
  /** Threads across operators; only used with `executionMode: "parallel"`. */
  readonly interOpNumThreads?: number;
  /** Graph optimisations applied at session creation (default `"all"`). */
  readonly graphOptimizationLevel?: "disabled" | "basic" | "extended" | "all";
  /** Operator scheduling (default `"sequential"`). */
  readonly executionMode?: "sequential" | "parallel";
  /**
   * Let a session's idle threads spin-wait for its next operator (default `false`; onnxruntime's own default is
   * `true`). Each session has its own thread pool, and spinning threads take the cores from every other session in
   * the process: two generators used in turn ran at half speed each (2 cores, batch 8: 74 faces/s against 143 without
   * spinning), while one generator alone gains 2-3% from it. Set `true` for a process that runs one session.
   */
  readonly allowSpinning?: boolean;
}

/** Creates an {@link InferenceBackend} on onnxruntime-node's CPU execution provider. */
export function CreateNodeBackend(options: NodeBackendOptions = {}): InferenceBackend {
  const sessionOptions: InferenceSession.SessionOptions = {
    executionProviders: ["cpu"],
    graphOptimizationLevel: options.graphOptimizationLevel ?? "all",
    executionMode: options.executionMode ?? "sequential",
    ...(options.intraOpNumThreads !== undefined ? { intraOpNumThreads: options.intraOpNumThreads } : {}),
    ...(options.interOpNumThreads !== undefined ? { interOpNumThreads: options.interOpNumThreads } : {}),
    extra: { session: { intra_op: { allow_spinning: options.allowSpinning === true ? "1" : "0" } } },
  };
  const threads = options.intraOpNumThreads !== undefined ? `, ${options.intraOpNumThreads} threads` : "";
  return {
    name: `onnxruntime-node/cpu${threads}`,
    async createSessionAsync(model: Uint8Array): Promise<InferenceSessionHandle> {
      const ort = await ImportOnnxruntimeNodeAsync();
      const session = await ort.InferenceSession.create(model, sessionOptions);
      return new NodeSessionHandle(session, ort.Tensor);
    },
  };
}

class NodeSessionHandle implements InferenceSessionHandle {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];

  constructor(
    private readonly session: InferenceSession,
    private readonly TensorClass: typeof Tensor,
  ) {
    this.inputNames = [...session.inputNames];
    this.outputNames = [...session.outputNames];
  }

  async runAsync(feeds: Record<string, TensorData>, outputNames: readonly string[]): Promise<Record<string, TensorData>> {
    const ortFeeds: Record<string, Tensor> = {};
    for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = new this.TensorClass(t.type, t.data, [...t.dims]);
    const results = await this.session.run(ortFeeds, [...outputNames]);
    const out: Record<string, TensorData> = {};
    for (const name of outputNames) {
      const t = results[name];
      if (t.type !== "float32" && t.type !== "uint8") throw new Error(`output "${name}" has unsupported element type ${t.type}`);
      out[name] = { type: t.type, dims: [...t.dims], data: t.data as Float32Array | Uint8Array };
      t.dispose();
    }
    return out;
  }

  async releaseAsync(): Promise<void> {
    await this.session.release();
  }
}
