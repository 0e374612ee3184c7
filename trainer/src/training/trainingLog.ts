/** The run's JSONL log: one line per tick (losses, ADA p, R1, images/s, time), appended and flushed. */
import { appendFile } from "node:fs/promises";

/** One tick's record. */
export interface TrainingLogEntry {
  readonly tick: number;
  readonly kimg: number;
  readonly step: number;
  readonly lossG: number;
  readonly lossD: number;
  readonly r1: number | null;
  readonly pathLength: number | null;
  readonly realSign: number;
  readonly augmentP: number;
  readonly imagesPerSecond: number;
  readonly seconds: number;
  readonly time: string;
}

/** Appends one JSON line to `path`. */
export async function AppendTrainingLogAsync(path: string, entry: TrainingLogEntry): Promise<void> {
  await appendFile(path, `${JSON.stringify(entry)}\n`);
}
