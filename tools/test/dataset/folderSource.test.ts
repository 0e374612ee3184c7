import { copyFile, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BuildDatasetAsync } from "../../src/dataset/buildDataset.js";
import { ScanImageFolderAsync } from "../../src/dataset/folderSource.js";
import { OpenDatasetAsync } from "../../src/dataset/packedDataset.js";
import { MakeTempDirAsync, ReadTreeAsync } from "./datasetTestUtils.js";

let temp: Awaited<ReturnType<typeof MakeTempDirAsync>>;
let folder: string;

/** Fixtures: 3 usable images of different sizes and formats, 1 corrupt, 1 tiny, 1 duplicate, 1 non-image. */
beforeAll(async () => {
  temp = await MakeTempDirAsync();
  folder = join(temp.dir, "art");
  await mkdir(join(folder, "sub"), { recursive: true });
  await sharp({ create: { width: 300, height: 200, channels: 3, background: "#884422" } }).jpeg({ quality: 90 }).toFile(join(folder, "a.jpg"));
  await sharp({ create: { width: 100, height: 160, channels: 4, background: { r: 0, g: 128, b: 255, alpha: 0.5 } } }).png().toFile(join(folder, "sub", "b.png"));
  await sharp({ create: { width: 90, height: 90, channels: 3, background: "#22aa44" } }).webp({ lossless: true }).toFile(join(folder, "c.WEBP"));
  await sharp({ create: { width: 8, height: 8, channels: 3, background: "#ffffff" } }).png().toFile(join(folder, "tiny.png"));
  await writeFile(join(folder, "corrupt.jpg"), "this is not a JPEG");
  await copyFile(join(folder, "a.jpg"), join(folder, "z-duplicate.jpg"));
  await writeFile(join(folder, "notes.txt"), "ignored");
  await writeFile(join(folder, ".hidden.png"), "ignored");
});
afterAll(async () => temp.cleanupAsync());

describe("folder source", () => {
  it("finds PNG/JPEG/WebP files recursively in a stable order", async () => {
    expect(await ScanImageFolderAsync(folder)).toEqual(["a.jpg", "c.WEBP", "corrupt.jpg", "sub/b.png", "tiny.png", "z-duplicate.jpg"]);
  });

  it("skips and counts unreadable, tiny and duplicate files; crops to the centre", async () => {
    const result = await BuildDatasetAsync({ source: `folder:${folder}`, res: 16, out: join(temp.dir, "crop") });
    const m = result.manifest;
    expect(m.skipped).toEqual({ unreadable: 1, tiny: 1, duplicate: 1 });
    expect(m.images.map((i) => i.origin)).toEqual(["a.jpg", "c.WEBP", "sub/b.png"]);
    expect(m.fit).toBe("crop");
    expect(m.licence.name).toMatch(/unknown/);
    const data = await OpenDatasetAsync(result.dir);
    const a = await data.ReadImageAsync(0);
    // A flat brown image stays flat brown when cropped (JPEG may shift a value by a step or two).
    for (const [i, want] of [0x88, 0x44, 0x22].entries()) expect(Math.abs(a[i] - want)).toBeLessThanOrEqual(3);
    expect(Math.abs(a[(16 * 16 - 1) * 3] - 0x88)).toBeLessThanOrEqual(3);
    await data.CloseAsync();
  });

  it("pads instead of cropping, with the background colour, and honours --count", async () => {
    const result = await BuildDatasetAsync({
      source: `folder:${folder}`, res: 16, out: join(temp.dir, "pad"), fit: "pad", background: "#0000ff", count: 2, licence: "CC0", credits: "Studio art",
    });
    expect(result.manifest.count).toBe(2);
    expect(result.manifest.licence).toMatchObject({ name: "CC0", credits: "Studio art" });
    const data = await OpenDatasetAsync(result.dir);
    const a = await data.ReadImageAsync(0); // 300×200 padded top and bottom
    expect([a[0], a[1], a[2]]).toEqual([0, 0, 255]);
    const mid = (8 * 16 + 8) * 3;
    expect(Math.abs(a[mid] - 0x88)).toBeLessThanOrEqual(3);
    await data.CloseAsync();
  });

  it("is deterministic", async () => {
    const a = await BuildDatasetAsync({ source: `folder:${folder}`, res: 16, out: join(temp.dir, "det-a"), holdout: 0.34 });
    const b = await BuildDatasetAsync({ source: `folder:${folder}`, res: 16, out: join(temp.dir, "det-b"), holdout: 0.34 });
    expect(b.contentHash).toBe(a.contentHash);
    const ta = await ReadTreeAsync(a.dir);
    const tb = await ReadTreeAsync(b.dir);
    for (const [file, bytes] of ta) expect(bytes.equals(tb.get(file)!), file).toBe(true);
    expect(a.manifest.holdout.count).toBe(1);
  });
});
