/**
 * Small seeded pseudo-random numbers for data-set generation.
 *
 * Every image gets its own seed derived from (data-set seed, image index), so an image never depends on
 * which worker rendered it or in which order.
 */

/** A function returning uniform floats in [0, 1), like `Math.random`. */
export type RandomFunction = () => number;

/** Mixes a 32-bit value (the murmur3 finaliser): neighbouring inputs give unrelated outputs. */
function Mix32(value: number): number {
  let h = value >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Combines 32-bit integers into one well-mixed unsigned 32-bit seed (order matters). */
export function HashSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const part of parts) h = Mix32(Math.imul(h ^ (part >>> 0), 0x27d4eb2d) + 0x165667b1);
  return h >>> 0;
}

/** Hashes a string (e.g. a purpose tag) to an unsigned 32-bit integer (FNV-1a, then mixed). */
export function HashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return Mix32(h);
}

/** The seed of image `index` of a data set built with `datasetSeed`. */
export function DeriveImageSeed(datasetSeed: number, index: number): number {
  return HashSeed(datasetSeed, index, HashString("npc-faces/image"));
}

/** A seeded generator (mulberry32): fast, 32-bit state, good enough for picking attributes. */
export function CreateSeededRandom(seed: number): RandomFunction {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Picks one element of a non-empty array. */
export function PickOne<T>(random: RandomFunction, items: readonly T[]): T {
  if (items.length === 0) throw new Error("PickOne: empty list");
  return items[Math.min(items.length - 1, Math.floor(random() * items.length))];
}

/**
 * Runs `body` with `Math.random` replaced by a seeded generator, then restores it.
 *
 * Libraries such as facesjs call the global `Math.random`; the swap is synchronous (no await inside),
 * so no other code on this thread can observe the substitute.
 */
export function WithSeededMathRandom<T>(seed: number, body: () => T): T {
  const original = Math.random;
  Math.random = CreateSeededRandom(seed);
  try {
    return body();
  } finally {
    Math.random = original;
  }
}

/** A seeded permutation of 0..count-1 (Fisher–Yates). */
export function SeededPermutation(count: number, seed: number): number[] {
  const random = CreateSeededRandom(seed);
  const order = Array.from({ length: count }, (_, i) => i);
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}
