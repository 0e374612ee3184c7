/**
 * A pool of bake workers (worker_threads, see bakeWorker.ts), each with its own inference session (canonical: a
 * single-threaded onnxruntime-web WASM engine; native: onnxruntime-node).
 * Batches go to whichever worker is idle; each worker writes its files atomically, and the results are keyed by
 * NPC id, so the output does not depend on which worker baked what.
 */
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type { FaceRequest } from "@npc-faces/runtime";
import type { FaceEngine } from "@npc-faces/runtime/node";

/** What a worker starts with. */
export interface BakeWorkerData {
  readonly modelBytes: Uint8Array;
  readonly engine: FaceEngine;
  /** onnxruntime intra-op threads of the worker's session (undefined: onnxruntime's default). */
  readonly threads?: number;
  readonly maxBatch: number;
  /** Model path, for messages. */
  readonly source: string;
}

/** One face to bake. */
export interface BakeFaceJob {
  readonly id: string;
  /** Absolute path of the PNG. */
  readonly file: string;
  readonly request: FaceRequest;
  /** Side of the written image. */
  readonly size: number;
  /** PNG text chunks (provenance, id, cache key). */
  readonly text: Readonly<Record<string, string>>;
}

/** Main thread -> worker. */
export type ToBakeWorker = { readonly type: "bake"; readonly jobId: number; readonly faces: readonly BakeFaceJob[] } | { readonly type: "close" };

/** Worker -> main thread. */
export type FromBakeWorker =
  | { readonly type: "ready"; readonly modelHash: string }
  | { readonly type: "face"; readonly jobId: number; readonly id: string; readonly sha256: string; readonly bytes: number; readonly width: number; readonly height: number }
  | { readonly type: "done"; readonly jobId: number }
  | { readonly type: "error"; readonly jobId: number; readonly message: string };

/** A face a worker wrote. */
export interface BakedFaceResult {
  readonly id: string;
  readonly sha256: string;
  readonly bytes: number;
  readonly width: number;
  readonly height: number;
}

/** Options of {@link BakeWorkerPool.CreateAsync}. */
export interface BakeWorkerPoolOptions {
  readonly modelBytes: Uint8Array;
  /** Path of the model, for messages. */
  readonly source: string;
  /** Number of workers (default: the number of cores). */
  readonly workers?: number;
  /** The engine of every worker (default canonical). */
  readonly engine?: FaceEngine;
  /**
   * onnxruntime threads per worker (default: 1 with several workers, so that N workers use N cores instead of
   * N x cores threads fighting over them; onnxruntime's default with one worker).
   */
  readonly threads?: number;
  /** Faces per session run (default 8). */
  readonly batchSize?: number;
}

/** Default number of workers: one per core. */
export function DefaultWorkerCount(): number {
  return availableParallelism();
}

/** The compiled worker script; from the TypeScript sources (tests) it is the built copy in dist/. */
function WorkerScriptUrl(): URL {
  const here = new URL("./bakeWorker.js", import.meta.url);
  if (existsSync(fileURLToPath(here))) return here;
  const built = new URL("../../dist/bake/bakeWorker.js", import.meta.url);
  if (existsSync(fileURLToPath(built))) return built;
  throw new Error(`the bake worker script is missing (${fileURLToPath(built)}): build first (npx tsc -b tools)`);
}

interface WorkerSlot {
  readonly worker: Worker;
  busy: boolean;
}

/** A started pool. Close it with {@link BakeWorkerPool.closeAsync}. */
export class BakeWorkerPool {
  /** SHA-256 of the model, as the workers' runtime computed it. */
  readonly modelHash: string;
  readonly workerCount: number;
  readonly batchSize: number;
  private readonly slots: WorkerSlot[];
  private closed = false;

  private constructor(slots: WorkerSlot[], modelHash: string, batchSize: number) {
    this.slots = slots;
    this.modelHash = modelHash;
    this.workerCount = slots.length;
    this.batchSize = batchSize;
  }

  /**
   * Starts the workers and waits until each has loaded the model.
   * @throws Error with the first worker's load failure (all workers are stopped)
   */
  static async CreateAsync(options: BakeWorkerPoolOptions): Promise<BakeWorkerPool> {
    const count = options.workers ?? DefaultWorkerCount();
    if (!Number.isInteger(count) || count < 1) throw new RangeError(`workers: expected a positive integer, got ${count}`);
    const batchSize = options.batchSize ?? 8;
    const threads = options.threads ?? (count > 1 ? 1 : undefined);
    const script = WorkerScriptUrl();
    const data: BakeWorkerData = { modelBytes: options.modelBytes, engine: options.engine ?? "canonical", maxBatch: batchSize, source: options.source, ...(threads !== undefined ? { threads } : {}) };
    const slots: WorkerSlot[] = [];
    const ready: Promise<string>[] = [];
    for (let i = 0; i < count; i++) {
      const worker = new Worker(script, { workerData: data });
      slots.push({ worker, busy: false });
      ready.push(
        new Promise<string>((resolve, reject) => {
          const onMessage = (message: FromBakeWorker): void => {
            worker.off("message", onMessage);
            worker.off("error", reject);
            if (message.type === "ready") resolve(message.modelHash);
            else reject(new Error(message.type === "error" ? message.message : `unexpected worker message ${message.type}`));
          };
          worker.on("message", onMessage);
          worker.once("error", reject);
        }),
      );
    }
    try {
      const hashes = await Promise.all(ready);
      return new BakeWorkerPool(slots, hashes[0], batchSize);
    } catch (error) {
      await Promise.all(slots.map((s) => s.worker.terminate()));
      throw error;
    }
  }

  /**
   * Bakes every job, `batchSize` faces per worker message, and resolves when all files are written.
   * @param onFace called after each written file (in completion order)
   * @param signal stops handing out batches; resolves after the batches in flight finish, then rejects with its reason
   * @throws Error with the first failure of a worker (the batches in flight are awaited first)
   */
  async bakeAsync(jobs: readonly BakeFaceJob[], onFace: (face: BakedFaceResult) => void, signal?: AbortSignal): Promise<void> {
    if (this.closed) throw new Error("the bake worker pool is closed");
    const batches: BakeFaceJob[][] = [];
    for (let i = 0; i < jobs.length; i += this.batchSize) batches.push(jobs.slice(i, i + this.batchSize));
    let next = 0;
    let failure: Error | undefined;
    const runOn = async (slot: WorkerSlot): Promise<void> => {
      while (next < batches.length && !failure && !signal?.aborted) {
        const jobId = next++;
        await new Promise<void>((resolve) => {
          const onMessage = (message: FromBakeWorker): void => {
            if (message.type === "face" && message.jobId === jobId) {
              onFace({ id: message.id, sha256: message.sha256, bytes: message.bytes, width: message.width, height: message.height });
            } else if ((message.type === "done" || message.type === "error") && message.jobId === jobId) {
              if (message.type === "error") failure ??= new Error(message.message);
              finish();
            }
          };
          const onError = (error: Error): void => {
            failure ??= error;
            finish();
          };
          const onExit = (code: number): void => {
            failure ??= new Error(`a bake worker stopped unexpectedly (exit code ${code})`);
            finish();
          };
          const finish = (): void => {
            slot.worker.off("message", onMessage);
            slot.worker.off("error", onError);
            slot.worker.off("exit", onExit);
            slot.busy = false;
            resolve();
          };
          slot.worker.on("message", onMessage);
          slot.worker.on("error", onError);
          slot.worker.on("exit", onExit);
          slot.busy = true;
          slot.worker.postMessage({ type: "bake", jobId, faces: batches[jobId] } satisfies ToBakeWorker);
        });
      }
    };
    await Promise.all(this.slots.map(runOn));
    if (failure) throw failure;
    signal?.throwIfAborted();
  }

  /** Stops the workers (after their current batch). Idempotent. */
  async closeAsync(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(
      this.slots.map(
        (slot) =>
          new Promise<void>((resolve) => {
            const timer = setTimeout(() => void slot.worker.terminate().then(() => resolve()), 5000);
            slot.worker.once("exit", () => {
              clearTimeout(timer);
              resolve();
            });
            slot.worker.postMessage({ type: "close" } satisfies ToBakeWorker);
          }),
      ),
    );
  }
}
