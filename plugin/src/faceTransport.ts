/**
 * How the main thread reaches the face worker's logic: through a Web Worker ({@link WorkerFaceTransport}) or by
 * direct calls in the same thread ({@link InThreadFaceTransport}, for Node and tests).
 */
import type { FaceWorkerMessage, FaceWorkerReply } from "./worker/faceWorkerProtocol.js";

/** Delivers messages to a face worker service and returns its replies. */
export interface FaceTransport {
  /** Short description for messages, e.g. `"web worker"`. */
  readonly kind: string;
  /**
   * Sends one message.
   * @param transfer buffers whose ownership moves to the receiver (a worker transport transfers them)
   * @returns the reply with the message's id
   */
  sendAsync(message: FaceWorkerMessage, transfer: ArrayBuffer[]): Promise<FaceWorkerReply>;
  /** Stops the receiver; outstanding messages are answered with an error. */
  terminate(): void;
}
