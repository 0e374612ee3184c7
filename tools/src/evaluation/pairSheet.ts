/**
 * A side-by-side sheet of image pairs (e.g. generated face | nearest training image): `pairsPerRow` pairs per
 * row, the two images of a pair 2 px apart, pairs 12 px apart, so the eye reads them as pairs. Images of
 * different sizes are scaled (nearest pixel) to one cell size.
 */

/** One image of a pair: `side`×`side`, `channels` bytes per pixel (alpha ignored). */
export interface SheetImage {
  readonly pixels: Uint8Array;
  readonly side: number;
  readonly channels: 3 | 4;
}

/** Layout of {@link RenderPairSheet}. */
export interface PairSheetOptions {
  /** Pairs per row (default 4). */
  readonly pairsPerRow?: number;
  /** Cell side in pixels (default: the largest image side). */
  readonly cell?: number;
}

const InnerGap = 2;
const PairGap = 12;
const Border = 6;

/** Renders pairs into one RGB image on a white background. */
export function RenderPairSheet(pairs: readonly (readonly [SheetImage, SheetImage])[], options: PairSheetOptions = {}): { width: number; height: number; rgb: Uint8Array } {
  if (pairs.length === 0) throw new Error("pair sheet: no pairs");
  const perRow = Math.max(1, Math.min(pairs.length, options.pairsPerRow ?? 4));
  const cell = options.cell ?? Math.max(...pairs.flatMap((p) => p.map((image) => image.side)));
  const rows = Math.ceil(pairs.length / perRow);
  const pairWidth = 2 * cell + InnerGap;
  const width = 2 * Border + perRow * pairWidth + (perRow - 1) * PairGap;
  const height = 2 * Border + rows * cell + (rows - 1) * PairGap;
  const rgb = new Uint8Array(width * height * 3).fill(255);
  const draw = (image: SheetImage, x0: number, y0: number): void => {
    for (let y = 0; y < cell; y++) {
      const sy = Math.floor((y * image.side) / cell);
      for (let x = 0; x < cell; x++) {
        const sx = Math.floor((x * image.side) / cell);
        const s = (sy * image.side + sx) * image.channels;
        const d = ((y0 + y) * width + x0 + x) * 3;
        rgb[d] = image.pixels[s];
        rgb[d + 1] = image.pixels[s + 1];
        rgb[d + 2] = image.pixels[s + 2];
      }
    }
  };
  pairs.forEach(([left, right], i) => {
    const x0 = Border + (i % perRow) * (pairWidth + PairGap);
    const y0 = Border + Math.floor(i / perRow) * (cell + PairGap);
    draw(left, x0, y0);
    draw(right, x0 + cell + InnerGap, y0);
  });
  return { width, height, rgb };
}
