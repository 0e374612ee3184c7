/**
 * onnxruntime-node for training: loading the optional package, choosing the execution provider, and running a
 * phase graph with plain arrays in and out.
 */
import type * as Ort from "onnxruntime-node";
import { SerializeOnnxModel } from "../export/onnxGraphBuilder.js";
import type { Feed } from "./phaseFeeds.js";
import type { PhaseGraph } from "./trainingGraphs.js";

/** Where the onnxruntime engine runs: its CPU provider, its bundled WebGPU provider (Dawn), or CUDA where installed. */
export const OrtDevices = ["cpu", "webgpu", "cuda"] as const;
export type OrtDevice = (typeof OrtDevices)[number];

/** The engine's settings (how to run, not what to train: they may change when a run resumes). */
export interface OrtEngineSettings {
  readonly device: OrtDevice;
  /** Intra-op threads of the CPU provider (0 = onnxruntime's default, one per core). Same threads = same bits. */
  readonly threads?: number;
}

let ortModule: Promise<typeof Ort> | null = null;

/** Imports onnxruntime-node (an optional peer dependency of the trainer), with a message saying how to install it. */
export function LoadOnnxRuntimeNodeAsync(): Promise<typeof Ort> {
  ortModule ??= import("onnxruntime-node").then(
    (module): typeof Ort => module,
    (error: NodeJS.ErrnoException) => {
      ortModule = null;
      const missing = error.code === "ERR_MODULE_NOT_FOUND" || error.code === "MODULE_NOT_FOUND";
      throw new Error(missing ? "the onnxruntime engine needs onnxruntime-node (npm install onnxruntime-node@1.30.0), or train with --engine tfjs" : `onnxruntime-node failed to load: ${error.message.split("\n")[0]}`);
    },
  );
  return ortModule;
}

function SessionOptions(settings: OrtEngineSettings): Ort.InferenceSession.SessionOptions {
  const common: Ort.InferenceSession.SessionOptions = {
    graphOptimizationLevel: "all",
    ...(settings.threads ? { intraOpNumThreads: settings.threads } : {}),
    // Each session has its own thread pool, and a step runs several sessions in turn: threads that spin-wait after
    // their session's run would take the cores from the next session's (measured, 2 cores: npc64 step 450 -> 375 ms,
    // game64 1046 -> 935 ms).
    extra: { session: { intra_op: { allow_spinning: "0" } } },
  };
  if (settings.device === "webgpu") {
    // Dawn finds adapters through the Vulkan loader on Linux, which wants a runtime directory.
    process.env.XDG_RUNTIME_DIR ??= "/tmp";
    // Weights and activations stay in GPU buffers between the nodes of a run; only inputs and outputs cross.
    return { ...common, executionProviders: ["webgpu"] };
  }
  if (settings.device === "cuda") return { ...common, executionProviders: ["cuda"] };
  return { ...common, executionProviders: ["cpu"] };
}

/** Why a provider did not start, and what to do about it. */
function ProviderHint(device: OrtDevice): string {
  if (device === "webgpu") {
    return process.platform === "linux"
      ? "onnxruntime-node's WebGPU provider found no adapter: it needs a Vulkan driver and loader (apt-get install libvulkan1 plus your GPU's Vulkan driver, e.g. mesa-vulkan-drivers or NVIDIA's), or VK_ICD_FILENAMES naming one (a software GPU for testing: VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json from the chromium package)"
      : "onnxruntime-node's WebGPU provider found no adapter (D3D12 on Windows, Metal on macOS)";
  }
  if (device === "cuda") return "onnxruntime-node's CUDA provider needs NVIDIA's CUDA 12 and cuDNN 9 libraries on the library path (or use --device webgpu)";
  return "";
}

/** One phase graph in one onnxruntime session. */
export class PhaseSession {
  private constructor(
    private readonly ort: typeof Ort,
    private readonly session: Ort.InferenceSession,
    readonly graph: PhaseGraph,
  ) {}

  /** Creates the session (graph optimisation happens here: seconds for a large generator). */
  static async CreateAsync(graph: PhaseGraph, settings: OrtEngineSettings): Promise<PhaseSession> {
    const ort = await LoadOnnxRuntimeNodeAsync();
    let session: Ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(SerializeOnnxModel(graph.model), SessionOptions(settings));
    } catch (error) {
      const hint = ProviderHint(settings.device);
      throw new Error(`--device ${settings.device}: ${(error as Error).message.split("\n")[0]}${hint ? `; ${hint}` : ""}`);
    }
    return new PhaseSession(ort, session, graph);
  }

  /** Names of the graph's inputs. */
  get inputNames(): readonly string[] {
    return this.session.inputNames;
  }

  /**
   * Runs the graph: float32 arrays (or int32 as Int32Array) with their shapes in, float32 outputs by name out.
   * Outputs named in `into` are written into those arrays (onnxruntime's pre-allocated outputs) and returned as them.
   */
  async runAsync(feeds: ReadonlyMap<string, Feed>, into: ReadonlyMap<string, Feed> = new Map()): Promise<Map<string, Float32Array>> {
    const tensors: Record<string, Ort.Tensor> = {};
    for (const name of this.session.inputNames) {
      const feed = feeds.get(name);
      if (!feed) throw new Error(`training graph "${this.graph.model.graph?.name}": no value for input "${name}"`);
      tensors[name] = this.tensor(feed);
    }
    const fetches: Record<string, Ort.Tensor | null> = {};
    for (const name of this.session.outputNames) {
      const target = into.get(name);
      fetches[name] = target ? this.tensor(target) : null;
    }
    const results = await this.session.run(tensors, fetches);
    const out = new Map<string, Float32Array>();
    for (const [name, tensor] of Object.entries(results)) out.set(name, (into.get(name)?.data ?? tensor.data) as Float32Array);
    return out;
  }

  private tensor(feed: Feed): Ort.Tensor {
    return feed.data instanceof Int32Array ? new this.ort.Tensor("int32", feed.data, feed.dims) : new this.ort.Tensor("float32", feed.data, feed.dims);
  }

  async releaseAsync(): Promise<void> {
    await this.session.release();
  }
}
