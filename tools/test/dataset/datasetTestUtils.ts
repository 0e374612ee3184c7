/** Shared helpers of the data-set tests: temp folders and reading a whole folder's bytes. */
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";

/** A fresh temp folder; remove it with the returned function. */
export async function MakeTempDirAsync(prefix = "npc-faces-dataset-test-"): Promise<{ dir: string; cleanupAsync: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanupAsync: () => rm(dir, { recursive: true, force: true }) };
}

/** Every file under `dir` (relative path → bytes), sorted. */
export async function ReadTreeAsync(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const walk = async (d: string): Promise<void> => {
    for (const entry of await readdir(d, { withFileTypes: true })) {
      const full = join(d, entry.name);
      if (entry.isDirectory()) await walk(full);
      else out.set(relative(dir, full), await readFile(full));
    }
  };
  await walk(dir);
  return new Map([...out.entries()].sort(([a], [b]) => (a < b ? -1 : 1)));
}
