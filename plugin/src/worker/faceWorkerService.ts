/**
 * The face worker's logic, independent of the transport: a {@link FaceGenerator} answering
 * {@link FaceWorkerMessage}s. The Web Worker entry (`faceWorker.ts`) feeds it `postMessage` data; the in-thread
 * transport calls it directly, so both modes run the same code.
 */
import { FaceGenerator, IsNpcFacesError, type InferenceBackend } from "@npc-faces/runtime";
import type { WebBackendOptions } from "@npc-faces/runtime/web";
import { SharedClockNow, type FaceWorkerError, type FaceWorkerMessage, type FaceWorkerReply } from "./faceWorkerProtocol.js";

/** Makes the inference backend for a load message. */
export type FaceBackendFactory = (options: WebBackendOptions) => InferenceBackend | Promise<InferenceBackend>;

/** A reply and the buffers to transfer with it. */
export interface FaceWorkerAnswer {
  readonly reply: FaceWorkerReply;
  readonly transfer: ArrayBuffer[];
}

/** Owns at most one loaded model and answers messages one at a time, in arrival order. */
export class FaceWorkerService {
  private generator: FaceGenerator | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  /** The backend of the last prepare or load message, by its options (JSON), reused by a load with the same options. */
  private backend: StartingBackend | undefined;
  /** When the service was created ({@link SharedClockNow}): in the worker, when its script had been evaluated. */
  private readonly started = SharedClockNow();

  /** @param createBackend makes the backend for each load (in the worker: `CreateWebBackend`) */
  constructor(private readonly createBackend: FaceBackendFactory) {}

  /** Handles one message; never rejects (failures become `{ ok: false, error }` replies). */
  handleAsync(message: FaceWorkerMessage): Promise<FaceWorkerAnswer> {
    // A prepare only starts the engine: it does not wait for, nor hold up, the other messages.
    if (typeof message === "object" && message !== null && message.type === "prepare") return this.answerAsync(message);
    // Loads and disposes must not interleave with generation; generation itself is serialised by the generator.
    const answer = this.queue.then(() => this.answerAsync(message));
    this.queue = answer;
    return answer;
  }

  private async answerAsync(message: FaceWorkerMessage): Promise<FaceWorkerAnswer> {
    const id = typeof message === "object" && message !== null ? message.id : -1;
    try {
      switch (message.type) {
        case "prepare": {
          const engineReady = await this.startBackend(message.backend ?? {}).ready;
          return { reply: { id, ok: true, type: "prepare", workerStarted: this.started, engineReady }, transfer: [] };
        }
        case "load": {
          await this.releaseAsync();
          const starting = this.startBackend(message.backend ?? {});
          // The engine keeps starting while the generator reads and checks the file (it waits for prepareAsync).
          const g = await FaceGenerator.loadAsync(message.model, { backend: await starting.backend, maxBatch: message.maxBatch, source: message.source });
          this.generator = g;
          const sessionCreated = SharedClockNow();
          const modelChecked = sessionCreated - g.loadTimings.sessionMs;
          const timeline = { workerStarted: this.started, engineReady: await starting.ready, modelChecked, sessionCreated };
          Measure("npc-faces: model check", modelChecked - g.loadTimings.checkMs, modelChecked);
          Measure("npc-faces: session creation", Math.max(modelChecked, timeline.engineReady), sessionCreated);
          return { reply: { id, ok: true, type: "load", info: { metadata: g.metadata, modelHash: g.modelHash, backendName: g.backendName, maxBatch: g.maxBatch, timeline } }, transfer: [] };
        }
        case "generate": {
          if (!this.generator) return Fail(id, { code: "DISPOSED", message: "face worker: no model is loaded" });
          const started = performance.now();
          const faces = await this.generator.generateAsync(message.requests);
          const ms = performance.now() - started;
          return { reply: { id, ok: true, type: "generate", faces, ms }, transfer: faces.map((f) => f.data.buffer as ArrayBuffer) };
        }
        case "dispose":
          await this.releaseAsync();
          return { reply: { id, ok: true, type: "dispose" }, transfer: [] };
        default:
          return Fail(id, { code: "BAD_REQUEST", message: `face worker: unknown message type ${JSON.stringify((message as { type?: unknown }).type)}` });
      }
    } catch (error) {
      return Fail(id, ToWorkerError(error));
    }
  }

  /**
   * The backend for these options and its start (`prepareAsync`): the one a prepare or load message started when the
   * options are the same, else a new one. A backend whose start failed is not kept (the next message tries again).
   */
  private startBackend(options: WebBackendOptions): StartingBackend {
    const key = JSON.stringify(options);
    if (this.backend?.key === key) return this.backend;
    const started = SharedClockNow();
    const backend = Promise.resolve().then(() => this.createBackend(options));
    const ready = backend.then(async (b) => {
      await b.prepareAsync?.();
      const now = SharedClockNow();
      Measure("npc-faces: engine start", started, now);
      return now;
    });
    const entry: StartingBackend = { key, backend, ready };
    this.backend = entry;
    ready.catch(() => {
      if (this.backend === entry) this.backend = undefined;
    });
    return entry;
  }

  private async releaseAsync(): Promise<void> {
    const generator = this.generator;
    this.generator = undefined;
    await generator?.disposeAsync();
  }
}

/** A backend being created and started. */
interface StartingBackend {
  /** JSON of its options. */
  readonly key: string;
  readonly backend: Promise<InferenceBackend>;
  /** Resolves when `prepareAsync` has finished ({@link SharedClockNow}); rejects when creating or starting it failed. */
  readonly ready: Promise<number>;
}

/** Any thrown value as a {@link FaceWorkerError}; errors that are not the runtime's become BACKEND_FAILED. */
export function ToWorkerError(error: unknown): FaceWorkerError {
  if (IsNpcFacesError(error)) return { code: error.code, message: error.message };
  const message = error instanceof Error ? error.message : String(error);
  return { code: "BACKEND_FAILED", message: `face worker: ${message.split("\n")[0]}` };
}

/** A `performance.measure` entry (shown in browser dev tools' performance panel) from two {@link SharedClockNow} times. */
function Measure(name: string, start: number, end: number): void {
  try {
    performance.measure(name, { start: start - performance.timeOrigin, end: end - performance.timeOrigin });
  } catch {
    // User Timing Level 3 missing: the timeline reply carries the same information.
  }
}

function Fail(id: number, error: FaceWorkerError): FaceWorkerAnswer {
  return { reply: { id, ok: false, error }, transfer: [] };
}
