/**
 * Static-file serving shared by the samples' server and the seed editor's server: content types, the headers that
 * make a page cross-origin isolated (COOP/COEP: needed for SharedArrayBuffer, i.e. onnxruntime-web's WASM threads),
 * request paths resolved safely inside a folder, and streaming a file as the response.
 */
import { createReadStream } from "node:fs";
import { realpath } from "node:fs/promises";
import type { ServerResponse } from "node:http";
import { extname, join, sep } from "node:path";

/** Content types by file extension; anything else is served as bytes. */
export const MimeTypes: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".wasm": "application/wasm",
  ".onnx": "application/octet-stream",
  ".gltf": "model/gltf+json",
  ".png": "image/png",
  ".svg": "image/svg+xml",
  ".ico": "image/x-icon",
  ".txt": "text/plain; charset=utf-8",
};

/** Headers on every response. */
export const IsolationHeaders: Readonly<Record<string, string>> = {
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "require-corp",
  "Cross-Origin-Resource-Policy": "same-origin",
  "X-Content-Type-Options": "nosniff",
  // A rebuilt page must never be mixed with a cached old bundle.
  "Cache-Control": "no-cache",
};

/**
 * Decodes the path part of a request URL, or undefined when it could escape the root: `..` segments (also
 * percent-encoded), backslashes, NUL bytes or malformed escapes.
 */
export function DecodeUrlPath(url: string): string | undefined {
  const raw = url.split(/[?#]/, 1)[0];
  let path: string;
  try {
    path = decodeURIComponent(raw);
  } catch {
    return undefined;
  }
  if (!path.startsWith("/") || path.includes("\0") || path.includes("\\")) return undefined;
  if (path.split("/").some((segment) => segment === "..")) return undefined;
  return path;
}

/** Joins `urlPath` onto `root` and follows symlinks; undefined when the result is outside `root` or missing. */
export async function ResolveInsideAsync(root: string, urlPath: string): Promise<string | undefined> {
  const candidate = join(root, ...urlPath.split("/").filter((s) => s !== "" && s !== "."));
  const real = await realpath(candidate).catch(() => undefined);
  if (real === undefined || (real !== root && !real.startsWith(root + sep))) return undefined;
  return real;
}

/**
 * Answers 200 with `file` (`bytes` long, already checked to be a file): the isolation headers, its content type
 * by extension and its length; the body is streamed unless `headOnly`. Resolves when the response is closed.
 */
export async function SendFileAsync(response: ServerResponse, file: string, bytes: number, headOnly: boolean): Promise<void> {
  response.writeHead(200, {
    ...IsolationHeaders,
    "Content-Type": MimeTypes[extname(file).toLowerCase()] ?? "application/octet-stream",
    "Content-Length": bytes,
  });
  if (headOnly) {
    response.end();
    return;
  }
  await new Promise<void>((resolvePromise, reject) => {
    const stream = createReadStream(file);
    stream.on("error", reject);
    response.on("close", () => {
      stream.destroy();
      resolvePromise();
    });
    stream.pipe(response);
  });
}
