/** Kept run snapshots on plain files: names sort by kimg, the newest N stay, a killed copy's leftovers go, lookup by kimg. */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { KeepRunSnapshotAsync, ListRunSnapshotsAsync, ResolveRunSnapshotAsync, SnapshotName } from "../../src/training/runSnapshots.js";

let run = "";
beforeEach(async () => {
  run = await mkdtemp(join(tmpdir(), "npcf-snapshots-"));
});
afterEach(async () => {
  await rm(run, { recursive: true, force: true });
});

async function CheckpointAtAsync(kimg: number): Promise<string> {
  const path = join(run, "checkpoint.ckpt");
  await writeFile(path, `weights at ${kimg}`);
  return path;
}

describe("run snapshots", () => {
  it("names sort by kimg", () => {
    expect(SnapshotName(12.008)).toBe("kimg-000012.008");
    expect(SnapshotName(0.5) < SnapshotName(12) && SnapshotName(12) < SnapshotName(100)).toBe(true);
    expect(() => SnapshotName(-1)).toThrow(RangeError);
  });

  it("keeps the newest N copies, skips a kimg already kept, removes a killed copy's leftovers", async () => {
    await mkdir(join(run, "snapshots", ".incomplete-kimg-000000.500-999"), { recursive: true });
    for (const kimg of [0.5, 1, 1.5]) await KeepRunSnapshotAsync(run, await CheckpointAtAsync(kimg), kimg, 2);
    const kept = await ListRunSnapshotsAsync(run);
    expect(kept.map((s) => s.kimg)).toEqual([1, 1.5]);
    expect(await readdir(join(run, "snapshots"))).toEqual(["kimg-000001.000", "kimg-000001.500"]);
    expect(await readFile(join(kept[1].dir, "checkpoint.ckpt"), "utf8")).toBe("weights at 1.5");
    // The final checkpoint right after a periodic one at the same kimg: the kept copy stays as it was.
    await writeFile(join(run, "checkpoint.ckpt"), "rewritten");
    await KeepRunSnapshotAsync(run, join(run, "checkpoint.ckpt"), 1.5, 2);
    expect(await readFile(join(kept[1].dir, "checkpoint.ckpt"), "utf8")).toBe("weights at 1.5");
    await expect(KeepRunSnapshotAsync(run, join(run, "checkpoint.ckpt"), 2, 0)).rejects.toThrow(RangeError);
  });

  it("finds a snapshot by folder name or by its kimg to the decimals given", async () => {
    for (const kimg of [4.008, 8.016, 8.024]) await KeepRunSnapshotAsync(run, await CheckpointAtAsync(kimg), kimg, 5);
    expect((await ResolveRunSnapshotAsync(run, "4")).kimg).toBe(4.008);
    expect((await ResolveRunSnapshotAsync(run, "8.016")).kimg).toBe(8.016);
    expect((await ResolveRunSnapshotAsync(run, "kimg-000008.024")).kimg).toBe(8.024);
    await expect(ResolveRunSnapshotAsync(run, "8")).rejects.toThrow(/several snapshots round to 8 kimg .*give more decimals/);
    await expect(ResolveRunSnapshotAsync(run, "6")).rejects.toThrow(/no snapshot at 6 kimg \(kept: 4\.008, 8\.016, 8\.024\)/);
    await expect(ResolveRunSnapshotAsync(run, "latest")).rejects.toThrow(/expected a kimg or a snapshot folder name/);
    await rm(join(run, "snapshots"), { recursive: true });
    await expect(ResolveRunSnapshotAsync(run, "4")).rejects.toThrow(/keeps none \(train with --keep-snapshots N\)/);
  });
});
