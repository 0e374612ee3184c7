/**
 * Shared set-up of the plugin tests: a NullEngine scene with a face system running the tiny test model in-thread
 * on onnxruntime-node.
 */
import { afterAll, beforeAll } from "vitest";
import { NullEngine } from "@babylonjs/core/Engines/nullEngine.js";
import { Scene } from "@babylonjs/core/scene.js";
import { FaceGenerator, type FaceRequest } from "@npc-faces/runtime";
import { CreateNodeBackend } from "@npc-faces/runtime/node";
import { NpcFaceSystem, type NpcFaceSystemOptions } from "@npc-faces/babylon";
import { TinyModelAsync } from "../../runtime/test/testModels.js";

export { TinyModelAsync };

/**
 * The reference faces the plugin's are compared with: the tiny model on onnxruntime-node (one thread, as the
 * in-thread systems of these tests), loaded before the calling file's tests and released after them. Call at a test
 * file's top level; the returned function gives a request's RGBA8 bytes.
 */
export function UseReferenceFaces(): (request: FaceRequest) => Promise<Uint8Array> {
  let reference: FaceGenerator | undefined;
  beforeAll(async () => {
    reference = await FaceGenerator.loadAsync(await TinyModelAsync(), { backend: CreateNodeBackend({ intraOpNumThreads: 1 }) });
  });
  afterAll(async () => {
    await reference?.disposeAsync();
  });
  return async (request) => (await reference!.generateAsync([request]))[0].data;
}

/** A NullEngine and an empty scene. */
export function CreateNullScene(): { engine: NullEngine; scene: Scene } {
  const engine = new NullEngine();
  const scene = new Scene(engine);
  return { engine, scene };
}

/** A scene with a face system on the tiny model (in-thread, onnxruntime-node, 1 thread). */
export async function CreateFaceSceneAsync(options: NpcFaceSystemOptions = {}): Promise<{ engine: NullEngine; scene: Scene; system: NpcFaceSystem }> {
  const { engine, scene } = CreateNullScene();
  const system = await NpcFaceSystem.CreateAsync(scene, {
    mode: "inThread",
    backend: CreateNodeBackend({ intraOpNumThreads: 1 }),
    modelBytes: await TinyModelAsync(),
    debounceMs: 5,
    ...options,
  });
  return { engine, scene, system };
}

/** Resolves within `ms` or rejects, so a hang fails the test with a message. */
export async function WithinAsync<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
