/**
 * The seed editor's server (`npc-faces editor`): serves the built page, the plugin's face worker, onnxruntime-web's
 * binaries and one model on the loopback interface only, with the COOP/COEP/CORP headers that make the page
 * cross-origin isolated (WASM threads), and reads/writes manifests inside the project folder:
 *
 *   GET  /api/model-info       the model's name, SHA-256, metadata (controls, layers) and the manifest's path
 *   GET  /api/manifest[?path=] the manifest, validated (every problem with its path) and checked against the model
 *   PUT  /api/manifest[?path=] validates (400 with the problem list), then saves atomically
 *
 * Manifest paths must resolve inside the project folder (no `..`, no absolute path or symlink leading out). Every
 * request must name the server by a loopback name and its port in `Host` (DNS rebinding); a save must come from the
 * editor's own origin, carry the per-launch token the served page holds, be JSON of at most {@link MaxManifestBytes},
 * and may replace only a file that already is a manifest (see docs/editor.md, "Security").
 */
import { readFile, realpath, stat } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, extname, isAbsolute, join, relative, resolve, sep } from "node:path";
import {
  CheckManifestAgainstModel,
  ManifestFormatName,
  ManifestFormatVersion,
  ManifestProblems,
  ReadModelFile,
  Sha256HexAsync,
  type FaceManifest,
  type ModelMetadata,
} from "@npc-faces/runtime";
import { WriteFileAtomicAsync } from "../bake/atomicWrite.js";
import { CloseServerAsync, ListenAsync } from "../web/httpServer.js";
import { ForeignOriginRefusal, HostRefusal, IsStateChanging, type LoopbackAddress } from "../web/loopbackGuard.js";
import { ReadBodyAsync } from "../web/requestBody.js";
import { DecodeUrlPath, IsolationHeaders, MimeTypes, ResolveInsideAsync, SendFileAsync } from "../web/staticFiles.js";
import { EditorRefusal } from "./editorRefusal.js";
import { EmbedEditorToken, NewEditorToken, TokenMatches } from "./editorToken.js";
import { CheckOverwritableAsync } from "./manifestOverwrite.js";
import { EditorApi, EditorTokenHeader, type ManifestResponse, type ModelInfoResponse, type ProblemsResponse, type SaveResponse } from "./page/editorApi.js";

export { EditorRefusal } from "./editorRefusal.js";

/** The address the editor listens on unless told another loopback one. */
export const EditorHost = "127.0.0.1";

/** Host names accepted for `--host`: loopback only, so nothing outside this machine can reach the editor. */
export const LoopbackHosts: readonly string[] = ["127.0.0.1", "localhost", "::1"];

/** Default port of `npc-faces editor`. */
export const DefaultEditorPort = 8090;

/** Largest manifest body accepted by PUT (a manifest of many thousand NPCs is still far below). */
export const MaxManifestBytes = 8 * 1024 * 1024;

/**
 * Checks a host to listen on.
 * @throws EditorRefusal for anything but a loopback address (the editor writes files: it must not be reachable from other machines)
 */
export function CheckEditorHost(host: string): string {
  const h = host.trim().toLowerCase().replace(/^\[(.*)\]$/, "$1");
  if (!LoopbackHosts.includes(h) && !/^127(\.\d{1,3}){3}$/.test(h)) {
    throw new EditorRefusal(`refusing to listen on ${JSON.stringify(host)}: the editor serves and writes project files, so it listens on the loopback interface only (${LoopbackHosts.join(", ")})`);
  }
  return h === "localhost" ? EditorHost : h;
}

/**
 * Resolves a manifest path (relative to `root`, or absolute) inside the project folder, following symlinks of the
 * parts that exist.
 * @returns the absolute path
 * @throws EditorRefusal when it is outside `root`, or is not a `.json` file name
 */
export async function ResolveProjectPathAsync(root: string, path: string): Promise<string> {
  const realRoot = await realpath(root);
  const candidate = resolve(realRoot, path);
  const outside = (p: string): boolean => {
    const rel = relative(realRoot, p);
    return rel === "" || rel === ".." || rel.startsWith(`..${sep}`) || isAbsolute(rel);
  };
  if (path.includes("\0") || outside(candidate)) throw new EditorRefusal(`${path}: outside the project folder ${realRoot}; manifests must live inside it`);
  if (extname(candidate).toLowerCase() !== ".json") throw new EditorRefusal(`${path}: a manifest file name must end in .json`);
  // Symlinks: the real location of the file (or, for a new file, of its folder) must be inside too.
  const real = await realpath(candidate).catch(async () => join(await realpath(dirname(candidate)).catch(() => dirname(candidate)), candidate.slice(dirname(candidate).length + 1)));
  if (outside(real)) throw new EditorRefusal(`${path}: leads outside the project folder ${realRoot} (symbolic link)`);
  return real;
}

/** Writes a file atomically; replaceable in tests (e.g. to interrupt a save). */
export type WriteFileFunction = (path: string, bytes: Uint8Array) => Promise<void>;

/** Options of {@link StartEditorServerAsync}. */
export interface EditorServerOptions {
  /** The project folder: every manifest read or written lives inside it. */
  readonly root: string;
  /** The manifest to edit, relative to `root` (or absolute, inside it). Created on the first save. */
  readonly manifestPath: string;
  /** The model file (`.onnx`). */
  readonly modelPath: string;
  /** Folder of the built page (see `BuildEditorPageAsync`). */
  readonly pageDir: string;
  /** Port; 0 picks a free one (default {@link DefaultEditorPort}). */
  readonly port?: number;
  /** A loopback address (default 127.0.0.1); others are refused. */
  readonly host?: string;
  /** Saves manifests (default: WriteFileAtomicAsync). */
  readonly writeFileAsync?: WriteFileFunction;
}

/** A running editor server. */
export interface EditorServer {
  /** `http://127.0.0.1:<port>/` */
  readonly url: string;
  readonly port: number;
  /** This launch's write token (in the served page; sent back as {@link EditorTokenHeader} by saves). */
  readonly token: string;
  /** The real path of the project folder. */
  readonly root: string;
  /** The manifest's absolute path. */
  readonly manifestPath: string;
  readonly modelInfo: ModelInfoResponse;
  closeAsync(): Promise<void>;
}

/**
 * Validates the options (host, manifest path, model), then listens.
 * @throws EditorRefusal for a non-loopback host or a manifest outside the project; the runtime's error for a bad model
 */
export async function StartEditorServerAsync(options: EditorServerOptions): Promise<EditorServer> {
  const host = CheckEditorHost(options.host ?? EditorHost);
  const root = await realpath(options.root).catch((error: NodeJS.ErrnoException) => {
    throw new EditorRefusal(`project folder ${options.root}: ${error.code === "ENOENT" ? "does not exist" : error.message}`);
  });
  const manifestPath = await ResolveProjectPathAsync(root, options.manifestPath);
  const pageDir = await realpath(options.pageDir);
  const modelBytes = await readFile(options.modelPath);
  const { metadata } = ReadModelFile(modelBytes, options.modelPath);
  const sha256 = await Sha256HexAsync(modelBytes);
  const modelRel = relative(root, resolve(options.modelPath));
  const modelInfo: ModelInfoResponse = {
    name: metadata.name,
    sha256,
    modelPath: modelRel.startsWith("..") || isAbsolute(modelRel) ? resolve(options.modelPath) : modelRel,
    trained: metadata.provenance.trained,
    metadata,
    manifestPath: relative(root, manifestPath),
  };
  const token = NewEditorToken();
  const context: Context = { root, manifestPath, modelPath: resolve(options.modelPath), pageDir, metadata, sha256, modelInfo, token, write: options.writeFileAsync ?? WriteFileAtomicAsync };
  const server = createServer((request, response) => {
    const address: LoopbackAddress = { host, port: (server.address() as AddressInfo).port };
    HandleAsync(request, response, context, address).catch((error: unknown) => {
      if (!response.headersSent) SendJson(response, 500, { error: "internal error", problems: [(error as Error).message] } satisfies ProblemsResponse);
      else response.destroy();
    });
  });
  const port = await ListenAsync(server as Server, options.port ?? DefaultEditorPort, host);
  const shownHost = host.includes(":") ? `[${host}]` : host;
  return { url: `http://${shownHost}:${port}/`, port, token, root, manifestPath, modelInfo, closeAsync: () => CloseServerAsync(server as Server) };
}

interface Context {
  readonly root: string;
  readonly manifestPath: string;
  readonly modelPath: string;
  readonly pageDir: string;
  readonly metadata: ModelMetadata;
  readonly sha256: string;
  readonly modelInfo: ModelInfoResponse;
  readonly token: string;
  readonly write: WriteFileFunction;
}

/** A new, empty manifest for the served model. */
export function EmptyManifest(sha256: string, modelName: string): FaceManifest {
  return { format: ManifestFormatName, formatVersion: ManifestFormatVersion, model: { sha256, name: modelName }, npcs: [] };
}

async function HandleAsync(request: IncomingMessage, response: ServerResponse, context: Context, address: LoopbackAddress): Promise<void> {
  // Before anything else: a foreign Host is a page on another name (DNS rebinding) and gets nothing, not even files.
  const badHost = HostRefusal(request.headers, address);
  if (badHost !== undefined) return SendJson(response, 403, Problems("refused", badHost));
  const urlPath = DecodeUrlPath(request.url ?? "/");
  if (urlPath === undefined) return SendJson(response, 400, Problems("bad path"));
  const method = request.method ?? "GET";
  const allowed = urlPath === EditorApi.manifest ? ["GET", "HEAD", "PUT"] : ["GET", "HEAD"];
  if (!allowed.includes(method)) {
    response.setHeader("Allow", allowed.join(", "));
    return SendJson(response, 405, Problems("method not allowed", `${method} ${urlPath}: allowed ${allowed.join(", ")}`));
  }
  if (IsStateChanging(method)) {
    const refusal = WriteRefusal(request, context, address);
    if (refusal !== undefined) return SendJson(response, refusal.status, Problems("refused", refusal.message));
  }
  if (urlPath === EditorApi.manifest) {
    const query = new URL(request.url ?? "/", "http://editor").searchParams.get("path");
    let file: string;
    try {
      file = query === null ? context.manifestPath : await ResolveProjectPathAsync(context.root, query);
    } catch (error) {
      if (error instanceof EditorRefusal) return SendJson(response, 403, Problems("refused", error.message));
      throw error;
    }
    if (method === "PUT") return SaveManifestAsync(request, response, context, file);
    return SendManifestAsync(response, context, file);
  }
  if (urlPath === EditorApi.modelInfo) return SendJson(response, 200, context.modelInfo);
  const file = urlPath === EditorApi.model ? context.modelPath : await ResolveInsideAsync(context.pageDir, urlPath === "/" ? "/index.html" : urlPath);
  const info = file === undefined ? undefined : await stat(file).catch(() => undefined);
  if (file === undefined || !info?.isFile()) return SendJson(response, 404, Problems("not found"));
  if (file === join(context.pageDir, "index.html")) return SendPage(response, context, await readFile(file, "utf8"), method === "HEAD");
  await SendFileAsync(response, file, info.size, method === "HEAD");
}

/** Why a write is refused before its body is read: foreign origin, missing or stale token, not JSON. */
function WriteRefusal(request: IncomingMessage, context: Context, address: LoopbackAddress): { status: number; message: string } | undefined {
  const foreign = ForeignOriginRefusal(request.headers, address);
  if (foreign !== undefined) return { status: 403, message: foreign };
  if (!TokenMatches(request.headers[EditorTokenHeader.toLowerCase()], context.token)) {
    return { status: 403, message: `missing or wrong ${EditorTokenHeader}: saves come from the page this editor launch served (restarted since? reload the page)` };
  }
  // JSON only: a cross-site form or a text/plain "simple" request cannot send it without a preflight.
  const type = (request.headers["content-type"] ?? "").split(";", 1)[0].trim().toLowerCase();
  if (type !== "application/json") return { status: 415, message: `Content-Type ${JSON.stringify(request.headers["content-type"] ?? "")}: a manifest is sent as application/json` };
  return undefined;
}

/** The page, with this launch's write token in it. */
function SendPage(response: ServerResponse, context: Context, html: string, headOnly: boolean): void {
  const body = Buffer.from(EmbedEditorToken(html, context.token));
  response.writeHead(200, { ...IsolationHeaders, "Content-Type": MimeTypes[".html"], "Content-Length": body.length });
  response.end(headOnly ? undefined : body);
}

async function SendManifestAsync(response: ServerResponse, context: Context, file: string): Promise<void> {
  const path = relative(context.root, file);
  const text = await readFile(file, "utf8").catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return undefined;
    throw error;
  });
  if (text === undefined) {
    const body: ManifestResponse = { path, exists: false, manifest: EmptyManifest(context.sha256, context.metadata.name), problems: [], check: { errors: [], warnings: [] } };
    return SendJson(response, 200, body);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return SendJson(response, 422, { path, exists: true, manifest: null, problems: [`(manifest): not valid JSON (${(error as Error).message})`], check: { errors: [], warnings: [] } } satisfies ManifestResponse);
  }
  const problems = ManifestProblems(value);
  if (problems.length > 0) return SendJson(response, 422, { path, exists: true, manifest: null, problems, check: { errors: [], warnings: [] } } satisfies ManifestResponse);
  const manifest = value as FaceManifest;
  const check = CheckManifestAgainstModel(manifest, context.metadata, context.sha256);
  return SendJson(response, 200, { path, exists: true, manifest, problems: [], check } satisfies ManifestResponse);
}

async function SaveManifestAsync(request: IncomingMessage, response: ServerResponse, context: Context, file: string): Promise<void> {
  const body = await ReadBodyAsync(request, MaxManifestBytes);
  if (body.tooLarge) return SendJson(response, 413, Problems("too large", `the manifest is larger than ${MaxManifestBytes} bytes`));
  let value: unknown;
  try {
    value = JSON.parse(body.bytes.toString("utf8"));
  } catch (error) {
    return SendJson(response, 400, Problems("malformed manifest", `(manifest): not valid JSON (${(error as Error).message})`));
  }
  const problems = ManifestProblems(value);
  if (problems.length > 0) return SendJson(response, 400, Problems("malformed manifest", ...problems));
  const manifest = value as FaceManifest;
  const check = CheckManifestAgainstModel(manifest, context.metadata, context.sha256);
  // Unknown controls or labels would make the game and the baker fail: never save them.
  if (check.errors.length > 0) return SendJson(response, 400, Problems("manifest does not fit the model", ...check.errors));
  try {
    await CheckOverwritableAsync(file, relative(context.root, file));
  } catch (error) {
    if (error instanceof EditorRefusal) return SendJson(response, 403, Problems("refused", error.message));
    throw error;
  }
  const bytes = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`);
  try {
    await context.write(file, bytes);
  } catch (error) {
    return SendJson(response, 500, Problems("save failed", `${relative(context.root, file)}: ${(error as Error).message}; the previous file is unchanged`));
  }
  return SendJson(response, 200, { path: relative(context.root, file), bytes: bytes.length, warnings: check.warnings } satisfies SaveResponse);
}

function Problems(error: string, ...problems: string[]): ProblemsResponse {
  return { error, problems };
}

function SendJson(response: ServerResponse, status: number, value: unknown): void {
  const body = Buffer.from(JSON.stringify(value));
  response.writeHead(status, { ...IsolationHeaders, "Content-Type": MimeTypes[".json"], "Content-Length": body.length });
  response.end(body);
}
