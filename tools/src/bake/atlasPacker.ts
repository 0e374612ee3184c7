/**
 * Texture atlases: equal-size faces packed on a fixed grid into W x H pages, in id order, each face surrounded
 * by a gutter that repeats its edge pixels (so bilinear filtering at a face's border samples the face, never its
 * neighbour). The JSON gives every NPC its page, its pixel rectangle and the UV transform of a Babylon.js
 * `Texture` (`uOffset`, `vOffset`, `uScale`, `vScale` for the default `invertY = true`). See docs/baking.md.
 */
import type { RgbaImage } from "./pngProvenance.js";
import type { NpcFaceAtlasRect } from "@npc-faces/babylon";

/** Gutter around each face in pixels (edge extrusion). */
export const AtlasGutter = 2;
/** Largest page side accepted (GPU limits: 16384 on desktop, 4096 on many mobiles). */
export const MaxAtlasSide = 16384;
/** Value of the atlas JSON's `format` field. */
export const AtlasFormatName = "npc-faces-atlas";
/** File name of the atlas JSON. */
export const AtlasJsonFileName = "atlas.json";

/** Page size in pixels. */
export interface AtlasSize {
  readonly width: number;
  readonly height: number;
}

/** A bad `--atlas` value, or a page too small for one face. */
export class AtlasError extends Error {
  override readonly name = "AtlasError";
}

/**
 * Parses `WxH` (e.g. `1024x1024`).
 * @throws AtlasError
 */
export function ParseAtlasSize(text: string): AtlasSize {
  const match = /^\s*(\d+)\s*[xX×]\s*(\d+)\s*$/.exec(text);
  if (!match) throw new AtlasError(`expected WIDTHxHEIGHT in pixels, e.g. 1024x1024, got "${text}"`);
  const width = Number(match[1]);
  const height = Number(match[2]);
  for (const side of [width, height]) {
    if (side < 1 || side > MaxAtlasSide) throw new AtlasError(`page side ${side} is out of range 1..${MaxAtlasSide}`);
  }
  return { width, height };
}

/** Where one face sits, and its Babylon UV transform: the plugin's atlas reader defines the format. */
export type AtlasRect = NpcFaceAtlasRect;

/** The atlas JSON document. */
export interface AtlasDocument {
  readonly format: typeof AtlasFormatName;
  readonly formatVersion: 1;
  /** Side of each face in pixels. */
  readonly faceSize: number;
  readonly gutter: number;
  /** How the UV fields are meant: Babylon `Texture` with `invertY: true`, uv' = uv * scale + offset. */
  readonly uvConvention: "babylon-invertY";
  readonly pages: readonly { readonly file: string; readonly width: number; readonly height: number; readonly sha256: string }[];
  /** By NPC id, in id order. */
  readonly faces: Readonly<Record<string, AtlasRect>>;
}

/** A grid layout of faces over pages. */
export interface AtlasLayout {
  readonly size: AtlasSize;
  readonly faceSize: number;
  readonly columns: number;
  readonly rows: number;
  readonly pageCount: number;
  /** By id, in the order given. */
  readonly rects: ReadonlyMap<string, AtlasRect>;
}

/** File name of page `page`. */
export function AtlasPageFileName(page: number): string {
  return `atlas-${page}.png`;
}

/**
 * Lays out `ids` (already in their final order) on a grid: row-major within a page, then the next page.
 * Deterministic: the same ids and sizes give the same layout.
 * @throws AtlasError when a page cannot hold one face with its gutter
 */
export function PlanAtlas(size: AtlasSize, faceSize: number, ids: readonly string[], gutter = AtlasGutter): AtlasLayout {
  const cell = faceSize + 2 * gutter;
  const columns = Math.floor(size.width / cell);
  const rows = Math.floor(size.height / cell);
  if (columns < 1 || rows < 1) {
    throw new AtlasError(`a ${size.width}x${size.height} page is too small for one ${faceSize}x${faceSize} face with its ${gutter} px gutter (needs at least ${cell}x${cell})`);
  }
  const perPage = columns * rows;
  const rects = new Map<string, AtlasRect>();
  ids.forEach((id, i) => {
    const page = Math.floor(i / perPage);
    const slot = i % perPage;
    const x = (slot % columns) * cell + gutter;
    const y = Math.floor(slot / columns) * cell + gutter;
    rects.set(id, {
      page,
      x,
      y,
      width: faceSize,
      height: faceSize,
      uOffset: x / size.width,
      vOffset: 1 - (y + faceSize) / size.height,
      uScale: faceSize / size.width,
      vScale: faceSize / size.height,
    });
  });
  return { size, faceSize, columns, rows, pageCount: Math.ceil(ids.length / perPage), rects };
}

/**
 * Draws one page: every face of the page at its rectangle, its edge pixels repeated across the gutter;
 * everything else transparent black.
 */
export function RenderAtlasPage(layout: AtlasLayout, page: number, faces: ReadonlyMap<string, RgbaImage>, gutter = AtlasGutter): RgbaImage {
  const { width, height } = layout.size;
  const out = new Uint8Array(width * height * 4);
  const s = layout.faceSize;
  for (const [id, rect] of layout.rects) {
    if (rect.page !== page) continue;
    const face = faces.get(id);
    if (!face) throw new Error(`atlas: no image for "${id}"`);
    if (face.width !== s || face.height !== s) throw new Error(`atlas: "${id}" is ${face.width}x${face.height}, expected ${s}x${s}`);
    for (let dy = -gutter; dy < s + gutter; dy++) {
      const sy = Math.min(s - 1, Math.max(0, dy));
      const row = (rect.y + dy) * width;
      for (let dx = -gutter; dx < s + gutter; dx++) {
        const sx = Math.min(s - 1, Math.max(0, dx));
        const src = (sy * s + sx) * 4;
        const dst = (row + rect.x + dx) * 4;
        out[dst] = face.data[src];
        out[dst + 1] = face.data[src + 1];
        out[dst + 2] = face.data[src + 2];
        out[dst + 3] = face.data[src + 3];
      }
    }
  }
  return { width, height, data: out };
}
