/**
 * The onnxruntime-node adapter (CPU). Node-only: this subpath is the one place besides the web adapter that
 * imports an engine, so the runtime core stays platform-neutral.
 */
import { InferenceSession, Tensor } from "onnxruntime-node";
import type { InferenceBackend, InferenceSessionHandle, TensorData } from "../inferenceBackend.js";

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
}

/** Creates an {@link InferenceBackend} on onnxruntime-node's CPU execution provider. */
export function CreateNodeBackend(options: NodeBackendOptions = {}): InferenceBackend {
  const sessionOptions: InferenceSession.SessionOptions = {
    executionProviders: ["cpu"],
    graphOptimizationLevel: options.graphOptimizationLevel ?? "all",
    executionMode: options.executionMode ?? "sequential",
    ...(options.intraOpNumThreads !== undefined ? { intraOpNumThreads: options.intraOpNumThreads } : {}),
    ...(options.interOpNumThreads !== undefined ? { interOpNumThreads: options.interOpNumThreads } : {}),
  };
  const threads = options.intraOpNumThreads !== undefined ? `, ${options.intraOpNumThreads} threads` : "";
  return {
    name: `onnxruntime-node/cpu${threads}`,
    async createSessionAsync(model: Uint8Array): Promise<InferenceSessionHandle> {
      const session = await InferenceSession.create(model, sessionOptions);
      return new NodeSessionHandle(session);
    },
  };
}

class NodeSessionHandle implements InferenceSessionHandle {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];

  constructor(private readonly session: InferenceSession) {
    this.inputNames = [...session.inputNames];
    this.outputNames = [...session.outputNames];
  }

  async runAsync(feeds: Record<string, TensorData>, outputNames: readonly string[]): Promise<Record<string, TensorData>> {
    const ortFeeds: Record<string, Tensor> = {};
    for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = new Tensor(t.type, t.data, [...t.dims]);
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
