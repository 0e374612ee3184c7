/**
 * A loaded npc-faces model: validates the file, owns one inference session, and turns face requests into RGBA
 * pixels in batches.
 */
import { BuildFaceInputs, ResolveFaceRequest, type FaceRequest } from "./faceRequest.js";
import { TensorSize, type InferenceBackend, type InferenceSessionHandle, type TensorData } from "./inferenceBackend.js";
import { Sha256HexAsync, VerifyModelIntegrityAsync, type ModelIntegrity } from "./modelIntegrity.js";
import type { ModelControl, ModelMetadata } from "./modelMetadata.js";
import { TensorNames } from "./tensorNames.js";
import { NpcFacesError } from "./npcFacesError.js";
import type { OnnxModelInfo } from "./onnxModelReader.js";
import { CheckGraphInterface, ReadModelFile } from "./readModelMetadata.js";

/**
 * Default number of faces per session run. Batching amortises the per-run overhead and lets the engine use
 * bigger matrix products, but peak activation memory grows linearly with the batch (at 256x256 a face needs
 * tens of MB of intermediates) and one long run blocks progress reporting and cancellation between runs.
 * 8 keeps a 256px batch well under 1 GB while most of the per-run overhead is already amortised.
 */
export const DefaultMaxBatch = 8;

/** Options of {@link FaceGenerator.loadAsync}. */
export interface FaceGeneratorOptions {
  /** The inference engine (e.g. `CreateNodeBackend()` from `@npc-faces/runtime/node`). */
  readonly backend: InferenceBackend;
  /** Most faces per session run (default {@link DefaultMaxBatch}). */
  readonly maxBatch?: number;
  /** Path or URL of the model, for error messages (default `"model"`). */
  readonly source?: string;
}

/** Options of {@link FaceGenerator.generateAsync}. */
export interface GenerateOptions {
  /** Also return the float image before 8-bit conversion (costs a second output transfer). */
  readonly includeFloat?: boolean;
}

/** One generated face. */
export interface FaceImage {
  readonly width: number;
  readonly height: number;
  /** RGBA8, row-major, top row first, alpha 255; width * height * 4 bytes. */
  readonly data: Uint8Array;
  /** With `includeFloat`: the image before conversion, planar RGB [3, H, W], nominally in [-1, 1]. */
  readonly float?: Float32Array;
}

/** Where {@link FaceGenerator.loadAsync} spent its time, in ms (for load-time breakdowns). */
export interface FaceGeneratorLoadTimings {
  /** Reading the file: ONNX header, metadata validation, graph interface, SHA-256 and integrity digest. */
  readonly checkMs: number;
  /**
   * From the end of the check to the session: waiting for the backend's `prepareAsync` (onnxruntime-web: its WASM
   * start-up, which runs during the check) and `createSessionAsync`.
   */
  readonly sessionMs: number;
}

/** What {@link FaceGenerator.loadAsync} learnt from the file before creating the session. */
interface LoadedFile {
  readonly metadata: ModelMetadata;
  readonly onnx: OnnxModelInfo;
  readonly modelHash: string;
  readonly integrity: ModelIntegrity;
  readonly loadTimings: FaceGeneratorLoadTimings;
}

/** A loaded model. Create with {@link FaceGenerator.loadAsync}; release with {@link FaceGenerator.disposeAsync}. */
export class FaceGenerator {
  /** The validated metadata document of the model file. */
  readonly metadata: ModelMetadata;
  /** SHA-256 of the model file (lowercase hex): part of the "same seed, same face" promise. */
  readonly modelHash: string;
  /** The ONNX header of the file (IR version, producer, opsets). */
  readonly onnx: OnnxModelInfo;
  /** Name of the inference backend. */
  readonly backendName: string;
  /**
   * True when the backend computes canonical pixels (onnxruntime-web's WASM engine): bit-identical on every CPU
   * and browser. False for the "close" engines (onnxruntime-node, WebGPU): within 1 level of 255 on a few bytes.
   */
  readonly canonical: boolean;
  /** Whether the file's graph digest was checked (`"verified"`) or the file has none (`"absent"`, older exports). */
  readonly integrity: ModelIntegrity;
  /** Most faces per session run. */
  readonly maxBatch: number;
  /** How long loading took, by phase. */
  readonly loadTimings: FaceGeneratorLoadTimings;
  private session: InferenceSessionHandle | undefined;
  private readonly source: string;
  /** Runs are serialised: one session run at a time keeps memory bounded and results independent of timing. */
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(file: LoadedFile, session: InferenceSessionHandle, backend: InferenceBackend, maxBatch: number, source: string) {
    this.metadata = file.metadata;
    this.onnx = file.onnx;
    this.modelHash = file.modelHash;
    this.integrity = file.integrity;
    this.loadTimings = file.loadTimings;
    this.session = session;
    this.backendName = backend.name;
    this.canonical = backend.canonical === true;
    this.maxBatch = maxBatch;
    this.source = source;
  }

  /**
   * Validates a model file and creates its inference session. The metadata and graph interface are checked
   * before the (costly) session is created, and the session's reported inputs/outputs are checked again.
   * The graph's integrity digest, when the file has one, is checked before the session too.
   * @throws NpcFacesError NOT_ONNX, NOT_NPC_FACES_MODEL, FORMAT_TOO_NEW, BAD_METADATA, GRAPH_MISMATCH, CORRUPT_MODEL, BACKEND_FAILED
   */
  static async loadAsync(modelBytes: Uint8Array, options: FaceGeneratorOptions): Promise<FaceGenerator> {
    const source = options.source ?? "model";
    const maxBatch = options.maxBatch ?? DefaultMaxBatch;
    if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new NpcFacesError("BAD_REQUEST", `maxBatch: expected a positive integer, got ${String(maxBatch)}`);
    const started = performance.now();
    // The engine starts (e.g. compiles its WASM) while the file is checked.
    const prepared = options.backend.prepareAsync?.();
    prepared?.catch(() => undefined); // a failure surfaces below, as the session's
    const { onnx, metadata } = ReadModelFile(modelBytes, source);
    // Both digests before the session: a damaged graph never reaches the engine (which may not fail cleanly on it).
    const [modelHash, integrity] = await Promise.all([Sha256HexAsync(modelBytes), VerifyModelIntegrityAsync(modelBytes, onnx, metadata, source)]);
    const checked = performance.now();
    let session: InferenceSessionHandle;
    try {
      await prepared;
      session = await options.backend.createSessionAsync(modelBytes);
    } catch (error) {
      throw new NpcFacesError("BACKEND_FAILED", `${source}: ${options.backend.name} could not load the model (${FirstLine(error)})`, { cause: error });
    }
    const loadTimings = { checkMs: checked - started, sessionMs: performance.now() - checked };
    try {
      CheckGraphInterface(metadata, session.inputNames, session.outputNames, `${source} (as loaded by ${options.backend.name})`);
      return new FaceGenerator({ metadata, onnx, modelHash, integrity, loadTimings }, session, options.backend, maxBatch, source);
    } catch (error) {
      await session.releaseAsync();
      throw error;
    }
  }

  /** The model's named controls (metadata order), for sliders. */
  get controls(): readonly ModelControl[] {
    return this.metadata.controls;
  }

  /** Width and height of the generated faces in pixels. */
  get resolution(): number {
    return this.metadata.resolution;
  }

  /**
   * Generates one face per request, in request order. All requests are validated before anything runs; then
   * one session run per batch of at most {@link maxBatch} faces.
   * @throws NpcFacesError BAD_REQUEST (naming `requests[i]`), DISPOSED, BACKEND_FAILED
   */
  async generateAsync(requests: readonly FaceRequest[], options: GenerateOptions = {}): Promise<FaceImage[]> {
    this.assertLoaded();
    if (!Array.isArray(requests)) throw new NpcFacesError("BAD_REQUEST", "requests: expected an array of face requests");
    requests.forEach((r, i) => ResolveFaceRequest(this.metadata, r, `requests[${i}]`));
    const faces: FaceImage[] = [];
    for (let start = 0; start < requests.length; start += this.maxBatch) {
      const batch = requests.slice(start, start + this.maxBatch);
      faces.push(...(await this.runBatchAsync(batch, options.includeFloat === true)));
    }
    return faces;
  }

  /** Releases the inference session. Idempotent; later calls to {@link generateAsync} fail with DISPOSED. */
  async disposeAsync(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    if (!session) return;
    await this.queue.catch(() => undefined);
    await session.releaseAsync();
  }

  private assertLoaded(): InferenceSessionHandle {
    if (!this.session) throw new NpcFacesError("DISPOSED", `${this.source}: the face generator was disposed`);
    return this.session;
  }

  private runBatchAsync(batch: readonly FaceRequest[], includeFloat: boolean): Promise<FaceImage[]> {
    const run = this.queue.then(async () => {
      const session = this.assertLoaded();
      const feeds = BuildFaceInputs(this.metadata, batch);
      const outputNames = includeFloat ? [TensorNames.rgba, TensorNames.image] : [TensorNames.rgba];
      let outputs: Record<string, TensorData>;
      try {
        outputs = await session.runAsync(feeds, outputNames);
      } catch (error) {
        throw new NpcFacesError("BACKEND_FAILED", `${this.source}: ${this.backendName} failed to run a batch of ${batch.length} (${FirstLine(error)})`, { cause: error });
      }
      return this.splitOutputs(outputs, batch.length, includeFloat);
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private splitOutputs(outputs: Record<string, TensorData>, n: number, includeFloat: boolean): FaceImage[] {
    const size = this.metadata.resolution;
    const rgba = this.checkOutput(outputs, TensorNames.rgba, "uint8", [n, size, size, 4]);
    const image = includeFloat ? this.checkOutput(outputs, TensorNames.image, "float32", [n, 3, size, size]) : undefined;
    const rgbaSize = size * size * 4;
    const floatSize = 3 * size * size;
    const faces: FaceImage[] = [];
    for (let i = 0; i < n; i++) {
      // Copies, so each face owns a compact buffer (transferable, and not pinning the whole batch).
      const data = (rgba.data as Uint8Array).slice(i * rgbaSize, (i + 1) * rgbaSize);
      const float = image ? (image.data as Float32Array).slice(i * floatSize, (i + 1) * floatSize) : undefined;
      faces.push(float ? { width: size, height: size, data, float } : { width: size, height: size, data });
    }
    return faces;
  }

  private checkOutput(outputs: Record<string, TensorData>, name: string, type: TensorData["type"], dims: number[]): TensorData {
    const t = outputs[name];
    const ok =
      t !== undefined &&
      t.type === type &&
      t.dims.length === dims.length &&
      t.dims.every((d, i) => d === dims[i]) &&
      t.data.length === TensorSize(dims);
    if (!ok) {
      const got = t ? `${t.type} [${t.dims.join(", ")}]` : "nothing";
      throw new NpcFacesError("GRAPH_MISMATCH", `${this.source}: output "${name}": expected ${type} [${dims.join(", ")}], got ${got}`);
    }
    return t;
  }
}

function FirstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split("\n").find((line) => line.trim() !== "")?.trim() ?? "unknown error";
}
