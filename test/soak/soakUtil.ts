/** Shared helpers of the soak runs: memory after a collection, and the figures they print. */
import { appendFileSync } from "node:fs";

/** Runs a full collection when the process was started with --expose-gc (the soak config does). */
export function CollectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** MiB, one decimal. */
export function MiB(bytes: number): number {
  return Math.round((bytes / (1 << 20)) * 10) / 10;
}

/**
 * Prints one soak's figures as a line `soak <name>: {...}` and appends it to $NPC_FACES_SOAK_OUT (JSON lines) when
 * set, so a run's figures can be collected for docs/reliability.md.
 */
export function ReportSoak(name: string, figures: Record<string, unknown>): void {
  const line = JSON.stringify({ soak: name, ...figures });
  console.log(`soak ${name}: ${JSON.stringify(figures)}`);
  if (process.env.NPC_FACES_SOAK_OUT) appendFileSync(process.env.NPC_FACES_SOAK_OUT, `${line}\n`);
}

/** `n` scaled by $NPC_FACES_SOAK_SCALE (default 1; e.g. 0.01 to check the soak code quickly). */
export function Scaled(n: number): number {
  const scale = Number(process.env.NPC_FACES_SOAK_SCALE ?? "1");
  return Math.max(1, Math.round(n * (Number.isFinite(scale) && scale > 0 ? scale : 1)));
}
