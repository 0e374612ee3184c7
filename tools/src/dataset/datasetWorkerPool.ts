/**
 * Renders jobs on worker threads (default: one per core) and hands the results to the caller strictly in
 * job order, so the output never depends on scheduling.
 *
 * Workers run the compiled `datasetWorker.js` next to this file. When this module runs from TypeScript
 * sources (tests through vitest) there is no compiled worker, and the jobs run on the calling thread instead;
 * the results are identical either way (each job depends only on its index and seed).
 */
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { CreateDatasetSourceAsync, type FolderLicenceOverride } from "./createDatasetSource.js";
import type { SourceSpec } from "./datasetSources.js";
import { RunRenderJobAsync, type RenderJob, type RenderJobResult } from "./renderJob.js";

/** What to render and how. */
export interface RenderPoolOptions {
  spec: SourceSpec;
  res: number;
  jobs: RenderJob[];
  /** Worker threads; default {@link DefaultWorkerCount}. 1 renders on the calling thread. */
  workers?: number;
  signal?: AbortSignal;
  folderLicence?: FolderLicenceOverride;
  /** Called once per job, in job order; return false to stop early (remaining jobs are dropped). */
  onResult: (jobNumber: number, result: RenderJobResult) => Promise<boolean | void> | boolean | void;
}

/** One worker per core. */
export function DefaultWorkerCount(): number {
  return Math.max(1, availableParallelism());
}

/** Path of the compiled worker script, or null when running from sources. */
export function CompiledWorkerPath(): string | null {
  if (!import.meta.url.endsWith(".js")) return null;
  const path = fileURLToPath(new URL("./datasetWorker.js", import.meta.url));
  return existsSync(path) ? path : null;
}

/** Renders all jobs; returns how many worker threads were used (0 = calling thread). */
export async function RunRenderPoolAsync(options: RenderPoolOptions): Promise<{ workerThreads: number }> {
  const workerCount = Math.min(options.workers ?? DefaultWorkerCount(), options.jobs.length);
  const script = CompiledWorkerPath();
  if (workerCount <= 1 || script === null) {
    await RunOnThisThreadAsync(options);
    return { workerThreads: 0 };
  }
  await RunOnWorkersAsync(options, script, workerCount);
  return { workerThreads: workerCount };
}

async function RunOnThisThreadAsync(options: RenderPoolOptions): Promise<void> {
  const source = await CreateDatasetSourceAsync(options.spec, options.folderLicence);
  for (let n = 0; n < options.jobs.length; n++) {
    options.signal?.throwIfAborted();
    const result = await RunRenderJobAsync(source, options.jobs[n], options.res);
    if ((await options.onResult(n, result)) === false) return;
  }
}

interface Deferred {
  promise: Promise<RenderJobResult>;
  resolve: (value: RenderJobResult) => void;
  reject: (error: Error) => void;
}

async function RunOnWorkersAsync(options: RenderPoolOptions, script: string, workerCount: number): Promise<void> {
  // sharp must be loaded by the main thread before any worker loads it (libvips initialises once per process).
  if (options.spec.kind === "folder") await import("sharp");
  const { jobs } = options;
  const deferreds = new Map<number, Deferred>();
  let failure: Error | null = null;
  const deferred = (n: number): Deferred => {
    let entry = deferreds.get(n);
    if (!entry) {
      let resolve!: Deferred["resolve"];
      let reject!: Deferred["reject"];
      const promise = new Promise<RenderJobResult>((res, rej) => ((resolve = res), (reject = rej)));
      promise.catch(() => undefined); // rejections are observed by the delivery loop
      entry = { promise, resolve, reject };
      deferreds.set(n, entry);
      if (failure) reject(failure);
    }
    return entry;
  };
  const fail = (error: Error): void => {
    if (failure) return;
    failure = error;
    for (const entry of deferreds.values()) entry.reject(error);
  };

  // Two jobs in flight per worker hide the message round trip; the window bounds results waiting for delivery.
  const window = workerCount * 16;
  let nextToSend = 0;
  let delivered = 0;
  let stopped = false;
  const freeSlots: Worker[] = [];
  const send = (): void => {
    while (!stopped && !failure && freeSlots.length > 0 && nextToSend < jobs.length && nextToSend < delivered + window) {
      const worker = freeSlots.shift()!;
      deferred(nextToSend);
      worker.postMessage({ jobNumber: nextToSend, job: jobs[nextToSend] });
      nextToSend++;
    }
  };

  const workers: Worker[] = [];
  for (let w = 0; w < workerCount; w++) {
    const worker = new Worker(script, { workerData: { spec: options.spec, res: options.res } });
    worker.on("message", (message: { jobNumber: number; result?: RenderJobResult; error?: string }) => {
      if (message.error !== undefined) fail(new Error(`rendering item ${jobs[message.jobNumber].index} failed: ${message.error}`));
      else deferred(message.jobNumber).resolve(message.result!);
      freeSlots.push(worker);
      send();
    });
    worker.on("error", (error) => fail(error));
    worker.on("exit", (code) => {
      if (!stopped) fail(new Error(`a data-set worker exited early (code ${code})`));
    });
    workers.push(worker);
    freeSlots.push(worker, worker);
  }
  const onAbort = (): void => fail(options.signal?.reason instanceof Error ? options.signal.reason : new Error("aborted"));
  options.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    options.signal?.throwIfAborted();
    send();
    for (let n = 0; n < jobs.length; n++) {
      const result = await deferred(n).promise;
      deferreds.delete(n);
      delivered = n + 1;
      send();
      if ((await options.onResult(n, result)) === false) break;
    }
  } finally {
    stopped = true;
    options.signal?.removeEventListener("abort", onAbort);
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}
