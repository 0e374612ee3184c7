/** Worker thread of {@link ParallelTrainingRun}: one TrainingRun replica driven by messages. */
import { parentPort, workerData } from "node:worker_threads";
import { AdaAugmentation } from "../augment/adaAugmentation.js";
import { InitializeTfjsBackendAsync } from "../backends/tfjsBackend.js";
import { SharedAllReduce, type TrainingWorkerInit, type TrainingWorkerReply } from "./parallelTraining.js";
import { TrainingRun } from "./trainingLoop.js";

const init = workerData as TrainingWorkerInit;
const port = parentPort!;
const send = (reply: TrainingWorkerReply) => port.postMessage(reply);
const fail = (error: unknown) => send({ type: "error", name: error instanceof Error ? error.name : "Error", message: error instanceof Error ? error.message : String(error) });

let run: TrainingRun | null = null;
try {
  await InitializeTfjsBackendAsync(init.backend);
  const augmentation = init.augment ? AdaAugmentation.fromJSON(init.augment as Parameters<typeof AdaAugmentation.fromJSON>[0]) : null;
  const shard = {
    index: init.index,
    count: init.count,
    allReduce: (values: Float32Array) => SharedAllReduce(init.exchange, init.index, init.count, init.slotLength, values),
  };
  run = new TrainingRun(init.options, init.data, augmentation, init.snapshot ?? undefined, shard);
  send({ type: "ready" });
} catch (error) {
  fail(error);
}

port.on("message", (message: { type: string }) => {
  try {
    if (!run) throw new Error("the replica failed to start");
    if (message.type === "step") {
      const stats = run.trainStep();
      send({ type: "stats", stats, imagesSeen: run.imagesSeen, step: run.step });
    } else if (message.type === "snapshot") {
      send({ type: "snapshot", snapshot: run.snapshot() });
    }
  } catch (error) {
    fail(error);
  }
});
