import { describe, expect, it } from "vitest";
import { CreateSeededRandom } from "../../src/dataset/seededRandom.js";
import { FindNearest, SummariseDistances } from "../../src/evaluation/nearestNeighbours.js";
import { CommonFeatureRes, MakePixelFeatureLayout, PixelFeatures } from "../../src/evaluation/pixelFeatures.js";
import { CheekLightness, CheekPatches } from "../../src/evaluation/cheekLightness.js";
import { ColourLightness, SrgbLightness } from "../../src/dataset/colourLabels.js";

/** Deterministic uniform numbers in [0, 1): the data-set tools' seeded generator. */
const Random = CreateSeededRandom;

function Naive(references: Float32Array, length: number, query: Float32Array): { index: number; distance: number } {
  let best = { index: -1, distance: Number.POSITIVE_INFINITY };
  for (let row = 0; row < references.length / length; row++) {
    let sum = 0;
    for (let j = 0; j < length; j++) sum += (references[row * length + j] - query[j]) ** 2;
    const distance = Math.sqrt(sum / length);
    if (distance < best.distance) best = { index: row, distance };
  }
  return best;
}

describe("nearest neighbour", () => {
  const length = 300;
  const rows = 400;
  const random = Random(7);
  const references = Float32Array.from({ length: rows * length }, () => random());

  it("finds a planted exact copy at distance 0", () => {
    const query = references.slice(317 * length, 318 * length);
    expect(FindNearest(references, length, query)).toEqual({ index: 317, distance: 0 });
  });

  it("is not fooled by order: the same image wins wherever it sits, and a near decoy placed first does not", () => {
    const target = references.slice(123 * length, 124 * length);
    const query = Float32Array.from(target, (v, j) => v + (j % 2 === 0 ? 0.01 : -0.01));
    // A decoy a little farther from the query than the target, put at row 0 so it is seen first.
    const decoy = Float32Array.from(target, (v, j) => v + (j % 2 === 0 ? 0.03 : -0.03));
    const permutation = Array.from({ length: rows }, (_, i) => i).sort(() => random() - 0.5);
    const shuffled = new Float32Array(references.length);
    permutation.forEach((from, to) => shuffled.set(references.subarray(from * length, (from + 1) * length), to * length));
    shuffled.set(decoy, 0);
    const found = FindNearest(shuffled, length, query);
    expect(permutation[found.index]).toBe(123);
    expect(found.distance).toBeCloseTo(0.01, 5);
    // Put the target last instead: still found.
    const last = Float32Array.from(references);
    last.set(target, (rows - 1) * length);
    last.set(references.subarray((rows - 1) * length), 123 * length);
    expect(FindNearest(last, length, query).index).toBe(rows - 1);
  });

  it("agrees with a naive full search (the early exit changes nothing)", () => {
    for (let k = 0; k < 10; k++) {
      const query = Float32Array.from({ length }, () => random());
      const fast = FindNearest(references, length, query);
      const slow = Naive(references, length, query);
      expect(fast.index).toBe(slow.index);
      expect(fast.distance).toBeCloseTo(slow.distance, 5);
    }
  });

  it("rejects mismatched sizes", () => {
    expect(() => FindNearest(references, length, new Float32Array(3))).toThrow(/expected 300/);
    expect(() => FindNearest(new Float32Array(0), length, new Float32Array(length))).toThrow(/rows/);
  });

  it("summaries: median of odd and even counts, min, max", () => {
    expect(SummariseDistances([3, 1, 2])).toEqual({ count: 3, min: 1, median: 2, mean: 2, max: 3 });
    expect(SummariseDistances([4, 1, 2, 3]).median).toBe(2.5);
  });
});

describe("pixel features", () => {
  it("average whole blocks, ignore alpha, and scale to 0..1", () => {
    // 4×4 RGBA: the top-left 2×2 block is (255, 0, 51), the rest 0; alpha varies.
    const rgba = new Uint8Array(4 * 4 * 4);
    for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) {
      const p = (y * 4 + x) * 4;
      if (x < 2 && y < 2) rgba.set([255, 0, 51], p);
      rgba[p + 3] = x * 60;
    }
    const features = PixelFeatures(rgba, 4, 4, MakePixelFeatureLayout(2));
    expect([...features].map((v) => Math.round(v * 1000) / 1000)).toEqual([1, 0, 0.2, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect([...PixelFeatures(rgba, 4, 4, MakePixelFeatureLayout(1))].map((v) => Math.round(v * 1000) / 1000)).toEqual([0.25, 0, 0.05]);
    expect(() => PixelFeatures(rgba, 4, 4, MakePixelFeatureLayout(3))).toThrow(/not a multiple/);
  });

  it("common feature size divides every side", () => {
    expect(CommonFeatureRes(32, [64, 256])).toBe(32);
    expect(CommonFeatureRes(32, [64, 16])).toBe(16);
    expect(CommonFeatureRes(16, [48, 64])).toBe(16);
  });
});

describe("cheek lightness", () => {
  const side = 64;
  const Fill = (rgb: [number, number, number]): Uint8Array => {
    const image = new Uint8Array(side * side * 3);
    for (let p = 0; p < side * side; p++) image.set(rgb, p * 3);
    return image;
  };

  it("is the L* / 100 of the skin colour, as the skin_tone label", () => {
    const skin: [number, number, number] = [0xad, 0x64, 0x53];
    expect(CheekLightness(Fill(skin), side, 3)).toBeCloseTo(ColourLightness("#ad6453"), 4);
    expect(SrgbLightness(255, 255, 255)).toBeCloseTo(1, 6);
    expect(SrgbLightness(0, 0, 0)).toBe(0);
  });

  it("ignores a few non-skin pixels in the patches (median), but follows the skin", () => {
    const image = Fill([0xf0, 0xc5, 0xa3]);
    const patch = CheekPatches[0];
    // A dark outline across one patch row.
    const y = Math.floor(patch.y0 * side);
    for (let x = Math.floor(patch.x0 * side); x < Math.round(patch.x1 * side); x++) image.set([0, 0, 0], (y * side + x) * 3);
    expect(CheekLightness(image, side, 3)).toBeCloseTo(ColourLightness("#f0c5a3"), 4);
    expect(CheekLightness(Fill([0x5c, 0x39, 0x37]), side, 3)).toBeLessThan(CheekLightness(image, side, 3));
  });
});
