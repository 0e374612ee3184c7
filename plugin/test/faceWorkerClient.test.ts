/**
 * The face worker client and its transports: batching, the reference-counted cache, cancellation, failures, and
 * the worker message path (structured clone + transfer through a stand-in Worker) against the same service.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FaceGenerator, IsNpcFacesError, type FaceRequest, type InferenceBackend, type ModelMetadata } from "@npc-faces/runtime";
import { CreateNodeBackend } from "@npc-faces/runtime/node";
import {
  FaceRequestKey,
  FaceWorkerClient,
  FaceWorkerService,
  InThreadFaceTransport,
  WorkerFaceTransport,
  type FaceTransport,
  type FaceWorkerMessage,
  type FaceWorkerReply,
} from "@npc-faces/babylon";
import { TinyModelAsync } from "./pluginTestScene.js";

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

/** A transport that records each message's type and batch size, and can fail generate messages. */
class RecordingTransport implements FaceTransport {
  readonly kind = "recording";
  readonly sent: { type: string; n: number }[] = [];
  failNextGenerate = false;
  constructor(private readonly inner: FaceTransport) {}
  async sendAsync(message: FaceWorkerMessage, transfer: ArrayBuffer[]): Promise<FaceWorkerReply> {
    this.sent.push({ type: message.type, n: message.type === "generate" ? message.requests.length : 0 });
    if (message.type === "generate" && this.failNextGenerate) {
      this.failNextGenerate = false;
      return { id: message.id, ok: false, error: { code: "BACKEND_FAILED", message: "simulated backend failure" } };
    }
    return this.inner.sendAsync(message, transfer);
  }
  terminate(): void {
    this.inner.terminate();
  }
}

async function ClientAsync(options: ConstructorParameters<typeof FaceWorkerClient>[1] = {}): Promise<{ client: FaceWorkerClient; transport: RecordingTransport }> {
  const transport = new RecordingTransport(new InThreadFaceTransport(backend));
  const client = new FaceWorkerClient(transport, options);
  await client.loadModelAsync(model, { source: "tiny", maxBatch: 8 });
  return { client, transport };
}

describe("FaceRequestKey", () => {
  it("is equal for requests that feed the graph identical inputs, and different otherwise", () => {
    const metadata: ModelMetadata = reference.metadata;
    const key = (r: FaceRequest) => FaceRequestKey(metadata, "hash", r);
    expect(key({ seed: 1 })).toBe(key({ seed: 1, psi: metadata.defaults.psi, noiseStrength: metadata.defaults.noiseStrength, controls: { direction_0: 0 } }));
    expect(key({ seed: 1 })).toBe(key({ seed: 1, mixSeed: 99, mix: 0 })); // no layer mixes: the mix seed is irrelevant
    expect(key({ seed: 1 })).not.toBe(key({ seed: 2 }));
    expect(key({ seed: 1, mixSeed: 2, mix: 0.5 })).not.toBe(key({ seed: 1, mixSeed: 3, mix: 0.5 }));
    expect(key({ seed: 1, controls: { direction_1: 1 } })).not.toBe(key({ seed: 1 }));
    expect(FaceRequestKey(metadata, "a", { seed: 1 })).not.toBe(FaceRequestKey(metadata, "b", { seed: 1 }));
    expect(() => key({ seed: -1 })).toThrow(/seed: expected an integer/);
  });
});

describe("FaceWorkerClient (in-thread transport, onnxruntime-node)", () => {
  it("gathers requests made together into batches of maxBatch and returns the runtime's faces", async () => {
    const { client, transport } = await ClientAsync();
    const requests = Array.from({ length: 19 }, (_, i) => ({ seed: 1000 + i }));
    const leases = requests.map((r) => client.acquire(r));
    const faces = await Promise.all(leases.map((l) => l.promise));
    expect(transport.sent.filter((m) => m.type === "generate").map((m) => m.n)).toEqual([8, 8, 3]);
    const expected = await reference.generateAsync(requests);
    faces.forEach((face, i) => expect(face.data).toEqual(expected[i].data));
    expect(client.cacheSize).toBe(19);
    leases.forEach((l) => l.release());
    expect(client.cacheSize).toBe(0);
    await client.disposeAsync();
  });

  it("shares one entry between identical requests, counts references, and cancels faces released before sending", async () => {
    const { client, transport } = await ClientAsync();
    const a = client.acquire({ seed: 5 });
    const b = client.acquire({ seed: 5, psi: reference.metadata.defaults.psi });
    const c = client.acquire({ seed: 6 });
    expect(b.key).toBe(a.key);
    expect(b.promise).toBe(a.promise);
    c.release(); // released before the batch window closed: never generated
    c.release(); // idempotent
    await a.promise;
    expect(transport.sent.filter((m) => m.type === "generate")).toEqual([{ type: "generate", n: 1 }]);
    expect(client.stats).toMatchObject({ requests: 3, cacheHits: 1, generated: 1, cancelled: 1 });
    a.release();
    expect(client.cacheSize).toBe(1);
    b.release();
    expect(client.cacheSize).toBe(0);
    await client.disposeAsync();
  });

  it("a failed batch rejects its requests with the error code and is not cached: asking again retries", async () => {
    const { client, transport } = await ClientAsync();
    transport.failNextGenerate = true;
    const failed = client.acquire({ seed: 9 });
    const error = await failed.promise.catch((e: unknown) => e);
    expect(IsNpcFacesError(error, "BACKEND_FAILED")).toBe(true);
    expect(client.cacheSize).toBe(0);
    const retry = client.acquire({ seed: 9 });
    expect((await retry.promise).data).toEqual((await reference.generateAsync([{ seed: 9 }]))[0].data);
    failed.release();
    retry.release();
    expect(client.cacheSize).toBe(0);
    await client.disposeAsync();
    expect(() => client.acquire({ seed: 1 })).toThrow(/disposed/);
  });

  it("validates synchronously (BAD_REQUEST) and reports model errors from the worker side (NOT_ONNX)", async () => {
    const { client } = await ClientAsync();
    expect(() => client.acquire({ seed: 2 ** 32 })).toThrow(/seed: expected an integer in 0..4294967295/);
    expect(() => client.acquire({ seed: 1, controls: { nope: 1 } })).toThrow(/unknown control/);
    const other = new FaceWorkerClient(new InThreadFaceTransport(backend));
    const error = await other.loadModelAsync(new TextEncoder().encode("<html>404</html>"), { source: "page.html" }).catch((e: unknown) => e);
    expect(IsNpcFacesError(error, "NOT_ONNX")).toBe(true);
    await other.disposeAsync();
    await client.disposeAsync();
  });
});

/** Stands in for a module Web Worker: structured-clones (with transfer) both ways, like postMessage. */
class FakeWorker {
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onerror: ((event: { message: string; preventDefault(): void }) => void) | null = null;
  onmessageerror: (() => void) | null = null;
  readonly transferred: number[] = [];
  terminated = false;
  private readonly service = new FaceWorkerService(() => backend);
  postMessage(message: FaceWorkerMessage, transfer: ArrayBuffer[]): void {
    const received = structuredClone(message, { transfer });
    void this.service.handleAsync(received).then(({ reply, transfer: back }) => {
      this.transferred.push(back.length);
      const data = structuredClone(reply, { transfer: back });
      if (!this.terminated) this.onmessage?.({ data });
    });
  }
  terminate(): void {
    this.terminated = true;
  }
}

describe("WorkerFaceTransport (message path of the Web Worker)", () => {
  it("loads, generates with transferred pixel buffers, and fails outstanding requests when the worker errors", async () => {
    const worker = new FakeWorker();
    const client = new FaceWorkerClient(new WorkerFaceTransport(worker as unknown as Worker));
    const bytes = model.slice();
    const info = await client.loadModelAsync(bytes, { source: "tiny" });
    expect(bytes.byteLength).toBe(model.byteLength); // the caller's bytes were copied, not transferred away
    expect(info.metadata).toEqual(reference.metadata);
    expect(info.modelHash).toBe(reference.modelHash);
    const leases = [client.acquire({ seed: 1 }), client.acquire({ seed: 2 })];
    const faces = await Promise.all(leases.map((l) => l.promise));
    expect(faces[1].data).toEqual((await reference.generateAsync([{ seed: 2 }]))[0].data);
    expect(worker.transferred).toContain(2); // both faces' buffers moved, not copied

    const pending = client.acquire({ seed: 3 });
    worker.onerror!({ message: "Uncaught RangeError: out of memory", preventDefault() {} });
    const error = await pending.promise.catch((e: unknown) => e);
    expect(IsNpcFacesError(error, "BACKEND_FAILED")).toBe(true);
    expect((error as Error).message).toMatch(/face worker failed \(Uncaught RangeError: out of memory\)/);
    await client.disposeAsync();
    expect(worker.terminated).toBe(true);
  });
});
