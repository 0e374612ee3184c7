/**
 * One bake worker (worker_threads): its own inference session on the bake's engine; receives batches of faces, generates,
 * encodes (PNG with the text chunks the main thread computed) and writes each file atomically, then reports
 * its hash. Started by bakeWorkerPool.ts; the protocol types live there.
 */
import { parentPort, workerData } from "node:worker_threads";
import { FaceGenerator } from "@npc-faces/runtime";
import { CreateEngineBackendAsync, ImportOnnxruntimeNodeAsync } from "@npc-faces/runtime/node";
import { WriteFileAtomicAsync } from "./atomicWrite.js";
import { Sha256Hex } from "./bakeCache.js";
import type { BakeWorkerData, FromBakeWorker, ToBakeWorker } from "./bakeWorkerPool.js";
import { EncodePngWithText, type RgbaImage } from "./pngProvenance.js";

const port = parentPort;
if (!port) throw new Error("bakeWorker.js runs as a worker thread (see bakeWorkerPool.ts)");
const data = workerData as BakeWorkerData;
const Send = (message: FromBakeWorker): void => port.postMessage(message);

async function ResizeAsync(image: RgbaImage, size: number): Promise<RgbaImage> {
  if (image.width === size) return image;
  // sharp loads only when a bake resizes (the pool loads it in the main thread first, as sharp asks).
  const { ResizeRgbaAsync } = await import("./bakeSeeds.js");
  return ResizeRgbaAsync(image, size);
}

let generator: FaceGenerator | undefined;
try {
  // Graph-optimiser notes (e.g. an unused initializer removed) are not the user's business; errors still show.
  // Only the native engine loads onnxruntime-node (an optional package).
  if (data.engine === "native") (await ImportOnnxruntimeNodeAsync()).env.logLevel = "error";
  generator = await FaceGenerator.loadAsync(data.modelBytes, {
    backend: await CreateEngineBackendAsync(data.engine, data.threads !== undefined ? { intraOpNumThreads: data.threads } : {}),
    maxBatch: data.maxBatch,
    source: data.source,
  });
  Send({ type: "ready", modelHash: generator.modelHash });
} catch (error) {
  Send({ type: "error", jobId: -1, message: (error as Error).message });
}

let queue: Promise<void> = Promise.resolve();
port.on("message", (message: ToBakeWorker) => {
  if (message.type === "close") {
    queue = queue.then(async () => {
      await generator?.disposeAsync();
      port.close();
    });
    return;
  }
  // One batch at a time, in arrival order.
  queue = queue.then(async () => {
    try {
      if (!generator) throw new Error("the worker has no model");
      const images = await generator.generateAsync(message.faces.map((f) => f.request));
      for (let i = 0; i < message.faces.length; i++) {
        const face = message.faces[i];
        const image = await ResizeAsync(images[i], face.size);
        const png = EncodePngWithText(image, face.text);
        await WriteFileAtomicAsync(face.file, png);
        Send({ type: "face", jobId: message.jobId, id: face.id, sha256: Sha256Hex(png), bytes: png.length, width: image.width, height: image.height });
      }
      Send({ type: "done", jobId: message.jobId });
    } catch (error) {
      Send({ type: "error", jobId: message.jobId, message: (error as Error).message });
    }
  });
});
