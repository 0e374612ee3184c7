/**
 * Atomic creation of a data-set folder.
 *
 * Everything is written into a sibling staging folder `DIR.partial-<pid>`; `dataset.json` is written there
 * last, then the staging folder is renamed to `DIR` in one step. So `DIR` either does not exist or holds a
 * complete data set, and an interrupted run leaves only a `.partial-<pid>` folder, which no reader trusts
 * (it has no `DIR/dataset.json`) and which the next run removes once its process is gone.
 *
 * An existing complete data set at `DIR` is replaced only with `force` (swapped out by rename, then
 * deleted); a non-empty folder that is not a data set is never touched.
 */
import { mkdir, open, readdir, rename, rm, rmdir, stat, writeFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { DatasetManifestFile } from "./datasetManifest.js";

/** Where a data set is being written. */
export interface DatasetStaging {
  /** Final folder. */
  readonly outDir: string;
  /** Staging folder (write everything here). */
  readonly stagingDir: string;
  /** Writes `relativePath` inside the staging folder. */
  writeFileAsync(relativePath: string, bytes: Uint8Array | string): Promise<void>;
  /** Writes dataset.json into staging, then moves the staging folder to `outDir`. */
  commitAsync(manifestText: string): Promise<void>;
  /** Removes everything this run created (staging folder, parents it made). Safe to call twice. */
  abortAsync(): Promise<void>;
}

/** A short reason for a file-system error, e.g. "permission denied (EACCES)". */
export function DescribeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  const reasons: Record<string, string> = {
    EACCES: "permission denied",
    EPERM: "operation not permitted",
    EROFS: "read-only file system",
    ENOENT: "its parent folder cannot be created",
    ENOTDIR: "a parent path is a file, not a folder",
    ENOSPC: "no space left on the device",
    EEXIST: "a file is in the way",
  };
  return code && reasons[code] ? `${reasons[code]} (${code})` : (error as Error).message;
}

function IsProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Describes why `outDir` cannot be used, or null when it can (missing, empty, or a data set with `force`). */
export async function CheckOutputDirAsync(outDir: string, force: boolean): Promise<string | null> {
  let info;
  try {
    info = await stat(outDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    return `cannot write the output folder ${outDir}: ${DescribeFsError(error)}`;
  }
  if (!info.isDirectory()) return `output ${outDir} exists and is not a folder`;
  const entries = await readdir(outDir);
  if (entries.length === 0) return null;
  if (!entries.includes(DatasetManifestFile)) return `output folder ${outDir} is not empty and is not an npc-faces data set; choose another --out`;
  if (!force) return `output folder ${outDir} already holds a complete data set; pass --force to replace it`;
  return null;
}

/** Removes staging folders of `outDir` left by runs whose process no longer exists. */
async function RemoveStaleStagingAsync(outDir: string): Promise<void> {
  const parent = dirname(outDir);
  const prefix = `${basename(outDir)}.partial-`;
  let entries: string[];
  try {
    entries = await readdir(parent);
  } catch {
    return;
  }
  for (const entry of entries) {
    if (!entry.startsWith(prefix)) continue;
    const pid = Number(entry.slice(prefix.length));
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && !IsProcessAlive(pid)) {
      await rm(join(parent, entry), { recursive: true, force: true });
    }
  }
}

/** Checks the output, creates the staging folder (and missing parents), and returns the staging handle. */
export async function BeginDatasetOutputAsync(outDirArgument: string, force: boolean): Promise<DatasetStaging> {
  const outDir = resolve(outDirArgument);
  const problem = await CheckOutputDirAsync(outDir, force);
  if (problem) throw new Error(problem);
  let createdParent: string | undefined;
  const stagingDir = `${outDir}.partial-${process.pid}`;
  try {
    createdParent = await mkdir(dirname(outDir), { recursive: true });
    await RemoveStaleStagingAsync(outDir);
    await rm(stagingDir, { recursive: true, force: true });
    await mkdir(stagingDir);
    // Probe that files can really be written (read-only mounts let mkdir fail late on some systems).
    await writeFile(join(stagingDir, ".probe"), "");
    await rm(join(stagingDir, ".probe"));
  } catch (error) {
    await rm(stagingDir, { recursive: true, force: true }).catch(() => undefined);
    if (createdParent) await rm(createdParent, { recursive: true, force: true }).catch(() => undefined);
    throw new Error(`cannot write the output folder ${outDir}: ${DescribeFsError(error)}`);
  }
  let finished = false;
  return {
    outDir,
    stagingDir,
    async writeFileAsync(relativePath: string, bytes: Uint8Array | string): Promise<void> {
      const path = join(stagingDir, relativePath);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, bytes);
    },
    async commitAsync(manifestText: string): Promise<void> {
      // Manifest last, flushed: its presence marks the data set complete.
      const tmp = join(stagingDir, `${DatasetManifestFile}.tmp`);
      const handle = await open(tmp, "w");
      try {
        await handle.writeFile(manifestText);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(tmp, join(stagingDir, DatasetManifestFile));
      // Re-check: another run may have finished a data set here meanwhile.
      const problem = await CheckOutputDirAsync(outDir, force);
      if (problem) throw new Error(problem);
      let old: string | null = null;
      try {
        const entries = await readdir(outDir);
        if (entries.length === 0) await rmdir(outDir);
        else {
          old = `${outDir}.old-${process.pid}`;
          await rename(outDir, old);
        }
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
      }
      await rename(stagingDir, outDir);
      finished = true;
      if (old) await rm(old, { recursive: true, force: true });
    },
    async abortAsync(): Promise<void> {
      if (finished) return;
      finished = true;
      await rm(stagingDir, { recursive: true, force: true });
      if (createdParent) await rm(createdParent, { recursive: true, force: true }).catch(() => undefined);
    },
  };
}
