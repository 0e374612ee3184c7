/** Reading a request body with a size limit (the editor's manifest saves). */
import type { IncomingMessage } from "node:http";

/** What {@link ReadBodyAsync} got: the bytes, or `tooLarge` once more than the limit arrived (or was announced). */
export type BodyResult = { readonly tooLarge: false; readonly bytes: Buffer } | { readonly tooLarge: true };

/**
 * Collects the body, up to `limit` bytes. Larger bodies resolve `tooLarge` as soon as that is known (from
 * `Content-Length`, or when the limit is passed); the rest is read and dropped rather than left in the socket, so
 * the client still gets the answer (an unread body closed under it would reset the connection first).
 */
export function ReadBodyAsync(request: IncomingMessage, limit: number): Promise<BodyResult> {
  const announced = Number(request.headers["content-length"] ?? "0");
  if (Number.isFinite(announced) && announced > limit) {
    request.resume();
    return Promise.resolve({ tooLarge: true });
  }
  return new Promise((resolvePromise, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= limit) {
        chunks.push(chunk);
        return;
      }
      // Stop keeping bytes; keep draining (resume() with no data listener drops them).
      request.off("data", onData);
      request.off("end", onEnd);
      request.resume();
      resolvePromise({ tooLarge: true });
    };
    const onEnd = (): void => resolvePromise({ tooLarge: false, bytes: Buffer.concat(chunks) });
    request.on("data", onData);
    request.once("end", onEnd);
    request.once("error", reject);
  });
}
