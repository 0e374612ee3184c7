/**
 * Crash-safe file writes: a reader (or a later incremental bake) sees either the old file or the complete new
 * one, never a truncated file.
 */
import { randomBytes } from "node:crypto";
import { unlinkSync } from "node:fs";
import { mkdir, open, rename, stat, unlink } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";

/** Temporary files being written right now, so that an interrupted process can remove them. */
const pendingTempFiles = new Set<string>();

/**
 * Removes the temporary files of writes still in progress (call from a SIGINT handler before exiting);
 * the target files keep their previous content.
 */
export function RemovePendingTempFilesSync(): void {
  for (const temp of pendingTempFiles) {
    try {
      unlinkSync(temp);
    } catch {
      // already renamed or removed
    }
  }
  pendingTempFiles.clear();
}

/**
 * Writes `bytes` to `path` atomically: into a temporary file in the same folder (same file system, so the
 * rename is atomic), flushed with fsync, then renamed over `path`. The folder must exist. On failure the
 * temporary file is removed and `path` is left as it was.
 */
export async function WriteFileAtomicAsync(path: string, bytes: Uint8Array): Promise<void> {
  const dir = dirname(path);
  // Leading dot: hidden from globs like `*.png` while it exists.
  const temp = join(dir, `.${basename(path)}.${process.pid}-${randomBytes(6).toString("hex")}.tmp`);
  pendingTempFiles.add(temp);
  let handle;
  try {
    handle = await open(temp, "wx");
  } catch (error) {
    pendingTempFiles.delete(temp);
    throw error;
  }
  try {
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  } finally {
    pendingTempFiles.delete(temp);
  }
  // Persist the rename itself; folders cannot be opened for fsync on every platform (Windows), so best effort.
  try {
    const folder = await open(dir, "r");
    try {
      await folder.sync();
    } finally {
      await folder.close();
    }
  } catch {
    // ignored: the data is already durable, only the directory entry may be lost on power failure
  }
}

/**
 * Creates a folder and its missing parents, one level at a time. (Node's `mkdir({ recursive: true })` spins
 * forever under pseudo file systems such as /proc, where mkdir fails with ENOENT.)
 * @throws Error naming the folder that could not be created and why
 */
export async function EnsureFolderAsync(dir: string): Promise<void> {
  const target = resolve(dir);
  const missing: string[] = [];
  for (let current = target; ; current = dirname(current)) {
    const info = await stat(current).catch((error: NodeJS.ErrnoException) => {
      // ENOTDIR: a file further up blocks the path; keep walking up to name it.
      if (error.code === "ENOENT" || error.code === "ENOTDIR") return undefined;
      throw error;
    });
    if (info) {
      if (!info.isDirectory()) throw new Error(`cannot create ${target}: ${current} is not a folder`);
      break;
    }
    missing.push(current);
    if (dirname(current) === current) break;
  }
  for (const folder of missing.reverse()) {
    try {
      await mkdir(folder);
    } catch (error) {
      const e = error as NodeJS.ErrnoException;
      if (e.code === "EEXIST") continue; // created concurrently (another baker): fine
      const reason = e.code === "EACCES" || e.code === "EPERM" ? "permission denied" : e.code === "EROFS" ? "read-only file system" : e.code === "ENOENT" ? "the parent does not accept new folders" : e.message;
      throw new Error(`cannot create ${folder} (${reason})`, { cause: error });
    }
  }
}
