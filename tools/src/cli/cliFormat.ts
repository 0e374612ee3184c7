/**
 * Small text formatters shared by the CLI's commands.
 */

/** `1.2 MiB`-style size. */
export function FormatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KiB", "MiB", "GiB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/** Layer indices as ranges: [0,1,2,3,5] -> `0-3,5`. */
export function FormatIndexRanges(indices: readonly number[]): string {
  if (indices.length === 0) return "none";
  const sorted = [...indices].sort((a, b) => a - b);
  const parts: string[] = [];
  let start = 0;
  for (let i = 1; i <= sorted.length; i++) {
    if (i < sorted.length && sorted[i] === sorted[i - 1] + 1) continue;
    parts.push(start === i - 1 ? `${sorted[start]}` : `${sorted[start]}-${sorted[i - 1]}`);
    start = i;
  }
  return parts.join(",");
}

/** Pads the first column of rows to a common width. */
export function FormatTable(rows: readonly (readonly string[])[], indent = ""): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => indent + row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]))).join("  ").trimEnd());
}

/** How `--help` describes the model default of the commands that take one (bake, info, metrics, editor). */
export const DefaultModelHelp = "default: the bundled default model (@npc-faces/default-model)";

/**
 * A progress line on stderr for work in phases ("faces 48/128"), rewritten in place and ended when a phase is
 * done; undefined when stderr is no terminal (logs and pipes get no carriage-return noise).
 */
export function PhaseProgressLine(prefix = ""): ((phase: string, done: number, total: number) => void) | undefined {
  if (!process.stderr.isTTY) return undefined;
  return (phase, done, total) => {
    process.stderr.write(`\r${prefix}${phase} ${done}/${total}   ${done === total ? "\n" : ""}`);
  };
}

/** `--help` of the `--json` flag of the commands that produce results. */
export const JsonHelp = "print one JSON object describing the result on stdout instead of the summary line (docs/cli.md, 'JSON output'); warnings and errors stay on stderr";

/**
 * Writes a command's `--json` result: one JSON object on stdout, `command` first. Paths are absolute, sizes in
 * bytes, durations in seconds.
 */
export function WriteJsonResult(command: string, result: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ command, ...result }, null, 2)}\n`);
}
