/**
 * The samples' static file server: `node samples/dist/node/server.js [--port N] [--model file.onnx]`.
 *
 * Serves the built sample (`samples/dist/crowd/`, the bundled default model included) and one model (`--model`, else
 * the default model again as `/model.onnx`) on 127.0.0.1 only, with the headers that make the page cross-origin
 * isolated (COOP/COEP: needed for SharedArrayBuffer, i.e. onnxruntime-web's WASM threads) and the page's origin a
 * "potentially trustworthy" one (127.0.0.1: needed for WebGPU without HTTPS). Requests whose `Host` is not a
 * loopback name with the served port are refused (a page on a rebinding domain must not read the files).
 */
import { realpath, stat } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { pathToFileURL } from "node:url";
import { CloseServerAsync, DecodeUrlPath, HostRefusal, IsolationHeaders, IsStateChanging, ListenAsync, MimeTypes, ResolveInsideAsync, ResolveSampleModelAsync, SendFileAsync, type SampleModel } from "@npc-faces/tools";
import { DefaultOutDir } from "./build.js";

/** The only host the server listens on: nothing outside this machine can reach it. */
export const SampleHost = "127.0.0.1";

/** Default port of `npm start`. */
export const DefaultPort = 8080;

/** URL path of the served model. */
export const ModelUrlPath = "/model.onnx";

/** URL path of the JSON document that tells the page which model it gets (see {@link SampleConfig}). */
export const ConfigUrlPath = "/sample-config.json";

/** What the page learns from {@link ConfigUrlPath}. */
export interface SampleConfig {
  /**
   * The model's URL, relative to the page; null for the bundled default model, which the page then loads as an app
   * would: by giving the plugin no `modelUrl` (the build copies `default.onnx` next to the bundle).
   */
  readonly modelUrl: string | null;
  /** The model's metadata name. */
  readonly modelName: string;
  /** Where the file lives, relative to the repository root. */
  readonly modelPath: string;
  readonly trained: boolean;
  readonly origin: SampleModel["origin"];
}

/** Options of {@link StartSampleServerAsync}. */
export interface SampleServerOptions {
  /** Port to listen on; 0 picks a free one (default {@link DefaultPort}). */
  readonly port?: number;
  /** Folder of the built page (default `samples/dist/crowd`). */
  readonly root?: string;
  /** The model to serve (default: {@link ResolveSampleModelAsync}). */
  readonly model?: SampleModel;
}

/** A running sample server. */
export interface SampleServer {
  /** `http://127.0.0.1:<port>/` */
  readonly url: string;
  readonly port: number;
  readonly model: SampleModel;
  /** Stops listening and closes open connections. */
  closeAsync(): Promise<void>;
}

/**
 * Starts the server. It answers GET and HEAD only; paths are resolved inside `root` (no `..`, no symlinks out).
 * @throws when the port is taken (EADDRINUSE) or the model is not valid
 */
export async function StartSampleServerAsync(options: SampleServerOptions = {}): Promise<SampleServer> {
  const root = await realpath(options.root ?? DefaultOutDir).catch((error: NodeJS.ErrnoException) => {
    throw new Error(`${options.root ?? DefaultOutDir}: ${error.code === "ENOENT" ? "not built yet (run `node samples/dist/node/build.js`, or `npm start`)" : error.message}`);
  });
  const model = options.model ?? (await ResolveSampleModelAsync());
  const config: SampleConfig = {
    modelUrl: model.origin === "default" ? null : ModelUrlPath.slice(1),
    modelName: model.metadata.name,
    modelPath: model.displayPath,
    trained: model.trained,
    origin: model.origin,
  };
  const server = createServer((request, response) => {
    const port = (server.address() as AddressInfo).port;
    HandleRequestAsync(request, response, { root, modelPath: model.path, config, port }).catch((error: unknown) => {
      if (!response.headersSent) SendText(response, 500, `internal error: ${(error as Error).message}`);
      else response.destroy();
    });
  });
  const port = await ListenAsync(server, options.port ?? DefaultPort, SampleHost);
  return { url: `http://${SampleHost}:${port}/`, port, model, closeAsync: () => CloseServerAsync(server) };
}

interface Served {
  readonly root: string;
  readonly modelPath: string;
  readonly config: SampleConfig;
  readonly port: number;
}

async function HandleRequestAsync(request: IncomingMessage, response: ServerResponse, { root, modelPath, config, port }: Served): Promise<void> {
  const badHost = HostRefusal(request.headers, { host: SampleHost, port });
  if (badHost !== undefined) return SendText(response, 403, badHost);
  // Read-only server: anything that would change state is refused.
  if (IsStateChanging(request.method)) {
    response.setHeader("Allow", "GET, HEAD");
    return SendText(response, 405, "method not allowed");
  }
  const urlPath = DecodeUrlPath(request.url ?? "/");
  if (urlPath === undefined) return SendText(response, 400, "bad path");
  if (urlPath === ConfigUrlPath) {
    const body = Buffer.from(JSON.stringify(config));
    response.writeHead(200, { ...IsolationHeaders, "Content-Type": MimeTypes[".json"], "Content-Length": body.length });
    response.end(request.method === "HEAD" ? undefined : body);
    return;
  }
  const file = urlPath === ModelUrlPath ? modelPath : await ResolveInsideAsync(root, urlPath === "/" ? "/index.html" : urlPath);
  if (file === undefined) return SendText(response, 404, "not found");
  const info = await stat(file).catch(() => undefined);
  if (!info?.isFile()) return SendText(response, 404, "not found");
  await SendFileAsync(response, file, info.size, request.method === "HEAD");
}

function SendText(response: ServerResponse, status: number, text: string): void {
  const body = Buffer.from(text + "\n");
  response.writeHead(status, { ...IsolationHeaders, "Content-Type": MimeTypes[".txt"], "Content-Length": body.length });
  response.end(body);
}

/** `--port N` / `--port=N` / `PORT`, and `--model FILE` / `--model=FILE`. */
export function ParseServerArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): { port: number; modelPath?: string } {
  let port: string | undefined = env.PORT;
  let modelPath: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].startsWith("--") && argv[i].includes("=") ? [argv[i].slice(0, argv[i].indexOf("=")), argv[i].slice(argv[i].indexOf("=") + 1)] : [argv[i], undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${flag}: expected a value`);
      return v;
    };
    if (flag === "--port") port = value();
    else if (flag === "--model") modelPath = value();
    else if (flag === "--help" || flag === "-h") {
      console.log("usage: node samples/dist/node/server.js [--port N (or PORT=N; 0 = any free port)] [--model file.onnx]");
      process.exit(0);
    } else throw new Error(`unknown argument ${JSON.stringify(argv[i])} (known: --port, --model)`);
  }
  const parsed = port === undefined || port === "" ? DefaultPort : Number(port);
  if (!Number.isInteger(parsed) || parsed < 0 || parsed > 65535) throw new Error(`port: expected an integer in 0..65535, got ${JSON.stringify(port)}`);
  return modelPath === undefined ? { port: parsed } : { port: parsed, modelPath };
}

async function MainAsync(): Promise<void> {
  let args: ReturnType<typeof ParseServerArgs>;
  try {
    args = ParseServerArgs(process.argv.slice(2));
  } catch (error) {
    console.error(`npc-faces sample server: ${(error as Error).message}`);
    process.exit(2);
  }
  const model = await ResolveSampleModelAsync({ modelPath: args.modelPath });
  const server = await StartSampleServerAsync({ port: args.port, model });
  const label = model.trained ? "" : " (UNTRAINED: random weights, the faces are noise)";
  console.log(`npc-faces crowd sample: model ${model.displayPath} "${model.metadata.name}"${label}`);
  console.log(`serving on ${server.url}  (WebGL2; ${server.url}?engine=webgpu for WebGPU). Ctrl+C stops.`);
  const stop = (): void => {
    void server.closeAsync().then(() => process.exit(0));
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  MainAsync().catch((error: unknown) => {
    const code = (error as NodeJS.ErrnoException).code;
    console.error(`npc-faces sample server: ${code === "EADDRINUSE" ? "the port is in use; choose another with --port N or PORT=N" : (error as Error).message}`);
    process.exit(1);
  });
}
