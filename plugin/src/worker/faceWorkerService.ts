/**
 * The face worker's logic, independent of the transport: a {@link FaceGenerator} answering
 * {@link FaceWorkerMessage}s. The Web Worker entry (`faceWorker.ts`) feeds it `postMessage` data; the in-thread
 * transport calls it directly, so both modes run the same code.
 */
import { FaceGenerator, IsNpcFacesError, type InferenceBackend } from "@npc-faces/runtime";
import type { WebBackendOptions } from "@npc-faces/runtime/web";
import type { FaceWorkerError, FaceWorkerMessage, FaceWorkerReply } from "./faceWorkerProtocol.js";

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

  /** @param createBackend makes the backend for each load (in the worker: `CreateWebBackend`) */
  constructor(private readonly createBackend: FaceBackendFactory) {}

  /** Handles one message; never rejects (failures become `{ ok: false, error }` replies). */
  handleAsync(message: FaceWorkerMessage): Promise<FaceWorkerAnswer> {
    // Loads and disposes must not interleave with generation; generation itself is serialised by the generator.
    const answer = this.queue.then(() => this.answerAsync(message));
    this.queue = answer;
    return answer;
  }

  private async answerAsync(message: FaceWorkerMessage): Promise<FaceWorkerAnswer> {
    const id = typeof message === "object" && message !== null ? message.id : -1;
    try {
      switch (message.type) {
        case "load": {
          await this.releaseAsync();
          const backend = await this.createBackend(message.backend ?? {});
          this.generator = await FaceGenerator.loadAsync(message.model, { backend, maxBatch: message.maxBatch, source: message.source });
          const g = this.generator;
          return { reply: { id, ok: true, type: "load", info: { metadata: g.metadata, modelHash: g.modelHash, backendName: g.backendName, maxBatch: g.maxBatch } }, transfer: [] };
        }
        case "generate": {
          if (!this.generator) return Fail(id, { code: "DISPOSED", message: "face worker: no model is loaded" });
          const faces = await this.generator.generateAsync(message.requests);
          return { reply: { id, ok: true, type: "generate", faces }, transfer: faces.map((f) => f.data.buffer as ArrayBuffer) };
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

  private async releaseAsync(): Promise<void> {
    const generator = this.generator;
    this.generator = undefined;
    await generator?.disposeAsync();
  }
}

/** Any thrown value as a {@link FaceWorkerError}; errors that are not the runtime's become BACKEND_FAILED. */
export function ToWorkerError(error: unknown): FaceWorkerError {
  if (IsNpcFacesError(error)) return { code: error.code, message: error.message };
  const message = error instanceof Error ? error.message : String(error);
  return { code: "BACKEND_FAILED", message: `face worker: ${message.split("\n")[0]}` };
}

function Fail(id: number, error: FaceWorkerError): FaceWorkerAnswer {
  return { reply: { id, ok: false, error }, transfer: [] };
}
