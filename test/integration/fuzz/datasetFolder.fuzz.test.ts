/**
 * Fuzzed image folders: valid, corrupt, truncated and zero-size PNGs, PNG headers claiming huge dimensions, symlinks
 * (outside, dangling, looping, to a folder), a folder named like an image, and names that are not UTF-8. Both readers
 * of a user's folder must cope: `npc-faces train --data` (LoadTrainingDataAsync) refuses with one line naming the
 * folder, or loads images that are all there; the data-set builder's folder source (`npc-faces dataset --source
 * folder:`) renders each file or skips it with a reason and a one-line detail. Nothing throws anything else or hangs.
 */
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { crc32 } from "node:zlib";
import fc from "fast-check";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CreateFolderSourceAsync, ScanImageFolderAsync } from "../../../tools/src/dataset/folderSource.js";
import { LoadTrainingDataAsync } from "../../../tools/src/training/loadTrainingData.js";
import { ApplyEdits, ByteEdits, FuzzParameters, IsOneLine } from "./fuzzUtil.js";

let dir = "";
let png16 = new Uint8Array();
let png40 = new Uint8Array();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "npcf-fuzz-folder-"));
  png16 = new Uint8Array(await sharp({ create: { width: 16, height: 16, channels: 3, background: { r: 200, g: 10, b: 90 } } }).png().toBuffer());
  png40 = new Uint8Array(await sharp({ create: { width: 40, height: 40, channels: 3, background: { r: 20, g: 100, b: 190 } } }).png().toBuffer());
  await writeFile(join(dir, "outside.png"), png16);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** `png` with its IHDR width and height replaced (and, if `fixCrc`, the chunk's CRC recomputed). */
function WithDimensions(png: Uint8Array, width: number, height: number, fixCrc: boolean): Uint8Array {
  const out = Uint8Array.from(png);
  const view = new DataView(out.buffer);
  view.setUint32(16, width >>> 0);
  view.setUint32(20, height >>> 0);
  if (fixCrc) view.setUint32(29, crc32(out.subarray(12, 29)) >>> 0);
  return out;
}

type Entry =
  | { kind: "valid" | "valid40" | "zero" | "directory" | "symlink-outside" | "symlink-dangling" | "symlink-loop" | "symlink-folder" | "not-utf8" }
  | { kind: "edited"; edits: { kind: string; where: number; n: number; bytes: Uint8Array }[] }
  | { kind: "truncated"; at: number }
  | { kind: "huge"; width: number; height: number; fixCrc: boolean };

const EntryArbitrary: fc.Arbitrary<Entry> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom<Entry>({ kind: "valid" }) },
  fc.constantFrom<Entry>({ kind: "valid40" }, { kind: "zero" }, { kind: "directory" }, { kind: "symlink-outside" }, { kind: "symlink-dangling" }, { kind: "symlink-loop" }, { kind: "symlink-folder" }, { kind: "not-utf8" }),
  fc.record({ kind: fc.constant("edited" as const), edits: ByteEdits(3) }),
  fc.record({ kind: fc.constant("truncated" as const), at: fc.nat({ max: 120 }) }),
  fc.record({ kind: fc.constant("huge" as const), width: fc.constantFrom(0, 1, 65535, 100_000, 2 ** 31 - 1, 2 ** 32 - 1), height: fc.constantFrom(0, 16, 65535, 100_000, 2 ** 31 - 1), fixCrc: fc.boolean() }),
);

let folders = 0;

/** Writes the entries into a new folder; entry i is named `i.png` (or with non-UTF-8 bytes). */
async function MakeFolderAsync(entries: readonly Entry[]): Promise<string> {
  const folder = join(dir, `f${folders++}`);
  await mkdir(folder);
  for (const [i, e] of entries.entries()) {
    const path = join(folder, `${i}.png`);
    switch (e.kind) {
      case "valid": await writeFile(path, png16); break;
      case "valid40": await writeFile(path, png40); break;
      case "zero": await writeFile(path, new Uint8Array()); break;
      case "directory": await mkdir(path); break;
      case "symlink-outside": await symlink(join(dir, "outside.png"), path); break;
      case "symlink-dangling": await symlink(join(dir, "nowhere.png"), path); break;
      case "symlink-loop": await symlink(path, path); break;
      case "symlink-folder": await symlink(dir, path); break;
      case "not-utf8": await writeFile(Buffer.concat([Buffer.from(folder), Buffer.from([0x2f, 0x61 + i, 0xff, 0xfe]), Buffer.from(".png")]), png16); break;
      case "edited": await writeFile(path, ApplyEdits(png16, e.edits)); break;
      case "truncated": await writeFile(path, png16.subarray(0, Math.min(e.at, png16.length - 1))); break;
      case "huge": await writeFile(path, WithDimensions(png16, e.width, e.height, e.fixCrc)); break;
    }
  }
  return folder;
}

describe("fuzz: image folders", () => {
  it("npc-faces train --data: refused in one line naming the folder, or every image loaded", async () => {
    let loaded = 0;
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(EntryArbitrary, { minLength: 1, maxLength: 4 }), async (entries) => {
        const folder = await MakeFolderAsync(entries);
        try {
          const data = await LoadTrainingDataAsync(folder);
          expect(data.count).toBeGreaterThan(0);
          expect(data.images.length).toBe(data.count * data.resolution * data.resolution * 3);
          loaded++;
        } catch (error) {
          expect(error).toBeInstanceOf(Error);
          const message = (error as Error).message;
          expect(message.startsWith(`--data ${folder}: `), message).toBe(true);
          expect(IsOneLine(message), message).toBe(true);
          refused++;
        }
      }),
      FuzzParameters(300, 7000),
    );
    console.log(`train --data fuzz: ${loaded} loaded, ${refused} refused`);
    expect(loaded).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
  });

  it("npc-faces dataset --source folder: each file rendered or skipped with a reason and a one-line detail", async () => {
    const outcomes = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(fc.array(EntryArbitrary, { minLength: 1, maxLength: 4 }), async (entries) => {
        const folder = await MakeFolderAsync(entries);
        const files = await ScanImageFolderAsync(folder);
        const source = await CreateFolderSourceAsync({ kind: "folder", root: folder, files, fit: "crop", minSize: 8, background: "#808080" });
        for (let i = 0; i < files.length; i++) {
          const outcome = await source.renderAsync(i, i, 16);
          if (outcome.ok) expect(outcome.image.rgb.length).toBe(16 * 16 * 3);
          else {
            expect(["unreadable", "tiny"]).toContain(outcome.reason);
            expect(IsOneLine(outcome.detail), outcome.detail).toBe(true);
          }
          const key = outcome.ok ? "rendered" : outcome.reason;
          outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
        }
      }),
      FuzzParameters(300, 7000),
    );
    console.log(`dataset folder fuzz: ${JSON.stringify(Object.fromEntries(outcomes))}`);
    expect(outcomes.get("rendered")).toBeGreaterThan(0);
    expect(outcomes.get("unreadable")).toBeGreaterThan(0);
  });
});
