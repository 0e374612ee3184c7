/**
 * The adapter interface between the platform-neutral runtime and an inference engine (onnxruntime-node,
 * onnxruntime-web in a Web Worker, ...). Everything crossing it is plain data (typed arrays, arrays, strings),
 * so an implementation can sit on the other side of `postMessage`.
 */

/** Element types that cross the adapter. */
export type TensorElementType = "float32" | "uint8";

/** A dense tensor as plain data. `data.length` equals the product of `dims`. */
export interface TensorData {
  readonly type: TensorElementType;
  readonly dims: readonly number[];
  readonly data: Float32Array | Uint8Array;
}

/** One loaded model, ready to run. */
export interface InferenceSessionHandle {
  /** The graph's input names, as the engine reports them. */
  readonly inputNames: readonly string[];
  /** The graph's output names, as the engine reports them. */
  readonly outputNames: readonly string[];
  /**
   * Runs the graph once.
   * @param feeds every graph input by name
   * @param outputNames the outputs to compute (an engine may skip work the others need)
   * @returns the requested outputs by name
   */
  runAsync(feeds: Record<string, TensorData>, outputNames: readonly string[]): Promise<Record<string, TensorData>>;
  /** Frees the session's native/GPU resources; the handle is unusable afterwards. */
  releaseAsync(): Promise<void>;
}

/** An inference engine that turns model bytes into sessions. */
export interface InferenceBackend {
  /** Short name for logs and provenance, e.g. `"onnxruntime-node/cpu"`. */
  readonly name: string;
  /**
   * True only for an engine whose arithmetic is specified bit for bit on every CPU: onnxruntime-web's WASM engine
   * (the definition of a face's exact pixels; see docs/seeds.md). Absent or false: a "close" engine.
   */
  readonly canonical?: boolean;
  /** Creates a session from the whole `.onnx` file. */
  createSessionAsync(model: Uint8Array): Promise<InferenceSessionHandle>;
  /**
   * Optional: loads and starts the engine ahead of the first session (onnxruntime-web: fetches, compiles and
   * instantiates its WASM), so that this can overlap with fetching the model. Idempotent; `createSessionAsync`
   * works without it.
   */
  prepareAsync?(): Promise<void>;
}

/** Number of elements of a tensor with the given dims. */
export function TensorSize(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}
