/**
 * Seeds to numbers (contract, see docs/seeds.md). A seed is an unsigned 32-bit integer. Value i of stream s
 * for seed k is NormalFromUint32(Philox4x32(counter = [floor(i / 4), 0, 0, 0], key = [k, s])[i mod 4]),
 * rounded to float32.
 */
import { NormalFromUint32 } from "./normalDistribution.js";
import { Philox4x32 } from "./philox.js";

/** Stream ids (the second Philox key word). Ranges are reserved so that no two uses overlap. */
export const SeedStream = {
  /** The latent z of a face. */
  Latent: 0,
  /** Noise map of synthesis layer `layer` (0-based): stream 1 + layer, up to 0xffff. */
  Noise: (layer: number): number => 1 + layer,
  /** Initial value of generator/discriminator parameter number `index` (trainer): 0x10000 + index. */
  ParameterInit: (index: number): number => 0x10000 + index,
  /** Trainer's own draws (batches, augmentation, ...): 0x1000000 + purpose, purpose < 0x1000000. */
  Training: (purpose: number): number => 0x1000000 + purpose,
  /** A conditional model's per-face label draws (one uniform per label attribute, in metadata order). */
  Labels: 0x2000000,
} as const;

/** Largest valid seed. */
export const MaxSeed = 0xffffffff;

/** True for integers in 0..2^32-1. */
export function IsValidSeed(seed: unknown): seed is number {
  return typeof seed === "number" && Number.isInteger(seed) && seed >= 0 && seed <= MaxSeed;
}

/** Throws a clear error unless `seed` is an integer in 0..4294967295. */
export function AssertValidSeed(seed: unknown, what = "seed"): asserts seed is number {
  if (!IsValidSeed(seed)) throw new RangeError(`${what}: expected an integer in 0..${MaxSeed}, got ${String(seed)}`);
}

/**
 * Fills `out` with standard normal values of (seed, stream), starting at value index `start`.
 * @returns out
 */
export function FillStandardNormal(seed: number, stream: number, out: Float32Array, start = 0): Float32Array {
  AssertValidSeed(seed);
  const block = new Uint32Array(4);
  const key1 = stream >>> 0;
  let i = 0;
  while (i < out.length) {
    const index = start + i;
    const counter = Math.floor(index / 4);
    Philox4x32(counter >>> 0, Math.floor(counter / 4294967296) >>> 0, 0, 0, seed, key1, block);
    for (let lane = index % 4; lane < 4 && i < out.length; lane++, i++) out[i] = NormalFromUint32(block[lane]);
  }
  return out;
}

/**
 * Fills `out` with uniform values in (0, 1) of (seed, stream): value i is (x + 0.5) / 2^32 for the Philox word x
 * of index i (as {@link FillStandardNormal}), exact in float64.
 * @returns out
 */
export function FillUniform(seed: number, stream: number, out: Float64Array): Float64Array {
  AssertValidSeed(seed);
  const block = new Uint32Array(4);
  for (let i = 0; i < out.length; i++) {
    if (i % 4 === 0) Philox4x32(Math.floor(i / 4) >>> 0, 0, 0, 0, seed, stream >>> 0, block);
    out[i] = (block[i % 4] + 0.5) / 4294967296;
  }
  return out;
}

/** The latent z (length zDim) of a seed. */
export function LatentFromSeed(seed: number, zDim: number): Float32Array {
  return FillStandardNormal(seed, SeedStream.Latent, new Float32Array(zDim));
}

/** The noise map of synthesis layer `layer` (r x r values, row-major) for a seed. */
export function NoiseFromSeed(seed: number, layer: number, resolution: number): Float32Array {
  return FillStandardNormal(seed, SeedStream.Noise(layer), new Float32Array(resolution * resolution));
}
