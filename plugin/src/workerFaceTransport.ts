/**
 * The face worker behind `postMessage`: generation runs off the main thread, so a level with hundreds of NPCs
 * loads without a hitch in the render loop. A watchdog restarts a worker that crashes or stops answering, reloads
 * the model in the new one and re-sends what was outstanding, so one bad moment does not cost the session its faces.
 */
import type { FaceTransport } from "./faceTransport.js";
import { FaceWorkerName, type FaceWorkerLoadMessage, type FaceWorkerMessage, type FaceWorkerReply } from "./worker/faceWorkerProtocol.js";

/** Options of {@link WorkerFaceTransport}: its watchdog. */
export interface WorkerFaceTransportOptions {
  /**
   * How long the worker may go without answering while a message waits, in ms, before it is taken for hung,
   * terminated and restarted (default 30,000). Counted from its last reply, so a queue of batches does not add up.
   */
  readonly replyTimeoutMs?: number;
  /** The same while a model is loading (default 120,000: creating an inference session takes longer). */
  readonly loadTimeoutMs?: number;
  /**
   * Restarts in a row (without a successful generation in between) before the transport gives up and fails every
   * message (default 3; 0: never restart). While no worker has answered yet (a script that does not load, a model that
   * crashes it while loading), a crash is not followed by a restart: it would fail the same way again.
   */
  readonly maxRestarts?: number;
  /** Delay before the first restart, in ms; each further restart in a row waits 4 times longer (default 100). */
  readonly restartDelayMs?: number;
  /** Attempts of one message (default 2): a message outstanding during that many crashes or hangs fails. */
  readonly maxAttempts?: number;
}

interface Outstanding {
  readonly message: FaceWorkerMessage;
  readonly transfer: ArrayBuffer[];
  readonly resolve: (reply: FaceWorkerReply) => void;
  /** Workers this message was posted to. */
  attempts: number;
  /** Posted to the current worker. */
  posted: boolean;
}

/** Id of the internal reload after a restart (the client's ids are positive). */
const ReloadId = -2;

/**
 * A {@link FaceTransport} over a dedicated module Web Worker running `faceWorker.ts`, with a watchdog: a reply
 * timeout, restart with back-off after a crash or a hang, and re-issue of the outstanding messages.
 */
export class WorkerFaceTransport implements FaceTransport {
  readonly kind = "web worker";
  /** Workers started after a crash or a hang, since creation. */
  restartCount = 0;
  private worker: Worker | undefined;
  private readonly createWorker: (() => Worker) | undefined;
  private readonly waiting = new Map<number, Outstanding>();
  private readonly options: Required<WorkerFaceTransportOptions>;
  private failure: { code: "BACKEND_FAILED" | "DISPOSED"; message: string } | undefined;
  /** The last load message, re-sent to a restarted worker (its bytes are copied to the worker, not transferred). */
  private loadMessage: FaceWorkerLoadMessage | undefined;
  private reloading = false;
  /** Some worker of this transport has answered: its script loads, so a crash is worth a restart. */
  private answered = false;
  private restartsInARow = 0;
  private watchdog: ReturnType<typeof setTimeout> | undefined;
  private restartTimer: ReturnType<typeof setTimeout> | undefined;

  /**
   * @param worker URL of the bundled `faceWorker.js` (a module worker), a function that starts one (both can be
   *   restarted), or a Worker already started from it (cannot be restarted: a crash fails every message)
   * @param options the watchdog's limits
   */
  constructor(worker: string | URL | Worker | (() => Worker), options: WorkerFaceTransportOptions = {}) {
    this.options = { replyTimeoutMs: 30_000, loadTimeoutMs: 120_000, maxRestarts: 3, restartDelayMs: 100, maxAttempts: 2, ...options };
    if (typeof worker === "function") this.createWorker = worker;
    else if (typeof worker === "object" && "postMessage" in worker) this.worker = worker;
    else this.createWorker = () => new Worker(worker, { type: "module", name: FaceWorkerName });
    this.start(this.worker ?? this.createWorker!(), typeof worker === "string" || worker instanceof URL ? String(worker) : "");
  }

  sendAsync(message: FaceWorkerMessage, transfer: ArrayBuffer[]): Promise<FaceWorkerReply> {
    if (this.failure) return Promise.resolve({ id: message.id, ok: false, error: this.failure });
    const restartable = this.createWorker !== undefined && this.options.maxRestarts > 0;
    if (message.type === "load" && restartable) {
      // Kept for a restart, so its buffer is copied (structured clone) rather than transferred.
      this.loadMessage = message;
      transfer = [];
    }
    return new Promise((resolve) => {
      const entry: Outstanding = { message, transfer, resolve, attempts: 0, posted: false };
      this.waiting.set(message.id, entry);
      // While a restart waits out its back-off there is no worker: the restart posts it.
      if (this.worker) this.post(entry);
    });
  }

  terminate(): void {
    this.stopWorker();
    this.clearTimers();
    this.fail("face transport: terminated", "DISPOSED");
  }

  private start(worker: Worker, scriptUrl: string): void {
    this.worker = worker;
    worker.onmessage = (event: MessageEvent<FaceWorkerReply>) => this.onReply(worker, event.data);
    // A worker script that 404s, fails to parse or throws at the top level, or a worker that crashes later.
    worker.onerror = (event: ErrorEvent) => {
      event.preventDefault?.();
      if (worker !== this.worker) return;
      // (Without the fragment, which only carries the engine's options: see WorkerUrlWithPrepare.)
      const loading = !this.answered && scriptUrl !== "" ? "could not load the worker script " + scriptUrl.split("#")[0] : "it crashed";
      this.onWorkerLost(`the face worker failed (${event.message || loading})`);
    };
    worker.onmessageerror = () => {
      if (worker === this.worker) this.onWorkerLost("a face worker message could not be deserialised");
    };
  }

  private post(entry: Outstanding): void {
    const idle = ![...this.waiting.values()].some((e) => e.posted) && !this.reloading;
    entry.attempts++;
    entry.posted = true;
    this.worker!.postMessage(entry.message, entry.transfer);
    if (idle) this.armWatchdog();
  }

  private onReply(worker: Worker, reply: FaceWorkerReply): void {
    if (worker !== this.worker) return; // a late answer of a worker already replaced
    // A prepare's answer shows that the script runs, not that a model loads: a crash while the first model loads is
    // still not worth a restart (it would crash the same way).
    if (this.waiting.get(reply.id)?.message.type !== "prepare") this.answered = true;
    if (reply.id === ReloadId && this.reloading) {
      this.reloading = false;
      if (!reply.ok) {
        this.stopWorker();
        this.clearTimers();
        this.fail(`the face worker was restarted but could not reload the model (${reply.error.message})`);
        return;
      }
      this.armWatchdog();
      return;
    }
    const entry = this.waiting.get(reply.id);
    if (!entry) return;
    this.waiting.delete(reply.id);
    if (reply.ok && reply.type !== "load" && reply.type !== "prepare") this.restartsInARow = 0;
    this.armWatchdog();
    entry.resolve(reply);
  }

  /** (Re)starts the reply timer while anything waits for the worker, or stops it. */
  private armWatchdog(): void {
    if (this.watchdog !== undefined) clearTimeout(this.watchdog);
    this.watchdog = undefined;
    const posted = [...this.waiting.values()].filter((e) => e.posted);
    if (posted.length === 0 && !this.reloading) return;
    const loading = this.reloading || posted.some((e) => e.message.type === "load" || e.message.type === "prepare");
    const ms = loading ? this.options.loadTimeoutMs : this.options.replyTimeoutMs;
    this.watchdog = setTimeout(() => {
      this.watchdog = undefined;
      this.onWorkerLost(`the face worker did not reply within ${ms} ms`);
    }, ms);
  }

  /** A crash or a hang: restart with back-off when it is worth it, or fail everything. */
  private onWorkerLost(reason: string): void {
    const wasAnswering = this.answered;
    this.stopWorker();
    this.clearTimers();
    this.reloading = false;
    if (!this.createWorker || !wasAnswering || this.restartsInARow >= this.options.maxRestarts) {
      const restarts = this.restartsInARow > 0 ? ` after ${this.restartsInARow} restart${this.restartsInARow > 1 ? "s" : ""}` : "";
      this.fail(`${reason}${restarts}`);
      return;
    }
    for (const [id, entry] of [...this.waiting]) {
      if (!entry.posted) continue;
      entry.posted = false;
      if (entry.attempts >= this.options.maxAttempts) {
        this.waiting.delete(id);
        entry.resolve({ id, ok: false, error: { code: "BACKEND_FAILED", message: `${reason}, ${entry.attempts} times while handling this ${entry.message.type} message` } });
      }
    }
    const delay = this.options.restartDelayMs * 4 ** this.restartsInARow;
    this.restartsInARow++;
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.failure) return;
      this.restartCount++;
      try {
        this.start(this.createWorker!(), "");
      } catch (error) {
        this.fail(`${reason}, and a new face worker could not be started (${error instanceof Error ? error.message : String(error)})`);
        return;
      }
      if (this.loadMessage) {
        this.reloading = true;
        this.worker!.postMessage({ ...this.loadMessage, id: ReloadId }, []);
      }
      // The worker answers in arrival order: these run after the reload.
      for (const entry of [...this.waiting.values()].sort((a, b) => a.message.id - b.message.id)) if (!entry.posted) this.post(entry);
      this.armWatchdog();
    }, delay);
  }

  private stopWorker(): void {
    const worker = this.worker;
    this.worker = undefined;
    if (!worker) return;
    worker.onmessage = null;
    worker.onerror = null;
    worker.onmessageerror = null;
    worker.terminate();
  }

  private clearTimers(): void {
    if (this.watchdog !== undefined) clearTimeout(this.watchdog);
    if (this.restartTimer !== undefined) clearTimeout(this.restartTimer);
    this.watchdog = undefined;
    this.restartTimer = undefined;
  }

  private fail(message: string, code: "BACKEND_FAILED" | "DISPOSED" = "BACKEND_FAILED"): void {
    this.failure ??= { code, message };
    this.loadMessage = undefined;
    const waiting = [...this.waiting.entries()];
    this.waiting.clear();
    for (const [id, entry] of waiting) entry.resolve({ id, ok: false, error: { code, message } });
  }
}
