/**
 * Where the tiles of a sheet go, and drawing them: tiles at native size times an integer scale (nearest
 * neighbour, so every face pixel stays a visible square), a thin gap of neutral grey between tiles and around
 * the edge, and a wider gap between blocks. No text: the legend JSON says what is where.
 */
import type { RgbaImage } from "../bake/pngProvenance.js";
import { SheetInputError, type SheetPlan } from "./sheetPlan.js";

/** Largest width or height of a sheet (an 8192x8192 RGBA sheet is 256 MiB in memory). */
export const MaxSheetSide = 8192;
/** Colour of the gaps and of empty tiles: mid grey, neutral against any skin or hair colour. */
export const SheetBackground = { r: 128, g: 128, b: 128, hex: "#808080" } as const;
/** Largest `scale`. */
export const MaxSheetScale = 16;
/** Largest `gap`. */
export const MaxSheetGap = 64;

/** Options of {@link LayoutSheet}. */
export interface SheetLayoutOptions {
  /** Side of a face in the model, pixels. */
  readonly resolution: number;
  /** Integer magnification of every face (default 1). */
  readonly scale?: number;
  /** Pixels between tiles and around the edge (default 2). */
  readonly gap?: number;
}

/** Pixel geometry of a sheet. Tile (row r, column c) of block b has its top-left corner at
 * `(blocks[b].x + c * (tile + gap), blocks[b].y + r * (tile + gap))`. */
export interface SheetGeometry {
  readonly width: number;
  readonly height: number;
  /** Side of a tile: resolution x scale. */
  readonly tile: number;
  readonly scale: number;
  readonly gap: number;
  /** Pixels between the last row of a block and the first row of the next. */
  readonly blockGap: number;
  /** Top-left corner of each block's first tile. */
  readonly blocks: readonly { readonly x: number; readonly y: number }[];
}

/**
 * Computes the geometry of a plan.
 * @throws SheetInputError (`scale`, `gap`, or `layout` when the sheet would exceed {@link MaxSheetSide})
 */
export function LayoutSheet(plan: SheetPlan, options: SheetLayoutOptions): SheetGeometry {
  const scale = options.scale ?? 1;
  const gap = options.gap ?? 2;
  if (!Number.isInteger(scale) || scale < 1 || scale > MaxSheetScale) throw new SheetInputError("scale", `expected an integer in 1..${MaxSheetScale}, got ${scale}`);
  if (!Number.isInteger(gap) || gap < 0 || gap > MaxSheetGap) throw new SheetInputError("gap", `expected an integer in 0..${MaxSheetGap}, got ${gap}`);
  if (plan.blocks.length === 0) throw new SheetInputError("layout", "the sheet has no blocks");
  const tile = options.resolution * scale;
  // Wide enough to see where a block ends even with --gap 0.
  const blockGap = Math.max(2 * gap, Math.round(tile / 4));
  const blocks: { x: number; y: number }[] = [];
  let y = gap;
  let columns = 0;
  for (const block of plan.blocks) {
    if (block.rows.length === 0 || block.columns.length === 0) throw new SheetInputError("layout", `block "${block.title}" is empty`);
    blocks.push({ x: gap, y });
    y += block.rows.length * (tile + gap) - gap + blockGap;
    columns = Math.max(columns, block.columns.length);
  }
  const height = y - blockGap + gap;
  const width = gap + columns * (tile + gap);
  if (width > MaxSheetSide || height > MaxSheetSide) {
    throw new SheetInputError("layout", `the sheet would be ${width}x${height} pixels, more than ${MaxSheetSide} on a side: use fewer seeds, steps or columns, or a smaller --scale`);
  }
  return { width, height, tile, scale, gap, blockGap, blocks };
}

/**
 * Draws a sheet: the background, then each non-empty tile's face scaled by nearest neighbour.
 * @param faceOf the generated face of a cell's request (resolution x resolution RGBA)
 */
export function ComposeSheet(plan: SheetPlan, geometry: SheetGeometry, faceOf: (block: number, row: number, column: number) => RgbaImage): RgbaImage {
  const { width, height, tile, scale, gap } = geometry;
  const data = new Uint8Array(width * height * 4);
  for (let p = 0; p < data.length; p += 4) {
    data[p] = SheetBackground.r;
    data[p + 1] = SheetBackground.g;
    data[p + 2] = SheetBackground.b;
    data[p + 3] = 255;
  }
  const scaledRow = new Uint8Array(tile * 4);
  plan.blocks.forEach((block, b) => {
    const origin = geometry.blocks[b];
    block.cells.forEach((row, r) => {
      row.forEach((cell, c) => {
        if (cell === null) return;
        const face = faceOf(b, r, c);
        if (face.width * scale !== tile || face.height * scale !== tile) throw new RangeError(`face of block ${b + 1}, row ${r + 1}, column ${c + 1} is ${face.width}x${face.height}, expected ${tile / scale}`);
        const x0 = origin.x + c * (tile + gap);
        const y0 = origin.y + r * (tile + gap);
        for (let sy = 0; sy < face.height; sy++) {
          const source = face.data.subarray(sy * face.width * 4, (sy + 1) * face.width * 4);
          let line: Uint8Array = source;
          if (scale > 1) {
            for (let sx = 0; sx < face.width; sx++) {
              for (let k = 0; k < scale; k++) scaledRow.set(source.subarray(sx * 4, sx * 4 + 4), (sx * scale + k) * 4);
            }
            line = scaledRow;
          }
          for (let k = 0; k < scale; k++) data.set(line, ((y0 + sy * scale + k) * width + x0) * 4);
        }
      });
    });
  });
  return { width, height, data };
}
