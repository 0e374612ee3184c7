/**
 * The Web Worker entry of the plugin: bundle it as its own module (esbuild, `format: "esm"`) and pass its URL as
 * `workerUrl` to {@link NpcFaceSystem.CreateAsync}. It owns a {@link FaceGenerator} on onnxruntime-web and answers
 * {@link FaceWorkerMessage}s; it fetches nothing itself (the model bytes are sent to it, and onnxruntime-web's
 * binaries come from the `wasmPaths` the page passes, on the page's origin).
 */
import { CreateWebBackend } from "@npc-faces/runtime/web";
import { PrepareOptionsOfUrlFragment, type FaceWorkerMessage } from "./faceWorkerProtocol.js";
import { FaceWorkerService } from "./faceWorkerService.js";

/** The parts of a dedicated worker's global scope used here (keeps this file free of the WebWorker lib). */
interface WorkerScope {
  readonly name?: string;
  readonly location?: { readonly hash: string };
  onmessage: ((event: { data: FaceWorkerMessage }) => void) | null;
  postMessage(message: unknown, transfer: Transferable[]): void;
}

const scope = globalThis as unknown as WorkerScope;
// onnxruntime-web's threaded WASM starts its helper threads as workers named "em-pthread"; when the embedded
// copy of its module is used they load this very bundle, which must then leave the messages to onnxruntime.
if (!scope.name?.startsWith("em-pthread")) {
  const service = new FaceWorkerService((options) => CreateWebBackend(options));
  scope.onmessage = (event) => {
    void service.handleAsync(event.data).then(({ reply, transfer }) => scope.postMessage(reply, transfer));
  };
  // The page's backend options in the URL's fragment (NpcFaceSystem puts them there): the engine starts now, not when
  // the page's prepare message arrives (it answers that one from the same started engine).
  const prepare = PrepareOptionsOfUrlFragment(scope.location?.hash);
  if (prepare) void service.handleAsync({ id: -3, type: "prepare", backend: prepare });
}
