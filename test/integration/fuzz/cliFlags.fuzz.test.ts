/**
 * Fuzzed CLI flag values: each value parser of tools/src/cli/argParsers.ts (and the bake's seed-list, atlas-size and
 * shard parsers) refuses a bad text with commander's InvalidArgumentError (or the parser's own error type) and a
 * one-line message, or returns a value that keeps its contract; valid values round-trip.
 */
import { InvalidArgumentError } from "commander";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CollectControl, IntegerParser, NumberInRangeParser, ParseFiniteNumber, ParseSeed, ParseSeedListArgument } from "../../../tools/src/cli/argParsers.js";
import { AtlasError, MaxAtlasSide, ParseAtlasSize } from "../../../tools/src/bake/atlasPacker.js";
import { ParseShard, ShardSpecError } from "../../../tools/src/bake/shard.js";
import { FuzzParameters, IsOneLine } from "./fuzzUtil.js";

/** Texts that look like numbers, ranges and lists, plus anything at all. */
const FlagText = fc.oneof(
  fc.string({ maxLength: 24 }),
  fc.stringMatching(/^[ +\-]?[0-9]{0,12}(\.[0-9]{0,4})?([eE][+-]?[0-9]{1,3})?[ ]?$/),
  fc.stringMatching(/^([0-9]{1,11}(-[0-9]{0,11})?,?){0,4}$/),
  fc.stringMatching(/^[a-z_]{0,6}=?[-+.0-9eE]{0,8}$/),
  fc.constantFrom("", " ", "NaN", "Infinity", "-Infinity", "0x10", "1e999", "-0", "4294967295", "4294967296", "9007199254740993", "1_000", "１２", "0-4294967295", "5-1", "1,,2", "1e3", "١٢"),
);

/** Runs `parse`: its error must be of `errorType` with a one-line message; returns the value or undefined. */
function ParseOrRefuse<T>(parse: () => T, errorType: abstract new (...args: never[]) => Error = InvalidArgumentError): T | undefined {
  try {
    return parse();
  } catch (error) {
    expect(error).toBeInstanceOf(errorType);
    expect(IsOneLine((error as Error).message), (error as Error).message).toBe(true);
    return undefined;
  }
}

describe("fuzz: CLI flag values", () => {
  it("numbers, integers, ranges and seeds keep their contracts", () => {
    fc.assert(
      fc.property(FlagText, fc.integer({ min: -100, max: 100 }), fc.integer({ min: 0, max: 1000 }), (text, min, span) => {
        const finite = ParseOrRefuse(() => ParseFiniteNumber(text));
        if (finite !== undefined) expect(Number.isFinite(finite)).toBe(true);
        const integer = ParseOrRefuse(() => IntegerParser(min, min + span)(text));
        if (integer !== undefined) expect(Number.isInteger(integer) && integer >= min && integer <= min + span).toBe(true);
        const ranged = ParseOrRefuse(() => NumberInRangeParser(min, min + span)(text));
        if (ranged !== undefined) expect(Number.isFinite(ranged) && ranged >= min && ranged <= min + span).toBe(true);
        const seed = ParseOrRefuse(() => ParseSeed(text));
        if (seed !== undefined) expect(Number.isInteger(seed) && seed >= 0 && seed <= 4294967295).toBe(true);
      }),
      FuzzParameters(3000, 2500),
    );
  });

  it("valid values round-trip", () => {
    fc.assert(
      fc.property(fc.nat({ max: 4294967295 }), fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.integer({ min: -50, max: 50 }), (seed, x, i) => {
        expect(ParseSeed(` ${seed} `)).toBe(seed);
        expect(ParseFiniteNumber(String(x))).toBe(x === 0 ? 0 : x);
        expect(IntegerParser(-50, 50)(String(i))).toBe(i);
      }),
      FuzzParameters(2000, 2000),
    );
  });

  it("seed lists, controls, atlas sizes and shards", () => {
    fc.assert(
      fc.property(FlagText, (text) => {
        const seeds = ParseOrRefuse(() => ParseSeedListArgument(text));
        if (seeds !== undefined) {
          expect(seeds.length).toBeGreaterThan(0);
          for (const s of seeds) expect(Number.isInteger(s) && s >= 0 && s <= 4294967295).toBe(true);
        }
        const controls = ParseOrRefuse(() => CollectControl(text, { kept: 1 }));
        if (controls !== undefined) {
          expect(controls.kept).toBe(1);
          for (const v of Object.values(controls)) expect(Number.isFinite(v)).toBe(true);
        }
        const atlas = ParseOrRefuse(() => ParseAtlasSize(text), AtlasError);
        if (atlas !== undefined) for (const side of [atlas.width, atlas.height]) expect(Number.isInteger(side) && side >= 1 && side <= MaxAtlasSide).toBe(true);
        const shard = ParseOrRefuse(() => ParseShard(text), ShardSpecError);
        if (shard !== undefined) expect(shard.index >= 1 && shard.index <= shard.count).toBe(true);
      }),
      FuzzParameters(3000, 2500),
    );
  });
});
