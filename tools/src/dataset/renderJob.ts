/** One unit of work for the pool: render an item and encode its PNG (both CPU-bound, so both in the worker). */
import type { DatasetSource, RenderOutcome } from "./datasetSources.js";
import { EncodePng } from "./pngCodec.js";

/** Which item to render, with its per-image seed. */
export interface RenderJob {
  index: number;
  seed: number;
}

/** A rendered item (or skip) plus its PNG bytes. */
export interface RenderJobResult {
  outcome: RenderOutcome;
  png: Uint8Array | null;
}

/** Renders one job with `source` at `res`×`res`. */
export async function RunRenderJobAsync(source: DatasetSource, job: RenderJob, res: number): Promise<RenderJobResult> {
  const outcome = await source.renderAsync(job.index, job.seed, res);
  if (!outcome.ok) return { outcome, png: null };
  if (outcome.image.rgb.length !== res * res * 3) throw new Error(`source rendered ${outcome.image.rgb.length} bytes, expected ${res * res * 3}`);
  return { outcome, png: EncodePng(outcome.image.rgb, res, res, 3) };
}

/** A typed array that owns exactly its own ArrayBuffer (safe to transfer between threads). */
export function OwnBuffer(bytes: Uint8Array): Uint8Array {
  const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer;
  return whole ? bytes : bytes.slice();
}
