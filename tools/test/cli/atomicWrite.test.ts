import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EnsureFolderAsync, WriteFileAtomicAsync } from "../../src/bake/atomicWrite.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "npc-faces-atomic-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("WriteFileAtomicAsync", () => {
  it("writes a new file and replaces an existing one, leaving no temporary files", async () => {
    const path = join(dir, "a.bin");
    await WriteFileAtomicAsync(path, new Uint8Array([1, 2, 3]));
    expect([...(await readFile(path))]).toEqual([1, 2, 3]);
    await WriteFileAtomicAsync(path, new Uint8Array([9]));
    expect([...(await readFile(path))]).toEqual([9]);
    expect(await readdir(dir)).toEqual(["a.bin"]);
  });

  it("handles concurrent writers of the same file (last rename wins, no leftovers)", async () => {
    const path = join(dir, "same.bin");
    await Promise.all(Array.from({ length: 8 }, (_, i) => WriteFileAtomicAsync(path, new Uint8Array(1000).fill(i))));
    const bytes = await readFile(path);
    expect(bytes.length).toBe(1000);
    expect(new Set(bytes).size).toBe(1);
    expect((await readdir(dir)).filter((n) => n.endsWith(".tmp"))).toEqual([]);
  });

  it("fails without leaving anything when the folder is missing, and keeps the old file on failure", async () => {
    await expect(WriteFileAtomicAsync(join(dir, "missing", "x.bin"), new Uint8Array(1))).rejects.toThrow(/ENOENT/);
    // Renaming onto a folder fails: the temporary file must be removed and the folder left alone.
    const folder = join(dir, "occupied");
    await EnsureFolderAsync(folder);
    await writeFile(join(folder, "keep.txt"), "keep");
    await expect(WriteFileAtomicAsync(folder, new Uint8Array(1))).rejects.toThrow();
    expect((await readdir(dir)).filter((n) => n.endsWith(".tmp"))).toEqual([]);
    expect(await readFile(join(folder, "keep.txt"), "utf8")).toBe("keep");
  });
});

describe("EnsureFolderAsync", () => {
  it("creates nested folders and accepts existing ones", async () => {
    const nested = join(dir, "n1", "n2", "n3");
    await EnsureFolderAsync(nested);
    await EnsureFolderAsync(nested);
    expect(await readdir(join(dir, "n1", "n2"))).toEqual(["n3"]);
  });

  it("names a file that blocks the path", async () => {
    await writeFile(join(dir, "file.txt"), "x");
    await expect(EnsureFolderAsync(join(dir, "file.txt", "sub"))).rejects.toThrow(/file\.txt is not a folder/);
  });
});
