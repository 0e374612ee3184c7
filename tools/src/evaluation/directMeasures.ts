/**
 * Direct measurements of attributes on facesjs-style faces: fixed pixel regions, nothing fitted. They back up the
 * linear probes where a model draws an attribute differently from the data — a soft dark band for glasses, a soft
 * darkening for a beard — which a probe fitted on crisp facesjs lines can misread. Each measurement rises with
 * its label column; `control-check` reports its correlation with the label on held-out data images, so a data
 * set where the regions miss the attribute shows it.
 *  - skin_tone: the cheek lightness (cheekLightness.ts);
 *  - glasses: how much darker the nose bridge at eye height is than the cheeks (a frame's bridge crosses it);
 *  - facial_hair: how much darker the mouth surroundings are than the cheeks (beard, moustache).
 */
import { CheekLightness, RegionLightnesses, type ImageRegion } from "./cheekLightness.js";

/** One direct measurement of a label column. */
export interface DirectMeasure {
  /** What is measured, for reports (e.g. "cheek lightness"). */
  readonly name: string;
  /** The label column it measures. */
  readonly column: string;
  /** The measurement (CIE L* / 100 units) of a `side`×`side` image with `channels` bytes per pixel. */
  readonly measure: (pixels: Uint8Array, side: number, channels: 3 | 4) => number;
}

/** The nose bridge at eye height (64 px: x 29–34, y 26–32). */
export const BridgeRegion: ImageRegion = { x0: 29 / 64, x1: 35 / 64, y0: 26 / 64, y1: 33 / 64 };
/** The mouth and chin surroundings (64 px: x 22–41, y 48–55). */
export const MouthRegion: ImageRegion = { x0: 22 / 64, x1: 42 / 64, y0: 48 / 64, y1: 56 / 64 };

/** Mean lightness (CIE L* / 100) over a region of a `side`×`side` image (at least one pixel). */
export function RegionLightness(pixels: Uint8Array, side: number, channels: 3 | 4, region: ImageRegion): number {
  const values = RegionLightnesses(pixels, side, channels, region);
  return values.reduce((sum, v) => sum + v, 0) / values.length;
}

/** How much darker a region is than the cheeks (CIE L* / 100; positive = darker). */
export function RegionDarkness(pixels: Uint8Array, side: number, channels: 3 | 4, region: ImageRegion): number {
  return CheekLightness(pixels, side, channels) - RegionLightness(pixels, side, channels, region);
}

/** The direct measurements, one per label column they measure. */
export const DirectMeasures: readonly DirectMeasure[] = [
  { name: "cheek lightness", column: "skin_tone", measure: CheekLightness },
  { name: "bridge darkness", column: "glasses", measure: (pixels, side, channels) => RegionDarkness(pixels, side, channels, BridgeRegion) },
  { name: "mouth-area darkness", column: "facial_hair", measure: (pixels, side, channels) => RegionDarkness(pixels, side, channels, MouthRegion) },
];

/** The direct measurement of a label column, if there is one. */
export function DirectMeasureOf(column: string): DirectMeasure | undefined {
  return DirectMeasures.find((m) => m.column === column);
}
