/**
 * The face worker behind `postMessage`: generation runs off the main thread, so a level with hundreds of NPCs
 * loads without a hitch in the render loop.
 */
import type { FaceTransport } from "./faceTransport.js";
import { FaceWorkerName, type FaceWorkerMessage, type FaceWorkerReply } from "./worker/faceWorkerProtocol.js";

/** A {@link FaceTransport} over a dedicated module Web Worker running `faceWorker.ts`. */
export class WorkerFaceTransport implements FaceTransport {
  readonly kind = "web worker";
  private worker: Worker | undefined;
  private readonly waiting = new Map<number, (reply: FaceWorkerReply) => void>();
  private failure: string | undefined;

  /**
   * @param workerUrl URL of the bundled `faceWorker.js` (a module worker), or a Worker already started from it
   */
  constructor(workerUrl: string | URL | Worker) {
    this.worker = typeof workerUrl === "object" && "postMessage" in workerUrl ? workerUrl : new Worker(workerUrl, { type: "module", name: FaceWorkerName });
    this.worker.onmessage = (event: MessageEvent<FaceWorkerReply>) => {
      const resolve = this.waiting.get(event.data.id);
      this.waiting.delete(event.data.id);
      resolve?.(event.data);
    };
    // A worker script that 404s, fails to parse or throws at the top level: fail everything outstanding and later.
    this.worker.onerror = (event: ErrorEvent) => {
      event.preventDefault?.();
      this.fail(`the face worker failed (${event.message || "could not load the worker script " + String(workerUrl)})`);
    };
    this.worker.onmessageerror = () => this.fail("a face worker message could not be deserialised");
  }

  sendAsync(message: FaceWorkerMessage, transfer: ArrayBuffer[]): Promise<FaceWorkerReply> {
    if (!this.worker || this.failure !== undefined) {
      return Promise.resolve({ id: message.id, ok: false, error: { code: this.worker ? "BACKEND_FAILED" : "DISPOSED", message: this.failure ?? "face transport: terminated" } });
    }
    return new Promise((resolve) => {
      this.waiting.set(message.id, resolve);
      this.worker!.postMessage(message, transfer);
    });
  }

  terminate(): void {
    this.worker?.terminate();
    this.worker = undefined;
    this.fail("face transport: terminated", "DISPOSED");
  }

  private fail(message: string, code: "BACKEND_FAILED" | "DISPOSED" = "BACKEND_FAILED"): void {
    this.failure ??= message;
    const waiting = [...this.waiting.entries()];
    this.waiting.clear();
    for (const [id, resolve] of waiting) resolve({ id, ok: false, error: { code, message } });
  }
}
