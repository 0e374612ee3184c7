/**
 * Cheap image features for the evaluation checks: the image area-averaged down to a small square, RGB in
 * 0..1. Cheap enough to compute for every training image of a data set (19,000 at 64 px in a few seconds)
 * where the InceptionV3 features of `npc-faces metrics` would take hours on a CPU.
 */

/** Side length, resolution and channel count of a pixel-feature vector. */
export interface PixelFeatureLayout {
  /** Side of the downsampled square. */
  readonly res: number;
  /** Length of one vector: res·res·3. */
  readonly length: number;
}

/** The layout of features at `res`×`res`. */
export function MakePixelFeatureLayout(res: number): PixelFeatureLayout {
  if (!Number.isInteger(res) || res < 1) throw new Error(`feature resolution: expected a positive integer, got ${res}`);
  return { res, length: res * res * 3 };
}

/**
 * The largest feature side ≤ `wanted` that divides every image side in `sides` (so each feature pixel is the
 * mean of a whole block of image pixels, with no resampling filter to pick): for power-of-two sides, the
 * smallest side when that is below `wanted`.
 */
export function CommonFeatureRes(wanted: number, sides: readonly number[]): number {
  for (let res = Math.min(wanted, ...sides); res > 1; res--) if (sides.every((s) => s % res === 0)) return res;
  return 1;
}

/**
 * Writes the features of one image into `out` at `offset`: `pixels` is `side`×`side` with `channels` bytes per
 * pixel (3 = RGB, 4 = RGBA; alpha is ignored), averaged over (side/res)² blocks and scaled to 0..1.
 * @throws when `side` is not a multiple of the layout's resolution
 */
export function WritePixelFeatures(pixels: Uint8Array, side: number, channels: 3 | 4, layout: PixelFeatureLayout, out: Float32Array, offset = 0): void {
  const { res } = layout;
  if (side % res !== 0) throw new Error(`cannot average a ${side}×${side} image down to ${res}×${res} (not a multiple)`);
  if (pixels.length < side * side * channels) throw new Error(`image has ${pixels.length} bytes, expected ${side * side * channels}`);
  const block = side / res;
  const scale = 1 / (block * block * 255);
  for (let fy = 0; fy < res; fy++) {
    for (let fx = 0; fx < res; fx++) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (let y = fy * block; y < (fy + 1) * block; y++) {
        let p = (y * side + fx * block) * channels;
        for (let x = 0; x < block; x++, p += channels) {
          r += pixels[p];
          g += pixels[p + 1];
          b += pixels[p + 2];
        }
      }
      const o = offset + (fy * res + fx) * 3;
      out[o] = r * scale;
      out[o + 1] = g * scale;
      out[o + 2] = b * scale;
    }
  }
}

/** The features of one image as a new vector (see {@link WritePixelFeatures}). */
export function PixelFeatures(pixels: Uint8Array, side: number, channels: 3 | 4, layout: PixelFeatureLayout): Float32Array {
  const out = new Float32Array(layout.length);
  WritePixelFeatures(pixels, side, channels, layout, out);
  return out;
}
