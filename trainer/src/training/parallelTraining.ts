/**
 * Data-parallel training on worker threads (wasm and cpu backends run one thread each; this uses more cores).
 *
 * Each of `workers` threads holds a full {@link TrainingRun} replica built from the same options, seed and
 * snapshot, and runs every phase on its slice of the minibatch ({@link TrainingShard}). After each phase the
 * replicas sum their flattened gradients and statistics in a SharedArrayBuffer (each writes its slot, a barrier,
 * each sums the slots in slot order, a barrier), so every replica applies the identical Adam update: the
 * replicas stay bit-identical, the same seed gives the same weights, and resuming from a checkpoint (taken from
 * replica 0) continues exactly. The results differ from a 1-thread run only in the order of sums and in the
 * minibatch-std groups (per replica, as in stylegan2-ada's multi-GPU training).
 */
import { Worker } from "node:worker_threads";
import { tf } from "../backends/tfjsBackend.js";
import { GeneratorParameterSpecs } from "../networks/architecture.js";
import { DiscriminatorParameterSpecs } from "../networks/discriminatorArchitecture.js";
import type { StepStats, TrainingData, TrainingStateSnapshot } from "./trainingLoop.js";
import { TrainingDivergedError } from "./trainingLoop.js";
import { DiscriminatorOptionsOf, TrainingGeneratorConfig, type TrainingOptions } from "./trainingOptions.js";

/** What a worker is started with (structured-cloned). */
export interface TrainingWorkerInit {
  readonly index: number;
  readonly count: number;
  readonly backend: "wasm" | "cpu";
  readonly options: TrainingOptions;
  readonly data: TrainingData;
  /** `AdaAugmentation` state (toJSON) or null for none. */
  readonly augment: unknown;
  readonly snapshot: TrainingStateSnapshot | null;
  /** [Int32 generation, Int32 arrivals, 2 x Int32 pad] + count x slotLength float32 slots. */
  readonly exchange: SharedArrayBuffer;
  readonly slotLength: number;
}

/** Messages from a worker. */
export type TrainingWorkerReply =
  | { readonly type: "ready" }
  | { readonly type: "stats"; readonly stats: StepStats; readonly imagesSeen: number; readonly step: number }
  | { readonly type: "snapshot"; readonly snapshot: TrainingStateSnapshot }
  | { readonly type: "error"; readonly name: string; readonly message: string };

/** A worker thread failed or stopped: the run cannot continue (the last checkpoint is kept). */
export class TrainingWorkerError extends Error {
  override readonly name = "TrainingWorkerError";
}

interface PendingReply {
  resolve(reply: TrainingWorkerReply): void;
  reject(error: Error): void;
}

/** Header bytes of the exchange buffer. */
export const ExchangeHeaderBytes = 16;

/**
 * Sum over `count` replicas through `exchange` (see {@link TrainingWorkerInit}); blocks (Atomics.wait) until every
 * replica has contributed. Called by worker threads only.
 */
export function SharedAllReduce(exchange: SharedArrayBuffer, index: number, count: number, slotLength: number, values: Float32Array): Float32Array {
  if (values.length > slotLength) throw new Error(`all-reduce: ${values.length} values exceed the slot (${slotLength})`);
  const control = new Int32Array(exchange, 0, 4);
  const slots = new Float32Array(exchange, ExchangeHeaderBytes, count * slotLength);
  const barrier = () => {
    const generation = Atomics.load(control, 0);
    if (Atomics.add(control, 1, 1) === count - 1) {
      Atomics.store(control, 1, 0);
      Atomics.add(control, 0, 1);
      Atomics.notify(control, 0);
    } else {
      while (Atomics.load(control, 0) === generation) Atomics.wait(control, 0, generation);
    }
  };
  slots.set(values, index * slotLength);
  barrier();
  // Fixed slot order: every replica computes the identical float sums.
  const out = slots.slice(0, values.length);
  for (let k = 1; k < count; k++) {
    const base = k * slotLength;
    for (let i = 0; i < values.length; i++) out[i] += slots[base + i];
  }
  barrier(); // nobody overwrites a slot before all have read it
  return out;
}

function WorkerScriptUrl(): URL {
  // Under a TypeScript test runner this module is src/training/*.ts: use the built worker next to dist's copy.
  return import.meta.url.endsWith(".ts") ? new URL("../../dist/training/trainingWorker.js", import.meta.url) : new URL("./trainingWorker.js", import.meta.url);
}

/** A data-parallel training run on `options.workers` threads; same interface shape as TrainingRun, async. */
export class ParallelTrainingRun {
  readonly options: TrainingOptions;
  imagesSeen = 0;
  step = 0;
  private readonly workers: Worker[];
  private readonly pending: PendingReply[][];
  /** Set once a worker has failed or stopped: every later call fails at once with it (the run cannot continue). */
  private failure: TrainingWorkerError | null = null;
  private disposing = false;

  private constructor(options: TrainingOptions, workers: Worker[]) {
    this.options = options;
    this.workers = workers;
    this.pending = workers.map(() => []);
    workers.forEach((w, i) => {
      w.on("message", (reply: TrainingWorkerReply) => this.pending[i].shift()?.resolve(reply));
      // A crashed worker never reaches the next sync point, so the others would wait for it forever (Atomics.wait):
      // fail every pending call now; disposeAsync's terminate() then ends the waiting threads.
      w.on("error", (error) => this.fail(new TrainingWorkerError(`training worker ${i} crashed at step ${this.step}: ${error.message}`)));
      w.on("exit", (code) => {
        if (!this.disposing) this.fail(new TrainingWorkerError(`training worker ${i} stopped unexpectedly (exit code ${code}) at step ${this.step}`));
      });
    });
  }

  private fail(error: TrainingWorkerError): void {
    this.failure ??= error;
    for (const queue of this.pending) queue.splice(0).forEach((p) => p.reject(this.failure!));
  }

  /**
   * Starts `options.workers` replicas on the current backend (wasm or cpu) and waits until they are ready.
   * `augment` is an `AdaAugmentation`'s `toJSON()` (or null), `snapshot` a checkpoint's state to resume from.
   */
  static async CreateAsync(options: TrainingOptions, data: TrainingData, augment: unknown, snapshot?: TrainingStateSnapshot): Promise<ParallelTrainingRun> {
    const backend = tf.getBackend();
    if (backend !== "wasm" && backend !== "cpu") throw new Error(`worker threads train on the wasm or cpu backend, not "${backend}"`);
    const count = options.workers;
    const config = TrainingGeneratorConfig(options, data.labelNames.length);
    const size = (specs: { shape: readonly number[] }[]) => specs.reduce((sum, s) => sum + s.shape.reduce((a, b) => a * b, 1), 0);
    // A phase's all-reduce carries its gradients, the batch mean of w and a few statistics.
    const slotLength = Math.max(size(GeneratorParameterSpecs(config)), size(DiscriminatorParameterSpecs(config, DiscriminatorOptionsOf(options)))) + config.wDim + 16;
    const exchange = new SharedArrayBuffer(ExchangeHeaderBytes + 4 * count * slotLength);
    const workers = Array.from({ length: count }, (_, index) => {
      const init: TrainingWorkerInit = { index, count, backend, options, data, augment, snapshot: snapshot ?? null, exchange, slotLength };
      return new Worker(WorkerScriptUrl(), { workerData: init });
    });
    const run = new ParallelTrainingRun(options, workers);
    if (snapshot) {
      run.imagesSeen = snapshot.imagesSeen;
      run.step = snapshot.step;
    }
    try {
      await run.all(null);
    } catch (error) {
      await run.disposeAsync();
      throw error;
    }
    return run;
  }

  /**
   * Sends `message` to every worker (null: just waits for the next reply) and returns worker 0's reply. Fails as
   * soon as one worker fails (not when all have answered: the others may be blocked in an all-reduce waiting for it).
   */
  private async all(message: unknown): Promise<TrainingWorkerReply> {
    if (this.failure) throw this.failure;
    const replies = await Promise.all(
      this.workers.map((w, i) => {
        const reply = new Promise<TrainingWorkerReply>((resolve, reject) => {
          this.pending[i].push({
            resolve: (r) => {
              if (r.type !== "error") return resolve(r);
              if (r.name === "TrainingDivergedError") {
                const error = new TrainingDivergedError("x", 0);
                error.message = r.message;
                return reject(error);
              }
              this.fail(new TrainingWorkerError(`training worker ${i} failed at step ${this.step}: ${r.message}`));
              reject(this.failure!);
            },
            reject,
          });
        });
        if (message !== null) w.postMessage(message);
        return reply;
      }),
    );
    return replies[0];
  }

  /** Thousands of real images shown to D so far. */
  get kimg(): number {
    return this.imagesSeen / 1000;
  }

  /** One minibatch on all workers. */
  async trainStepAsync(): Promise<StepStats> {
    const reply = await this.all({ type: "step" });
    if (reply.type !== "stats") throw new Error(`training worker: unexpected reply ${reply.type}`);
    this.imagesSeen = reply.imagesSeen;
    this.step = reply.step;
    return reply.stats;
  }

  /** The whole state (from worker 0; all replicas are identical). */
  async snapshotAsync(): Promise<TrainingStateSnapshot> {
    const reply = await this.all({ type: "snapshot" });
    if (reply.type !== "snapshot") throw new Error(`training worker: unexpected reply ${reply.type}`);
    return reply.snapshot;
  }

  /** Stops the workers. */
  async disposeAsync(): Promise<void> {
    this.disposing = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
