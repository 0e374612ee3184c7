/** Contact sheets: the first images of a data set in one grid PNG, for a person to look at. */
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { HexToRgb } from "./colourLabels.js";
import { DescribeFsError } from "./datasetWriter.js";
import { OpenDatasetAsync } from "./packedDataset.js";
import { EncodePng } from "./pngCodec.js";

/** Layout of a contact sheet. */
export interface ContactSheetOptions {
  /** Most images shown (default 64). */
  maxImages?: number;
  /** Columns (default: ceil(sqrt(images))). */
  columns?: number;
  /** Gap between cells in pixels (default 2). */
  gap?: number;
  /** Gap colour (default white). */
  gapColour?: string;
}

/** Size of the grid for `images` cells of `res` px. */
export function ContactSheetSize(images: number, res: number, options: ContactSheetOptions = {}): { columns: number; rows: number; width: number; height: number } {
  const gap = options.gap ?? 2;
  const columns = Math.max(1, Math.min(images, options.columns ?? Math.ceil(Math.sqrt(images))));
  const rows = Math.max(1, Math.ceil(images / columns));
  return { columns, rows, width: columns * res + (columns + 1) * gap, height: rows * res + (rows + 1) * gap };
}

/** Lays out R×R×3 images into one RGB grid. */
export function RenderContactSheet(images: Uint8Array[], res: number, options: ContactSheetOptions = {}): { width: number; height: number; rgb: Uint8Array } {
  const gap = options.gap ?? 2;
  const { columns, width, height } = ContactSheetSize(images.length, res, options);
  const rgb = new Uint8Array(width * height * 3);
  const [r, g, b] = HexToRgb(options.gapColour ?? "#ffffff");
  for (let p = 0; p < width * height; p++) {
    rgb[p * 3] = r;
    rgb[p * 3 + 1] = g;
    rgb[p * 3 + 2] = b;
  }
  images.forEach((image, i) => {
    const x0 = gap + (i % columns) * (res + gap);
    const y0 = gap + Math.floor(i / columns) * (res + gap);
    for (let y = 0; y < res; y++) rgb.set(image.subarray(y * res * 3, (y + 1) * res * 3), ((y0 + y) * width + x0) * 3);
  });
  return { width, height, rgb };
}

/** Writes a contact sheet of the data set in `datasetDir` to `outFile` (PNG, written atomically). */
export async function WriteContactSheetAsync(
  datasetDir: string,
  outFile: string,
  options: ContactSheetOptions = {},
): Promise<{ file: string; width: number; height: number; images: number }> {
  const dataset = await OpenDatasetAsync(datasetDir);
  try {
    const shown = Math.min(dataset.count, options.maxImages ?? 64);
    const pixels = await dataset.ReadBatchAsync(0, shown);
    const bytes = dataset.resolution * dataset.resolution * 3;
    const images = Array.from({ length: shown }, (_, i) => pixels.subarray(i * bytes, (i + 1) * bytes));
    const sheet = RenderContactSheet(images, dataset.resolution, options);
    const file = resolve(outFile);
    const tmp = `${file}.tmp-${process.pid}`;
    try {
      await mkdir(dirname(file), { recursive: true });
      await writeFile(tmp, EncodePng(sheet.rgb, sheet.width, sheet.height, 3));
      await rename(tmp, file);
    } catch (error) {
      await rm(tmp, { force: true });
      throw new Error(`cannot write contact sheet ${file}: ${DescribeFsError(error)}`);
    }
    return { file, width: sheet.width, height: sheet.height, images: shown };
  } finally {
    await dataset.CloseAsync();
  }
}
