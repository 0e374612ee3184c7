/**
 * The packed form of a data set: `images.u8`, all images as one uint8 tensor of shape N×R×R×3 (NHWC,
 * row-major, no header; the shape is in dataset.json). A trainer can read image i at byte offset
 * i·R·R·3 without decoding anything, or stream the file in order.
 *
 * {@link OpenDatasetAsync} reads a data set either from that file or from its PNG images, whichever is there.
 */
import { createHash, type Hash } from "node:crypto";
import { open, readFile, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { ReadDatasetAsync, type DatasetManifest } from "./datasetManifest.js";
import { DecodePngRgb } from "./pngCodec.js";

/** Default file name of the packed tensor. */
export const PackedFileName = "images.u8";

/** Appends images to a packed file in order while hashing them. */
export class PackedDatasetWriter {
  private readonly hash: Hash = createHash("sha256");
  private bytes = 0;
  private count = 0;

  private constructor(
    private readonly handle: FileHandle,
    private readonly imageBytes: number,
  ) {}

  /** Creates (truncates) `path` for images of `res`×`res`×3 bytes. */
  static async CreateAsync(path: string, res: number): Promise<PackedDatasetWriter> {
    return new PackedDatasetWriter(await open(path, "w"), res * res * 3);
  }

  /** Appends one image (exactly R·R·3 bytes). */
  async AppendAsync(rgb: Uint8Array): Promise<void> {
    if (rgb.length !== this.imageBytes) throw new Error(`packed image has ${rgb.length} bytes, expected ${this.imageBytes}`);
    await this.handle.write(rgb, 0, rgb.length, this.bytes);
    this.hash.update(rgb);
    this.bytes += rgb.length;
    this.count++;
  }

  /** Flushes and closes; returns the image count, byte length and SHA-256. */
  async CloseAsync(): Promise<{ count: number; byteLength: number; sha256: string }> {
    await this.handle.sync();
    await this.handle.close();
    return { count: this.count, byteLength: this.bytes, sha256: this.hash.digest("hex") };
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
  /** "packed" when reading images.u8, "png" when decoding the image files. */
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
    if (size !== manifest.packed.byteLength) {
      await handle.close();
      throw new Error(`${manifest.packed.file} has ${size} bytes, dataset.json says ${manifest.packed.byteLength}`);
    }
    const readBatch = async (start: number, count: number): Promise<Uint8Array> => {
      check(start, count);
      const out = new Uint8Array(count * imageBytes);
      const { bytesRead } = await handle.read(out, 0, out.length, start * imageBytes);
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
