/**
 * A folder of the user's own images (PNG, JPEG, WebP, any size) as a data-set source.
 *
 * Files are found recursively and sorted by path so the order never depends on the file system. Each is
 * auto-oriented (EXIF), flattened onto the background, centre-cropped (or padded) to a square and resized
 * with the Lanczos-3 filter. Unreadable and tiny files are reported as skipped; exact duplicates are
 * detected from the file bytes' hash by the builder (first one in path order kept).
 */
import { createHash } from "node:crypto";
import { readdir, readFile, stat } from "node:fs/promises";
import { join, relative, resolve, sep } from "node:path";
import { HexToRgb } from "./colourLabels.js";
import { ResolveBackground, type DatasetSource, type DatasetSourceInfo, type RenderOutcome, type SourceSpec } from "./datasetSources.js";
import { PackageVersion } from "./packageVersions.js";

/** File extensions read from a folder (case-insensitive). */
export const FolderImageExtensions = [".png", ".jpg", ".jpeg", ".webp"];

/** Default smallest accepted side in pixels; smaller images are skipped as "tiny". */
export const DefaultMinImageSize = 32;

/** Lists the image files under `root` (recursively, hidden entries skipped) as sorted `/`-separated paths. */
export async function ScanImageFolderAsync(root: string): Promise<string[]> {
  let info;
  try {
    info = await stat(root);
  } catch {
    throw new Error(`image folder not found: ${root}`);
  }
  if (!info.isDirectory()) throw new Error(`not a folder: ${root}`);
  const files: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (entry.name.startsWith(".")) continue;
      const full = join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile() && FolderImageExtensions.some((ext) => entry.name.toLowerCase().endsWith(ext))) {
        files.push(relative(root, full).split(sep).join("/"));
      }
    }
  };
  await walk(resolve(root));
  // Plain code-unit order: the same on every platform and locale.
  return files.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Creates the folder source from a scanned spec (loads sharp, only now: it is a large native module). */
export async function CreateFolderSourceAsync(
  spec: Extract<SourceSpec, { kind: "folder" }>,
  licence?: { name?: string; credits?: string },
): Promise<DatasetSource> {
  const sharp = (await import("sharp")).default;
  const info: DatasetSourceInfo = {
    spec: `folder:${spec.root}`,
    kind: "folder",
    title: `image folder ${spec.root}`,
    licence: {
      name: licence?.name ?? "unknown (user-supplied images)",
      url: null,
      credits: licence?.credits ?? "Images from a user-supplied folder; make sure you may use them for training.",
      attributionRequired: false,
    },
    versions: { sharp: PackageVersion("sharp"), libvips: sharp.versions.vips },
    labelSchema: { categorical: {}, numeric: {} },
  };
  return {
    info,
    available: spec.files.length,
    async renderAsync(index: number, seed: number, res: number): Promise<RenderOutcome> {
      const origin = spec.files[index];
      const bg = ResolveBackground(spec.background, seed);
      const [r, g, b] = HexToRgb(bg);
      let bytes: Buffer;
      try {
        bytes = await readFile(join(spec.root, origin));
      } catch (error) {
        return { ok: false, reason: "unreadable", origin, detail: (error as Error).message };
      }
      try {
        const meta = await sharp(bytes).metadata();
        // autoOrient gives the displayed size (EXIF rotations swap width and height).
        const width = meta.autoOrient?.width ?? meta.width;
        const height = meta.autoOrient?.height ?? meta.height;
        if (!width || !height) return { ok: false, reason: "unreadable", origin, detail: "no image size" };
        if (Math.min(width, height) < spec.minSize) {
          return { ok: false, reason: "tiny", origin, detail: `${width}×${height} is smaller than ${spec.minSize} px` };
        }
        const { data, info: out } = await sharp(bytes)
          .rotate()
          .flatten({ background: { r, g, b } })
          .resize(res, res, {
            fit: spec.fit === "crop" ? "cover" : "contain",
            position: "centre",
            kernel: "lanczos3",
            background: { r, g, b, alpha: 1 },
          })
          .removeAlpha()
          .toColourspace("srgb")
          .raw({ depth: "uchar" })
          .toBuffer({ resolveWithObject: true });
        if (out.width !== res || out.height !== res || out.channels !== 3) {
          throw new Error(`resized to ${out.width}×${out.height}×${out.channels}`);
        }
        const labels: Record<string, string> = spec.background === "seeded" ? { background: bg } : {};
        return {
          ok: true,
          image: { rgb: new Uint8Array(data), labels, numeric: {}, origin, sourceHash: createHash("sha256").update(bytes).digest("hex") },
        };
      } catch (error) {
        return { ok: false, reason: "unreadable", origin, detail: (error as Error).message.split("\n")[0] };
      }
    },
  };
}
