/**
 * The packed form of a data set: `images.npy`, all images as one uint8 tensor of shape N×R×R×3 (NHWC, row-major)
 * in NumPy's `.npy` format (version 1.0: a 128-byte header, then the pixels), so Python opens it with
 * `numpy.load("images.npy", mmap_mode="r")`. A trainer reads image i at byte offset 128 + i·R·R·3 without decoding
 * anything, or streams the file in order. (Data sets made before hold `images.u8`, the same pixels without a header;
 * dataset.json's `packed.offset` says where the pixels start, 0 there.)
 *
 * {@link OpenDatasetAsync} reads a data set either from that file or from its PNG images, whichever is there.
 */
import { createHash, type Hash } from "node:crypto";
import { open, readFile, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { DatasetContentHash, ReadDatasetAsync, type DatasetManifest } from "./datasetManifest.js";
import { DecodePngRgb } from "./pngCodec.js";

/** Default file name of the packed tensor. */
export const PackedFileName = "images.npy";

/**
 * The content hashes the same data set had in earlier manifest forms: for one packed as `images.npy`, the hash it had
 * when data sets were packed headerless as `images.u8` (before 2026-12-05; same pixels, labels and split). A
 * checkpoint or model that records one of them was made from this data.
 */
export function FormerDatasetContentHashes(manifest: DatasetManifest): string[] {
  if (manifest.packed?.file !== PackedFileName) return [];
  const { offset: _offset, ...packed } = manifest.packed;
  return [DatasetContentHash({ ...manifest, packed: { ...packed, file: "images.u8" } } as DatasetManifest)];
}

/**
 * Bytes before the pixels: the `.npy` header, padded to a fixed size so that it can be written last (the image count
 * is known only at the end) and keeps the pixels 64-byte aligned as NumPy recommends.
 */
export const PackedHeaderBytes = 128;

/** The `.npy` (version 1.0) header of a uint8 N×R×R×3 array, exactly {@link PackedHeaderBytes} long. */
export function NpyHeader(count: number, res: number): Uint8Array {
  const dict = `{'descr': '|u1', 'fortran_order': False, 'shape': (${count}, ${res}, ${res}, 3), }`;
  const text = dict.padEnd(PackedHeaderBytes - 10 - 1, " ") + "\n";
  if (text.length !== PackedHeaderBytes - 10) throw new Error(`npy header too long for ${count} images of ${res}px`);
  const out = new Uint8Array(PackedHeaderBytes);
  out.set([0x93, ...new TextEncoder().encode("NUMPY"), 1, 0, text.length & 0xff, text.length >> 8], 0);
  out.set(new TextEncoder().encode(text), 10);
  return out;
}

/** Appends images to a packed file in order while hashing them; the `.npy` header is written on close. */
export class PackedDatasetWriter {
  private readonly hash: Hash = createHash("sha256");
  private bytes = 0;
  private count = 0;

  private constructor(
    private readonly handle: FileHandle,
    private readonly res: number,
  ) {}

  /** Creates (truncates) `path` for images of `res`×`res`×3 bytes. */
  static async CreateAsync(path: string, res: number): Promise<PackedDatasetWriter> {
    return new PackedDatasetWriter(await open(path, "w"), res);
  }

  /** Appends one image (exactly R·R·3 bytes). */
  async AppendAsync(rgb: Uint8Array): Promise<void> {
    const imageBytes = this.res * this.res * 3;
    if (rgb.length !== imageBytes) throw new Error(`packed image has ${rgb.length} bytes, expected ${imageBytes}`);
    await this.handle.write(rgb, 0, rgb.length, PackedHeaderBytes + this.bytes);
    this.hash.update(rgb);
    this.bytes += rgb.length;
    this.count++;
  }

  /** Writes the header, flushes and closes; returns the image count, the pixels' byte length and their SHA-256. */
  async CloseAsync(): Promise<{ count: number; byteLength: number; offset: number; sha256: string }> {
    await this.handle.write(NpyHeader(this.count, this.res), 0, PackedHeaderBytes, 0);
    await this.handle.sync();
    await this.handle.close();
    return { count: this.count, byteLength: this.bytes, offset: PackedHeaderBytes, sha256: this.hash.digest("hex") };
  }

  /** Closes without flushing (on failure). */
  async DiscardAsync(): Promise<void> {
    await this.handle.close().catch(() => undefined);
  }
}

/** Random access to a finished data set's pixels. */
export interface OpenedDataset {
  readonly manifest: DatasetManifest;
  readonly dir: string;
  readonly count: number;
  readonly resolution: number;
  /** "packed" when reading the packed tensor, "png" when decoding the image files. */
  readonly storage: "packed" | "png";
  /** Image `index` as R×R×3 RGB bytes. */
  ReadImageAsync(index: number): Promise<Uint8Array>;
  /** Images `start`..`start+count-1` as one N×R×R×3 buffer (one read from the packed file). */
  ReadBatchAsync(start: number, count: number): Promise<Uint8Array>;
  CloseAsync(): Promise<void>;
}

/**
 * Opens a data set folder (validated with {@link ReadDatasetAsync}); uses the packed file when the manifest
 * lists one (unless `preferPng`), else the PNG files.
 */
export async function OpenDatasetAsync(dir: string, options: { preferPng?: boolean } = {}): Promise<OpenedDataset> {
  const manifest = await ReadDatasetAsync(dir);
  const res = manifest.resolution;
  const imageBytes = res * res * 3;
  const check = (index: number, count = 1): void => {
    if (!Number.isInteger(index) || index < 0 || index + count > manifest.count || count < 0) {
      throw new RangeError(`images ${index}..${index + count - 1} outside 0..${manifest.count - 1}`);
    }
  };
  if (manifest.packed && !options.preferPng) {
    const handle = await open(join(dir, manifest.packed.file), "r");
    const size = (await handle.stat()).size;
    const { offset, byteLength } = manifest.packed;
    if (size !== offset + byteLength) {
      await handle.close();
      throw new Error(`${manifest.packed.file} has ${size} bytes, dataset.json says ${offset + byteLength}`);
    }
    const readBatch = async (start: number, count: number): Promise<Uint8Array> => {
      check(start, count);
      const out = new Uint8Array(count * imageBytes);
      const { bytesRead } = await handle.read(out, 0, out.length, offset + start * imageBytes);
      if (bytesRead !== out.length) throw new Error(`short read from ${manifest.packed!.file}`);
      return out;
    };
    return {
      manifest, dir, count: manifest.count, resolution: res, storage: "packed",
      ReadImageAsync: (index) => readBatch(index, 1),
      ReadBatchAsync: readBatch,
      CloseAsync: () => handle.close(),
    };
  }
  const readImage = async (index: number): Promise<Uint8Array> => {
    check(index);
    const entry = manifest.images[index];
    const png = DecodePngRgb(await readFile(join(dir, entry.file)));
    if (png.width !== res || png.height !== res) throw new Error(`${entry.file} is ${png.width}×${png.height}, expected ${res}×${res}`);
    return png.rgb;
  };
  return {
    manifest, dir, count: manifest.count, resolution: res, storage: "png",
    ReadImageAsync: readImage,
    async ReadBatchAsync(start: number, count: number): Promise<Uint8Array> {
      check(start, count);
      const out = new Uint8Array(count * imageBytes);
      for (let i = 0; i < count; i++) out.set(await readImage(start + i), i * imageBytes);
      return out;
    },
    CloseAsync: async () => undefined,
  };
}
