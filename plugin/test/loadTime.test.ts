/**
 * Load time (issue 16, item 3), as behaviour rather than speed (speed is measured by `npm run bench -- browser`): the
 * worker's engine starts before the model arrives and is reused by the load; a preload made before the scene is taken
 * over by its system; the first face comes alone and before the others; the work done when the model is loaded is
 * spread over several tasks; the load's steps are reported in order. In-thread transport, tiny model on
 * onnxruntime-node.
 */
import { describe, expect, it } from "vitest";
import { StandardMaterial } from "@babylonjs/core/Materials/standardMaterial.js";
import { CreateSphere } from "@babylonjs/core/Meshes/Builders/sphereBuilder.js";
import type { Scene } from "@babylonjs/core/scene.js";
import type { InferenceBackend } from "@npc-faces/runtime";
import { CreateNodeBackend } from "@npc-faces/runtime/node";
import {
  FaceWorkerService,
  InThreadFaceTransport,
  NpcFaceMaterialPlugin,
  NpcFaceSystem,
  type FaceTransport,
  type FaceWorkerMessage,
  type FaceWorkerReply,
  type NpcFaceSystemMember,
  PrepareOptionsOfUrlFragment,
  WorkerUrlWithPrepare,
} from "@npc-faces/babylon";
import { CreateNullScene, TinyModelAsync, UseReferenceFaces, WithinAsync } from "./pluginTestScene.js";

const ReferenceFaceAsync = UseReferenceFaces();
const Backend = CreateNodeBackend({ intraOpNumThreads: 1 });

/** An in-thread transport that records each message: its type and, for generate messages, how many faces. */
class RecordingTransport implements FaceTransport {
  readonly kind = "recording";
  readonly sent: string[] = [];
  terminated = false;
  private readonly inner = new InThreadFaceTransport(Backend);
  /** @param firstFacesGate the first generate message is answered once this resolves (a test holds it to queue the rest) */
  constructor(private readonly firstFacesGate: Promise<void> = Promise.resolve()) {}
  async sendAsync(message: FaceWorkerMessage, transfer: ArrayBuffer[]): Promise<FaceWorkerReply> {
    const first = message.type === "generate" && !this.sent.some((m) => m.startsWith("generate"));
    this.sent.push(message.type === "generate" ? `generate ${message.requests.length}` : message.type);
    const reply = await this.inner.sendAsync(message, transfer);
    if (first) await this.firstFacesGate;
    return reply;
  }
  terminate(): void {
    this.terminated = true;
    this.inner.terminate();
  }
}

/** Resolves once the transport is terminated (a client waits for the worker's dispose reply first). */
async function TerminatedAsync(transport: RecordingTransport): Promise<void> {
  const poll = async (): Promise<void> => {
    while (!transport.terminated) await new Promise((resolve) => setTimeout(resolve, 5));
  };
  await WithinAsync(poll(), 5_000, "the transport's termination");
}

function Faces(scene: Scene, count: number, firstSeed = 1000): NpcFaceMaterialPlugin[] {
  return Array.from({ length: count }, (_, i) => {
    const material = new StandardMaterial(`npc${i}`, scene);
    CreateSphere(`npc${i}`, { segments: 4 }, scene).material = material;
    const plugin = new NpcFaceMaterialPlugin(material);
    plugin.seed = firstSeed + i;
    return plugin;
  });
}

describe("engine start ahead of the model", () => {
  it("the worker service answers prepare without waiting for queued work, and the load reuses the started backend", async () => {
    const created: string[] = [];
    let prepared = 0;
    const service = new FaceWorkerService((options) => {
      created.push(JSON.stringify(options));
      let started: Promise<void> | undefined;
      // Idempotent, as onnxruntime-web's: the load's FaceGenerator asks again.
      const prepareAsync = (): Promise<void> => (started ??= Promise.resolve().then(() => void prepared++));
      return { name: Backend.name, createSessionAsync: (m: Uint8Array) => Backend.createSessionAsync(m), prepareAsync } satisfies InferenceBackend;
    });
    const options = { executionProviders: ["wasm" as const], numThreads: 1 };
    const prepare = service.handleAsync({ id: 1, type: "prepare", backend: options });
    const load = service.handleAsync({ id: 2, type: "load", model: await TinyModelAsync(), source: "tiny", backend: options });
    const prepareReply = (await prepare).reply;
    expect(prepareReply).toMatchObject({ id: 1, ok: true, type: "prepare" });
    const loadReply = (await load).reply;
    expect(loadReply.ok && loadReply.type === "load").toBe(true);
    if (prepareReply.ok && prepareReply.type === "prepare" && loadReply.ok && loadReply.type === "load") {
      const timeline = loadReply.info.timeline!;
      expect(timeline.engineReady).toBe(prepareReply.engineReady);
      expect(timeline.workerStarted).toBe(prepareReply.workerStarted);
      expect(timeline.sessionCreated).toBeGreaterThanOrEqual(timeline.modelChecked);
      expect(timeline.sessionCreated).toBeGreaterThanOrEqual(timeline.engineReady);
    }
    expect(created).toEqual([JSON.stringify(options)]); // one backend, started once, for both messages
    expect(prepared).toBe(1);
    // Other options: another backend.
    await service.handleAsync({ id: 3, type: "load", model: await TinyModelAsync(), source: "tiny", backend: { ...options, numThreads: 2 } });
    expect(created).toHaveLength(2);
    await service.handleAsync({ id: 4, type: "dispose" });
  });

  it("a system asks its worker to start the engine before it sends the model, and reports each step of the load in order", async () => {
    const transport = new RecordingTransport();
    const { scene } = CreateNullScene();
    const created = performance.now();
    const system = await NpcFaceSystem.CreateAsync(scene, { transport, modelBytes: await TinyModelAsync(), debounceMs: 1 });
    const plugins = Faces(scene, 3);
    await WithinAsync(scene.whenReadyAsync(), 20_000, "scene.whenReadyAsync()");
    expect(transport.sent.slice(0, 2)).toEqual(["prepare", "load"]);
    const t = system.loadTimings;
    // (workerStarted: when the transport's service was made, here by the test before the system.)
    expect(t.workerStarted).toBeLessThanOrEqual(t.engineReady!);
    const order = [t.started, t.engineReady, t.sessionCreated, t.modelLoaded, t.firstFace];
    expect(order.every((v) => typeof v === "number")).toBe(true);
    for (let i = 1; i < order.length; i++) expect(order[i]!, `step ${i} of ${JSON.stringify(t)}`).toBeGreaterThanOrEqual(order[i - 1]! - 1);
    expect(t.started).toBeGreaterThanOrEqual(created);
    expect(t.modelFetched!).toBeLessThanOrEqual(t.modelLoaded!);
    expect(t.modelChecked!).toBeLessThanOrEqual(t.sessionCreated! + 1);
    expect(system.client.stats.workerMs).toBeGreaterThan(0);
    expect(plugins[2].face!.data).toEqual(await ReferenceFaceAsync({ seed: 1002 }));
    scene.dispose();
  });
});

describe("the worker starts its engine from its URL", () => {
  it("the backend options ride in the worker URL's fragment, which the worker reads back; other fragments are left alone", () => {
    const backend = { executionProviders: ["wasm" as const], numThreads: 1, wasmPaths: "http://127.0.0.1:8080/ort/" };
    const url = WorkerUrlWithPrepare("http://127.0.0.1:8080/faceWorker.js", backend);
    expect(url.startsWith("http://127.0.0.1:8080/faceWorker.js#npc-faces-prepare=")).toBe(true);
    expect(PrepareOptionsOfUrlFragment(new URL(url).hash)).toEqual(backend);
    expect(WorkerUrlWithPrepare("/faceWorker.js#mine", backend)).toBe("/faceWorker.js#mine");
    expect(PrepareOptionsOfUrlFragment("#mine")).toBeUndefined();
    expect(PrepareOptionsOfUrlFragment("#npc-faces-prepare=%7Bnot%20json")).toBeUndefined();
    expect(PrepareOptionsOfUrlFragment("")).toBeUndefined();
  });

  it("a system given the worker's URL starts the worker with its backend options in the fragment", () => {
    const started: string[] = [];
    const saved = (globalThis as { Worker?: unknown }).Worker;
    (globalThis as { Worker?: unknown }).Worker = class {
      onmessage = null;
      onerror = null;
      onmessageerror = null;
      constructor(url: string) {
        started.push(String(url));
      }
      postMessage(): void {}
      terminate(): void {}
    };
    try {
      const preload = NpcFaceSystem.Preload({ workerUrl: "/faceWorker.js", wasmPaths: "/ort/", loadModel: false });
      expect(started).toHaveLength(1);
      const [path, fragment] = started[0].split("#");
      expect(path).toBe("/faceWorker.js");
      expect(PrepareOptionsOfUrlFragment(`#${fragment}`)).toEqual({ executionProviders: ["wasm"], wasmPaths: "/ort/" });
      preload.dispose();
      // On a page, a relative wasmPaths is resolved against it (in the worker "ort/" would be a bare specifier).
      (globalThis as { location?: unknown }).location = { href: "http://127.0.0.1:8080/game/index.html" };
      try {
        const onPage = NpcFaceSystem.Preload({ workerUrl: "faceWorker.js", wasmPaths: "ort/", loadModel: false });
        expect(PrepareOptionsOfUrlFragment(`#${started[1].split("#")[1]}`)).toEqual({ executionProviders: ["wasm"], wasmPaths: "http://127.0.0.1:8080/game/ort/" });
        onPage.dispose();
      } finally {
        delete (globalThis as { location?: unknown }).location;
      }
    } finally {
      (globalThis as { Worker?: unknown }).Worker = saved;
    }
  });
});

describe("first faces early", () => {
  it("the first face is sent alone and shows while the level's other faces are still being generated", async () => {
    // The first face's reply is held until the level's 20 faces are queued: how the others are batched depends on
    // when their debounce timers fire, but not the first message, its face shown before the rest, or the batch size.
    let releaseFirstFace!: () => void;
    const transport = new RecordingTransport(new Promise<void>((resolve) => (releaseFirstFace = resolve)));
    const { scene } = CreateNullScene();
    const system = new NpcFaceSystem(scene, { transport, modelBytes: await TinyModelAsync(), debounceMs: 1 });
    const allQueued = new Promise<void>((resolve) => system.onProgressObservable.add((p) => p.queued === 20 && resolve()));
    const plugins = Faces(scene, 20);
    let queuedAtFirstFace: number | undefined;
    const shown: number[] = [];
    plugins.forEach((plugin, i) =>
      plugin.onGeneratedObservable.add(() => {
        queuedAtFirstFace ??= system.progress.queued;
        shown.push(i);
      }),
    );
    await WithinAsync(allQueued, 20_000, "the 20 faces queued");
    releaseFirstFace();
    await WithinAsync(scene.whenReadyAsync(), 20_000, "scene.whenReadyAsync()");
    const batches = transport.sent.filter((m) => m.startsWith("generate")).map((m) => Number(m.split(" ")[1]));
    expect(batches[0]).toBe(1);
    expect(Math.max(...batches)).toBeLessThanOrEqual(8);
    expect(batches.reduce((a, b) => a + b)).toBe(20);
    expect(queuedAtFirstFace).toBe(19); // the first face applied, 19 still to come
    expect(shown).toHaveLength(20);
    for (const [i, plugin] of plugins.entries()) expect(plugin.face!.data).toEqual(await ReferenceFaceAsync({ seed: 1000 + i }));
    scene.dispose();
  });

  it("the members learn of the loaded model in several tasks when they take long, and CreateAsync waits for all of them", async () => {
    const { scene } = CreateNullScene();
    const ticks = { count: 0, stop: false };
    const tick = (): void => {
      ticks.count++;
      if (!ticks.stop) setTimeout(tick, 0);
    };
    const seen: number[] = [];
    // Stand-in members whose handling of the model takes 10 ms each, like a big level's materials together.
    for (let i = 0; i < 4; i++) {
      const member: NpcFaceSystemMember = {
        _onSystemCreated: () => undefined,
        _onModelSettled: () => {
          const until = performance.now() + 10;
          while (performance.now() < until);
          seen.push(ticks.count);
        },
        _onSystemDisposed: () => undefined,
      };
      NpcFaceSystem._Join(scene, member);
    }
    const creating = NpcFaceSystem.CreateAsync(scene, { mode: "inThread", backend: Backend, modelBytes: await TinyModelAsync() });
    tick();
    const system = await WithinAsync(creating, 20_000, "CreateAsync");
    ticks.stop = true;
    expect(seen).toHaveLength(4); // every member before CreateAsync resolved
    expect(new Set(seen).size).toBe(4); // other tasks (here a 0 ms timer) ran between them
    expect(scene.isReady()).toBe(true);
    system.dispose();
    scene.dispose();
  });
});

describe("NpcFaceSystem.Preload", () => {
  it("starts the worker, its engine and the model before the scene; the system takes them over without loading again", async () => {
    const transport = new RecordingTransport();
    const modelBytes = await TinyModelAsync();
    const options = { transport, modelBytes, debounceMs: 1 };
    const preload = NpcFaceSystem.Preload(options);
    expect(preload.isUsed).toBe(false);
    expect(transport.sent).toEqual(["prepare", "load"]); // at once: the bytes are there (a URL is fetched first)
    const { scene } = CreateNullScene();
    const sceneCreated = performance.now();
    const system = await NpcFaceSystem.CreateAsync(scene, { ...options, preload });
    expect(preload.isUsed).toBe(true);
    expect(system.isModelLoaded).toBe(true);
    const plugins = Faces(scene, 2);
    await WithinAsync(scene.whenReadyAsync(), 20_000, "scene.whenReadyAsync()");
    expect(transport.sent.filter((m) => !m.startsWith("generate"))).toEqual(["prepare", "load"]);
    expect(system.loadTimings.started).toBeLessThan(sceneCreated);
    expect(plugins[1].face!.data).toEqual(await ReferenceFaceAsync({ seed: 1001 }));
    // A preload serves one system.
    const other = CreateNullScene().scene;
    expect(() => new NpcFaceSystem(other, { ...options, preload })).toThrow(/already taken/);
    other.dispose();
    system.dispose();
    await TerminatedAsync(transport); // the system's disposal stops the preload's worker
    scene.dispose();
  });

  it("loadModel: false starts only the engine, and the system loads the model its options name", async () => {
    const transport = new RecordingTransport();
    const preload = NpcFaceSystem.Preload({ transport, modelBytes: await TinyModelAsync(), loadModel: false });
    const { scene } = CreateNullScene();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(transport.sent).toEqual(["prepare"]);
    expect(preload.loadTimings.started).toBeTypeOf("number");
    const system = await NpcFaceSystem.CreateAsync(scene, { modelBytes: await TinyModelAsync(), preload, debounceMs: 1 });
    expect(system.isModelLoaded).toBe(true);
    expect(transport.sent).toEqual(["prepare", "load"]);
    scene.dispose();
  });

  it("a different model than the preload's is loaded by the system; a preload's failure is the system's error", async () => {
    const transport = new RecordingTransport();
    const preload = NpcFaceSystem.Preload({ transport, modelBytes: new TextEncoder().encode("<html>not a model</html>") });
    const { scene } = CreateNullScene();
    const bad = await NpcFaceSystem.CreateAsync(scene, { modelBytes: new TextEncoder().encode("<html>not a model</html>"), preload });
    expect(bad.loadError?.code).toBe("NOT_ONNX");
    bad.dispose();
    const transport2 = new RecordingTransport();
    const preload2 = NpcFaceSystem.Preload({ transport: transport2, modelBytes: new TextEncoder().encode("<html>not a model</html>") });
    const system = await NpcFaceSystem.CreateAsync(scene, { modelBytes: await TinyModelAsync(), preload: preload2 });
    expect(system.isModelLoaded).toBe(true);
    expect(transport2.sent).toEqual(["prepare", "load", "load"]);
    scene.dispose();
  });

  it("dispose stops the worker of a preload no system took over", async () => {
    const transport = new RecordingTransport();
    const preload = NpcFaceSystem.Preload({ transport, loadModel: false });
    preload.dispose();
    expect(preload.isUsed).toBe(true);
    await TerminatedAsync(transport);
    expect(transport.sent).toEqual(["prepare", "dispose"]);
    expect(() => NpcFaceSystem.Preload({ mode: "worker" })).toThrow(/needs workerUrl/);
  });
});
