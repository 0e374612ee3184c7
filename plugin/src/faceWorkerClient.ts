/**
 * The main thread's side of face generation: collects the requests of all materials that arrive within one batch
 * window, sends them to the face worker in few messages (each one session run of up to `maxBatch` faces),
 * resolves each request's promise, and caches results by model hash + resolved request with reference counting,
 * so identical parameters share one result.
 */
import { NpcFacesError, ResolveFaceRequest, type FaceImage, type FaceRequest, type ModelMetadata } from "@npc-faces/runtime";
import type { WebBackendOptions } from "@npc-faces/runtime/web";
import type { FaceTransport } from "./faceTransport.js";
import type { FaceModelInfo, FaceWorkerMessage, FaceWorkerReply } from "./worker/faceWorkerProtocol.js";

/** Options of {@link FaceWorkerClient}. */
export interface FaceWorkerClientOptions {
  /**
   * How long requests are collected before a batch is sent, in ms (default 0: the next macrotask, which gathers
   * everything requested synchronously and by timers already due, e.g. all the materials of a level being loaded).
   */
  readonly batchWindowMs?: number;
  /** Most faces per message (default: the model's `maxBatch`, i.e. one session run per message). */
  readonly maxFacesPerMessage?: number;
  /**
   * Faces in the client's first message (default: as many as the others; `NpcFaceSystem` uses 1). The first session
   * run is by far the slowest (the engine compiles and optimises its code as it first runs it), so a first face
   * alone shows up as early as possible, while the next message, a full batch, already waits in the worker.
   */
  readonly firstMessageFaces?: number;
  /**
   * Most messages awaiting their answer (default 2: one running, one ready). Requests beyond wait on this side,
   * where a request released before it is sent (a superseded slider value) costs nothing.
   */
  readonly maxInFlight?: number;
  /**
   * How long {@link FaceWorkerClient.disposeAsync} waits for the worker to release its model before terminating it
   * anyway, in ms (default 2,000): a hung worker must not keep a scene's disposal waiting.
   */
  readonly disposeTimeoutMs?: number;
}

/** Options of {@link FaceWorkerClient.acquire}. */
export interface FaceAcquireOptions {
  /**
   * `"high"`: sent before every face queued with `"normal"` priority (default), e.g. an edit in an editor or a game
   * while a level's faces are still queued. Faces already sent to the worker are not overtaken.
   */
  readonly priority?: "normal" | "high";
}

/** Counters for tests and benchmarks. */
export interface FaceWorkerClientStats {
  /** Calls of {@link FaceWorkerClient.acquire}. */
  requests: number;
  /** Acquisitions served by an existing cache entry. */
  cacheHits: number;
  /** Faces sent for generation. */
  generated: number;
  /** Queued faces dropped because every holder released them before they were sent. */
  cancelled: number;
  /** Generate messages sent. */
  messages: number;
  /** ms the worker spent generating faces (its session runs, summed over the generate messages answered). */
  workerMs: number;
}

/** A counted reference to one cached face. Release it exactly once when done (further calls do nothing). */
export interface FaceLease {
  /** The cache key: model hash + the resolved request. Equal keys mean identical pixels. */
  readonly key: string;
  /** The request as given. */
  readonly request: FaceRequest;
  /** Resolves with the face; rejects with an {@link NpcFacesError}. */
  readonly promise: Promise<FaceImage>;
  /** Drops this reference; the entry leaves the cache when the last reference is dropped. */
  release(): void;
}

interface CacheEntry {
  readonly key: string;
  readonly request: FaceRequest;
  refs: number;
  high: boolean;
  state: "queued" | "sent" | "done" | "failed";
  readonly promise: Promise<FaceImage>;
  resolve(face: FaceImage): void;
  reject(error: NpcFacesError): void;
}

/**
 * The cache key of a request: the model hash and every resolved input value (defaults filled in, controls and
 * labels in metadata order, psi and noise strength as the float32 the graph is fed). The mix seed only counts
 * when some layer mixes.
 * @throws NpcFacesError BAD_REQUEST for an invalid request
 */
export function FaceRequestKey(metadata: ModelMetadata, modelHash: string, request: FaceRequest): string {
  const r = ResolveFaceRequest(metadata, request);
  const mixing = r.mixWeights.some((w) => w !== 0);
  return `${modelHash}:${JSON.stringify([r.seed, mixing ? r.mixSeed : r.seed, Array.from(r.mixWeights), Math.fround(r.psi), Math.fround(r.noiseStrength), Array.from(r.controls), Array.from(r.label)])}`;
}

/** Generation requests from many materials, batched, cached and reference counted. */
export class FaceWorkerClient {
  /** Counters since creation. */
  readonly stats: FaceWorkerClientStats = { requests: 0, cacheHits: 0, generated: 0, cancelled: 0, messages: 0, workerMs: 0 };
  private modelInfo: FaceModelInfo | undefined;
  private readonly cache = new Map<string, CacheEntry>();
  private queued: CacheEntry[] = [];
  private flushTimer: ReturnType<typeof setTimeout> | undefined;
  private inFlight = 0;
  private nextId = 1;
  private disposed = false;

  /**
   * @param transport a {@link WorkerFaceTransport} or an {@link InThreadFaceTransport}
   */
  constructor(
    private readonly transport: FaceTransport,
    private readonly options: FaceWorkerClientOptions = {},
  ) {}

  /** The loaded model, once {@link loadModelAsync} has succeeded. */
  get info(): FaceModelInfo | undefined {
    return this.modelInfo;
  }

  /** Entries in the cache (queued, in flight or done, each with at least one reference). */
  get cacheSize(): number {
    return this.cache.size;
  }

  /** Faces waiting to be sent. */
  get queuedCount(): number {
    return this.queued.length;
  }

  /**
   * Asks the worker to start its inference engine now (onnxruntime-web: fetch and compile the WASM), ahead of
   * {@link loadModelAsync}, e.g. while the model is being fetched. Never rejects: a failure here shows again, with
   * its proper error, when the model is loaded.
   * @returns when the worker's script had run and when the engine was ready (`SharedClockNow()` times), or undefined
   */
  async prepareAsync(options: { backend?: WebBackendOptions } = {}): Promise<{ workerStarted: number; engineReady: number } | undefined> {
    if (this.disposed) return undefined;
    try {
      const reply = await this.sendAsync({ id: this.nextId++, type: "prepare", ...(options.backend !== undefined ? { backend: options.backend } : {}) }, []);
      return reply.type === "prepare" ? { workerStarted: reply.workerStarted, engineReady: reply.engineReady } : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * Sends the model to the worker, which validates it and creates its inference session.
   * The bytes are copied (the caller's array stays usable).
   * @throws NpcFacesError NOT_ONNX, NOT_NPC_FACES_MODEL, FORMAT_TOO_NEW, BAD_METADATA, GRAPH_MISMATCH, BACKEND_FAILED
   */
  async loadModelAsync(model: Uint8Array, options: { source?: string; maxBatch?: number; backend?: WebBackendOptions } = {}): Promise<FaceModelInfo> {
    this.assertAlive();
    const copy = model.slice();
    const reply = await this.sendAsync({ id: this.nextId++, type: "load", model: copy, source: options.source ?? "model", maxBatch: options.maxBatch, backend: options.backend }, [copy.buffer]);
    if (reply.type !== "load") throw new NpcFacesError("BACKEND_FAILED", "face worker: unexpected reply to load");
    this.modelInfo = reply.info;
    return reply.info;
  }

  /**
   * Takes a reference to the face of `request`, generating it if no cache entry has it. Validates synchronously.
   * @param options its priority in the queue
   * @throws NpcFacesError BAD_REQUEST for an invalid request, DISPOSED after {@link disposeAsync} or before a model is loaded
   */
  acquire(request: FaceRequest, options: FaceAcquireOptions = {}): FaceLease {
    this.assertAlive();
    const info = this.modelInfo;
    if (!info) throw new NpcFacesError("DISPOSED", "face worker client: no model is loaded");
    const key = FaceRequestKey(info.metadata, info.modelHash, request);
    this.stats.requests++;
    let entry = this.cache.get(key);
    const high = options.priority === "high";
    if (entry) {
      this.stats.cacheHits++;
      entry.refs++;
      if (high && !entry.high && entry.state === "queued") {
        this.queued.splice(this.queued.indexOf(entry), 1);
        this.enqueue(entry, true);
      }
    } else {
      entry = this.createEntry(key, request);
      this.cache.set(key, entry);
      this.enqueue(entry, high);
      this.scheduleFlush();
    }
    const held = entry;
    let released = false;
    return {
      key,
      request,
      promise: held.promise,
      release: () => {
        if (released) return;
        released = true;
        this.releaseEntry(held);
      },
    };
  }

  /**
   * Rejects everything outstanding, asks the worker to release its model (waiting at most `disposeTimeoutMs`) and
   * stops the transport. Idempotent.
   */
  async disposeAsync(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    if (this.flushTimer !== undefined) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const error = new NpcFacesError("DISPOSED", "face worker client: disposed");
    for (const entry of this.cache.values()) if (entry.state === "queued" || entry.state === "sent") entry.reject(error);
    this.cache.clear();
    this.queued = [];
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.options.disposeTimeoutMs ?? 2_000)));
      await Promise.race([this.transport.sendAsync({ id: this.nextId++, type: "dispose" }, []), timeout]);
    } finally {
      clearTimeout(timer);
      this.transport.terminate();
    }
  }

  /** High-priority entries go after the other high ones and before every normal one. */
  private enqueue(entry: CacheEntry, high: boolean): void {
    entry.high = high;
    if (!high) {
      this.queued.push(entry);
      return;
    }
    const firstNormal = this.queued.findIndex((e) => !e.high);
    this.queued.splice(firstNormal < 0 ? this.queued.length : firstNormal, 0, entry);
  }

  private createEntry(key: string, request: FaceRequest): CacheEntry {
    let resolve!: (face: FaceImage) => void;
    let reject!: (error: NpcFacesError) => void;
    const promise = new Promise<FaceImage>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // Holders await the promise; a failure nobody awaits any more must not surface as an unhandled rejection.
    promise.catch(() => undefined);
    const entry: CacheEntry = {
      key,
      request,
      refs: 1,
      high: false,
      state: "queued",
      promise,
      resolve: (face) => {
        entry.state = "done";
        resolve(face);
      },
      reject: (error) => {
        entry.state = "failed";
        reject(error);
      },
    };
    return entry;
  }

  private releaseEntry(entry: CacheEntry): void {
    entry.refs--;
    if (entry.refs > 0) return;
    if (this.cache.get(entry.key) === entry) this.cache.delete(entry.key);
    if (entry.state === "queued") {
      const index = this.queued.indexOf(entry);
      if (index >= 0) {
        this.queued.splice(index, 1);
        this.stats.cancelled++;
      }
    }
  }

  private scheduleFlush(): void {
    if (this.flushTimer !== undefined || this.disposed) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      this.flush();
    }, this.options.batchWindowMs ?? 0);
  }

  private flush(): void {
    const info = this.modelInfo;
    if (!info || this.disposed) return;
    const perMessage = Math.max(1, this.options.maxFacesPerMessage ?? info.maxBatch);
    const maxInFlight = Math.max(1, this.options.maxInFlight ?? 2);
    while (this.queued.length > 0 && this.inFlight < maxInFlight) {
      const size = this.stats.messages === 0 ? Math.min(perMessage, Math.max(1, this.options.firstMessageFaces ?? perMessage)) : perMessage;
      const batch = this.queued.splice(0, size);
      for (const entry of batch) entry.state = "sent";
      this.stats.messages++;
      this.stats.generated += batch.length;
      this.inFlight++;
      void this.generateAsync(batch).finally(() => {
        this.inFlight--;
        this.flush();
      });
    }
  }

  private async generateAsync(batch: CacheEntry[]): Promise<void> {
    try {
      const reply = await this.sendAsync({ id: this.nextId++, type: "generate", requests: batch.map((e) => e.request) }, []);
      if (reply.type !== "generate" || reply.faces.length !== batch.length) throw new NpcFacesError("BACKEND_FAILED", "face worker: unexpected reply to generate");
      this.stats.workerMs += reply.ms ?? 0;
      batch.forEach((entry, i) => entry.resolve(reply.faces[i]));
    } catch (error) {
      const failure = error instanceof NpcFacesError ? error : new NpcFacesError("BACKEND_FAILED", `face worker: ${String(error)}`, { cause: error });
      for (const entry of batch) {
        entry.reject(failure);
        // A failed face is not cached: asking again retries.
        if (this.cache.get(entry.key) === entry) this.cache.delete(entry.key);
      }
    }
  }

  private async sendAsync(message: FaceWorkerMessage, transfer: ArrayBuffer[]): Promise<Exclude<FaceWorkerReply, { ok: false }>> {
    const reply = await this.transport.sendAsync(message, transfer);
    if (!reply.ok) throw new NpcFacesError(reply.error.code, reply.error.message);
    return reply;
  }

  private assertAlive(): void {
    if (this.disposed) throw new NpcFacesError("DISPOSED", "face worker client: disposed");
  }
}
