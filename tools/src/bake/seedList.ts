/**
 * Seed lists as written on the command line: `1-16,20,30-32`.
 */
import { MaxSeed } from "@npc-faces/runtime";

/** A malformed seed list; the message names the offending item. */
export class SeedListError extends Error {
  override readonly name = "SeedListError";
}

/** Options of {@link ParseSeedList}. */
export interface ParseSeedListOptions {
  /** Largest number of seeds accepted (protects against `0-4294967295`); default 1,000,000. */
  readonly maxCount?: number;
}

/** Default {@link ParseSeedListOptions.maxCount}. */
export const DefaultMaxSeedCount = 1_000_000;

const Single = /^(\d+)$/;
const Range = /^(\d+)\s*-\s*(\d+)$/;

function ParseSeedValue(digits: string, item: string): number {
  const value = Number(digits);
  if (!Number.isSafeInteger(value) || value > MaxSeed) {
    throw new SeedListError(`item "${item}": seed ${digits} is out of range 0..${MaxSeed}`);
  }
  return value;
}

/**
 * Parses a comma-separated list of seeds and inclusive ranges (`1-16,20,30-32`) into seeds in the order
 * written. Duplicates are dropped (a seed names one file, so baking it twice is pointless).
 * @throws SeedListError naming the bad item: empty items, non-integers, seeds outside 0..4294967295,
 * descending or open ranges (`5-2`, `1-`), or more than `maxCount` seeds.
 */
export function ParseSeedList(text: string, options: ParseSeedListOptions = {}): number[] {
  const maxCount = options.maxCount ?? DefaultMaxSeedCount;
  const seen = new Set<number>();
  const seeds: number[] = [];
  const items = text.split(",");
  if (text.trim() === "") throw new SeedListError("empty seed list (expected e.g. 1-16,20,30-32)");
  for (let index = 0; index < items.length; index++) {
    const item = items[index].trim();
    if (item === "") throw new SeedListError(`item ${index + 1} is empty (expected e.g. 1-16,20,30-32)`);
    let first: number;
    let last: number;
    const single = Single.exec(item);
    const range = single ? null : Range.exec(item);
    if (single) {
      first = last = ParseSeedValue(single[1], item);
    } else if (range) {
      first = ParseSeedValue(range[1], item);
      last = ParseSeedValue(range[2], item);
      if (first > last) throw new SeedListError(`item "${item}": range goes down (${first} > ${last}); write ${last}-${first}`);
    } else if (/^-?\d*\.\d+$|^-?\d+e/i.test(item)) {
      throw new SeedListError(`item "${item}": a seed must be an integer in 0..${MaxSeed}`);
    } else if (/^\d+\s*-$/.test(item)) {
      throw new SeedListError(`item "${item}": the range has no end (expected e.g. 1-16)`);
    } else if (/^-\d+$/.test(item)) {
      throw new SeedListError(`item "${item}": seeds are not negative (range 0..${MaxSeed})`);
    } else {
      throw new SeedListError(`item "${item}": expected a seed (e.g. 20) or an inclusive range (e.g. 1-16)`);
    }
    // Check the count before expanding, so that a huge range fails fast instead of filling memory.
    if (last - first + 1 > maxCount - seeds.length) {
      throw new SeedListError(`item "${item}": more than ${maxCount} seeds in the list`);
    }
    for (let seed = first; seed <= last; seed++) {
      if (!seen.has(seed)) {
        seen.add(seed);
        seeds.push(seed);
      }
    }
  }
  return seeds;
}

/** Writes seeds back in the compact form (`1-16,20,30-32`), keeping their order; runs of +1 become ranges. */
export function FormatSeedList(seeds: readonly number[]): string {
  const parts: string[] = [];
  let start = 0;
  for (let i = 1; i <= seeds.length; i++) {
    if (i < seeds.length && seeds[i] === seeds[i - 1] + 1) continue;
    const first = seeds[start];
    const last = seeds[i - 1];
    parts.push(first === last ? `${first}` : `${first}-${last}`);
    start = i;
  }
  return parts.join(",");
}
