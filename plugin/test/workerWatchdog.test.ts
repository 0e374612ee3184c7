/**
 * The worker transport's watchdog (issue 16): a worker that crashes or hangs is terminated and restarted, the model
 * reloaded and the outstanding batches re-sent; a batch that kills every worker fails with a clear error; a worker
 * that never started is not restarted; disposal never waits on a hung worker. Stand-in workers run the real
 * service on onnxruntime-node with the tiny test model.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FaceGenerator, IsNpcFacesError, type InferenceBackend } from "@npc-faces/runtime";
import { CreateNodeBackend } from "@npc-faces/runtime/node";
import { StandardMaterial } from "@babylonjs/core/Materials/standardMaterial.js";
import { CreateSphere } from "@babylonjs/core/Meshes/Builders/sphereBuilder.js";
import {
  FaceWorkerClient,
  FaceWorkerService,
  NpcFaceMaterialPlugin,
  NpcFaceSystem,
  WorkerFaceTransport,
  type FaceWorkerClientOptions,
  type FaceWorkerMessage,
  type WorkerFaceTransportOptions,
} from "@npc-faces/babylon";
import { CreateNullScene, TinyModelAsync, WithinAsync } from "./pluginTestScene.js";

let model: Uint8Array;
let reference: FaceGenerator;
const backend: InferenceBackend = CreateNodeBackend({ intraOpNumThreads: 1 });

beforeAll(async () => {
  model = await TinyModelAsync();
  reference = await FaceGenerator.loadAsync(model, { backend });
});
afterAll(async () => {
  await reference?.disposeAsync();
});

type Behaviour = "work" | "crash" | "hang";

/** A stand-in module worker: structured clone both ways; generate messages work, crash it or hang it. */
class ScriptedWorker {
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onerror: ((event: { message: string; preventDefault(): void }) => void) | null = null;
  onmessageerror: (() => void) | null = null;
  terminated = false;
  readonly received: string[] = [];
  private readonly service = new FaceWorkerService(() => backend);
  constructor(private readonly onGenerate: (message: FaceWorkerMessage & { type: "generate" }) => Behaviour) {}
  postMessage(message: FaceWorkerMessage, transfer: ArrayBuffer[]): void {
    const received = structuredClone(message, { transfer });
    this.received.push(received.type);
    const behaviour = received.type === "generate" ? this.onGenerate(received) : "work";
    if (behaviour === "hang") return;
    if (behaviour === "crash") {
      setTimeout(() => !this.terminated && this.onerror?.({ message: "Uncaught RuntimeError: memory access out of bounds", preventDefault() {} }), 1);
      return;
    }
    void this.service.handleAsync(received).then(({ reply, transfer: back }) => {
      if (!this.terminated) this.onmessage?.({ data: structuredClone(reply, { transfer: back }) });
    });
  }
  terminate(): void {
    this.terminated = true;
  }
}

/** A client on a restartable transport whose n-th worker (0-based) behaves as `script(n, message)` says. */
async function ClientAsync(
  script: (worker: number, message: FaceWorkerMessage & { type: "generate" }) => Behaviour,
  options: WorkerFaceTransportOptions = {},
  clientOptions: FaceWorkerClientOptions = {},
) {
  const workers: ScriptedWorker[] = [];
  const transport = new WorkerFaceTransport(
    () => {
      const n = workers.length;
      const worker = new ScriptedWorker((message) => script(n, message));
      workers.push(worker);
      return worker as unknown as Worker;
    },
    { restartDelayMs: 1, replyTimeoutMs: 300, ...options },
  );
  const client = new FaceWorkerClient(transport, clientOptions);
  await client.loadModelAsync(model, { source: "tiny", maxBatch: 8 });
  return { client, transport, workers };
}

async function ExpectFaceAsync(client: FaceWorkerClient, seed: number): Promise<void> {
  const lease = client.acquire({ seed });
  const face = await WithinAsync(lease.promise, 10_000, `face ${seed}`);
  expect(face.data).toEqual((await reference.generateAsync([{ seed }]))[0].data);
  lease.release();
}

describe("WorkerFaceTransport watchdog", () => {
  it("a worker that crashes mid-batch is restarted, the model reloaded and the batch re-sent", async () => {
    const { client, transport, workers } = await ClientAsync((n) => (n === 0 ? "crash" : "work"));
    await ExpectFaceAsync(client, 21);
    expect(workers).toHaveLength(2);
    expect(workers[0].terminated).toBe(true);
    expect(workers[1].received).toEqual(["load", "generate"]);
    expect(transport.restartCount).toBe(1);
    await ExpectFaceAsync(client, 22); // and it keeps working
    await client.disposeAsync();
    expect(workers[1].terminated).toBe(true);
  });

  it("a worker that stops answering is taken for hung after the reply timeout, terminated and replaced", async () => {
    const { client, transport, workers } = await ClientAsync((n) => (n === 0 ? "hang" : "work"), { replyTimeoutMs: 200 });
    const started = performance.now();
    await ExpectFaceAsync(client, 31);
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
    expect(workers[0].terminated).toBe(true);
    expect(transport.restartCount).toBe(1);
    await client.disposeAsync();
  });

  it("a batch that kills every worker fails with a clear error after its attempts; other faces still work", async () => {
    const { client, transport } = await ClientAsync((_, message) => (message.requests.some((r) => r.seed === 13) ? "crash" : "work"));
    const poisoned = client.acquire({ seed: 13 });
    const error = await WithinAsync(poisoned.promise.catch((e: unknown) => e), 10_000, "the poisoned batch");
    expect(IsNpcFacesError(error, "BACKEND_FAILED")).toBe(true);
    expect((error as Error).message).toBe("the face worker failed (Uncaught RuntimeError: memory access out of bounds), 2 times while handling this generate message");
    poisoned.release();
    await ExpectFaceAsync(client, 14);
    expect(transport.restartCount).toBe(2); // the third worker serves it
    await client.disposeAsync();
  });

  it("gives up after maxRestarts restarts in a row, naming the reason", async () => {
    const { client, transport } = await ClientAsync(() => "crash", { maxRestarts: 2, maxAttempts: 10 });
    const lease = client.acquire({ seed: 1 });
    const error = await WithinAsync(lease.promise.catch((e: unknown) => e), 10_000, "the failing worker");
    expect((error as Error).message).toBe("the face worker failed (Uncaught RuntimeError: memory access out of bounds) after 2 restarts");
    expect(transport.restartCount).toBe(2);
    // From now on everything fails at once, with the same message.
    const later = client.acquire({ seed: 2 });
    expect(((await later.promise.catch((e: unknown) => e)) as Error).message).toMatch(/after 2 restarts/);
    await client.disposeAsync();
  });

  it("a worker that never answered (its script did not load) is not restarted", async () => {
    const workers: ScriptedWorker[] = [];
    const transport = new WorkerFaceTransport(() => {
      const worker = new ScriptedWorker(() => "work");
      worker.postMessage = () => setTimeout(() => worker.onerror?.({ message: "", preventDefault() {} }), 1);
      workers.push(worker);
      return worker as unknown as Worker;
    });
    const client = new FaceWorkerClient(transport);
    const error = await WithinAsync(client.loadModelAsync(model).catch((e: unknown) => e), 5_000, "the load");
    expect((error as Error).message).toBe("the face worker failed (it crashed)");
    expect(workers).toHaveLength(1);
    await client.disposeAsync();
  });

  it("a worker that answered only the engine's prepare message and crashes while loading the first model is not restarted", async () => {
    const workers: ScriptedWorker[] = [];
    const transport = new WorkerFaceTransport(() => {
      const worker = new ScriptedWorker(() => "work");
      const post = worker.postMessage.bind(worker);
      worker.postMessage = (message, transfer) => {
        if (message.type !== "load") return post(message, transfer);
        worker.received.push("load");
        setTimeout(() => worker.onerror?.({ message: "Uncaught RuntimeError: unreachable", preventDefault() {} }), 1);
      };
      workers.push(worker);
      return worker as unknown as Worker;
    });
    const client = new FaceWorkerClient(transport);
    expect(await client.prepareAsync()).toBeDefined();
    const error = await WithinAsync(client.loadModelAsync(model).catch((e: unknown) => e), 5_000, "the load");
    expect((error as Error).message).toBe("the face worker failed (Uncaught RuntimeError: unreachable)");
    expect(workers).toHaveLength(1); // the model would crash the next worker too
    expect(workers[0].received).toEqual(["prepare", "load"]);
    await client.disposeAsync();
  });

  it("disposeAsync does not wait for a hung worker", async () => {
    const { client, workers } = await ClientAsync(() => "hang", { replyTimeoutMs: 60_000 }, { disposeTimeoutMs: 100 });
    const lease = client.acquire({ seed: 3 });
    await new Promise((resolve) => setTimeout(resolve, 20)); // the batch is with the (hung) worker
    workers[0].postMessage = () => undefined; // the dispose message is never answered either
    const started = performance.now();
    await WithinAsync(client.disposeAsync(), 5_000, "disposeAsync with a hung worker");
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(workers[0].terminated).toBe(true);
    expect(IsNpcFacesError(await lease.promise.catch((e: unknown) => e), "DISPOSED")).toBe(true);
  });
});

describe("NpcFaceSystem on a restartable worker", () => {
  it("workerUrl as a function: a crash during a level's generation is invisible, every face arrives", async () => {
    const workers: ScriptedWorker[] = [];
    const { scene } = CreateNullScene();
    await NpcFaceSystem.CreateAsync(scene, {
      workerUrl: () => {
        const first = workers.length === 0;
        const worker = new ScriptedWorker(() => (first ? "crash" : "work"));
        workers.push(worker);
        return worker as unknown as Worker;
      },
      workerWatchdog: { restartDelayMs: 1 },
      modelBytes: model,
      debounceMs: 5,
    });
    const plugins = Array.from({ length: 12 }, (_, i) => {
      const material = new StandardMaterial(`npc${i}`, scene);
      CreateSphere(`npc${i}`, { segments: 4 }, scene).material = material;
      const plugin = new NpcFaceMaterialPlugin(material);
      plugin.seed = 500 + i;
      return plugin;
    });
    await WithinAsync(scene.whenReadyAsync(), 10_000, "scene.whenReadyAsync() across a worker crash");
    expect(workers).toHaveLength(2);
    expect(plugins.every((p) => p.lastError === undefined && p.face !== undefined)).toBe(true);
    expect(plugins[11].face!.data).toEqual((await reference.generateAsync([{ seed: 511 }]))[0].data);
    scene.dispose();
  });
});
