/**
 * Kept checkpoints of a training run (`npc-faces train --keep-snapshots N`): after each checkpoint, a copy in
 * RUN/snapshots/kimg-KKKKKK.KKK/checkpoint.ckpt, the newest N kept, so that the snapshot a release was exported
 * from can be exported again later (`npc-faces export --run RUN --snapshot KIMG`) after training went on.
 * A snapshot folder is written under a temporary name and renamed into place, so a kill never leaves a
 * half-copied snapshot under a kimg name; leftovers of a killed copy are removed by the next one.
 */
import { copyFile, mkdir, open, readdir, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";

/** Folder of a run that holds its kept snapshots. */
export const SnapshotsFolder = "snapshots";
/** File name of the checkpoint inside a snapshot folder (the run's own name, so a snapshot folder exports as a run). */
export const SnapshotCheckpointFile = "checkpoint.ckpt";

const NamePattern = /^kimg-(\d+\.\d{3})$/;
const TempPrefix = ".incomplete-";

/** One kept snapshot. */
export interface RunSnapshot {
  /** Folder name, e.g. `kimg-000012.008`. */
  readonly name: string;
  readonly kimg: number;
  /** The snapshot folder (exportable as a run folder). */
  readonly dir: string;
}

/** The folder name of the snapshot at `kimg` (zero-padded so that names sort by kimg). */
export function SnapshotName(kimg: number): string {
  if (!(kimg >= 0) || !Number.isFinite(kimg)) throw new RangeError(`snapshot kimg: expected a number >= 0, got ${kimg}`);
  return `kimg-${kimg.toFixed(3).padStart(10, "0")}`;
}

/** The kept snapshots of a run, oldest first (none when it keeps none). */
export async function ListRunSnapshotsAsync(runDir: string): Promise<RunSnapshot[]> {
  const folder = join(runDir, SnapshotsFolder);
  const names = await readdir(folder).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return [] as string[];
    throw error;
  });
  return names
    .flatMap((name) => {
      const match = NamePattern.exec(name);
      return match ? [{ name, kimg: Number(match[1]), dir: join(folder, name) }] : [];
    })
    .sort((a, b) => a.kimg - b.kimg);
}

/** Copies a file and flushes it to disk (a snapshot must survive a power cut once it carries its final name). */
async function CopyDurableAsync(from: string, to: string): Promise<void> {
  await copyFile(from, to);
  const handle = await open(to, "r+");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Keeps a copy of the checkpoint just written at `kimg`, then removes the oldest snapshots beyond `keep`.
 * A snapshot that already exists at that kimg (the final checkpoint right after a periodic one) is left as is.
 */
export async function KeepRunSnapshotAsync(runDir: string, checkpointPath: string, kimg: number, keep: number): Promise<RunSnapshot[]> {
  if (!Number.isInteger(keep) || keep < 1) throw new RangeError(`--keep-snapshots: expected an integer >= 1, got ${keep}`);
  const folder = join(runDir, SnapshotsFolder);
  await mkdir(folder, { recursive: true });
  for (const name of await readdir(folder)) if (name.startsWith(TempPrefix)) await rm(join(folder, name), { recursive: true, force: true });
  const name = SnapshotName(kimg);
  const target = join(folder, name);
  if (!(await stat(target).catch(() => null))) {
    const temp = join(folder, `${TempPrefix}${name}-${process.pid}`);
    await mkdir(temp);
    await CopyDurableAsync(checkpointPath, join(temp, SnapshotCheckpointFile));
    await rename(temp, target);
  }
  const snapshots = await ListRunSnapshotsAsync(runDir);
  const excess = snapshots.slice(0, Math.max(0, snapshots.length - keep));
  for (const old of excess) await rm(old.dir, { recursive: true, force: true });
  return snapshots.slice(excess.length);
}

/**
 * The kept snapshot `spec` names: its folder name (`kimg-000012.008`) or its kimg to as many decimals as `spec`
 * gives (`12` finds the one written at 12.008, `0.016` the one at 0.016).
 * @throws with the list of kept snapshots when none or several match
 */
export async function ResolveRunSnapshotAsync(runDir: string, spec: string): Promise<RunSnapshot> {
  const snapshots = await ListRunSnapshotsAsync(runDir);
  const available = snapshots.length > 0 ? `kept: ${snapshots.map((s) => s.kimg.toFixed(3)).join(", ")}` : `the run keeps none (train with --keep-snapshots N)`;
  const byName = snapshots.find((s) => s.name === spec);
  if (byName) return byName;
  const text = spec.trim();
  if (!/^\d+(\.\d+)?$/.test(text)) throw new Error(`--snapshot ${spec}: expected a kimg or a snapshot folder name (${available})`);
  const decimals = text.includes(".") ? text.length - text.indexOf(".") - 1 : 0;
  const matches = snapshots.filter((s) => Number(s.kimg.toFixed(Math.min(decimals, 3))) === Number(text));
  if (matches.length === 1) return matches[0];
  if (matches.length === 0) throw new Error(`--snapshot ${spec}: ${runDir} has no snapshot at ${text} kimg (${available})`);
  throw new Error(`--snapshot ${spec}: several snapshots round to ${text} kimg (${available}); give more decimals`);
}
