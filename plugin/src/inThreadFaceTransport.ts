/**
 * The face worker's logic in the calling thread: no Worker, same messages. For Node (NullEngine tests, tools) and
 * pages that prefer not to spawn a worker; inference then runs on the calling thread's event loop.
 */
import type { InferenceBackend } from "@npc-faces/runtime";
import type { FaceTransport } from "./faceTransport.js";
import type { FaceWorkerMessage, FaceWorkerReply } from "./worker/faceWorkerProtocol.js";
import { FaceWorkerService, type FaceBackendFactory } from "./worker/faceWorkerService.js";

/** A {@link FaceTransport} that calls a {@link FaceWorkerService} directly. */
export class InThreadFaceTransport implements FaceTransport {
  readonly kind = "in-thread";
  private service: FaceWorkerService | undefined;

  /**
   * @param backend the inference backend (`CreateNodeBackend()` from `@npc-faces/runtime/node`, `CreateWebBackend()`
   *   from `@npc-faces/runtime/web`), or a factory taking the web backend options of the load message. Not imported
   *   here, so a page using the worker does not bundle onnxruntime-web twice.
   */
  constructor(backend: InferenceBackend | FaceBackendFactory) {
    this.service = new FaceWorkerService(typeof backend === "function" ? backend : () => backend);
  }

  async sendAsync(message: FaceWorkerMessage): Promise<FaceWorkerReply> {
    if (!this.service) return { id: message.id, ok: false, error: { code: "DISPOSED", message: "face transport: terminated" } };
    return (await this.service.handleAsync(message)).reply;
  }

  terminate(): void {
    const service = this.service;
    this.service = undefined;
    void service?.handleAsync({ id: -1, type: "dispose" });
  }
}
