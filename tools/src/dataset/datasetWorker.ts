/**
 * Worker-thread entry of the data-set pool: builds its own source from `workerData.spec`, then renders the
 * jobs it is sent and posts back pixels + PNG (transferred, not copied).
 */
import { parentPort, workerData } from "node:worker_threads";
import { CreateDatasetSourceAsync } from "./createDatasetSource.js";
import type { SourceSpec } from "./datasetSources.js";
import { OwnBuffer, RunRenderJobAsync, type RenderJob } from "./renderJob.js";

if (!parentPort) throw new Error("datasetWorker must run in a worker thread");
const port = parentPort;
const { spec, res } = workerData as { spec: SourceSpec; res: number };
// One libvips thread per worker: the pool already runs one worker per core.
if (spec.kind === "folder") (await import("sharp")).default.concurrency(1);
const source = await CreateDatasetSourceAsync(spec);

port.on("message", async (message: { jobNumber: number; job: RenderJob }) => {
  try {
    const result = await RunRenderJobAsync(source, message.job, res);
    const transfer: ArrayBuffer[] = [];
    if (result.outcome.ok) {
      result.outcome.image.rgb = OwnBuffer(result.outcome.image.rgb);
      transfer.push(result.outcome.image.rgb.buffer as ArrayBuffer);
    }
    if (result.png) {
      result.png = OwnBuffer(result.png);
      transfer.push(result.png.buffer as ArrayBuffer);
    }
    port.postMessage({ jobNumber: message.jobNumber, result }, transfer);
  } catch (error) {
    port.postMessage({ jobNumber: message.jobNumber, error: (error as Error).stack ?? String(error) });
  }
});
