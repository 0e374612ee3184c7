/**
 * HTTP requests as a browser on another site, or curl, would send them: any `Host`, `Origin` and body, the path
 * exactly as given. (Node's fetch replaces `Host` and normalises paths, so it cannot reproduce an attack.)
 */
import { request, type OutgoingHttpHeaders } from "node:http";

/** A complete answer. */
export interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
  /** The body parsed as JSON (undefined when it is not JSON). */
  readonly json: { error?: string; problems?: string[]; [key: string]: unknown } | undefined;
}

/** What to send; `body` chunks are written one by one (no Content-Length: chunked) when given as an array. */
export interface RawRequest {
  readonly method?: string;
  readonly path: string;
  readonly headers?: OutgoingHttpHeaders;
  readonly body?: string | Buffer | readonly Buffer[];
}

/** Sends one request to 127.0.0.1:`port` on a fresh connection and collects the answer. */
export function RawRequestAsync(port: number, options: RawRequest): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path: options.path, method: options.method ?? "GET", headers: options.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("error", reject);
      res.on("end", () => {
        const body = Buffer.concat(chunks);
        let json: RawResponse["json"];
        try {
          json = JSON.parse(body.toString("utf8")) as RawResponse["json"];
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json });
      });
    });
    req.on("error", reject);
    const body = options.body;
    if (Array.isArray(body)) for (const chunk of body as readonly Buffer[]) req.write(chunk);
    else if (body !== undefined) req.write(body);
    req.end();
  });
}

/**
 * Sends only the headers of a request that announces `contentLength` body bytes, and resolves with the status the
 * server answers before any body byte arrives (then drops the connection).
 */
export function StatusBeforeBodyAsync(port: number, options: Omit<RawRequest, "body"> & { contentLength: number }): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path: options.path, method: options.method ?? "PUT", headers: { ...options.headers, "Content-Length": options.contentLength }, agent: false }, (res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
      req.destroy();
    });
    req.on("error", reject);
    req.flushHeaders();
  });
}
