import { describe, expect, it } from "vitest";
import { FillStandardNormal, IsValidSeed, LatentFromSeed, NoiseFromSeed, NormalFromUint32, Philox4x32, PortableLog } from "@npc-faces/runtime";

const Bits = (values: Float32Array): string[] => Array.from(new Uint32Array(values.buffer, values.byteOffset, values.length), (x) => "0x" + x.toString(16).padStart(8, "0"));
const Hex = (values: Uint32Array): string[] => Array.from(values, (x) => x.toString(16).padStart(8, "0"));

describe("Philox4x32-10", () => {
  // Known-answer vectors from the Random123 distribution (kat_vectors, philox4x32 10 rounds).
  it("matches the Random123 known-answer tests", () => {
    const out = new Uint32Array(4);
    expect(Hex(Philox4x32(0, 0, 0, 0, 0, 0, out))).toEqual(["6627e8d5", "e169c58d", "bc57ac4c", "9b00dbd8"]);
    expect(Hex(Philox4x32(0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, out))).toEqual(["408f276d", "41c83b0e", "a20bc7c6", "6d5451fd"]);
    expect(Hex(Philox4x32(0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0, out))).toEqual(["d16cfe09", "94fdcceb", "5001e420", "24126ea1"]);
  });
});

describe("portable normal transform", () => {
  it("PortableLog agrees with Math.log to a few ulps", () => {
    for (const p of [1e-12, 2.3283064365386963e-10, 1e-6, 0.001, 0.02425, 0.3, 0.5, 0.7071, 0.9, 1]) {
      expect(Math.abs(PortableLog(p) - Math.log(p))).toBeLessThanOrEqual(4 * Number.EPSILON * Math.max(1, Math.abs(Math.log(p))));
    }
  });

  it("is antisymmetric and monotonic over the uint32 range", () => {
    let previous = -Infinity;
    for (let i = 0; i <= 4096; i++) {
      const x = Math.min(0xffffffff, i * 1048576);
      const v = NormalFromUint32(x);
      expect(v).toBeGreaterThan(previous);
      expect(NormalFromUint32(0xffffffff - x)).toBe(-v);
      previous = v;
    }
    expect(NormalFromUint32(0)).toBeCloseTo(-6.337958, 5); // the extreme reachable value: inverse CDF of 0.5 / 2^32
  });

  it("draws standard normal values (moments and tail mass)", () => {
    const n = 200_000;
    const values = FillStandardNormal(12345, 0, new Float32Array(n));
    let sum = 0;
    let sumSq = 0;
    let beyond2 = 0;
    for (const v of values) {
      sum += v;
      sumSq += v * v;
      if (Math.abs(v) > 1.959964) beyond2++;
    }
    expect(Math.abs(sum / n)).toBeLessThan(0.01);
    expect(Math.abs(sumSq / n - 1)).toBeLessThan(0.015);
    expect(Math.abs(beyond2 / n - 0.05)).toBeLessThan(0.003);
  });
});

describe("seed streams (golden vectors: the seed contract)", () => {
  // Changing any of these changes every face ever generated: never update them without a format version bump.
  it("seed -> z", () => {
    expect(Bits(LatentFromSeed(0, 8))).toEqual(["0xbe82fa50", "0x3f96bb4f", "0x3f2153b7", "0x3e88fdeb", "0x3ff51846", "0xbeb4ac05", "0x3f01cc4f", "0xbfe489aa"]);
    expect(Bits(LatentFromSeed(1, 8))).toEqual(["0x3f9d2c14", "0x3fa03c14", "0x3e5dc2f7", "0x3f0e9da7", "0x3ee41069", "0x3f92b1a2", "0xbd7abe99", "0x3ecdbf6b"]);
    expect(Bits(LatentFromSeed(42, 8))).toEqual(["0x3e92f728", "0xbda16e33", "0xbfb9dfa1", "0xbed1fa53", "0x400fe2b3", "0xbee5650f", "0x3d0ece30", "0xbdeb0a09"]);
    expect(Bits(LatentFromSeed(4294967295, 8))).toEqual(["0x3fe1c37e", "0x40044f7a", "0x3f438f4b", "0xbcba6044", "0x3d9c3a82", "0x3f894e9c", "0x3ebb3c1e", "0xbfe9b492"]);
  });

  it("seed -> noise map", () => {
    expect(Bits(NoiseFromSeed(7, 3, 2))).toEqual(["0xbd09e2a8", "0xc001417b", "0x3d8779c8", "0xbf735b96"]);
  });

  it("any window of a stream equals the same slice of the whole stream", () => {
    const whole = FillStandardNormal(5, 0, new Float32Array(9));
    expect(Bits(FillStandardNormal(5, 0, new Float32Array(3), 6))).toEqual(Bits(whole.subarray(6)));
    expect(Bits(LatentFromSeed(5, 4))).toEqual(Bits(whole.subarray(0, 4)));
  });

  it("streams and seeds are independent", () => {
    expect(Bits(LatentFromSeed(3, 8))).not.toEqual(Bits(LatentFromSeed(4, 8)));
    expect(Bits(NoiseFromSeed(3, 0, 2))).not.toEqual(Bits(NoiseFromSeed(3, 1, 2)));
  });

  it("rejects seeds outside 0..2^32-1", () => {
    for (const bad of [-1, 4294967296, 1.5, Number.NaN, Infinity]) {
      expect(IsValidSeed(bad)).toBe(false);
      expect(() => LatentFromSeed(bad, 4)).toThrow(/expected an integer in 0\.\.4294967295/);
    }
    expect(IsValidSeed(0)).toBe(true);
    expect(IsValidSeed(4294967295)).toBe(true);
  });
});
