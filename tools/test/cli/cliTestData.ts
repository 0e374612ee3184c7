/**
 * Shared helpers of the CLI tests: a metadata fixture, and running the built `npc-faces` binary.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { ModelMetadata } from "@npc-faces/runtime";
import { SampleMetadata } from "../../../runtime/test/onnxFixtures.js";

/** A valid metadata document: 16x16, 4 w layers, controls `smile` and `age`; trained, with a dataset and credits. */
export function TestMetadata(overrides: Partial<ModelMetadata> = {}): ModelMetadata {
  return SampleMetadata({
    provenance: { trained: true, dataset: "fixture-set", licenses: ["CC0"], credits: ["someone"], kimg: 100, tool: "test" },
    ...overrides,
  });
}

/** The built CLI entry (`npm test` builds first; `npx tsc -b tools` by hand). */
export const CliBin = fileURLToPath(new URL("../../bin/npc-faces.js", import.meta.url));
const CliMain = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));

/** Result of one CLI run. */
export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `node tools/bin/npc-faces.js ...args` and collects its exit status and output. */
export function RunCliAsync(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  if (!existsSync(CliMain)) throw new Error(`${CliMain} is missing: build first (npx tsc -b tools)`);
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CliBin, ...args],
      { env: { ...process.env, NPC_FACES_DEBUG: "", ...env }, maxBuffer: 16 << 20 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Exports the `tiny` preset, untrained, to `path` with the built CLI (throws with its stderr on failure). */
export async function ExportTinyModelAsync(path: string, extraArgs: readonly string[] = []): Promise<CliResult> {
  const result = await RunCliAsync(["export", "--preset", "tiny", "--untrained", "--out", path, ...extraArgs]);
  if (result.code !== 0) throw new Error(`npc-faces export failed (${result.code}): ${result.stderr}`);
  return result;
}

/** Runs `fn` over `items` with at most `limit` running at once (CLI runs on a 2-core machine). */
export async function MapLimitAsync<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
