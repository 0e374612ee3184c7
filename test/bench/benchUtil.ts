/** Small helpers shared by the benchmark sections: timing and table output. */
import { performance } from "node:perf_hooks";

/** Runs `fn` `warmup` times, then repeatedly until `minMs` have passed (at least `minRuns`), and returns the median ms per run. */
export async function MedianMsAsync(fn: () => Promise<unknown> | unknown, options: { warmup?: number; minRuns?: number; minMs?: number } = {}): Promise<number> {
  const { warmup = 1, minRuns = 3, minMs = 1000 } = options;
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  const start = performance.now();
  while (times.length < minRuns || performance.now() - start < minMs) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

/** Formats rows as an aligned text table (first row = header). */
export function FormatTable(rows: readonly (readonly (string | number)[])[]): string[] {
  const cells = rows.map((row) => row.map((c) => (typeof c === "number" ? FormatNumber(c) : c)));
  const widths = cells[0].map((_, i) => Math.max(...cells.map((row) => row[i].length)));
  return cells.map((row) => row.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  "));
}

function FormatNumber(x: number): string {
  if (Number.isInteger(x)) return String(x);
  const abs = Math.abs(x);
  return abs >= 100 ? x.toFixed(0) : abs >= 10 ? x.toFixed(1) : abs >= 1 ? x.toFixed(2) : x.toFixed(3);
}
